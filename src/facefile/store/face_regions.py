"""Face regions exchanged with other photo tools, and the rows exports list.

The ``xmp_names`` queue (names read from XMP face regions, waiting to become confirmations), the
face and file reads ``import-xmp`` and ``write-xmp`` need, and the face lists of ``export``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from facefile.store.db import now, to_blob
from facefile.store.records import NO_EMBEDDING_MODEL
from facefile.store.repository import Repository

CHUNK = 500  # SQLite's bound-parameter limit, with room to spare

Box = tuple[float, float, float, float]


class RegionRepository(Repository):
    # ------------------------------------------------------------------ the xmp_names queue

    def pending_names(self) -> list[tuple[int, str, int]]:
        """(face id, name, image id) of every queued name, by face and then import time."""
        return [(r[0], r[1], r[2]) for r in self._conn.execute(
            "SELECT x.face_id, x.name, f.image_id FROM xmp_names x JOIN faces f ON f.id = x.face_id "
            "WHERE x.status = 'pending' ORDER BY x.face_id, x.imported_at"
        )]

    def set_name_status(self, face_id: int, name: str, status: str) -> None:
        """``confirmed``, ``agreed`` or ``conflict``: what became of a queued name."""
        self._conn.execute("UPDATE xmp_names SET status = ? WHERE face_id = ? AND name = ?",
                           (status, face_id, name))

    def confirmed_names(self, face_id: int) -> list[str]:
        """The names an earlier import confirmed this face as."""
        return [r[0] for r in self._conn.execute(
            "SELECT name FROM xmp_names WHERE face_id = ? AND status = 'confirmed'", (face_id,))]

    def queue_name(self, face_id: int, name: str, kind: str, origin: str) -> int:
        """Queue a name read for a face; 1 when new, 0 when that (face, name) was read before."""
        return self._conn.execute(
            "INSERT OR IGNORE INTO xmp_names(face_id, name, kind, origin, status, imported_at) "
            "VALUES (?, ?, ?, ?, 'pending', ?)", (face_id, name, kind, origin, now()),
        ).rowcount

    # ------------------------------------------------------------------ what a name would contradict

    def assignment(self, face_id: int) -> tuple[int, str, str | None] | None:
        """(person id, provenance, person name) of the face, or None when unassigned."""
        row = self._conn.execute(
            "SELECT a.person_id, a.provenance, p.name FROM assignments a JOIN persons p ON p.id = a.person_id "
            "WHERE a.face_id = ?", (face_id,),
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def is_rejected(self, face_id: int, person_id: int) -> bool:
        return self._conn.execute(
            "SELECT 1 FROM rejections WHERE face_id = ? AND person_id = ?", (face_id, person_id)
        ).fetchone() is not None

    def confirmed_in_photo(self, person_id: int, image_id: int, other_than: int) -> bool:
        """Whether the person has a confirmed face in this image other than face ``other_than``."""
        return self._conn.execute(
            "SELECT 1 FROM assignments a JOIN faces f ON f.id = a.face_id WHERE a.person_id = ? "
            "AND a.provenance = 'confirmed' AND f.image_id = ? AND a.face_id != ?", (person_id, image_id, other_than),
        ).fetchone() is not None

    # ------------------------------------------------------------------ faces of photos

    def photos(self) -> list[tuple[int, str, int, int]]:
        """(image id, first path, width, height) of every image, by id."""
        return [(r[0], r[1], r[2], r[3]) for r in self._conn.execute(
            "SELECT i.id, MIN(fi.path), i.width, i.height FROM images i JOIN files fi ON fi.image_id = i.id "
            "WHERE fi.companion = 0 GROUP BY i.id ORDER BY i.id"
        )]

    def face_boxes(self, image_id: int) -> list[tuple[int, Box]]:
        """(face id, box) of the faces of one image, by id."""
        return [(r[0], (r[1], r[2], r[3], r[4])) for r in self._conn.execute(
            "SELECT id, x1, y1, x2, y2 FROM faces WHERE image_id = ? ORDER BY id", (image_id,))]

    def add_manual_face(self, image_id: int, box: Sequence[float]) -> int:
        """A face the user drew in another tool (a named region no face was detected in): stored
        without embedding (``NO_EMBEDDING_MODEL``), so the engine never clusters it."""
        face_id = self._conn.execute(
            "INSERT INTO faces(image_id, x1, y1, x2, y2, landmarks, det_score, quality, model_id, embedding, source) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, 'manual')",
            (image_id, *map(float, box), to_blob(np.zeros((5, 2), np.float32)), NO_EMBEDDING_MODEL, b""),
        ).lastrowid
        assert face_id is not None
        return face_id

    def faces_to_write(self) -> list[tuple[str, int, int, int, Box, str | None]]:
        """(path, image id, width, height, box, name of a visible person or None) of every face of
        the photos (no videos) with a face of a named visible person or a name imported from XMP,
        by path and face id."""
        rows = self._conn.execute(
            """
            SELECT fi.path, i.id, i.width, i.height, f.x1, f.y1, f.x2, f.y2,
                   CASE WHEN p.hidden = 0 THEN p.name END
            FROM images i JOIN files fi ON fi.image_id = i.id JOIN faces f ON f.image_id = i.id
            LEFT JOIN assignments a ON a.face_id = f.id LEFT JOIN persons p ON p.id = a.person_id
            WHERE i.id IN (
                SELECT f2.image_id FROM faces f2 JOIN assignments a2 ON a2.face_id = f2.id
                JOIN persons p2 ON p2.id = a2.person_id WHERE p2.name IS NOT NULL AND p2.hidden = 0
                UNION SELECT f3.image_id FROM faces f3 JOIN xmp_names x ON x.face_id = f3.id)
              AND NOT EXISTS (SELECT 1 FROM faces v WHERE v.image_id = i.id AND v.video_start_s IS NOT NULL)
            ORDER BY fi.path, f.id
            """
        )
        return [(path, image_id, width, height, (x1, y1, x2, y2), name)
                for path, image_id, width, height, x1, y1, x2, y2, name in rows]

    def refresh_signature(self, path: str, image_id: int, content_hash: str, size: int, mtime_ns: int) -> bool:
        """Record a rewritten file's new content hash, size and time (in the caller's transaction);
        False, changing nothing, when another image already has that content."""
        if self._conn.execute("SELECT 1 FROM images WHERE content_hash = ?", (content_hash,)).fetchone():
            return False
        self._conn.execute("UPDATE images SET content_hash = ? WHERE id = ?", (content_hash, image_id))
        self._conn.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, path))
        return True

    # ------------------------------------------------------------------ exports

    def export_rows(self) -> list[tuple[str, Box, int | None, str | None, float]]:
        """(path, box, person id, person name, score) of every face of every file, by path and face
        id; a photo stored under two paths is listed under each."""
        rows = self._conn.execute(
            """
            SELECT fi.path, f.x1, f.y1, f.x2, f.y2, a.person_id, p.name, f.det_score
            FROM files fi
            JOIN faces f ON f.image_id = fi.image_id
            LEFT JOIN assignments a ON a.face_id = f.id
            LEFT JOIN persons p ON p.id = a.person_id
            WHERE fi.companion = 0
            ORDER BY fi.path, f.id
            """
        )
        return [(path, (x1, y1, x2, y2), person_id, name, score)
                for path, x1, y1, x2, y2, person_id, name, score in rows]

    def csv_rows(self) -> list[tuple[Any, ...]]:
        """(path, face id, person id, person name, x1, y1, x2, y2, score, quality, source,
        video start, video end, taken at) of every face of every file, by path and face id."""
        return [tuple(r) for r in self._conn.execute(
            """
            SELECT fi.path, f.id, a.person_id, p.name, f.x1, f.y1, f.x2, f.y2, f.det_score, f.quality,
                   f.source, f.video_start_s, f.video_end_s, i.taken_at
            FROM files fi JOIN images i ON i.id = fi.image_id JOIN faces f ON f.image_id = fi.image_id
            LEFT JOIN assignments a ON a.face_id = f.id LEFT JOIN persons p ON p.id = a.person_id
            WHERE fi.companion = 0
            ORDER BY fi.path, f.id
            """
        )]

    def person_photos(self) -> list[tuple[int, str | None, int, str]]:
        """(person id, name, image id, first path) of each photo of each visible person, by person
        and path."""
        return [(r[0], r[1], r[2], r[3]) for r in self._conn.execute(
            """
            SELECT DISTINCT a.person_id, p.name, fi.image_id,
                   (SELECT MIN(path) FROM files WHERE image_id = fi.image_id AND companion = 0) AS path
            FROM assignments a
            JOIN persons p ON p.id = a.person_id AND p.hidden = 0
            JOIN faces f ON f.id = a.face_id
            JOIN files fi ON fi.image_id = f.image_id
            ORDER BY a.person_id, path
            """
        )]

    def video_times(self, face_ids: Sequence[int]) -> dict[int, tuple[float, float]]:
        """face id -> (start, end) seconds, for the video faces (face tracks) among ``face_ids``."""
        found: dict[int, tuple[float, float]] = {}
        for start in range(0, len(face_ids), CHUNK):
            chunk = list(face_ids[start:start + CHUNK])
            marks = ",".join("?" * len(chunk))
            for fid, s, e in self._conn.execute(
                f"SELECT id, video_start_s, video_end_s FROM faces WHERE id IN ({marks}) AND video_start_s IS NOT NULL",
                chunk,
            ):
                found[fid] = (s, e)
        return found
