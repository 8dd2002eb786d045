"""Writes of a scan: one writer, batched transactions, every step resumable.

The scan pipeline (``facefile.pipeline.scan``) hands results here; nothing else writes media or faces.
A batch is one transaction, so a kill at any moment leaves whole files either stored or not.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from facefile.store.companion_files import CompanionFiles
from facefile.store.db import now, to_blob, transaction
from facefile.store.meta import mark_dirty
from facefile.store.paths import disk_path, stored_path
from facefile.store.records import NO_EMBEDDING_MODEL, FaceRecord, FileError, ImageResult
from facefile.store.repository import Repository
from facefile.store.rights_records import RightsRepository
from facefile.store.scans import ScanRepository
from facefile.store.withheld import WithheldFaces


class PhotoRepository(Repository):
    """Photos (``images``: one row per distinct content), their files on disk, files that failed."""

    def writer(self, model_id: str) -> IngestWriter:
        """The single writer of a scan with ``model_id``."""
        return IngestWriter(self._conn, model_id)

    def errors(self) -> list[FileError]:
        return [
            FileError(r[0], r[1], r[2])
            for r in self._conn.execute("SELECT path, reason, failed_at FROM file_errors ORDER BY path")
        ]

    def paths_of(self, image_id: int) -> list[str]:
        """The stored paths of one photo's files (an exact duplicate has several), in order, as
        ``os`` functions take them (``disk_path``)."""
        return [disk_path(r[0]) for r in self._conn.execute(
            "SELECT path FROM files WHERE image_id = ? ORDER BY companion, path", (int(image_id),))]

    def counts(self) -> dict[str, int]:
        """How much the library holds: files, photos, faces, persons, errors, scans."""
        one = lambda sql, *args: int(self._conn.execute(sql, args).fetchone()[0])  # noqa: E731
        return {
            "files": one("SELECT COUNT(*) FROM files"),
            "photos": one("SELECT COUNT(*) FROM images"),
            "photos_with_faces": one("SELECT COUNT(DISTINCT image_id) FROM faces"),
            "faces": one("SELECT COUNT(*) FROM faces"),
            "faces_assigned": one("SELECT COUNT(*) FROM assignments"),
            "faces_confirmed": one("SELECT COUNT(*) FROM assignments WHERE provenance = 'confirmed'"),
            "persons": one("SELECT COUNT(DISTINCT person_id) FROM assignments"),
            "named_persons": one("SELECT COUNT(*) FROM persons WHERE name IS NOT NULL"),
            "errors": one("SELECT COUNT(*) FROM file_errors"),
            "faces_without_embedding": one("SELECT COUNT(*) FROM faces WHERE model_id = ?", NO_EMBEDDING_MODEL),
            "scans": one("SELECT COUNT(*) FROM scans"),
        }

    def embedding_models(self) -> list[str]:
        """Embedding models with faces (faces without embedding carry NO_EMBEDDING_MODEL)."""
        return [r[0] for r in self._conn.execute(
            "SELECT DISTINCT model_id FROM faces WHERE model_id != ? ORDER BY 1", (NO_EMBEDDING_MODEL,))]


@dataclass(frozen=True)
class StoredBatch:
    """What storing one batch did: faces added, files that failed, files of content new to the
    library, and files linked to content it held already (moved, copied, or a duplicate of a file
    stored earlier in the same scan)."""

    faces: int
    errors: int
    new_files: int
    linked_files: int


class IngestWriter:
    """The single writer of a scan."""

    def __init__(self, conn: sqlite3.Connection, model_id: str) -> None:
        self._conn = conn
        self.model_id = model_id
        self.close_stale_scans()

    def close_stale_scans(self) -> int:
        """A scan killed hard (SIGKILL, power cut) leaves its row 'running'; a new writer marks such
        rows 'interrupted'. A scan still running in another process would be marked too, and sets
        its own row when it finishes."""
        scans = ScanRepository(self._conn)
        if self._conn.in_transaction:
            return scans.close_stale()
        with transaction(self._conn):
            return scans.close_stale()

    # ------------------------------------------------------------------ what is already known

    def unchanged_signatures(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of files that need no work: processed with this model, or
        failed before with the same size and time (a broken file is not retried until it changes)."""
        known = {
            disk_path(path): (size, mtime)
            for path, size, mtime in self._conn.execute(
                "SELECT f.path, f.size, f.mtime_ns FROM files f JOIN images i ON i.id = f.image_id "
                "WHERE i.model_id = ?",
                (self.model_id,),
            )
        }
        for path, size, mtime in self._conn.execute("SELECT path, size, mtime_ns FROM file_errors"):
            known.setdefault(disk_path(path), (size, mtime))
        return known

    def known_hashes(self) -> set[str]:
        """Contents already processed with this model: a file with one of these is only linked."""
        return {h for (h,) in self._conn.execute("SELECT content_hash FROM images WHERE model_id = ?", (self.model_id,))}

    def primary_paths(self) -> set[str]:
        """Files photos are read from (not companions, not failed files)."""
        return {disk_path(p) for (p,) in self._conn.execute("SELECT path FROM files WHERE companion = 0")}

    def all_paths(self) -> set[str]:
        paths = {disk_path(p) for (p,) in self._conn.execute("SELECT path FROM files")}
        return paths | {disk_path(p) for (p,) in self._conn.execute("SELECT path FROM file_errors")}

    # ------------------------------------------------------------------ writes

    def store(self, results: Iterable[ImageResult]) -> tuple[int, int]:
        """Store a batch of results in one transaction; returns (faces added, errors)."""
        stored = self.store_batch(results)
        return stored.faces, stored.errors

    def store_batch(self, results: Iterable[ImageResult]) -> StoredBatch:
        """Store a batch of results in one transaction, saying which files were new content. The
        content is looked up as each file is stored, so the second of two identical files found in
        one scan (both hashed before either was stored) is counted as the duplicate it is."""
        faces_added = errors = new = linked = 0
        with transaction(self._conn):
            # Forgotten faces and opt-outs (rights_filter.py), read inside the transaction so an
            # erasure committed by another process a moment ago already applies.
            withheld = RightsRepository(self._conn).withheld(self.model_id)
            for result in results:
                if result.error is not None:
                    self._store_error(result)
                    errors += 1
                    continue
                added, was_known = self._store_image(result, withheld)
                faces_added += added
                linked += was_known
                new += not was_known
        return StoredBatch(faces_added, errors, new, linked)

    def _store_error(self, r: ImageResult) -> None:
        path = stored_path(r.path)
        self._conn.execute("DELETE FROM files WHERE path = ?", (path,))
        self._conn.execute(
            "INSERT INTO file_errors(path, size, mtime_ns, reason, failed_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "reason = excluded.reason, failed_at = excluded.failed_at",
            (path, r.size, r.mtime_ns, r.error, now()),
        )

    def _store_image(self, r: ImageResult, withheld: WithheldFaces | None = None) -> tuple[int, bool]:
        """Store one file's result: (faces added, whether its content was in the library already)."""
        path = stored_path(r.path)
        self._conn.execute("DELETE FROM file_errors WHERE path = ?", (path,))
        row = self._conn.execute(
            "SELECT id, model_id FROM images WHERE content_hash = ?", (r.content_hash,)
        ).fetchone()
        added = 0
        known = row is not None and (row["model_id"] == self.model_id or r.known_image)
        if known:
            image_id = row["id"]
        elif r.known_image:
            raise ValueError(f"{r.path}: content reported as known but not in the library")
        else:
            if row is not None:  # processed with another model before: its faces are replaced
                image_id = row["id"]
                self._conn.execute("DELETE FROM faces WHERE image_id = ?", (image_id,))
                self._conn.execute(
                    "UPDATE images SET width=?, height=?, taken_at=?, model_id=?, processed_at=?, live_id=?, "
                    "live_role=? WHERE id=?",
                    (r.width, r.height, r.taken_at, self.model_id, now(), r.live_id, r.live_role, image_id),
                )
            else:
                image_id = self._conn.execute(
                    "INSERT INTO images(content_hash, width, height, taken_at, model_id, processed_at, live_id, "
                    "live_role) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (r.content_hash, r.width, r.height, r.taken_at, self.model_id, now(), r.live_id, r.live_role),
                ).lastrowid
            faces = r.faces
            if withheld is not None and r.content_hash is not None:
                faces = [f for f in faces if not withheld.withhold(r.content_hash, f)]
            self._insert_faces(image_id, faces)
            added = len(faces)
            mark_dirty(self._conn)
        # companion = 0: a file that was a companion (its JPEG deleted since) is a photo of its own now.
        self._conn.execute(
            "INSERT INTO files(path, image_id, size, mtime_ns, companion) VALUES (?, ?, ?, ?, 0) "
            "ON CONFLICT(path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, companion = 0",
            (path, image_id, r.size, r.mtime_ns),
        )
        return added, known

    def _insert_faces(self, image_id: int, faces: list[FaceRecord]) -> None:
        """Faces of a new image or video. A face without embedding (a named XMP region no face was
        found in) gets NO_EMBEDDING_MODEL, so the engine never clusters it. Names from XMP regions
        are queued in ``xmp_names`` in this same transaction; ``lib.interop.apply_imported_names`` turns
        them into confirmations (a kill in between leaves them queued, never lost)."""
        for f in faces:
            face_id = self._conn.execute(
                "INSERT INTO faces(image_id, x1, y1, x2, y2, landmarks, det_score, quality, model_id, embedding, "
                "source, video_start_s, video_end_s, video_frame_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (image_id, *map(float, f.box), to_blob(f.landmarks), float(f.det_score), float(f.quality),
                 self.model_id if len(f.embedding) else NO_EMBEDDING_MODEL, to_blob(f.embedding), f.source,
                 f.video_start_s, f.video_end_s, f.video_frame_s),
            ).lastrowid
            if f.imported_name is not None:
                self._conn.execute(
                    "INSERT OR IGNORE INTO xmp_names(face_id, name, kind, origin, status, imported_at) "
                    "VALUES (?, ?, ?, ?, 'pending', ?)",
                    (face_id, f.imported_name.name, f.imported_name.kind, f.imported_name.origin, now()),
                )

    def companions(self) -> dict[str, str]:
        """Companion files stored now: companion path -> the path its photo is read from."""
        return CompanionFiles(self._conn).companions()

    def store_companions(self, results: Iterable[ImageResult]) -> tuple[int, list[ImageResult]]:
        """File companions with their photos, then join renamed Live Photo clips to their stills,
        in one transaction; returns (files paired, companions whose photo is not stored: to be
        processed as photos of their own). Run after the scan's photos are stored."""
        results = list(results)
        with transaction(self._conn):
            companions = CompanionFiles(self._conn)
            orphans = companions.link(results)
            joined = companions.join_motion_clips()
            self.purge_orphans()
        return len(results) - len(orphans) + joined, orphans

    def remove_paths(self, paths: Iterable[str]) -> int:
        """Forget files that are gone from disk; their faces leave with the last copy of the image."""
        paths = list(paths)
        with transaction(self._conn):
            for path in map(stored_path, paths):
                self._conn.execute("DELETE FROM files WHERE path = ?", (path,))
                self._conn.execute("DELETE FROM file_errors WHERE path = ?", (path,))
            self.purge_orphans()
        return len(paths)

    def purge_orphans(self) -> None:
        """Images no file points to any more leave, with their faces (in the caller's transaction)."""
        gone = self._conn.execute(
            "DELETE FROM images WHERE id NOT IN (SELECT image_id FROM files)"
        ).rowcount
        if gone:
            mark_dirty(self._conn)
