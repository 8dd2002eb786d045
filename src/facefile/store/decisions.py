"""Which person each face belongs to, and the user's word on it: assignments (``auto`` or
``confirmed``) and rejections ("not this person"), the constraints every re-cluster honours."""
from __future__ import annotations

from collections.abc import Iterable

from facefile.store.db import now
from facefile.store.repository import Repository

CHUNK = 900  # SQLite's default limit on bound parameters is 999


class DecisionRepository(Repository):
    # ------------------------------------------------------------------ reads

    def person_of(self, face_id: int) -> int | None:
        row = self._conn.execute("SELECT person_id FROM assignments WHERE face_id = ?", (face_id,)).fetchone()
        return None if row is None else int(row[0])

    def persons_of(self, face_ids: Iterable[int]) -> dict[int, int]:
        """Face id -> person, for those of ``face_ids`` that have one."""
        ids = [int(f) for f in face_ids]
        out: dict[int, int] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            marks = ",".join("?" * len(chunk))
            out.update(self._conn.execute(
                f"SELECT face_id, person_id FROM assignments WHERE face_id IN ({marks})", chunk).fetchall())
        return out

    def assignments(self) -> list[tuple[int, int, str]]:
        """Every (face id, person id, provenance)."""
        return [(r[0], r[1], r[2]) for r in self._conn.execute(
            "SELECT face_id, person_id, provenance FROM assignments")]

    def assignment_pairs(self) -> Iterable[tuple[int, int]]:
        """(face id, person id) of every assigned face, as plain tuples (fast for large libraries)."""
        cursor = self._conn.cursor()
        cursor.row_factory = None  # sqlite3.Row objects cost more than the query
        return cursor.execute("SELECT face_id, person_id FROM assignments")

    def rejections(self) -> list[tuple[int, int]]:
        """Every (face id, person id) the user said is not that person."""
        return [(r[0], r[1]) for r in self._conn.execute("SELECT face_id, person_id FROM rejections")]

    def faces_of(self, person_id: int) -> list[int]:
        """The face ids of one person, ascending."""
        return [r[0] for r in self._conn.execute(
            "SELECT face_id FROM assignments WHERE person_id = ? ORDER BY face_id", (person_id,))]

    # ------------------------------------------------------------------ writes (caller's transaction)

    def confirm(self, face_id: int, person_id: int, stamp: str | None = None) -> None:
        """The user's word: ``face_id`` is ``person_id``. Moving a face away from a person also says
        "not that person", remembered as a rejection; an old rejection of this person is lifted."""
        stamp = stamp or now()
        previous = self.person_of(face_id)
        if previous is not None and previous != person_id:
            self.reject(face_id, previous, stamp, unassign=False)
        self._conn.execute("DELETE FROM rejections WHERE face_id = ? AND person_id = ?", (face_id, person_id))
        self._conn.execute(
            "INSERT INTO assignments(face_id, person_id, provenance, updated_at) VALUES (?, ?, 'confirmed', ?) "
            "ON CONFLICT(face_id) DO UPDATE SET person_id = excluded.person_id, provenance = 'confirmed', "
            "updated_at = excluded.updated_at",
            (face_id, person_id, stamp),
        )

    def reject(self, face_id: int, person_id: int, stamp: str | None = None, *, unassign: bool = True) -> None:
        """"Not this person", forever; the face leaves the person (unless ``unassign`` is False)."""
        self._conn.execute(
            "INSERT OR IGNORE INTO rejections(face_id, person_id, created_at) VALUES (?, ?, ?)",
            (face_id, person_id, stamp or now()),
        )
        if unassign:
            self._conn.execute("DELETE FROM assignments WHERE face_id = ? AND person_id = ?", (face_id, person_id))

    def assign_auto(self, pairs: Iterable[tuple[int, int]], stamp: str | None = None) -> None:
        """Engine decisions: each (face, person) becomes an ``auto`` assignment, replacing any other."""
        stamp = stamp or now()
        self._conn.executemany(
            "INSERT INTO assignments(face_id, person_id, provenance, updated_at) VALUES (?, ?, 'auto', ?) "
            "ON CONFLICT(face_id) DO UPDATE SET person_id = excluded.person_id, provenance = 'auto', "
            "updated_at = excluded.updated_at",
            [(int(f), int(p), stamp) for f, p in pairs],
        )

    def unassign(self, face_ids: Iterable[int]) -> None:
        self._conn.executemany("DELETE FROM assignments WHERE face_id = ?", [(int(f),) for f in face_ids])

    def merge_persons(self, target: int, sources: list[int], stamp: str | None = None) -> None:
        """The persons are one: every face of ``sources`` moves to ``target`` keeping what was known
        about it (an ``auto`` face stays ``auto``, so a later re-cluster may still take a wrong one
        out; a confirmed face stays confirmed). Rejections against a source now speak about
        ``target``; the source persons are deleted and their ids lead to ``target``
        (``person_redirects``).

        What keeps the merge through re-clusters is the user's word on the faces they saw: a person
        with no confirmed face gets its shown face (its cover, else its sharpest face, as every page
        shows it) confirmed to ``target``; faces tied to one person end together in every run."""
        stamp = stamp or now()
        for pid in [target, *sources]:
            self._anchor(pid, target, stamp)
        for pid in sources:
            self._conn.execute(
                "UPDATE assignments SET person_id = ?, updated_at = ? WHERE person_id = ?", (target, stamp, pid)
            )
            self._conn.execute(
                "INSERT OR IGNORE INTO rejections(face_id, person_id, created_at) "
                "SELECT face_id, ?, created_at FROM rejections WHERE person_id = ?",
                (target, pid),
            )
        self._conn.executemany(
            "UPDATE person_redirects SET new_id = ? WHERE new_id = ?", [(target, pid) for pid in sources]
        )
        self._conn.executemany(
            "INSERT INTO person_redirects(old_id, new_id, merged_at) VALUES (?, ?, ?) "
            "ON CONFLICT(old_id) DO UPDATE SET new_id = excluded.new_id, merged_at = excluded.merged_at",
            [(pid, target, stamp) for pid in sources],
        )
        self._conn.executemany("DELETE FROM persons WHERE id = ?", [(pid,) for pid in sources])

    def _anchor(self, person_id: int, target: int, stamp: str) -> None:
        """Confirm ``person_id``'s shown face to ``target`` unless one of its faces is confirmed."""
        if self._conn.execute(
            "SELECT 1 FROM assignments WHERE person_id = ? AND provenance = 'confirmed' LIMIT 1", (person_id,)
        ).fetchone():
            return
        row = self._conn.execute(
            "SELECT COALESCE("
            " (SELECT a.face_id FROM persons p JOIN assignments a ON a.face_id = p.cover_face_id"
            "  AND a.person_id = p.id WHERE p.id = ?1),"
            " (SELECT a.face_id FROM assignments a JOIN faces f ON f.id = a.face_id WHERE a.person_id = ?1"
            "  ORDER BY f.quality DESC, f.det_score DESC, f.id LIMIT 1))",
            (person_id,),
        ).fetchone()
        if row is not None and row[0] is not None:
            self._conn.execute(
                "UPDATE assignments SET person_id = ?, provenance = 'confirmed', updated_at = ? WHERE face_id = ?",
                (target, stamp, row[0]),
            )

    # ------------------------------------------------------------------ this connection's changes

    def track_changes(self) -> None:
        """From now on, note every face whose assignment this connection changes (a temporary table
        and triggers, of this connection only; other connections' commits move ``data_version``).
        Lets a reader that keeps all assignments in memory (the review queue) catch up after a user
        action by reading the few faces it touched instead of 100,000 rows."""
        self._conn.execute("CREATE TEMP TABLE IF NOT EXISTS assignments_touched(face_id INTEGER PRIMARY KEY)")
        for op, image in (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD")):
            self._conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS assignments_touched_on_{op} AFTER {op.upper()} ON main.assignments "
                # Not INSERT OR IGNORE: an outer upsert's conflict rule would override the trigger's.
                f"BEGIN INSERT INTO assignments_touched(face_id) SELECT {image}.face_id WHERE NOT EXISTS "
                f"(SELECT 1 FROM assignments_touched WHERE face_id = {image}.face_id); END"
            )

    def take_changes(self, limit: int) -> list[tuple[int, int | None]] | None:
        """(face, its person now or None) for each face noted by ``track_changes`` since the last
        call, which are then forgotten; None when more than ``limit`` changed (read everything)."""
        count = self._conn.execute("SELECT COUNT(*) FROM assignments_touched").fetchone()[0]
        changes = None if count > limit else [(int(r[0]), r[1]) for r in self._conn.execute(
            "SELECT t.face_id, a.person_id FROM assignments_touched t LEFT JOIN assignments a USING (face_id)")]
        self._conn.execute("DELETE FROM assignments_touched")
        return changes
