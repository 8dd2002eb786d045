"""Faces: boxes, scores and embeddings, read one by one or, for clustering, as arrays."""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from facefile.store.db import from_blob
from facefile.store.library_error import LibraryError
from facefile.store.records import FaceInfo
from facefile.store.repository import Repository

CHUNK = 500  # SQLite's bound-parameter limit, with room to spare


def photo_key(table: str = "") -> str:
    """SQL for the 'photo' a face counts as for the same-photo rule: its image, except that
    faces of one video are not different people (a person may leave the frame and come back), so
    each video track counts as a photo of its own (-face id). ``table``: the faces table's alias."""
    t = f"{table}." if table else ""
    return f"CASE WHEN {t}video_start_s IS NULL THEN {t}image_id ELSE -{t}id END"


class FaceArrays:
    """Every face of one model, in face id order, as arrays: what the engine takes."""

    def __init__(self, ids: np.ndarray, photos: np.ndarray, quality: np.ndarray, vectors: np.ndarray) -> None:
        self.ids = ids  # (N,) int64
        self.photos = photos  # (N,) int64: the photo key of each face (see ``photo_key``)
        self.quality = quality  # (N,) float32, NaN unknown
        self.vectors = vectors  # (N, d) float32, L2-normalised

    def __len__(self) -> int:
        return len(self.ids)


class FaceRepository(Repository):
    def load_model(self, model_id: str) -> FaceArrays:
        """Every face of one model. Read in chunks into arrays: a million faces as Python rows
        would take ~1 GB before becoming the 0.5 GB array they are."""
        cursor = self._conn.execute(
            f"SELECT id, {photo_key()}, quality, embedding FROM faces WHERE model_id = ? ORDER BY id", (model_id,)
        )
        ids: list[np.ndarray] = []
        photos: list[np.ndarray] = []
        quality: list[np.ndarray] = []
        vectors: list[np.ndarray] = []
        while rows := cursor.fetchmany(65_536):
            ids.append(np.fromiter((r[0] for r in rows), np.int64, len(rows)))
            photos.append(np.fromiter((r[1] for r in rows), np.int64, len(rows)))
            quality.append(np.fromiter((r[2] for r in rows), np.float32, len(rows)))
            vectors.append(np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(len(rows), -1))
        if not ids:
            return FaceArrays(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32),
                              np.zeros((0, 0), np.float32))
        return FaceArrays(np.concatenate(ids), np.concatenate(photos), np.concatenate(quality),
                          np.concatenate(vectors))

    def photo_and_quality(self, face_ids: Sequence[int]) -> dict[int, tuple[int, float | None]]:
        """Face id -> (photo key, quality) for these faces."""
        ids = [int(f) for f in face_ids]
        out: dict[int, tuple[int, float | None]] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            for r in self._conn.execute(
                f"SELECT id, {photo_key()}, quality FROM faces WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ):
                out[r[0]] = (r[1], r[2])
        return out

    def newer_than(self, model_id: str, face_id: int) -> list[tuple[int, int, float | None]]:
        """(id, photo key, quality) of the faces of ``model_id`` added after ``face_id``, ascending."""
        return [(r[0], r[1], r[2]) for r in self._conn.execute(
            f"SELECT id, {photo_key()}, quality FROM faces WHERE model_id = ? AND id > ? ORDER BY id",
            (model_id, face_id))]

    def count_newer(self, model_id: str, face_id: int) -> tuple[int, int]:
        """(faces of the model, those of them added after ``face_id``), in one pass."""
        total, new = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(id > ?), 0) FROM faces WHERE model_id = ?", (face_id, model_id)
        ).fetchone()
        return int(total), int(new)

    def extent(self, model_id: str) -> tuple[int, int]:
        """(number of faces of the model, their largest id or 0)."""
        count, largest = self._conn.execute(
            "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM faces WHERE model_id = ?", (model_id,)
        ).fetchone()
        return int(count), int(largest)

    def most_common_model(self) -> str | None:
        row = self._conn.execute(
            "SELECT model_id FROM faces GROUP BY model_id ORDER BY COUNT(*) DESC LIMIT 1").fetchone()
        return None if row is None else row[0]

    def exists(self, face_id: int) -> bool:
        return self._conn.execute("SELECT 1 FROM faces WHERE id = ?", (int(face_id),)).fetchone() is not None

    def require(self, face_ids: Sequence[int]) -> None:
        """Raise ``LibraryError`` for the first of ``face_ids`` the library does not hold."""
        for face_id in face_ids:
            if not self.exists(face_id):
                raise LibraryError(f"no face with id {face_id}")

    def embeddings(self, face_ids: Sequence[int]) -> np.ndarray:
        """The stored embeddings of these faces, in the order given, one row per face that has one
        (see ``Library.embeddings``). An unknown id raises ``KeyError``."""
        if not face_ids:
            return np.zeros((0, 0), np.float32)
        by_id: dict[int, bytes] = {}
        for start in range(0, len(face_ids), CHUNK):
            chunk = [int(f) for f in face_ids[start:start + CHUNK]]
            marks = ",".join("?" * len(chunk))
            by_id.update(self._conn.execute(f"SELECT id, embedding FROM faces WHERE id IN ({marks})", chunk).fetchall())
        rows = [from_blob(blob) for blob in (by_id[int(i)] for i in face_ids) if blob]
        return np.stack(rows) if rows else np.zeros((0, 0), np.float32)

    def infos(self, person_id: int | None = None, *, unassigned: bool = False) -> list[FaceInfo]:
        """Faces of one person, or the unassigned faces, or all faces; one row per face (first path)."""
        where, args = "", []
        if person_id is not None:
            where, args = "WHERE a.person_id = ?", [person_id]
        elif unassigned:
            where = "WHERE a.person_id IS NULL"
        rows = self._conn.execute(
            f"""
            SELECT f.id, (SELECT MIN(path) FROM files WHERE image_id = f.image_id AND companion = 0) AS path,
                   f.x1, f.y1, f.x2, f.y2, f.det_score, f.quality, a.person_id, a.provenance, i.taken_at,
                   i.width, i.height, f.source, f.video_start_s, f.video_end_s, f.video_frame_s
            FROM faces f JOIN images i ON i.id = f.image_id
            LEFT JOIN assignments a ON a.face_id = f.id
            {where}
            ORDER BY i.taken_at, path, f.id
            """,
            args,
        ).fetchall()
        return [_info(r) for r in rows]

    def count_upto(self, model_id: str, face_id: int) -> int:
        """Faces of the model with an id up to ``face_id`` (a cache of them is still whole if it holds
        as many)."""
        (count,) = self._conn.execute(
            "SELECT COUNT(*) FROM faces WHERE model_id = ? AND id <= ?", (model_id, face_id)
        ).fetchone()
        return int(count)

    def vectors_after(self, model_id: str, face_id: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, (n, ``dim``) embeddings) of the faces of the model added after ``face_id``, ascending."""
        rows = self._conn.execute(
            "SELECT id, embedding FROM faces WHERE model_id = ? AND id > ? ORDER BY id", (model_id, face_id)
        ).fetchall()
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        return ids, np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), dim)


def _info(r: sqlite3.Row) -> FaceInfo:
    return FaceInfo(r[0], r[1], (r[2], r[3], r[4], r[5]), r[6], r[7], r[8], r[9], r[10], (r[11], r[12]),
                    r[13], r[14], r[15], r[16])
