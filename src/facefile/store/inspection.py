"""Looks at a library database file from outside, as another process would: whether its write lock
is held, its integrity, and what it holds. For crash tests and ``facefile bench crash``, which kill
scans at random moments and compare what survived; nothing here migrates or writes."""
from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


def write_lock_held(db: Path) -> bool:
    """Whether some connection holds ``db``'s write lock now (is inside BEGIN IMMEDIATE ... COMMIT):
    our own BEGIN IMMEDIATE fails at once. When it succeeds it is rolled back at once."""
    if not db.exists():
        return False
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def integrity(db: Path) -> str:
    """SQLite's ``PRAGMA integrity_check``: ``"ok"`` for a sound file."""
    with sqlite3.connect(db, timeout=30) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@dataclass(frozen=True)
class StoredContents:
    """What a library file holds, in terms that survive a rebuild (paths and boxes, not ids)."""

    faces: list[tuple[str, float, float, float, float, int | None]]  # (path, box, person id) of every face
    files: int
    images: int
    file_errors: int
    persons_dirty: bool
    scan_statuses: Counter[str]


def stored_contents(db: Path) -> StoredContents:
    """The contents of ``db``; empty for a file whose first migration a kill rolled back."""
    with sqlite3.connect(db, timeout=30) as conn:
        if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
            return StoredContents([], 0, 0, 0, False, Counter())
        faces = conn.execute(
            "SELECT fi.path, f.x1, f.y1, f.x2, f.y2, a.person_id FROM files fi "
            "JOIN faces f ON f.image_id = fi.image_id LEFT JOIN assignments a ON a.face_id = f.id"
        ).fetchall()
        one = lambda sql: int(conn.execute(sql).fetchone()[0])  # noqa: E731
        dirty = conn.execute("SELECT value FROM meta WHERE key = 'persons_dirty'").fetchone()
        return StoredContents(
            faces=[tuple(r) for r in faces],
            files=one("SELECT COUNT(*) FROM files"),
            images=one("SELECT COUNT(*) FROM images"),
            file_errors=one("SELECT COUNT(*) FROM file_errors"),
            persons_dirty=bool(dirty and dirty[0] == "1"),
            scan_statuses=Counter(s for (s,) in conn.execute("SELECT status FROM scans")),
        )
