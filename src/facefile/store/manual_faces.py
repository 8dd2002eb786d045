"""Faces placed by a person: a box drawn by hand on a photo the scan already holds (source
'manual', see ``0007_birth_dates.sql``). Scans add faces through ``photos.IngestWriter``; this is
the one other way a face comes in, always as a user action (the history records and undoes it)."""
from __future__ import annotations

from dataclasses import dataclass

from facefile.store.db import to_blob
from facefile.store.paths import stored_path
from facefile.store.records import NO_EMBEDDING_MODEL, FaceRecord
from facefile.store.repository import Repository


@dataclass(frozen=True)
class PhotoFacts:
    """What drawing a face on a photo needs to know of it."""

    id: int
    width: int  # original pixels, upright
    height: int
    taken_at: str | None
    model_id: str  # the face model its faces were found with
    is_video: bool


class ManualFaceRepository(Repository):
    """``store.manual_faces``."""

    def photo_facts(self, image_id: int) -> PhotoFacts | None:
        row = self._conn.execute(
            "SELECT i.id, i.width, i.height, i.taken_at, i.model_id, "
            "EXISTS (SELECT 1 FROM faces f WHERE f.image_id = i.id AND f.video_start_s IS NOT NULL) "
            "FROM images i WHERE i.id = ?",
            (int(image_id),),
        ).fetchone()
        return None if row is None else PhotoFacts(row[0], row[1], row[2], row[3], row[4], bool(row[5]))

    def photo_of_path(self, stored: str) -> int | None:
        """The photo a file (as the library stores its path) shows, or None."""
        row = self._conn.execute("SELECT image_id FROM files WHERE path = ?", (stored_path(stored),)).fetchone()
        return None if row is None else int(row[0])

    def boxes_in(self, image_id: int) -> dict[int, tuple[float, float, float, float]]:
        """Face id -> box (original pixels) of every face of one photo."""
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in self._conn.execute(
            "SELECT id, x1, y1, x2, y2 FROM faces WHERE image_id = ? ORDER BY id", (int(image_id),))}

    def add(self, image_id: int, face: FaceRecord, model_id: str) -> int:
        """Store one face of ``image_id`` (caller's transaction); a face without embedding gets
        NO_EMBEDDING_MODEL, so the engine never clusters it. Returns its id."""
        face_id = self._conn.execute(
            "INSERT INTO faces(image_id, x1, y1, x2, y2, landmarks, det_score, quality, model_id, embedding, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (int(image_id), *map(float, face.box), to_blob(face.landmarks), float(face.det_score),
             float(face.quality), model_id if len(face.embedding) else NO_EMBEDDING_MODEL,
             to_blob(face.embedding), face.source),
        ).lastrowid
        assert face_id is not None
        return int(face_id)
