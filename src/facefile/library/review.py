"""Library actions for the People UI: suggestions, review queues, covers, photos with their faces, thumbnails.

A mixin of ``Library``: methods here use ``self.conn`` (sqlite3, WAL) and the helpers of
``library.db`` / ``library.ingest`` like the rest of the class.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path


class ReviewActions:
    conn: sqlite3.Connection
    folder: Path
