"""Undo and the history of user actions (``lib.history``).

Every user action (``lib.persons``, the review's "two people", a birth date, a hand-drawn face) is
recorded by the store as the rows it changed (``store/history.py``). Undo writes them back:

    lib.persons.merge("Anna", 5)
    lib.history.recent(1)[0].summary        # 'Merged #5 into Anna (#3)'
    lib.history.undo().message              # 'Undone: Merged #5 into Anna (#3)'

Undo is a stack: undoing an older action undoes every later one first (they may build on it). It
restores confirmations and rejections exactly, so every later re-cluster sees the user's word as it
was before the action. Undo reads only the undone actions' own rows (``history_changes`` is indexed
by action) and touches only the rows they changed: milliseconds on any library.
"""
from __future__ import annotations

from dataclasses import dataclass

from facefile.store import LibraryError, Store
from facefile.store.history import ERASED_SUMMARY, HistoryEntry

__all__ = ["ERASED_SUMMARY", "ActionHistory", "HistoryEntry", "UndoResult"]


@dataclass(frozen=True)
class UndoResult:
    """The actions undone, newest first (the one asked for is last), and what to tell the user."""

    undone: list[HistoryEntry]
    message: str

    @property
    def entry(self) -> HistoryEntry:
        """The action asked for."""
        return self.undone[-1]


class ActionHistory:
    """The undo service of a ``Library`` (``lib.history``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def recent(self, limit: int = 50) -> list[HistoryEntry]:
        """The newest actions first, undone ones included (``entry.undone``)."""
        return self._store.history.recent(max(1, int(limit)))

    def entry(self, entry_id: int) -> HistoryEntry:
        found = self._store.history.entry(int(entry_id))
        if found is None:
            raise LibraryError(f"no action {entry_id} in the history")
        return found

    def latest_undoable(self) -> HistoryEntry | None:
        """The newest action not undone, which a plain ``undo()`` takes back."""
        entry_id = self._store.history.latest_undoable()
        return None if entry_id is None else self.entry(entry_id)

    def later_than(self, entry_id: int) -> list[HistoryEntry]:
        """The actions after ``entry_id`` not undone yet: undoing it undoes them too (newest first)."""
        return [e for e in self._store.history.recent(1000, include_undone=False) if e.id > entry_id]

    def last_id(self) -> int:
        """The newest action's id (0 for none); compare before and after a call to learn what it did."""
        return self._store.history.last_id()

    def recorded_since(self, last_id: int) -> HistoryEntry | None:
        """The oldest action recorded after ``last_id`` and not undone (undoing it undoes the others
        recorded since), or None when nothing was recorded."""
        entry_id = self._store.history.first_undoable_after(int(last_id))
        return None if entry_id is None else self.entry(entry_id)

    def undo(self, entry_id: int | None = None) -> UndoResult:
        """Undo action ``entry_id`` (None: the newest not undone) and every later one not undone yet.
        One transaction; persons left without a face and without a name are removed, as after any
        action."""
        if entry_id is None:
            latest = self._store.history.latest_undoable()
            if latest is None:
                raise LibraryError("nothing to undo")
            entry_id = latest
        found = self.entry(entry_id)
        if found.summary == ERASED_SUMMARY:
            raise LibraryError(f"action {entry_id} was about a person since erased: it cannot be undone")
        with self._store.transaction():
            ids = self._store.history.undo(found.id)
            self._store.persons.drop_empty()
        undone = [self.entry(i) for i in ids]
        return UndoResult(undone, undo_message(undone))


def undo_message(undone: list[HistoryEntry]) -> str:
    """'Undone: Merged #5 into Anna (#3)', and the later actions that went with it."""
    asked, later = undone[-1], undone[:-1]
    message = f"Undone: {asked.summary}"
    if later:
        message += f" (and {len(later)} later action{'s' if len(later) != 1 else ''}: "
        message += "; ".join(e.summary for e in reversed(later)) + ")"
    return message
