"""Library actions for other photo tools and videos: XMP face regions in and out, video face tracks.

A mixin of ``Library``: methods here use ``self.conn`` (sqlite3, WAL) and the helpers of
``library.db`` / ``library.ingest`` like the rest of the class.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path


class InteropActions:
    conn: sqlite3.Connection
    folder: Path
