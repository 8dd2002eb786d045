"""The one error ``media`` raises: a file that could not be read, with a reason a person can act on."""
from __future__ import annotations

import os
import stat
from pathlib import Path


class MediaError(Exception):
    """A photo that could not be listed, hashed or decoded.

    ``reason`` is short and meant for people ("empty file", "permission denied"); a scan records it
    against the file and goes on. The exception pickles (``args`` is ``(path, reason)``) so worker
    processes can send it back to the writer.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(path, reason)
        self.path = Path(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def reason_for_os_error(exc: OSError) -> str:
    """A short human reason for an ``OSError`` raised while opening or reading a file."""
    if isinstance(exc, FileNotFoundError):
        return "file not found (deleted during scan?)"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    return exc.strerror or str(exc) or type(exc).__name__


def check_is_nonempty_file(path: str | os.PathLike[str]) -> None:
    """One stat gives the three commonest failures (missing, a folder, empty) a clear reason before
    a decoder guesses at them (Pillow: "cannot identify"; LibRaw: "Input/output error" for all three)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise MediaError(path, reason_for_os_error(exc)) from exc
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(path, "is a directory")
    if st.st_size == 0:
        raise MediaError(path, "empty file")
