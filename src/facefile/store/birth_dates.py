"""Birth dates the user entered (``persons.birth_date``, ``0007_birth_dates.sql``) and the faces
they bar: a face in a photo taken before a person's birth date is never that person.

Dates are ISO 8601 text: ``taken_at`` ('2015-06-01T12:30:00') sorts before the birth date
'2015-06-02' and after '2015-06-01', so ``taken_at < birth_date`` means "a day or more before
the birth day". Photos without a date are never barred.
"""
from __future__ import annotations

from collections.abc import Iterable

from facefile.store.repository import Repository

CHUNK = 500  # bound parameters per query, well under SQLite's limit

# Faces of photos taken before their person's birth date: (face, person) pairs.
# CROSS JOIN fixes the order (SQLite never reorders it): the few persons with a birth date first,
# then the photos before it (index on taken_at), then their faces; left to itself the planner walks
# every face of the model.
_BARRED = """
    SELECT f.id, p.id FROM persons p
    CROSS JOIN images i ON i.taken_at IS NOT NULL AND i.taken_at < p.birth_date
    CROSS JOIN faces f ON f.image_id = i.id
    WHERE p.birth_date IS NOT NULL
"""


class BirthDateRepository(Repository):
    """``store.birth_dates``: reads and writes of persons' birth dates, and what they exclude."""

    def of(self, person_id: int) -> str | None:
        row = self._conn.execute("SELECT birth_date FROM persons WHERE id = ?", (int(person_id),)).fetchone()
        return None if row is None else row[0]

    def set_date(self, person_id: int, birth_date: str | None) -> None:
        """Set (or with None clear) a person's birth date, 'YYYY-MM-DD' (caller's transaction)."""
        self._conn.execute("UPDATE persons SET birth_date = ? WHERE id = ?", (birth_date, int(person_id)))

    def exclusions(self, model_id: str | None = None) -> list[tuple[int, int]]:
        """Every (face id, person id) a birth date bars, for faces of ``model_id`` (all without):
        the engine takes them as cannot-links beside the user's rejections."""
        if model_id is None:
            return [(r[0], r[1]) for r in self._conn.execute(_BARRED)]
        return [(r[0], r[1]) for r in self._conn.execute(_BARRED + " AND f.model_id = ?", (model_id,))]

    def barred_pairs(self, face_ids: Iterable[int]) -> set[tuple[int, int]]:
        """The (face id, person id) pairs a birth date bars, for these faces only."""
        ids = sorted({int(f) for f in face_ids})
        out: set[tuple[int, int]] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            out |= {(r[0], r[1]) for r in self._conn.execute(
                _BARRED + f" AND f.id IN ({','.join('?' * len(chunk))})", chunk)}
        return out

    def barred_faces(self, face_ids: Iterable[int], person_id: int) -> list[int]:
        """Those of ``face_ids`` whose photo was taken before ``person_id``'s birth date, ascending."""
        ids = sorted({int(f) for f in face_ids})
        out: list[int] = []
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            out += [r[0] for r in self._conn.execute(
                _BARRED + f" AND p.id = ? AND f.id IN ({','.join('?' * len(chunk))}) ORDER BY f.id",
                [int(person_id), *chunk])]
        return out

    def barred_members(self, person_id: int) -> list[tuple[int, str]]:
        """(face id, provenance) of the person's own faces from photos before their birth date."""
        return [(r[0], r[1]) for r in self._conn.execute(
            "SELECT a.face_id, a.provenance FROM persons p JOIN assignments a ON a.person_id = p.id "
            "JOIN faces f ON f.id = a.face_id JOIN images i ON i.id = f.image_id "
            "WHERE p.id = ? AND p.birth_date IS NOT NULL AND i.taken_at IS NOT NULL AND i.taken_at < p.birth_date "
            "ORDER BY a.face_id",
            (int(person_id),))]

    def photo_barred(self, image_id: int, person_id: int) -> bool:
        """Whether the photo was taken before the person's birth date."""
        return self._conn.execute(
            "SELECT 1 FROM persons p JOIN images i ON i.id = ? WHERE p.id = ? AND p.birth_date IS NOT NULL "
            "AND i.taken_at IS NOT NULL AND i.taken_at < p.birth_date",
            (int(image_id), int(person_id)),
        ).fetchone() is not None

    def incompatible_pairs(self) -> set[tuple[int, int]]:
        """(a, b) with a < b: persons that cannot be one, as one has a face from a photo taken before
        the other's birth date (for merge suggestions; one query, through the persons with a date)."""
        rows = self._conn.execute(
            "SELECT DISTINCT p.id, a.person_id FROM persons p "
            "JOIN images i ON i.taken_at IS NOT NULL AND i.taken_at < p.birth_date "
            "JOIN faces f ON f.image_id = i.id JOIN assignments a ON a.face_id = f.id "
            "WHERE p.birth_date IS NOT NULL AND a.person_id != p.id"
        )
        pairs = {(min(a, b), max(a, b)) for a, b in rows}
        # Two persons born on different days are two people, whatever their faces look like.
        pairs |= {(r[0], r[1]) for r in self._conn.execute(
            "SELECT p.id, q.id FROM persons p JOIN persons q ON q.id > p.id AND q.birth_date != p.birth_date "
            "WHERE p.birth_date IS NOT NULL AND q.birth_date IS NOT NULL")}
        return pairs
