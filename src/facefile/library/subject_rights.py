"""Library actions for the rights of the people in the photos: forget, export-person, opt-out, audit log.

A mixin of ``Library``: methods here use ``self.conn`` (sqlite3, WAL) and the helpers of
``library.db`` / ``library.ingest`` like the rest of the class.

- ``forget(person)`` erases a person: their faces (embeddings, boxes, landmarks, assignments,
  rejections, cached crops), their name and person row. Deleted rows are zeroed (``secure_delete``),
  then the database is rebuilt (``VACUUM``) and the write-ahead log truncated, so no erased byte stays
  in ``library.db`` or ``library.db-wal``. A keyed marker per face (``rights_filter.py``) keeps later
  scans from filing those faces again from the same photos.
- ``export_person(person, out)`` writes everything the library holds about a person to one zip.
- ``opt_out(person)`` keeps one template (the mean embedding) and erases the person: from then on a
  scan does not store any face matching it. ``remove_opt_out(id)`` deletes the template.
- Every one of these is logged in ``rights_audit`` (what, when, which person, how many faces), a
  table that refuses UPDATE and DELETE.
"""
from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from facefile.cluster import ClusterParams
from facefile.store.db import DB_FILENAME, from_blob, now, to_blob, transaction
from facefile.store.errors import LibraryError
from facefile.store.paths import disk_path
from facefile.store.withheld import face_marker, marker_key

_CHUNK = 500  # SQLite's bound-parameter limit, with room to spare


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did. ``scrubbed``: the database was rebuilt and its WAL emptied (False only
    when another process held a read open for longer than the busy timeout; run again to finish)."""

    person_id: int | None
    faces: int
    files_removed: int
    scrubbed: bool
    template_id: int | None = None


@dataclass(frozen=True)
class OptOutTemplate:
    id: int
    model_id: str
    threshold: float
    created_at: str


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    action: str
    person_id: int | None
    template_id: int | None
    faces: int
    detail: str | None


def audit(
    conn: sqlite3.Connection, action: str, *, person_id: int | None = None, template_id: int | None = None,
    faces: int = 0, detail: str | None = None,
) -> None:
    """Append one entry (in the caller's transaction). Never pass erased data (names, paths, boxes)."""
    # Append-only: migration 0004 made UPDATE and DELETE of rights_audit abort.
    conn.execute(
        "INSERT INTO rights_audit(at, action, person_id, template_id, faces, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (now(), action, person_id, template_id, faces, detail),
    )


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


class RightsActions:
    conn: sqlite3.Connection
    folder: Path

    if TYPE_CHECKING:  # provided by Library
        def resolve_person(self, ref: str | int) -> int: ...
        def abs_path(self, stored: str) -> Path: ...
        def model_id(self) -> str | None: ...

    # ------------------------------------------------------------------ forget

    def forget(self, person: str | int) -> ErasureReport:
        """Erase a person and every face of theirs, leaving no recoverable bytes in the library."""
        pid = self.resolve_person(person)
        with transaction(self.conn):
            face_ids = self._person_face_ids(pid)
            self._erase_faces(face_ids)
            self.conn.execute("DELETE FROM persons WHERE id = ?", (pid,))
            audit(self.conn, "forget", person_id=pid, faces=len(face_ids))
        return self._finish_erasure(pid, face_ids)

    def clear_forgotten_markers(self) -> int:
        """Let scans file faces erased before again, should their photos be processed anew (a
        changed file, another backend, a file removed and added back). Returns markers cleared."""
        with transaction(self.conn):
            cleared = self.conn.execute("DELETE FROM forgotten_faces").rowcount
            audit(self.conn, "forget-markers-cleared", detail=f"{cleared} markers")
        return cleared

    def _person_face_ids(self, pid: int) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "SELECT face_id FROM assignments WHERE person_id = ? ORDER BY face_id", (pid,))]

    def _erase_faces(self, face_ids: list[int]) -> None:
        """Delete faces (in the caller's transaction), remembering each by its marker only. Their
        assignments and rejections go with them (ON DELETE CASCADE); covers fall back to none."""
        if not face_ids:
            return
        key = marker_key(self.conn, create=True)
        assert key is not None
        for chunk in _chunks(face_ids):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT i.content_hash, f.x1, f.y1, f.x2, f.y2 FROM faces f JOIN images i ON i.id = f.image_id "
                f"WHERE f.id IN ({marks})", chunk,
            ).fetchall()
            self.conn.executemany(
                "INSERT OR IGNORE INTO forgotten_faces(marker) VALUES (?)",
                [(face_marker(key, r[0], (r[1], r[2], r[3], r[4])),) for r in rows],
            )
            self.conn.execute(f"DELETE FROM faces WHERE id IN ({marks})", chunk)

    def _finish_erasure(self, pid: int | None, face_ids: list[int], template_id: int | None = None) -> ErasureReport:
        from facefile.library.subject_files import forget_face_files
        from facefile.library.vector_cache import drop_vector_caches

        files = forget_face_files(self.folder, face_ids)
        drop_vector_caches(self.folder)  # they hold copies of the erased embeddings
        return ErasureReport(pid, len(face_ids), files, self.scrub(), template_id)

    def scrub(self) -> bool:
        """Rebuild the database and empty its write-ahead log, so deleted rows leave no trace in
        either file (``secure_delete`` zeroes them in the pages; older copies of those pages can sit
        in the WAL and in free pages). True when the WAL was truncated to zero bytes."""
        self.conn.execute("VACUUM")
        busy, _log, _done = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        wal = self.folder / f"{DB_FILENAME}-wal"
        return busy == 0 and (not wal.exists() or wal.stat().st_size == 0)

    # ------------------------------------------------------------------ subject access

    def export_person(self, person: str | int, out: str | Path) -> dict[str, Any]:
        """Write ``out`` (a zip): ``person.json`` with everything the library holds about the person,
        and ``crops/face-<id>.jpg`` cut from the original photos. Returns the JSON record."""
        from facefile.library.subject_files import EXPORT_FORMAT, face_crop_jpeg, write_subject_export
        from facefile.media import MediaError

        pid = self.resolve_person(person)
        record = self._subject_record(pid)
        crops: dict[str, bytes] = {}
        for face in record["faces"]:
            name = f"crops/face-{face['face_id']}.jpg"
            face["crop"], face["crop_error"] = None, "no file of this photo is left"
            for path in face["paths"]:  # the first copy that still reads
                try:
                    crops[name] = face_crop_jpeg(self.abs_path(disk_path(path)), tuple(face["box"]))
                except (MediaError, OSError, ValueError) as exc:
                    face["crop_error"] = getattr(exc, "reason", None) or str(exc)
                    continue
                face["crop"], face["crop_error"] = name, None
                break
        record = {"format": EXPORT_FORMAT, "exported_at": now(), **record}
        with transaction(self.conn):
            audit(self.conn, "export-person", person_id=pid, faces=len(record["faces"]),
                  detail=f"{len(crops)} crops")
        record["audit"] = [asdict(e) for e in self.audit_log(pid)]
        write_subject_export(out, record, crops)
        return record

    def _subject_record(self, pid: int) -> dict[str, Any]:
        p = self.conn.execute("SELECT id, name, hidden, created_at FROM persons WHERE id = ?", (pid,)).fetchone()
        faces = []
        rows = self.conn.execute(
            """
            SELECT f.id, f.image_id, f.x1, f.y1, f.x2, f.y2, f.landmarks, f.det_score, f.quality, f.model_id,
                   f.embedding, a.provenance, a.updated_at, i.taken_at, i.width, i.height
            FROM assignments a JOIN faces f ON f.id = a.face_id JOIN images i ON i.id = f.image_id
            WHERE a.person_id = ? ORDER BY i.taken_at, f.id
            """, (pid,),
        ).fetchall()
        for r in rows:
            faces.append({
                "face_id": r[0],
                "paths": self._paths(r[1]),
                "box": [r[2], r[3], r[4], r[5]],
                "landmarks": from_blob(r[6], (5, 2)).tolist(),
                "detector_score": r[7],
                "quality": r[8],
                "taken_at": r[13],
                "photo_size": [r[14], r[15]],
                "assigned": {"how": "confirmed by you" if r[11] == "confirmed" else "grouped automatically",
                             "at": r[12]},
                "embedding": {"model": r[9], "vector": [round(float(v), 7) for v in from_blob(r[10])]},
            })
        rejections = [
            {"face_id": r[0], "paths": self._paths(r[1]), "box": [r[2], r[3], r[4], r[5]], "at": r[6]}
            for r in self.conn.execute(
                "SELECT r.face_id, f.image_id, f.x1, f.y1, f.x2, f.y2, r.created_at FROM rejections r "
                "JOIN faces f ON f.id = r.face_id WHERE r.person_id = ? ORDER BY r.face_id", (pid,))
        ]
        dates = [f["taken_at"] for f in faces if f["taken_at"]]
        return {
            "person": {
                "id": p["id"], "name": p["name"], "hidden": bool(p["hidden"]), "created_at": p["created_at"],
                "faces": len(faces), "photos": len({tuple(f["paths"]) for f in faces}),
                "first_date": min(dates, default=None), "last_date": max(dates, default=None),
            },
            "faces": faces,
            "corrections": {
                "confirmations": [{"face_id": f["face_id"], "at": f["assigned"]["at"]}
                                  for f in faces if f["assigned"]["how"] == "confirmed by you"],
                "rejections": rejections,
                "merges": "not recorded separately: faces merged into this person are confirmations",
            },
            "notes": "Boxes and landmarks are in pixels of the upright original photo ([x1, y1, x2, y2]). "
                     "The embedding is the face's identity vector, used only to group faces. facefile never "
                     "infers any personal attribute (such as age or gender) from a face.",
        }

    def _paths(self, image_id: int) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT path FROM files WHERE image_id = ? ORDER BY path", (image_id,))]

    # ------------------------------------------------------------------ opt-out

    def opt_out(self, person: str | int) -> ErasureReport:
        """The person is never filed again: keep their mean embedding as an opt-out template, then
        erase them, and every unassigned face that matches the template (it would form them anew)."""
        pid = self.resolve_person(person)
        model_id = self.model_id()
        if model_id is None:
            raise LibraryError("this library has no faces yet")
        threshold = ClusterParams.for_model(model_id).link_similarity
        with transaction(self.conn):
            face_ids = self._person_face_ids(pid)
            rows = self.conn.execute(
                "SELECT f.embedding FROM assignments a JOIN faces f ON f.id = a.face_id "
                "WHERE a.person_id = ? AND f.model_id = ?", (pid, model_id),
            ).fetchall()
            if not rows:
                raise LibraryError(f"person {pid} has no faces of model {model_id} to make a template from")
            template = np.mean([from_blob(r[0]) for r in rows], axis=0)
            template = (template / np.linalg.norm(template)).astype(np.float32)
            template_id = self.conn.execute(
                "INSERT INTO opt_out_templates(model_id, embedding, threshold, created_at) VALUES (?, ?, ?, ?)",
                (model_id, to_blob(template), threshold, now()),
            ).lastrowid
            face_ids += self._unassigned_matches(model_id, template, threshold)
            self._erase_faces(face_ids)
            self.conn.execute("DELETE FROM persons WHERE id = ?", (pid,))
            audit(self.conn, "opt-out", person_id=pid, template_id=template_id, faces=len(face_ids))
        return self._finish_erasure(pid, face_ids, template_id)

    def _unassigned_matches(self, model_id: str, template: np.ndarray, threshold: float) -> list[int]:
        rows = self.conn.execute(
            "SELECT f.id, f.embedding FROM faces f LEFT JOIN assignments a ON a.face_id = f.id "
            "WHERE a.face_id IS NULL AND f.model_id = ?", (model_id,),
        ).fetchall()
        return [r[0] for r in rows if float(from_blob(r[1]) @ template) >= threshold]

    def opt_outs(self) -> list[OptOutTemplate]:
        return [OptOutTemplate(*r) for r in self.conn.execute(
            "SELECT id, model_id, threshold, created_at FROM opt_out_templates ORDER BY id")]

    def remove_opt_out(self, template_id: int) -> ErasureReport:
        """Delete an opt-out template (and scrub it from the files): the person may be filed again."""
        with transaction(self.conn):
            if self.conn.execute("DELETE FROM opt_out_templates WHERE id = ?", (int(template_id),)).rowcount == 0:
                raise LibraryError(f"no opt-out template with id {template_id} (see `facefile opt-out --list`)")
            audit(self.conn, "opt-out-remove", template_id=int(template_id))
        return ErasureReport(None, 0, 0, self.scrub(), int(template_id))

    # ------------------------------------------------------------------ audit

    def audit_log(self, person: int | None = None) -> list[AuditEntry]:
        """Every rights operation, oldest first (only those about one person id when given)."""
        where, args = ("WHERE person_id = ?", (person,)) if person is not None else ("", ())
        return [AuditEntry(*r) for r in self.conn.execute(
            f"SELECT id, at, action, person_id, template_id, faces, detail FROM rights_audit {where} ORDER BY id",
            args)]
