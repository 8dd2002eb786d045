"""Writes of a scan: one writer, batched transactions, every step resumable.

The scan pipeline (``facefile.pipeline.scan``) hands results here; nothing else writes media or faces.
A batch is one transaction, so a kill at any moment leaves whole files either stored or not.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from facefile.store.db import now, to_blob, transaction
from facefile.store.meta import mark_dirty
from facefile.store.paths import disk_path, stored_path
from facefile.store.records import NO_EMBEDDING_MODEL, FaceRecord, ImageResult
from facefile.store.withheld import WithheldFaces


class IngestWriter:
    """The single writer of a scan."""

    def __init__(self, conn: sqlite3.Connection, model_id: str) -> None:
        self.conn = conn
        self.model_id = model_id
        self.close_stale_scans()

    def close_stale_scans(self) -> int:
        """A scan killed hard (SIGKILL, power cut) leaves its row 'running'; a new writer marks such
        rows 'interrupted' (finished_at stays unknown). A scan still running in another process
        would be marked too, and sets its own row when it finishes."""
        sql = "UPDATE scans SET status = 'interrupted' WHERE status = 'running'"
        if self.conn.in_transaction:
            return self.conn.execute(sql).rowcount
        with transaction(self.conn):
            return self.conn.execute(sql).rowcount

    # ------------------------------------------------------------------ what is already known

    def unchanged_signatures(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of files that need no work: processed with this model, or
        failed before with the same size and time (a broken file is not retried until it changes)."""
        known = {
            disk_path(path): (size, mtime)
            for path, size, mtime in self.conn.execute(
                "SELECT f.path, f.size, f.mtime_ns FROM files f JOIN images i ON i.id = f.image_id "
                "WHERE i.model_id = ?",
                (self.model_id,),
            )
        }
        for path, size, mtime in self.conn.execute("SELECT path, size, mtime_ns FROM file_errors"):
            known.setdefault(disk_path(path), (size, mtime))
        return known

    def known_hashes(self) -> set[str]:
        """Contents already processed with this model: a file with one of these is only linked."""
        return {h for (h,) in self.conn.execute("SELECT content_hash FROM images WHERE model_id = ?", (self.model_id,))}

    def all_paths(self) -> set[str]:
        paths = {disk_path(p) for (p,) in self.conn.execute("SELECT path FROM files")}
        return paths | {disk_path(p) for (p,) in self.conn.execute("SELECT path FROM file_errors")}

    # ------------------------------------------------------------------ writes

    def store(self, results: Iterable[ImageResult]) -> tuple[int, int]:
        """Store a batch of results in one transaction; returns (faces added, errors)."""
        faces_added = errors = 0
        with transaction(self.conn):
            # Forgotten faces and opt-outs (rights_filter.py), read inside the transaction so an
            # erasure committed by another process a moment ago already applies.
            withheld = WithheldFaces.load(self.conn, self.model_id)
            for result in results:
                if result.error is not None:
                    self._store_error(result)
                    errors += 1
                else:
                    faces_added += self._store_image(result, withheld)
        return faces_added, errors

    def _store_error(self, r: ImageResult) -> None:
        path = stored_path(r.path)
        self.conn.execute("DELETE FROM files WHERE path = ?", (path,))
        self.conn.execute(
            "INSERT INTO file_errors(path, size, mtime_ns, reason, failed_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "reason = excluded.reason, failed_at = excluded.failed_at",
            (path, r.size, r.mtime_ns, r.error, now()),
        )

    def _store_image(self, r: ImageResult, withheld: WithheldFaces | None = None) -> int:
        path = stored_path(r.path)
        self.conn.execute("DELETE FROM file_errors WHERE path = ?", (path,))
        row = self.conn.execute(
            "SELECT id, model_id FROM images WHERE content_hash = ?", (r.content_hash,)
        ).fetchone()
        added = 0
        if row is not None and (row["model_id"] == self.model_id or r.known_image):
            image_id = row["id"]
        elif r.known_image:
            raise ValueError(f"{r.path}: content reported as known but not in the library")
        else:
            if row is not None:  # processed with another model before: its faces are replaced
                image_id = row["id"]
                self.conn.execute("DELETE FROM faces WHERE image_id = ?", (image_id,))
                self.conn.execute(
                    "UPDATE images SET width=?, height=?, taken_at=?, model_id=?, processed_at=? WHERE id=?",
                    (r.width, r.height, r.taken_at, self.model_id, now(), image_id),
                )
            else:
                image_id = self.conn.execute(
                    "INSERT INTO images(content_hash, width, height, taken_at, model_id, processed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (r.content_hash, r.width, r.height, r.taken_at, self.model_id, now()),
                ).lastrowid
            faces = r.faces
            if withheld is not None and r.content_hash is not None:
                faces = [f for f in faces if not withheld.withhold(r.content_hash, f)]
            self._insert_faces(image_id, faces)
            added = len(faces)
            mark_dirty(self.conn)
        self.conn.execute(
            "INSERT INTO files(path, image_id, size, mtime_ns) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size, "
            "mtime_ns = excluded.mtime_ns",
            (path, image_id, r.size, r.mtime_ns),
        )
        return added

    def _insert_faces(self, image_id: int, faces: list[FaceRecord]) -> None:
        """Faces of a new image or video. A face without embedding (a named XMP region no face was
        found in) gets NO_EMBEDDING_MODEL, so the engine never clusters it. Names from XMP regions
        are queued in ``xmp_names`` in this same transaction; ``Library.apply_imported_names`` turns
        them into confirmations (a kill in between leaves them queued, never lost)."""
        for f in faces:
            face_id = self.conn.execute(
                "INSERT INTO faces(image_id, x1, y1, x2, y2, landmarks, det_score, quality, model_id, embedding, "
                "source, video_start_s, video_end_s, video_frame_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (image_id, *map(float, f.box), to_blob(f.landmarks), float(f.det_score), float(f.quality),
                 self.model_id if len(f.embedding) else NO_EMBEDDING_MODEL, to_blob(f.embedding), f.source,
                 f.video_start_s, f.video_end_s, f.video_frame_s),
            ).lastrowid
            if f.imported_name is not None:
                self.conn.execute(
                    "INSERT OR IGNORE INTO xmp_names(face_id, name, kind, origin, status, imported_at) "
                    "VALUES (?, ?, ?, ?, 'pending', ?)",
                    (face_id, f.imported_name.name, f.imported_name.kind, f.imported_name.origin, now()),
                )

    def remove_paths(self, paths: Iterable[str]) -> int:
        """Forget files that are gone from disk; their faces leave with the last copy of the image."""
        paths = list(paths)
        with transaction(self.conn):
            for path in map(stored_path, paths):
                self.conn.execute("DELETE FROM files WHERE path = ?", (path,))
                self.conn.execute("DELETE FROM file_errors WHERE path = ?", (path,))
            self.purge_orphans()
        return len(paths)

    def purge_orphans(self) -> None:
        """Images no file points to any more leave, with their faces (in the caller's transaction)."""
        gone = self.conn.execute(
            "DELETE FROM images WHERE id NOT IN (SELECT image_id FROM files)"
        ).rowcount
        if gone:
            mark_dirty(self.conn)
