"""SQLite connection, pragmas, schema migrations and transactions: the only place a library database
is opened."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np

from facefile.store.library_error import LibraryError
from facefile.store.private_files import create_private_file, make_private, private_folder

DB_FILENAME = "library.db"


def migrations() -> list[tuple[int, str]]:
    """``(version, sql)`` for every file in ``migrations/``, in order (``0001_initial.sql`` -> 1)."""
    found = []
    for entry in resources.files("facefile.store.migrations").iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def schema_version() -> int:
    return migrations()[-1][0]


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the library database at ``path``. The library folder
    and its files are made private first (``private_files``): the database file is created 0600
    before SQLite opens it, so its ``-wal`` and ``-shm`` (which take its mode) are private too."""
    private_folder(path.parent)
    make_private(path.parent)
    create_private_file(path)  # sqlite3.connect would create it with the umask's mode
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    # WAL: readers (the CLI, the web UI) never block the one scan writer, and a crash loses at most
    # the transaction in flight. NORMAL sync is durable in WAL mode except across a power cut, where
    # the last transactions may roll back but the database stays consistent.
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, not left in free pages: erased faces must be gone.
    conn.execute("PRAGMA secure_delete=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    if not readonly:
        migrate(conn)
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    latest = schema_version()
    if current > latest:
        raise LibraryError(
            f"this library has schema version {current}, newer than this facefile understands "
            f"({latest}); upgrade facefile"
        )
    for version, sql in migrations():
        if version <= current:
            continue
        # executescript commits on its own; wrap it so a failed migration leaves the old schema.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={version}")
            conn.execute("COMMIT")
        except Exception:
            conn.execute("ROLLBACK")
            raise


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements, as SQLite's own tokenizer sees them: the text is
    cut at each ``;`` and the pieces joined again until ``sqlite3.complete_statement`` says the
    statement is whole, so a ``;`` inside a string literal, a comment or a trigger body
    (``BEGIN ...; END;``) does not end it. Text after the last complete statement is kept only if it
    holds more than comments (executing it then fails: an unfinished statement is an error)."""
    statements: list[str] = []
    *pieces, rest = sql.split(";")  # rest: the text after the script's last ';'
    pending = ""
    for piece in pieces:
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if _code(pending):
                statements.append(pending.strip())
            pending = ""
    if _code(pending + rest):
        statements.append((pending + rest).strip())
    return statements


def _code(text: str) -> bool:
    """Whether ``text`` holds anything but whitespace, ``;`` and ``--`` comments."""
    return any(line.split("--", 1)[0].strip(" \t;") for line in text.splitlines())


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: take the write lock up front so a transaction never
    fails half-way on a lock upgrade, and roll back on any error (Ctrl-C included)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """A value of the ``meta`` table (facts about the library), or None."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Set a ``meta`` value (in the caller's transaction, if any)."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value)
    )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def to_blob(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype=np.float32).tobytes()


def from_blob(blob: bytes, shape: tuple[int, ...] = (-1,)) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32).reshape(shape)
