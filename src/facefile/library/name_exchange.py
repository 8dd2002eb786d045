"""Library actions for other photo tools and videos: XMP face names in and out, CSV export.

A mixin of ``Library``: methods here use ``self.conn`` (sqlite3, WAL) and the helpers of
``library.db`` / ``library.ingest`` like the rest of the class.

Names read from XMP face regions are user decisions: each becomes a confirmation through the
library's own ``_confirm`` (a person with that name is found, else created). They pass through the
``xmp_names`` table: the scan writer queues them with their face in one transaction and
``apply_imported_names`` confirms them. A queued name is not applied (status ``conflict``) when it
would contradict the user: the face is confirmed to someone else by a decision made in facefile, the
user rejected the face from that person, or the person already has a confirmed face in that photo.
A name that agrees with the face's automatic person is recorded (status ``agreed``) but not turned
into a confirmation: names facefile wrote out itself come back this way and are no new evidence.
"""
from __future__ import annotations

import csv
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from facefile.library.clustering import new_person
from facefile.media.discover import VIDEO_EXTENSIONS
from facefile.store.db import now, to_blob, transaction
from facefile.store.meta import mark_dirty
from facefile.store.records import NO_EMBEDDING_MODEL

CSV_COLUMNS = ["path", "face_id", "person_id", "person_name", "x1", "y1", "x2", "y2", "score", "quality",
               "source", "video_start_s", "video_end_s", "taken_at"]


@dataclass
class XmpImportReport:
    files_with_regions: int = 0
    names_queued: int = 0  # new (face, name) pairs found
    manual_faces: int = 0  # named regions with no face: stored without embedding
    confirmed: int = 0
    conflicts: int = 0


@dataclass
class XmpWriteReport:
    files: int = 0
    sidecars: int = 0
    embedded: int = 0
    regions: int = 0
    not_jpeg: int = 0  # --embed asked, but the format has no byte-wise writer here: a sidecar instead
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


class InteropActions:
    conn: sqlite3.Connection
    folder: Path

    if TYPE_CHECKING:  # provided by Library
        def abs_path(self, stored: str) -> Path: ...
        def _confirm(self, face_id: int, pid: int) -> None: ...
        def recluster(self, model_id: str | None = None) -> int: ...

    # ------------------------------------------------------------------ names in

    def apply_imported_names(self) -> tuple[int, int]:
        """Confirm every queued XMP name (see the module docstring); returns (confirmed, conflicts)."""
        confirmed = conflicts = 0
        with transaction(self.conn):
            pending = self.conn.execute(
                "SELECT x.face_id, x.name, f.image_id FROM xmp_names x JOIN faces f ON f.id = x.face_id "
                "WHERE x.status = 'pending' ORDER BY x.face_id, x.imported_at"
            ).fetchall()
            for face_id, name, image_id in pending:
                status = self._apply_name(face_id, name, image_id)
                self.conn.execute("UPDATE xmp_names SET status = ? WHERE face_id = ? AND name = ?",
                                  (status, face_id, name))
                confirmed += status == "confirmed"
                conflicts += status == "conflict"
            if confirmed:
                mark_dirty(self.conn)
        return confirmed, conflicts

    def _apply_name(self, face_id: int, name: str, image_id: int) -> str:
        current = self.conn.execute(
            "SELECT a.person_id, a.provenance, p.name FROM assignments a JOIN persons p ON p.id = a.person_id "
            "WHERE a.face_id = ?", (face_id,),
        ).fetchone()
        if current is not None and (current[2] or "").casefold() == name.casefold():
            # Already in a person of that name. An automatic assignment is left automatic: the name
            # may be one facefile wrote out itself (write-xmp), which is no new evidence.
            return "confirmed" if current[1] == "confirmed" else "agreed"
        if current is not None and current[1] == "confirmed":
            # Replace a confirmation only when it came from an earlier import (the other tool renamed
            # the face); one the user made in facefile stands.
            earlier = {n.casefold() for (n,) in self.conn.execute(
                "SELECT name FROM xmp_names WHERE face_id = ? AND status = 'confirmed'", (face_id,))}
            if (current[2] or "").casefold() not in earlier:
                return "conflict"
        pid = self._person_named(name)
        rejected = self.conn.execute(
            "SELECT 1 FROM rejections WHERE face_id = ? AND person_id = ?", (face_id, pid)).fetchone()
        clash = self.conn.execute(
            "SELECT 1 FROM assignments a JOIN faces f ON f.id = a.face_id WHERE a.person_id = ? "
            "AND a.provenance = 'confirmed' AND f.image_id = ? AND a.face_id != ?", (pid, image_id, face_id),
        ).fetchone()
        if rejected or clash:
            return "conflict"
        self._confirm(face_id, pid)
        return "confirmed"

    def _person_named(self, name: str) -> int:
        """The person with this name (case-insensitive; the oldest when several share it), else a new
        person with it (in the caller's transaction)."""
        row = self.conn.execute(
            "SELECT id FROM persons WHERE name = ? COLLATE NOCASE ORDER BY id LIMIT 1", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        pid = new_person(self.conn, now())
        self.conn.execute("UPDATE persons SET name = ? WHERE id = ?", (name, pid))
        return pid

    def import_xmp(self) -> XmpImportReport:
        """Read the XMP face names of every photo already in the library (sidecars and embedded) and
        confirm the new ones, e.g. after naming faces in digiKam. A scan does this by itself for new
        or changed photos; a name imported once is never applied again, so facefile corrections
        made since stand. Regions with no stored face become manual faces (no embedding)."""
        from facefile.interop import match_regions, photo_regions
        from facefile.interop.regions import scale

        report = XmpImportReport()
        photos = self.conn.execute(
            "SELECT i.id, MIN(fi.path), i.width, i.height FROM images i JOIN files fi ON fi.image_id = i.id "
            "GROUP BY i.id ORDER BY i.id"
        ).fetchall()
        for image_id, path, width, height in photos:
            if Path(path).suffix.lower() in VIDEO_EXTENSIONS:
                continue
            regions = photo_regions(self.abs_path(path))
            if not regions:
                continue
            report.files_with_regions += 1
            faces = self.conn.execute(
                "SELECT id, x1, y1, x2, y2 FROM faces WHERE image_id = ? ORDER BY id", (image_id,)).fetchall()
            boxes = [scale(r.rect, width, height) for r in regions]
            matched = match_regions(boxes, [tuple(f[1:]) for f in faces])
            with transaction(self.conn):
                for region, box, index in zip(regions, boxes, matched, strict=True):
                    if index is None:
                        face_id = self._insert_manual_face(image_id, box)
                        report.manual_faces += 1
                    else:
                        face_id = faces[index][0]
                    report.names_queued += self.conn.execute(
                        "INSERT OR IGNORE INTO xmp_names(face_id, name, kind, origin, status, imported_at) "
                        "VALUES (?, ?, ?, ?, 'pending', ?)", (face_id, region.name, region.kind, region.origin, now()),
                    ).rowcount
        report.confirmed, report.conflicts = self.apply_imported_names()
        if report.confirmed:
            self.recluster()
        return report

    def _insert_manual_face(self, image_id: int, box: tuple[float, float, float, float]) -> int:
        face_id = self.conn.execute(
            "INSERT INTO faces(image_id, x1, y1, x2, y2, landmarks, det_score, quality, model_id, embedding, source) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?, 'manual')",
            (image_id, *map(float, box), to_blob(np.zeros((5, 2), np.float32)), NO_EMBEDDING_MODEL, b""),
        ).lastrowid
        assert face_id is not None
        return face_id

    # ------------------------------------------------------------------ names out

    def write_xmp(self, *, embed: bool = False, progress: Any = None, threads: int = 8) -> XmpWriteReport:
        """Write MWG face regions with person names for the named, visible persons' faces.

        Default: into ``.xmp`` sidecars (an existing one is merged into; the photo is never opened
        for writing). ``embed``: into the JPEG itself, byte-wise and atomically; other formats get a
        sidecar. Photos with a named face, or whose names were imported from XMP, are written (so a
        name removed in facefile is removed there too). Videos are skipped.

        Files are written by ``threads`` threads: each write is flushed to disk (fsync) before its
        rename, and the waits overlap; SQLite is only touched from this thread.
        """
        import time
        from concurrent.futures import ThreadPoolExecutor

        from facefile.interop.files import write_photo_regions
        from facefile.interop.jpeg import JpegError
        from facefile.interop.xmp import XmpError

        started = time.perf_counter()
        report = XmpWriteReport()
        by_file = self._faces_to_write()
        copies: dict[int, int] = defaultdict(int)
        for _, image_id, _, _ in by_file:
            copies[image_id] += 1
        if progress is not None:
            progress.stage("Writing XMP face regions", total=len(by_file))

        def write_one(item):  # noqa: ANN001, ANN202 - ((path, image id, w, h), faces) -> outcome or error
            (path, _, width, height), faces = item
            named = [(name, _normalised(box, width, height)) for name, box in faces if name]
            known = [_normalised(box, width, height) for _, box in faces]
            try:
                return write_photo_regions(self.abs_path(path), named, known, embed), len(named)
            except (OSError, XmpError, JpegError) as exc:
                return exc, 0

        new_signatures = []
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            for (key, _), (outcome, regions) in zip(by_file.items(), pool.map(write_one, by_file.items()), strict=True):
                if isinstance(outcome, Exception):
                    report.errors.append((key[0], str(outcome)))
                else:
                    report.files += 1
                    report.regions += regions
                    report.embedded += outcome.embedded
                    report.sidecars += not outcome.embedded
                    report.not_jpeg += outcome.not_jpeg
                    if outcome.signature is not None and copies[key[1]] == 1:
                        new_signatures.append((key[0], key[1], *outcome.signature))
                if progress is not None:
                    progress.advance()
        self._refresh_signatures(new_signatures)
        report.seconds = time.perf_counter() - started
        return report

    def _faces_to_write(self) -> dict[tuple[str, int, int, int], list[tuple[str | None, tuple[float, ...]]]]:
        rows = self.conn.execute(
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
        by_file: dict[tuple[str, int, int, int], list[tuple[str | None, tuple[float, ...]]]] = defaultdict(list)
        for path, image_id, width, height, x1, y1, x2, y2, name in rows:
            by_file[(path, image_id, width, height)].append((name, (x1, y1, x2, y2)))
        return by_file

    def _refresh_signatures(self, written: list[tuple[str, int, str, int, int]]) -> None:
        """After an embed a file has new bytes: record its new content hash, size and time so the
        next scan sees a known, unchanged file (its faces and decisions stay). ``written`` holds
        ``(path, image id, hash, size, mtime_ns)`` of images with a single file; an image with other
        copies (duplicates) keeps its rows, and the next scan reads the rewritten file as new
        content (its names come back from its own XMP)."""
        with transaction(self.conn):
            for path, image_id, new_hash, size, mtime_ns in written:
                if self.conn.execute("SELECT 1 FROM images WHERE content_hash = ?", (new_hash,)).fetchone():
                    continue
                self.conn.execute("UPDATE images SET content_hash = ? WHERE id = ?", (new_hash, image_id))
                self.conn.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, path))

    # ------------------------------------------------------------------ export

    def export_csv(self, out: TextIO) -> int:
        """Every face of every file as CSV (``CSV_COLUMNS``, one header row); returns the faces written.
        Same rows and units as the JSON export, plus face id, quality, source and a video face's
        time range (seconds)."""
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        rows = self.conn.execute(
            """
            SELECT fi.path, f.id, a.person_id, p.name, f.x1, f.y1, f.x2, f.y2, f.det_score, f.quality,
                   f.source, f.video_start_s, f.video_end_s, i.taken_at
            FROM files fi JOIN images i ON i.id = fi.image_id JOIN faces f ON f.image_id = fi.image_id
            LEFT JOIN assignments a ON a.face_id = f.id LEFT JOIN persons p ON p.id = a.person_id
            ORDER BY fi.path, f.id
            """
        )
        count = 0
        for row in rows:
            path, fid, pid, name, x1, y1, x2, y2, score, quality, source, start, end, taken = row
            writer.writerow([path, fid, _blank(pid), _blank(name), *(round(v, 1) for v in (x1, y1, x2, y2)),
                             round(score, 4), round(quality, 4), source, _blank(start), _blank(end), _blank(taken)])
            count += 1
        return count

    def face_times(self, face_ids: list[int]) -> dict[int, tuple[float, float]]:
        """face id -> (start, end) seconds, for the video faces (face tracks) among ``face_ids``."""
        found: dict[int, tuple[float, float]] = {}
        for start in range(0, len(face_ids), 500):
            chunk = face_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for fid, s, e in self.conn.execute(
                f"SELECT id, video_start_s, video_end_s FROM faces WHERE id IN ({marks}) AND video_start_s IS NOT NULL",
                chunk,
            ):
                found[fid] = (s, e)
        return found


def _normalised(box: tuple[float, ...], width: int, height: int) -> tuple[float, float, float, float]:
    return (box[0] / width, box[1] / height, box[2] / width, box[3] / height)


def _blank(value: Any) -> Any:
    return "" if value is None else value
