"""The one error type users see: raised by the store and the services above it alike."""
from __future__ import annotations


class LibraryError(Exception):
    """A user-facing error about the library (unknown person, bad argument, newer schema, ...)."""


class PersonNotFound(LibraryError):
    """What the user typed names no person. ``typed``: the text; ``suggestions``: (id, label) of
    the nearest persons, best first (the message offers them as "did you mean ...?");
    ``merged_into``: the person an id was merged into, when it was."""

    def __init__(
        self, message: str, *, typed: str = "", suggestions: list[tuple[int, str]] | None = None,
        merged_into: int | None = None,
    ) -> None:
        super().__init__(message)
        self.typed = typed
        self.suggestions = list(suggestions or [])
        self.merged_into = merged_into

    def suggestion_texts(self) -> list[str]:
        """Each suggestion as a person box takes it: "Ma Tianyu (#27)"."""
        return [f"{label} (#{pid})" for pid, label in self.suggestions]
