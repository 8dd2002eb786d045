"""The rights of the people in the photos: forget, export-person, opt-out, audit log.

``SubjectRights`` is the service a ``Library`` holds as ``lib.rights``; what it stores and reads
is ``store.rights`` (``facefile.store.rights_records``), the files it touches ``subject_files.py``.

- ``forget(person)`` erases a person: their faces (embeddings, boxes, landmarks, assignments,
  rejections, cached crops), their name and person row. Deleted rows are zeroed (``secure_delete``),
  then the database is rebuilt (``VACUUM``) and the write-ahead log truncated, so no erased byte stays
  in ``library.db`` or ``library.db-wal``. A keyed marker per face (``store/withheld.py``) keeps later
  scans from filing those faces again from the same photos.
- ``export_person(person, out)`` writes everything the library holds about a person to one zip.
- ``opt_out(person)`` keeps one template (the mean embedding) and erases the person: from then on a
  scan does not store any face matching it. ``remove_opt_out(id)`` deletes the template.
- Every one of these is logged in ``rights_audit`` (what, when, which person, how many faces), a
  table that refuses UPDATE and DELETE.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facefile.cluster import ClusterParams
from facefile.library.person_actions import PersonActions
from facefile.library.subject_files import (
    EXPORT_FORMAT,
    face_crop_jpeg,
    forget_face_files,
    write_subject_export,
)
from facefile.library.vector_cache import drop_vector_caches
from facefile.media import MediaError
from facefile.store import LibraryError, Store
from facefile.store.db import now
from facefile.store.paths import disk_path
from facefile.store.rights_records import AuditEntry, OptOutTemplate, SubjectFace

__all__ = ["AuditEntry", "ErasureReport", "OptOutTemplate", "SubjectRights"]


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did. ``scrubbed``: the database was rebuilt and its WAL emptied (False only
    when another process held a read open for longer than the busy timeout; run again to finish)."""

    person_id: int | None
    faces: int
    files_removed: int
    scrubbed: bool
    template_id: int | None = None


class SubjectRights:
    """The subject-rights service of a ``Library`` (``lib.rights``)."""

    def __init__(self, store: Store, persons: PersonActions, folder: Path) -> None:
        self._store = store
        self._persons = persons
        self._folder = folder  # the library folder: its cached crops and vector caches

    # ------------------------------------------------------------------ forget

    def forget(self, person: str | int) -> ErasureReport:
        """Erase a person and every face of theirs, leaving no recoverable bytes in the library."""
        pid = self._persons.resolve(person)
        with self._store.transaction():
            face_ids = self._store.decisions.faces_of(pid)
            # The history must not keep what is erased: the faces, the person, the persons merged into it.
            self._store.history.forget(face_ids, [pid, *self._store.redirects.merged_into(pid)])
            self._store.rights.erase_faces(face_ids)
            self._store.persons.delete(pid)
            self._store.rights.audit("forget", person_id=pid, faces=len(face_ids))
        return self._finish_erasure(pid, face_ids)

    def clear_forgotten_markers(self) -> int:
        """Let scans file faces erased before again, should their photos be processed anew (a
        changed file, another backend, a file removed and added back). Returns markers cleared."""
        with self._store.transaction():
            cleared = self._store.rights.clear_markers()
            self._store.rights.audit("forget-markers-cleared", detail=f"{cleared} markers")
        return cleared

    def _finish_erasure(self, pid: int | None, face_ids: list[int], template_id: int | None = None) -> ErasureReport:
        files = forget_face_files(self._folder, face_ids)
        drop_vector_caches(self._folder)  # they hold copies of the erased embeddings
        return ErasureReport(pid, len(face_ids), files, self.scrub(), template_id)

    def scrub(self) -> bool:
        """Rebuild the database and empty its write-ahead log, so deleted rows leave no trace in
        either file. True when the WAL was truncated to zero bytes (see ``Store.scrub``)."""
        return self._store.scrub()

    # ------------------------------------------------------------------ subject access

    def export_person(self, person: str | int, out: str | Path) -> dict[str, Any]:
        """Write ``out`` (a zip): ``person.json`` with everything the library holds about the person,
        and ``crops/face-<id>.jpg`` cut from the original photos. Returns the JSON record."""
        pid = self._persons.resolve(person)
        record = self._subject_record(pid)
        crops: dict[str, bytes] = {}
        for face in record["faces"]:
            name = f"crops/face-{face['face_id']}.jpg"
            face["crop"], face["crop_error"] = None, "no file of this photo is left"
            for path in face["paths"]:  # the first copy that still reads
                try:
                    crops[name] = face_crop_jpeg(self._store.paths.on_disk(disk_path(path)), tuple(face["box"]))
                except (MediaError, OSError, ValueError) as exc:
                    face["crop_error"] = getattr(exc, "reason", None) or str(exc)
                    continue
                face["crop"], face["crop_error"] = name, None
                break
        record = {"format": EXPORT_FORMAT, "exported_at": now(), **record}
        with self._store.transaction():
            self._store.rights.audit("export-person", person_id=pid, faces=len(record["faces"]),
                                     detail=f"{len(crops)} crops")
        record["audit"] = [asdict(e) for e in self.audit_log(pid)]
        write_subject_export(out, record, crops)
        return record

    def _subject_record(self, pid: int) -> dict[str, Any]:
        p = self._store.rights.subject_person(pid)
        faces = [_face_entry(f) for f in self._store.rights.subject_faces(pid)]
        rejections = [
            {"face_id": r.face_id, "paths": r.paths, "box": list(r.box), "at": r.at}
            for r in self._store.rights.subject_rejections(pid)
        ]
        dates = [f["taken_at"] for f in faces if f["taken_at"]]
        return {
            "person": {
                "id": p.id, "name": p.name, "hidden": p.hidden, "created_at": p.created_at,
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

    # ------------------------------------------------------------------ opt-out

    def opt_out(self, person: str | int) -> ErasureReport:
        """The person is never filed again: keep their mean embedding as an opt-out template, then
        erase them, and every unassigned face that matches the template (it would form them anew)."""
        pid = self._persons.resolve(person)
        # The model persons are clustered from, as ``Library.model_id()`` picks it.
        model_id = self._store.scans.latest_model() or self._store.faces.most_common_model()
        if model_id is None:
            raise LibraryError("this library has no faces yet")
        threshold = ClusterParams.for_model(model_id).link_similarity
        with self._store.transaction():
            face_ids = self._store.decisions.faces_of(pid)
            vectors = self._store.rights.person_embeddings(pid, model_id)
            if not vectors:
                raise LibraryError(f"person {pid} has no faces of model {model_id} to make a template from")
            template = np.mean(vectors, axis=0)
            template = (template / np.linalg.norm(template)).astype(np.float32)
            template_id = self._store.rights.add_template(model_id, template, threshold)
            face_ids += self._unassigned_matches(model_id, template, threshold)
            self._store.history.forget(face_ids, [pid, *self._store.redirects.merged_into(pid)])
            self._store.rights.erase_faces(face_ids)
            self._store.persons.delete(pid)
            self._store.rights.audit("opt-out", person_id=pid, template_id=template_id, faces=len(face_ids))
        return self._finish_erasure(pid, face_ids, template_id)

    def _unassigned_matches(self, model_id: str, template: np.ndarray, threshold: float) -> list[int]:
        return [fid for fid, vector in self._store.rights.unassigned_embeddings(model_id)
                if float(vector @ template) >= threshold]

    def opt_outs(self) -> list[OptOutTemplate]:
        return self._store.rights.templates()

    def remove_opt_out(self, template_id: int) -> ErasureReport:
        """Delete an opt-out template (and scrub it from the files): the person may be filed again."""
        with self._store.transaction():
            if not self._store.rights.remove_template(int(template_id)):
                raise LibraryError(f"no opt-out template with id {template_id} (see `facefile opt-out --list`)")
            self._store.rights.audit("opt-out-remove", template_id=int(template_id))
        return ErasureReport(None, 0, 0, self.scrub(), int(template_id))

    # ------------------------------------------------------------------ audit

    def audit_log(self, person: int | None = None) -> list[AuditEntry]:
        """Every rights operation, oldest first (only those about one person id when given)."""
        return self._store.rights.audit_log(person)


def _face_entry(f: SubjectFace) -> dict[str, Any]:
    """One face of a subject access export."""
    return {
        "face_id": f.face_id,
        "paths": f.paths,
        "box": list(f.box),
        "landmarks": f.landmarks.tolist(),
        "detector_score": f.det_score,
        "quality": f.quality,
        "taken_at": f.taken_at,
        "photo_size": [f.width, f.height],
        "assigned": {"how": "confirmed by you" if f.provenance == "confirmed" else "grouped automatically",
                     "at": f.assigned_at},
        "embedding": {"model": f.model_id, "vector": [round(float(v), 7) for v in f.embedding]},
    }
