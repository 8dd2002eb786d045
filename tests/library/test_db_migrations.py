"""The migration runner: statements split as SQLite sees them; the audit triggers on old libraries."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from facefile.library import Library
from facefile.store import db
from tests.support.database import sql

TRICKY = """
-- a comment; with a semicolon
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL DEFAULT 'a; b');  -- trailing; comment
CREATE TABLE log (note_id INTEGER, what TEXT);
CREATE TRIGGER notes_logged AFTER INSERT ON notes
BEGIN
    INSERT INTO log(note_id, what) VALUES (NEW.id, 'inserted; "quoted" -- not a comment');
    INSERT INTO log(note_id, what) VALUES (NEW.id, 'second; statement');
END;
INSERT INTO notes(body) VALUES ('it''s; done'); INSERT INTO notes(id) VALUES (10);
-- nothing after this
"""


def test_statements_split_at_whole_statements_only() -> None:
    statements = db._statements(TRICKY)
    assert len(statements) == 5
    assert statements[2].startswith("CREATE TRIGGER") and statements[2].endswith("END;")
    assert all(sqlite3.complete_statement(s) for s in statements)


def test_unfinished_statement_is_kept_and_fails() -> None:
    statements = db._statements("CREATE TABLE a (x);\nCREATE TABLE b (y")
    assert statements == ["CREATE TABLE a (x);", "CREATE TABLE b (y"]
    with pytest.raises(sqlite3.Error):
        sqlite3.connect(":memory:").execute(statements[1])


def test_migration_with_trigger_and_literal_semicolons_applies(tmp_path: Path, monkeypatch) -> None:
    real = db.migrations()
    monkeypatch.setattr(db, "migrations", lambda: [*real, (real[-1][0] + 1, TRICKY)])
    conn = db.connect(tmp_path / "library.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == real[-1][0] + 1
    assert [tuple(r) for r in conn.execute("SELECT id, body FROM notes ORDER BY id")] == [(1, "it's; done"), (10, "a; b")]
    assert [r[0] for r in conn.execute("SELECT what FROM log ORDER BY rowid")] == [
        'inserted; "quoted" -- not a comment', "second; statement"] * 2
    conn.close()


def test_failed_migration_leaves_the_old_schema(tmp_path: Path, monkeypatch) -> None:
    real = db.migrations()
    monkeypatch.setattr(db, "migrations", lambda: [*real, (real[-1][0] + 1, "CREATE TABLE t (x);\nCREATE TABLE u (")])
    with pytest.raises(sqlite3.Error):
        db.connect(tmp_path / "library.db")
    conn = sqlite3.connect(tmp_path / "library.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == real[-1][0]
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 't'").fetchone()[0] == 0
    conn.close()


def _audit_triggers(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rights_audit%' ORDER BY name")]


@pytest.mark.parametrize("had_triggers", [False, True])
def test_library_at_version_3_gets_the_audit_triggers(tmp_path: Path, had_triggers: bool) -> None:
    folder = tmp_path / ".facefile"
    Library.open(folder).close()
    # As a version-3 library left it: triggers only if rights.py had logged something.
    conn = sqlite3.connect(folder / db.DB_FILENAME)
    conn.execute("DROP TRIGGER rights_audit_no_update")
    conn.execute("DROP TRIGGER rights_audit_no_delete")
    if had_triggers:  # as library/rights.py created them with the first entry, up to version 3
        for action in ("UPDATE", "DELETE"):
            conn.execute(
                f"CREATE TRIGGER rights_audit_no_{action.lower()} BEFORE {action} ON rights_audit "
                "BEGIN SELECT RAISE(ABORT, 'the rights audit log is append-only'); END")
    conn.execute("INSERT INTO rights_audit(at, action) VALUES ('2024-01-01T00:00:00+00:00', 'forget')")
    for trigger in ("insert", "delete", "update"):  # and without what later versions added
        conn.execute(f"DROP TRIGGER person_sums_on_{trigger}")
    conn.execute("DROP TABLE person_sums")
    for table in ("person_redirects", "history_changes", "history"):  # versions 6 and 8
        conn.execute(f"DROP TABLE {table}")
    if "birth_date" in [r[1] for r in conn.execute("PRAGMA table_info(persons)")]:  # version 7
        conn.execute("DROP INDEX IF EXISTS persons_birth_date")
        conn.execute("DROP INDEX IF EXISTS images_taken_at")
        conn.execute("ALTER TABLE persons DROP COLUMN birth_date")
    conn.execute("DROP INDEX images_live_id")  # version 9
    conn.execute("ALTER TABLE images DROP COLUMN live_role")
    conn.execute("ALTER TABLE images DROP COLUMN live_id")
    conn.execute("ALTER TABLE files DROP COLUMN companion")
    conn.execute("PRAGMA user_version=3")
    conn.commit()
    conn.close()

    with Library.open(folder) as lib:
        assert sql(lib).execute("PRAGMA user_version").fetchone()[0] == db.schema_version()
        assert _audit_triggers(sql(lib)) == ["rights_audit_no_delete", "rights_audit_no_update"]
        for statement in ["UPDATE rights_audit SET faces = 1", "DELETE FROM rights_audit"]:
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                sql(lib).execute(statement)
