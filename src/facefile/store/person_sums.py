"""Each person's stored sum of face embeddings (the ``person_sums`` table, schema 0005), and the
reads that placing new faces among the persons needs.

The table is a cache of ``assignments``: the database's own triggers delete a person's row whenever
it gains or loses a face, whoever changes it (a scan, a user's move, an erasure). The arithmetic on
the sums is in ``library/person_sum_cache.py``; this is where they are read and written.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from facefile.store.face_rows import photo_key
from facefile.store.repository import Repository

CHUNK = 900  # SQLite's default limit on bound parameters is 999

StoredSum = tuple[int, int, float, np.ndarray]  # (person, faces, best quality, sum of the faces' vectors)


class PersonSumRepository(Repository):
    def stored(self, model_id: str, persons: Sequence[int]) -> list[StoredSum]:
        """The stored sums (faces of ``model_id``) of those of ``persons`` that have one."""
        out: list[StoredSum] = []
        for start in range(0, len(persons), CHUNK):
            chunk = [int(p) for p in persons[start:start + CHUNK]]
            marks = ",".join("?" * len(chunk))
            for person, faces, best, vector in self._conn.execute(
                f"SELECT person_id, faces, best_quality, vector FROM person_sums "
                f"WHERE model_id = ? AND person_id IN ({marks})",
                [model_id, *chunk],
            ):
                out.append((person, faces, best, np.frombuffer(vector, dtype=np.float64)))
        return out

    def put(self, model_id: str, sums: Iterable[StoredSum]) -> None:
        """Store (or replace) these sums (in the caller's transaction)."""
        self._conn.executemany(
            "INSERT OR REPLACE INTO person_sums(person_id, model_id, faces, best_quality, vector) VALUES (?, ?, ?, ?, ?)",
            [(int(person), model_id, int(faces), float(best), np.ascontiguousarray(vector, dtype=np.float64).tobytes())
             for person, faces, best, vector in sums],
        )

    def members(self, model_id: str, persons: Sequence[int]) -> list[tuple[int, int, float | None]]:
        """(face, person, quality) of every face of ``model_id`` assigned to one of ``persons``: the
        rows of each person together, in face id order."""
        out: list[tuple[int, int, float | None]] = []
        for start in range(0, len(persons), CHUNK):
            chunk = [int(p) for p in persons[start:start + CHUNK]]
            marks = ",".join("?" * len(chunk))
            out.extend((r[0], r[1], r[2]) for r in self._conn.execute(
                f"SELECT a.face_id, a.person_id, f.quality FROM assignments a JOIN faces f ON f.id = a.face_id "
                f"WHERE a.person_id IN ({marks}) AND f.model_id = ? ORDER BY a.person_id, a.face_id",
                [*chunk, model_id],
            ))
        return out

    def assignments_by_face(self) -> tuple[np.ndarray, np.ndarray]:
        """(face ids, person ids) of every assignment, in face id order, as int64 arrays."""
        rows = self._conn.execute("SELECT face_id, person_id FROM assignments ORDER BY face_id").fetchall()
        faces = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        persons = np.fromiter((r[1] for r in rows), np.int64, len(rows))
        return faces, persons

    def persons_in_photos(self, photos: Iterable[int]) -> dict[int, set[int]]:
        """Photo key (``faces.photo_key``) -> persons that already hold a face of that photo."""
        out: dict[int, set[int]] = {}
        keys = sorted({int(p) for p in photos if p >= 0})  # video tracks (< 0) are photos of their own
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            for photo, person in self._conn.execute(
                f"SELECT {photo_key('f')}, a.person_id FROM faces f JOIN assignments a ON a.face_id = f.id "
                f"WHERE f.image_id IN ({marks})",
                chunk,
            ):
                out.setdefault(int(photo), set()).add(int(person))
        return out
