"""Persons: ids, names, hidden flags, covers, and the summaries the CLI lists."""
from __future__ import annotations

import sqlite3

from facefile.store.db import now
from facefile.store.records import PersonSummary
from facefile.store.repository import Repository

_SUMMARY = """
    SELECT p.id, p.name, p.hidden, COUNT(a.face_id) AS faces,
           COUNT(DISTINCT f.image_id) AS photos, MIN(i.taken_at) AS first, MAX(i.taken_at) AS last
    FROM persons p
    {join} JOIN assignments a ON a.person_id = p.id
    {join} JOIN faces f ON f.id = a.face_id
    {join} JOIN images i ON i.id = f.image_id
"""


class PersonRepository(Repository):
    def new(self, stamp: str | None = None) -> int:
        """A new, unnamed person (in the caller's transaction); its id is never reused."""
        pid = self._conn.execute("INSERT INTO persons(created_at) VALUES (?)", (stamp or now(),)).lastrowid
        assert pid is not None
        return pid

    def drop_empty(self) -> None:
        """Persons left without faces disappear unless the user named them (a name is user work)."""
        self._conn.execute(
            "DELETE FROM persons WHERE name IS NULL AND id NOT IN (SELECT person_id FROM assignments)"
        )

    def delete(self, person_id: int) -> None:
        self._conn.execute("DELETE FROM persons WHERE id = ?", (person_id,))

    def exists(self, person_id: int) -> bool:
        return self._conn.execute("SELECT 1 FROM persons WHERE id = ?", (person_id,)).fetchone() is not None

    def ids(self) -> set[int]:
        return {r[0] for r in self._conn.execute("SELECT id FROM persons")}

    def count(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM persons").fetchone()[0])

    def ids_named(self, name: str) -> list[int]:
        """Persons with this name, case-insensitively."""
        return [r[0] for r in self._conn.execute("SELECT id FROM persons WHERE name = ? COLLATE NOCASE", (name,))]

    def named(self) -> list[tuple[int, str]]:
        """(id, name) of every named person, by id (for "did you mean" on a mistyped name)."""
        return [(r[0], r[1]) for r in self._conn.execute("SELECT id, name FROM persons WHERE name IS NOT NULL ORDER BY id")]

    def name_of(self, person_id: int) -> str | None:
        row = self._conn.execute("SELECT name FROM persons WHERE id = ?", (person_id,)).fetchone()
        return None if row is None else row[0]

    def set_name(self, person_id: int, name: str | None) -> None:
        self._conn.execute("UPDATE persons SET name = ? WHERE id = ?", (name, person_id))

    def set_hidden(self, person_id: int, hidden: bool) -> None:
        self._conn.execute("UPDATE persons SET hidden = ? WHERE id = ?", (int(hidden), person_id))

    def hidden_ids(self) -> set[int]:
        return {r[0] for r in self._conn.execute("SELECT id FROM persons WHERE hidden = 1")}

    def set_cover(self, person_id: int, face_id: int) -> None:
        self._conn.execute("UPDATE persons SET cover_face_id = ? WHERE id = ?", (face_id, person_id))

    def summaries(self, *, include_hidden: bool = False) -> list[PersonSummary]:
        """Every person with at least one face, most faces first."""
        rows = self._conn.execute(
            _SUMMARY.format(join="") + "WHERE (? OR p.hidden = 0) GROUP BY p.id ORDER BY faces DESC, p.id",
            (include_hidden,),
        ).fetchall()
        return [_summary(r) for r in rows]

    def summary(self, person_id: int) -> PersonSummary:
        """One person, with or without faces (a named person may have none)."""
        row = self._conn.execute(
            _SUMMARY.format(join="LEFT") + "WHERE p.id = ? GROUP BY p.id", (person_id,)
        ).fetchone()
        return _summary(row)


def _summary(r: sqlite3.Row) -> PersonSummary:
    return PersonSummary(
        id=r["id"], name=r["name"], faces=r["faces"], photos=r["photos"],
        first_date=r["first"], last_date=r["last"], hidden=bool(r["hidden"]),
    )
