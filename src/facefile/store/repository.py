"""The base of every repository: a view of one concern (faces, persons, ...) over the store's one
connection. Repositories never commit: writes run inside ``Store.transaction()``."""
from __future__ import annotations

import sqlite3


class Repository:
    """Typed reads and writes of one concern; holds the store's connection, never hands it out."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
