"""Direct reads (and the odd write) of a library's database, for tests only.

The package keeps its connection private (``facefile.store``); tests that check what is stored open
their own connection to the same file, as another process would (WAL: they see committed data).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from facefile.store import DB_FILENAME

_open: dict[Path, sqlite3.Connection] = {}


def sql(library: Any) -> sqlite3.Connection:
    """A connection to the database of ``library`` (a ``Library`` or its folder), opened once per
    folder: autocommit, ``sqlite3.Row`` rows, foreign keys on like the store's own."""
    folder = Path(getattr(library, "folder", library)).resolve()
    conn = _open.get(folder)
    if conn is None:
        conn = sqlite3.connect(folder / DB_FILENAME, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        _open[folder] = conn
    return conn
