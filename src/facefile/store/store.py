"""The store: one library database behind typed repositories. Every line of SQL in facefile lives in
this package; nothing outside it sees a connection.

    store = Store.open(folder / DB_FILENAME)
    with store.transaction():
        pid = store.persons.new()
        store.decisions.confirm(face_id, pid)

A second store (PostgreSQL, for a family server) would provide the same repositories.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from facefile.store.birth_dates import BirthDateRepository
from facefile.store.db import connect, transaction
from facefile.store.decisions import DecisionRepository
from facefile.store.face_regions import RegionRepository
from facefile.store.face_rows import FaceRepository
from facefile.store.history import HistoryRepository
from facefile.store.manual_faces import ManualFaceRepository
from facefile.store.meta import MetaRepository
from facefile.store.paths import PathRepository
from facefile.store.people_views import PeopleViewRepository
from facefile.store.person_redirects import PersonRedirectRepository
from facefile.store.person_sums import PersonSumRepository
from facefile.store.persons import PersonRepository
from facefile.store.photos import PhotoRepository
from facefile.store.photos_with import PhotosWithRepository
from facefile.store.rights_records import RightsRepository
from facefile.store.scans import ScanRepository


class Store:
    """A library database opened once; its repositories share the one private connection."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self.meta = MetaRepository(conn)
        self.paths = PathRepository(conn)
        self.photos = PhotoRepository(conn)
        self.faces = FaceRepository(conn)
        self.persons = PersonRepository(conn)
        self.decisions = DecisionRepository(conn)
        self.scans = ScanRepository(conn)
        self.sums = PersonSumRepository(conn)
        self.views = PeopleViewRepository(conn, self.paths)
        self.rights = RightsRepository(conn)
        self.regions = RegionRepository(conn)
        self.history = HistoryRepository(conn)
        self.birth_dates = BirthDateRepository(conn)
        self.manual_faces = ManualFaceRepository(conn)
        self.photos_with = PhotosWithRepository(conn)
        self.redirects = PersonRedirectRepository(conn)

    @classmethod
    def open(cls, path: Path, *, readonly: bool = False) -> Store:
        """Open (creating and migrating if needed) the database file at ``path``."""
        return cls(connect(path, readonly=readonly), path)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction, taken with the write lock up front; rolled back on any error."""
        with transaction(self._conn):
            yield

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def data_version(self) -> int:
        """Changes when another connection commits (SQLite's ``PRAGMA data_version``): readers use
        it to know that what they loaded may be stale."""
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def total_changes(self) -> int:
        """Rows changed through this connection so far (its own writes, which data_version misses)."""
        return self._conn.total_changes

    def scrub(self) -> bool:
        """Rebuild the database and empty its write-ahead log, so deleted rows leave no trace in
        either file (``secure_delete`` zeroes them in the pages; older copies of those pages can sit
        in the WAL and in free pages). True when the WAL was truncated to zero bytes."""
        self._conn.execute("VACUUM")
        return self.checkpoint()

    def checkpoint(self) -> bool:
        """Fold the write-ahead log into the database file and truncate it; True when it is empty
        (False while another connection holds a read open for longer than the busy timeout)."""
        busy, _log, _done = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        wal = self.path.with_name(f"{self.path.name}-wal")
        return busy == 0 and (not wal.exists() or wal.stat().st_size == 0)
