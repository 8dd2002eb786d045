"""Library actions for the rights of the people in the photos: forget, export-person, opt-out, audit log.

A mixin of ``Library``: methods here use ``self.conn`` (sqlite3, WAL) and the helpers of
``library.db`` / ``library.ingest`` like the rest of the class.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path


class RightsActions:
    conn: sqlite3.Connection
    folder: Path
