"""Faces drawn by hand (``lib.drawn_faces``): a box where the detector missed a face, given a person.

The box is in original pixels, upright (EXIF orientation applied), like every stored face. The
photo is decoded and the detector runs on the box's enlarged crop (``pipeline.xmp_faces``, the
same second look a named XMP region gets); a face found there is aligned and embedded with the
photo's model, so it counts in clustering like any confirmed face. Where none is found (a profile,
a face too small or too blurred), the box is stored without embedding (model ``NO_EMBEDDING_MODEL``):
it is filed into the person, never clustered. Either way the face is stored with source 'manual'
and confirmed to the person in one transaction, one action of the history (undo removes it).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facefile.interop import regions_match
from facefile.library.birthdays import refuse_barred
from facefile.library.person_actions import PersonActions
from facefile.media import MediaError, decode
from facefile.pipeline.xmp_faces import face_in_region
from facefile.store import LibraryError, Store
from facefile.store.manual_faces import PhotoFacts
from facefile.store.records import FaceRecord
from facefile.vision import MODEL_IDS, Backend, ModelError, load_backend

__all__ = ["MIN_DRAWN_SIDE", "DrawnFace", "DrawnFaces", "backend_for_model"]

Box = tuple[float, float, float, float]
# A drawn box narrower or lower than this (original pixels) is refused: it cannot hold a face anyone
# could recognise, and a mis-click on the photo must not file a face.
MIN_DRAWN_SIDE = 12.0
EDGE_SLACK = 1.0  # px a box may overhang the photo (rounding of screen coordinates); it is clipped


@dataclass(frozen=True)
class DrawnFace:
    face_id: int
    image_id: int
    person_id: int
    box: Box
    embedded: bool  # a face was found and aligned in the box: it has an embedding and is clustered


def backend_for_model(model_id: str) -> Backend | None:
    """The vision backend whose embeddings carry ``model_id``, or None (unknown model, weights missing)."""
    names = [name for name, mid in MODEL_IDS.items() if mid == model_id]
    if not names:
        return None
    try:
        return load_backend(names[0])
    except (ModelError, ImportError):
        return None


class DrawnFaces:
    """``lib.drawn_faces``: add a face by its box."""

    def __init__(self, store: Store, persons: PersonActions,
                 backend_for: Callable[[str], Backend | None] | None = None) -> None:
        self._store = store
        self._persons = persons
        self._backend_for = backend_for
        self._backends: dict[str, Backend | None] = {}  # loaded once: the web UI draws many

    def resolve_photo(self, ref: str | int) -> int:
        """A photo by id, or by the path of one of its scanned files."""
        text = str(ref).strip()
        if text.isdigit():
            if self._store.manual_faces.photo_facts(int(text)) is None:
                raise LibraryError(f"no photo with id {text}")
            return int(text)
        for stored in (self._store.paths.stored(Path(text)), text):
            found = self._store.manual_faces.photo_of_path(stored)
            if found is not None:
                return found
        raise LibraryError(f"no scanned photo at {text!r}: give a file of the library (or a photo id)")

    def add(self, photo: str | int, box: Box, person: str | int | None, *, name: str | None = None) -> DrawnFace:
        """Add the face in ``box`` (x1, y1, x2, y2, original pixels) of ``photo`` and confirm it to
        ``person`` (id or name; None: a new person, named ``name``)."""
        image_id = self.resolve_photo(photo)
        facts = self._store.manual_faces.photo_facts(image_id)
        assert facts is not None
        box = self._checked_box(facts, box)
        pid = None if person is None else self._persons.resolve(person)
        if pid is not None:
            self._check_person(facts, pid)
        face = self._find_face(facts, box)
        store = self._store
        with store.transaction(), store.history.recording("add-face", "Added a face") as entry:
            if pid is None:
                pid = store.persons.new()
                if name and name.strip():
                    store.persons.set_name(pid, name.strip()[:200])
            face_id = store.manual_faces.add(image_id, face, facts.model_id)
            refuse_barred(store, [face_id], pid)  # checked again under the write lock
            store.decisions.confirm(face_id, pid)
            label = store.persons.name_of(pid) or f"person {pid}"
            store.history.set_summary(entry, f"Added a face to photo {image_id} as {label} (#{pid})")
        return DrawnFace(face_id, image_id, pid, face.box, bool(len(face.embedding)))

    def _checked_box(self, facts: PhotoFacts, box: Box) -> Box:
        if facts.is_video:
            raise LibraryError(f"photo {facts.id} is a video: faces cannot be drawn on it")
        try:
            x1, y1, x2, y2 = (float(v) for v in box)
        except (TypeError, ValueError):
            raise LibraryError("a box is four numbers: X1 Y1 X2 Y2") from None
        if not all(np.isfinite([x1, y1, x2, y2])) or x1 >= x2 or y1 >= y2:
            raise LibraryError("a box goes from its top-left corner (X1 Y1) to its bottom-right one (X2 Y2)")
        w, h = facts.width, facts.height
        if x1 < -EDGE_SLACK or y1 < -EDGE_SLACK or x2 > w + EDGE_SLACK or y2 > h + EDGE_SLACK:
            raise LibraryError(f"the box ({x1:.0f}, {y1:.0f}, {x2:.0f}, {y2:.0f}) is not inside the photo ({w} x {h} px)")
        x1, y1, x2, y2 = max(0.0, x1), max(0.0, y1), min(float(w), x2), min(float(h), y2)
        if min(x2 - x1, y2 - y1) < MIN_DRAWN_SIDE:
            raise LibraryError(f"the box is too small ({x2 - x1:.0f} x {y2 - y1:.0f} px): draw it around the "
                               f"whole face, at least {MIN_DRAWN_SIDE:.0f} px on each side")
        for face_id, other in self._store.manual_faces.boxes_in(facts.id).items():
            if regions_match((x1, y1, x2, y2), other):
                raise LibraryError(f"face {face_id} is already there: give that face a person instead")
        return (x1, y1, x2, y2)

    def _check_person(self, facts: PhotoFacts, pid: int) -> None:
        if self._store.birth_dates.photo_barred(facts.id, pid):
            raise LibraryError(f"this photo was taken ({(facts.taken_at or '')[:10]}) before the birth date of "
                               f"{self._persons.summary(pid).label} ({self._store.birth_dates.of(pid)})")
        in_photo = [f for f in self._store.manual_faces.boxes_in(facts.id) if self._store.decisions.person_of(f) == pid]
        if in_photo:
            raise LibraryError(f"{self._persons.summary(pid).label} is in this photo already (face {in_photo[0]}): "
                               f"one person has one face per photo")

    def _find_face(self, facts: PhotoFacts, box: Box) -> FaceRecord:
        """The face found and embedded in the box, or the bare box (no embedding)."""
        bare = FaceRecord(box=box, landmarks=np.zeros((5, 2), np.float32), det_score=0.0, quality=0.0,
                          embedding=np.zeros(0, np.float32), source="manual")
        if facts.model_id not in self._backends:
            load = self._backend_for or backend_for_model
            self._backends[facts.model_id] = load(facts.model_id)
        backend = self._backends[facts.model_id]
        if backend is None or backend.model_id != facts.model_id:
            return bare
        for path in self._store.views.photo_files(facts.id):
            try:
                image = decode(path)
            except (MediaError, OSError):
                continue  # another copy of the photo may still be readable
            if (image.width, image.height) != (facts.width, facts.height):
                continue  # the file changed since its scan: its pixels are not the stored photo's
            others = list(self._store.manual_faces.boxes_in(facts.id).values())
            found = face_in_region(image, box, others, backend)
            return bare if found is None else dataclasses.replace(found, source="manual")
        raise LibraryError(f"no file of photo {facts.id} can be read: is its folder mounted?")
