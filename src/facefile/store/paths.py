"""How file paths are stored: relative to the library root, non-UTF-8 bytes escaped."""
from __future__ import annotations

import re
from pathlib import Path

from facefile.store.repository import Repository


def stored_path(path: str) -> str:
    """How a file path is written to SQLite. A file name that is not UTF-8 reaches Python with its
    undecodable bytes as lone surrogates (PEP 383), which SQLite cannot store: those bytes are
    written as ``\\xNN`` escapes instead, readable in `facefile errors` and exports."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        try:
            return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate no file system produced: keep it visible
            return path.encode("utf-8", "backslashreplace").decode("utf-8")


_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")


def disk_path(stored: str) -> str:
    """The inverse of ``stored_path``: the name as ``os`` functions and discovery give it. (A UTF-8
    name that literally contains ``\\x80``..``\\xff`` is misread; no camera writes such names.)"""
    if "\\x" not in stored:
        return stored
    return _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m[1], 16)), stored)


class PathRepository(Repository):
    """Paths are stored relative to the library's root (the first folder scanned) when inside it, so
    a photo folder can move with its library."""

    @property
    def root(self) -> Path | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()
        return None if row is None else Path(row[0])

    def set_root_if_unset(self, folder: Path) -> Path:
        """Make ``folder`` the root unless there is one (in the caller's transaction)."""
        self._conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('root', ?)", (str(folder.resolve()),))
        root = self.root
        assert root is not None
        return root

    def stored(self, path: Path) -> str:
        """How a file path is stored: relative to the root when inside it, else absolute."""
        root = self.root
        path = path.absolute()
        if root is not None:
            try:
                return path.relative_to(root).as_posix()
            except ValueError:
                pass
        return path.as_posix()

    def on_disk(self, stored: str) -> Path:
        """The file a stored path names (non-UTF-8 bytes restored, made absolute from the root)."""
        p = Path(disk_path(stored))
        root = self.root
        return p if p.is_absolute() or root is None else root / p
