"""Names exchanged with other photo tools: XMP face names in and out, and the exports (JSON, CSV,
folders of links).

The ``NameExchange`` service of a ``Library`` (``lib.interop``). Its reads and writes go through the
store's repositories: ``store.regions`` (``store/face_regions.py``) holds the ``xmp_names`` queue and
the face lists.

Names read from XMP face regions are user decisions: each becomes a confirmation (a person with that
name is found, else created). They pass through the ``xmp_names`` table: the scan writer queues them
with their face in one transaction and ``apply_imported_names`` confirms them. A queued name is not
applied (status ``conflict``) when it would contradict the user: the face is confirmed to someone else
by a decision made in facefile, the user rejected the face from that person, or the person already has
a confirmed face in that photo. A name that agrees with the face's automatic person is recorded
(status ``agreed``) but not turned into a confirmation: names facefile wrote out itself come back this
way and are no new evidence.
"""
from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from facefile.library.export import face_rows, person_folders, write_csv
from facefile.media.discover import VIDEO_EXTENSIONS
from facefile.store import Store

FacesByFile = dict[tuple[str, int, int, int], list[tuple[str | None, tuple[float, ...]]]]


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
    # --embed asked, but this photo is not written in place (RAW, BigTIFF, GIF ...): (path, why); its
    # names went to a sidecar (counted in ``sidecars``).
    not_in_place: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


class NameExchange:
    """Names to and from other photo tools, and the exports, of a ``Library`` (``lib.interop``).

    ``recluster`` re-groups the library's faces (``Library.recluster``): an import that confirmed
    names runs it, as a scan would.
    """

    def __init__(self, store: Store, recluster: Callable[[], int]) -> None:
        self._store = store
        self._recluster = recluster

    # ------------------------------------------------------------------ names in

    def apply_imported_names(self) -> tuple[int, int]:
        """Confirm every queued XMP name (see the module docstring); returns (confirmed, conflicts)."""
        confirmed = conflicts = 0
        regions = self._store.regions
        with self._store.transaction():
            for face_id, name, image_id in regions.pending_names():
                status = self._apply_name(face_id, name, image_id)
                regions.set_name_status(face_id, name, status)
                confirmed += status == "confirmed"
                conflicts += status == "conflict"
            if confirmed:
                self._store.meta.mark_dirty()
        return confirmed, conflicts

    def _apply_name(self, face_id: int, name: str, image_id: int) -> str:
        regions = self._store.regions
        current = regions.assignment(face_id)
        if current is not None and (current[2] or "").casefold() == name.casefold():
            # Already in a person of that name. An automatic assignment is left automatic: the name
            # may be one facefile wrote out itself (write-xmp), which is no new evidence.
            return "confirmed" if current[1] == "confirmed" else "agreed"
        if current is not None and current[1] == "confirmed":
            # Replace a confirmation only when it came from an earlier import (the other tool renamed
            # the face); one the user made in facefile stands.
            earlier = {n.casefold() for n in regions.confirmed_names(face_id)}
            if (current[2] or "").casefold() not in earlier:
                return "conflict"
        pid = self._person_named(name)
        if regions.is_rejected(face_id, pid) or regions.confirmed_in_photo(pid, image_id, other_than=face_id):
            return "conflict"
        self._store.decisions.confirm(face_id, pid)
        return "confirmed"

    def _person_named(self, name: str) -> int:
        """The person with this name (case-insensitive; the oldest when several share it), else a new
        person with it (in the caller's transaction)."""
        ids = self._store.persons.ids_named(name)
        if ids:
            return min(ids)
        pid = self._store.persons.new()
        self._store.persons.set_name(pid, name)
        return pid

    def import_xmp(self, sidecars: Collection[str | os.PathLike[str]] | None = None) -> XmpImportReport:
        """Read the XMP face names of every photo already in the library (sidecars and embedded) and
        confirm the new ones, e.g. after naming faces in digiKam. A scan does this by itself for new
        or changed photos; a name imported once is never applied again, so facefile corrections
        made since stand. Regions with no stored face become manual faces (no embedding).

        ``sidecars``: only the photos these ``.xmp`` files belong to (either naming convention; the
        files may be gone), which is what ``watch`` does when a sidecar changes."""
        from facefile.interop import match_regions, photo_regions
        from facefile.interop.files import sidecar_candidates
        from facefile.interop.regions import scale

        report = XmpImportReport()
        store = self._store
        wanted = None if sidecars is None else {os.path.realpath(p) for p in sidecars}
        for image_id, path, width, height in store.regions.photos():
            if Path(path).suffix.lower() in VIDEO_EXTENSIONS:
                continue
            if wanted is not None and not any(
                    os.path.realpath(c) in wanted for c in sidecar_candidates(store.paths.on_disk(path))):
                continue
            regions = photo_regions(store.paths.on_disk(path))
            if not regions:
                continue
            report.files_with_regions += 1
            faces = store.regions.face_boxes(image_id)
            boxes = [scale(r.rect, width, height) for r in regions]
            matched = match_regions(boxes, [box for _, box in faces])
            with store.transaction():
                for region, box, index in zip(regions, boxes, matched, strict=True):
                    if index is None:
                        face_id = store.regions.add_manual_face(image_id, box)
                        report.manual_faces += 1
                    else:
                        face_id = faces[index][0]
                    report.names_queued += store.regions.queue_name(face_id, region.name, region.kind, region.origin)
        report.confirmed, report.conflicts = self.apply_imported_names()
        if report.confirmed:
            self._recluster()
        return report

    # ------------------------------------------------------------------ names out

    def write_xmp(self, *, embed: bool = False, progress: Any = None, threads: int = 8) -> XmpWriteReport:
        """Write MWG face regions with person names for the named, visible persons' faces.

        Default: into ``.xmp`` sidecars (an existing one is merged into; the photo is never opened
        for writing). ``embed``: into the photo itself, byte-wise and atomically, for JPEG (Extended
        XMP when the packet is large), PNG, WebP, TIFF and HEIF; RAW files and other formats get a
        sidecar and the report says why (``not_in_place``). Photos with a named face, or whose names were imported from XMP, are written (so a
        name removed in facefile is removed there too). Videos are skipped.

        Files are written by ``threads`` threads: each write is flushed to disk (fsync) before its
        rename, and the waits overlap; SQLite is only touched from this thread.
        """
        import time
        from concurrent.futures import ThreadPoolExecutor

        from facefile.interop.files import write_photo_regions
        from facefile.interop.xmp import XmpError
        from facefile.media.errors import MediaError

        started = time.perf_counter()
        report = XmpWriteReport()
        by_file = self._faces_to_write()
        copies: dict[int, int] = defaultdict(int)
        for _, image_id, _, _ in by_file:
            copies[image_id] += 1
        if progress is not None:
            progress.stage("Writing XMP face regions", total=len(by_file))
        on_disk = {path: self._store.paths.on_disk(path) for path, _, _, _ in by_file}

        def write_one(item):  # noqa: ANN001, ANN202 - ((path, image id, w, h), faces) -> outcome or error
            (path, _, width, height), faces = item
            named = [(name, _normalised(box, width, height)) for name, box in faces if name]
            known = [_normalised(box, width, height) for _, box in faces]
            try:
                return write_photo_regions(on_disk[path], named, known, embed), len(named)
            except (OSError, XmpError, MediaError) as exc:
                return exc, 0

        new_signatures = []
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            for (key, _), (outcome, regions) in zip(by_file.items(), pool.map(write_one, by_file.items()), strict=True):
                if isinstance(outcome, Exception):
                    report.errors.append((key[0], outcome.reason if isinstance(outcome, MediaError) else str(outcome)))
                else:
                    report.files += 1
                    report.regions += regions
                    report.embedded += outcome.embedded
                    report.sidecars += not outcome.embedded
                    if outcome.sidecar_reason is not None:
                        report.not_in_place.append((key[0], outcome.sidecar_reason))
                    if outcome.signature is not None and copies[key[1]] == 1:
                        new_signatures.append((key[0], key[1], *outcome.signature))
                if progress is not None:
                    progress.advance()
        self._refresh_signatures(new_signatures)
        report.seconds = time.perf_counter() - started
        return report

    def _faces_to_write(self) -> FacesByFile:
        by_file: FacesByFile = defaultdict(list)
        for path, image_id, width, height, box, name in self._store.regions.faces_to_write():
            by_file[(path, image_id, width, height)].append((name, box))
        return by_file

    def _refresh_signatures(self, written: list[tuple[str, int, str, int, int]]) -> None:
        """After an embed a file has new bytes: record its new content hash, size and time so the
        next scan sees a known, unchanged file (its faces and decisions stay). ``written`` holds
        ``(path, image id, hash, size, mtime_ns)`` of images with a single file; an image with other
        copies (duplicates) keeps its rows, and the next scan reads the rewritten file as new
        content (its names come back from its own XMP)."""
        with self._store.transaction():
            for path, image_id, new_hash, size, mtime_ns in written:
                self._store.regions.refresh_signature(path, image_id, new_hash, size, mtime_ns)

    # ------------------------------------------------------------------ export

    def export_faces(self) -> list[dict[str, Any]]:
        """Every face of every file, in the public JSON export format (see README)."""
        return face_rows(self._store)

    def export_folders(self, out: str | os.PathLike[str]) -> int:
        """One folder per person under ``out`` holding links to that person's photos."""
        return person_folders(self._store, Path(out))

    def export_csv(self, out: TextIO) -> int:
        """Every face of every file as CSV (``CSV_COLUMNS``, one header row); returns the faces written.
        Same rows and units as the JSON export, plus face id, quality, source and a video face's
        time range (seconds)."""
        return write_csv(self._store, out)

    def face_times(self, face_ids: list[int]) -> dict[int, tuple[float, float]]:
        """face id -> (start, end) seconds, for the video faces (face tracks) among ``face_ids``."""
        return self._store.regions.video_times(face_ids)


def _normalised(box: tuple[float, ...], width: int, height: int) -> tuple[float, float, float, float]:
    return (box[0] / width, box[1] / height, box[2] / width, box[3] / height)
