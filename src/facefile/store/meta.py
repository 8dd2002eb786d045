"""Facts about the library as a whole (``meta`` table): its photo root, flags, recorded parameters."""
from __future__ import annotations

import sqlite3

from facefile.store.db import get_meta, set_meta
from facefile.store.repository import Repository

DIRTY_KEY = "persons_dirty"  # set when faces came or went: persons need a re-cluster


def mark_dirty(conn: sqlite3.Connection, dirty: bool = True) -> None:
    set_meta(conn, DIRTY_KEY, "1" if dirty else "0")


def is_dirty(conn: sqlite3.Connection) -> bool:
    return get_meta(conn, DIRTY_KEY) == "1"


class MetaRepository(Repository):
    def get(self, key: str) -> str | None:
        """A value, or None."""
        return get_meta(self._conn, key)

    def set(self, key: str, value: str) -> None:
        """Set a value (in the caller's transaction, if any)."""
        set_meta(self._conn, key, value)

    def set_if_unset(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def mark_dirty(self, dirty: bool = True) -> None:
        """Faces came or went: persons need updating (or, with ``False``, are up to date)."""
        mark_dirty(self._conn, dirty)

    def is_dirty(self) -> bool:
        return is_dirty(self._conn)
