"""Faces drawn by hand: found and embedded in the box when the detector can, stored bare otherwise,
confirmed to the person in one recorded action; bad boxes and impossible persons are refused."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facefile.library import Library, LibraryError, cluster_runs, drawn_faces
from facefile.vision import Backend, DetectedFace
from tests.support.database import sql

from .conftest import MODEL, face_of, identity_centres, photo

CENTRES = identity_centres(12, seed=21)


class OneFaceDetector:
    """Finds one face filling the middle of whatever crop it is given (or none, if told so)."""

    def __init__(self, finds: bool = True) -> None:
        self.finds = finds
        self.crops: list[tuple[int, int]] = []

    def detect(self, image: np.ndarray, *, enlarge: bool = True) -> list[DetectedFace]:
        h, w = image.shape[:2]
        self.crops.append((w, h))
        if not self.finds:
            return []
        cx, cy, side = w / 2, h / 2, min(w, h) / 2
        marks = np.array([[cx - side / 4, cy - side / 6], [cx + side / 4, cy - side / 6], [cx, cy],
                          [cx - side / 5, cy + side / 4], [cx + side / 5, cy + side / 4]], np.float32)
        return [DetectedFace((cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2), marks, 0.95)]


class FixedEmbedder:
    model_id = MODEL
    dim = 128

    def __init__(self, vector: np.ndarray) -> None:
        self.vector = vector

    def embed(self, image: np.ndarray, faces: list[DetectedFace]) -> np.ndarray:
        return np.tile(self.vector, (len(faces), 1)).astype(np.float32)


def use_backend(monkeypatch: pytest.MonkeyPatch, *, finds: bool = True, identity: int = 0) -> OneFaceDetector:
    detector = OneFaceDetector(finds)
    backend = Backend("fake", detector, FixedEmbedder(CENTRES[identity]))
    monkeypatch.setattr(drawn_faces, "backend_for_model", lambda model_id: backend if model_id == MODEL else None)
    return detector


def build(lib: Library, tmp_path: Path, per_identity: int = 6, identities: int = 3) -> None:
    """Identities of ``per_identity`` one-face photos, dated 2020, with a textured JPEG on disk for
    each (the drawn faces' photos must be readable)."""
    rng = np.random.default_rng(2)
    photos = []
    for k in range(identities):
        for j in range(per_identity):
            path = f"id{k}/p{j}.jpg"
            file = tmp_path / "photos" / path
            file.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(file)
            photos.append(dataclasses.replace(photo(path, [face_of(CENTRES[k], rng)]), taken_at="2020-05-01T10:00:00"))
    lib.writer(MODEL).store(photos)
    lib.recluster()


def image_of(lib: Library, path: str) -> int:
    return lib.drawn_faces.resolve_photo(path)


def person_of_path(lib: Library, path: str) -> int:
    return next(f.person_id for f in lib.faces() if f.path == path and f.source == "detected")


def test_a_drawn_face_is_embedded_confirmed_recorded_and_undone(lib: Library, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    build(lib, tmp_path)
    detector = use_backend(monkeypatch, identity=0)
    anna = person_of_path(lib, "id0/p0.jpg")
    lib.persons.name(anna, "Anna")
    image = image_of(lib, "id1/p0.jpg")  # a photo of identity 1: Anna is in the background
    drawn = lib.drawn_faces.add(image, (300, 200, 420, 330), "Anna")
    assert drawn.embedded and drawn.person_id == anna and drawn.image_id == image
    assert detector.crops  # the detector looked at the box's crop
    row = sql(lib).execute(
        "SELECT f.source, f.model_id, f.det_score, a.person_id, a.provenance FROM faces f "
        "JOIN assignments a ON a.face_id = f.id WHERE f.id = ?", (drawn.face_id,)).fetchone()
    assert tuple(row) == ("manual", MODEL, pytest.approx(0.95), anna, "confirmed")
    assert np.allclose(lib.embeddings([drawn.face_id])[0], CENTRES[0], atol=1e-6)
    entry = lib.history.recent(1)[0]
    assert entry.action == "add-face" and "Anna" in entry.summary
    lib.recluster()
    assert sql(lib).execute("SELECT person_id FROM assignments WHERE face_id = ?", (drawn.face_id,)).fetchone()[0] == anna
    lib.history.undo(entry.id)
    assert sql(lib).execute("SELECT COUNT(*) FROM faces WHERE id = ?", (drawn.face_id,)).fetchone()[0] == 0
    lib.recluster()
    assert sql(lib).execute("SELECT COUNT(*) FROM faces WHERE source = 'manual'").fetchone()[0] == 0


def test_a_box_without_a_findable_face_is_filed_without_embedding(lib: Library, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    build(lib, tmp_path)
    use_backend(monkeypatch, finds=False)
    drawn = lib.drawn_faces.add(str(tmp_path / "photos" / "id2" / "p1.jpg"), (20, 200, 120, 320), None)
    assert not drawn.embedded
    model, = sql(lib).execute("SELECT model_id FROM faces WHERE id = ?", (drawn.face_id,)).fetchone()
    assert model == "none"  # never clustered
    assert lib.person(drawn.person_id).faces == 1  # a new person of its own
    lib.recluster()
    assert sql(lib).execute("SELECT person_id FROM assignments WHERE face_id = ?", (drawn.face_id,)).fetchone()[0] \
        == drawn.person_id


def test_bad_boxes_photos_and_persons_are_refused(lib: Library, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    build(lib, tmp_path)
    use_backend(monkeypatch)
    image = image_of(lib, "id0/p0.jpg")  # 640 x 480, its face at (10, 20, 110, 140)
    owner = person_of_path(lib, "id0/p0.jpg")
    other = person_of_path(lib, "id1/p0.jpg")
    for box, message in [
        ((500, 300, 700, 400), "not inside the photo"), ((-20, 10, 50, 60), "not inside the photo"),
        ((100, 100, 108, 200), "too small"), ((200, 200, 100, 300), "top-left corner"),
        ((12, 22, 108, 138), f"face {sql(lib).execute('SELECT MIN(id) FROM faces').fetchone()[0]} is already there"),
    ]:
        with pytest.raises(LibraryError, match=message):
            lib.drawn_faces.add(image, box, other)
    with pytest.raises(LibraryError, match="no photo with id 999"):
        lib.drawn_faces.add(999, (0, 0, 50, 50), other)
    with pytest.raises(LibraryError, match="no scanned photo"):
        lib.drawn_faces.add("elsewhere/none.jpg", (0, 0, 50, 50), other)
    with pytest.raises(LibraryError, match="in this photo already"):
        lib.drawn_faces.add(image, (300, 200, 420, 330), owner)
    lib.birthdays.set(other, "2021-01-01")  # the photo is of 2020
    with pytest.raises(LibraryError, match="before the birth date"):
        lib.drawn_faces.add(image, (300, 200, 420, 330), other)
    # A box poking a pixel out of the photo (screen rounding) is clipped, not refused.
    drawn = lib.drawn_faces.add(image, (539.4, 380, 640.6, 480.8), None)
    assert drawn.box[2] <= 640 and drawn.box[3] <= 480
    assert sql(lib).execute("SELECT COUNT(*) FROM faces WHERE source = 'manual'").fetchone()[0] == 1


def test_an_incremental_update_leaves_a_drawn_face_with_its_person(lib: Library, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A drawn face is newer than the last grouping; the quick update must not re-place it (it used
    to take every newer face as unplaced and give it the person its embedding is nearest to)."""
    monkeypatch.setattr(cluster_runs, "INCREMENTAL_MIN_FACES", 100)
    build(lib, tmp_path, per_identity=10, identities=12)  # 120 faces
    lib.update_persons(MODEL)
    use_backend(monkeypatch, identity=1)  # looks exactly like identity 1 ...
    anna = person_of_path(lib, "id0/p0.jpg")
    drawn = lib.drawn_faces.add(image_of(lib, "id2/p0.jpg"), (300, 200, 420, 330), anna)  # ... but is Anna
    rng = np.random.default_rng(5)
    lib.writer(MODEL).store([photo("new/a.jpg", [face_of(CENTRES[3], rng)])])
    assert lib.update_persons(MODEL).mode == "incremental"
    assert tuple(sql(lib).execute("SELECT person_id, provenance FROM assignments WHERE face_id = ?",
                                  (drawn.face_id,)).fetchone()) == (anna, "confirmed")
