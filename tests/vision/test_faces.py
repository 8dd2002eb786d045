"""photo_faces(): detection on the working image, small faces embedded from a finer copy's crop."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facefile.vision.base import Backend
from facefile.vision.faces import DETAIL_IOD, _from_fine, eye_distance, photo_faces

from .conftest import centre_face, lfw_photo

pytestmark = pytest.mark.data


class ArraySource:
    """A finer copy held as one array (original pixels / ``scale``), counting the crops asked for."""

    def __init__(self, pixels: np.ndarray, scale: float) -> None:
        self.pixels, self.scale, self.crops = pixels, scale, 0

    def region(self, box: tuple[float, float, float, float]) -> tuple[np.ndarray, tuple[float, float]]:
        self.crops += 1
        h, w = self.pixels.shape[:2]
        x0, y0 = max(0, int(box[0] / self.scale)), max(0, int(box[1] / self.scale))
        x1, y1 = min(w, int(np.ceil(box[2] / self.scale))), min(h, int(np.ceil(box[3] / self.scale)))
        return np.ascontiguousarray(self.pixels[y0:y1, x0:x1]), (float(x0), float(y0))


def photo(shared_data: Path) -> np.ndarray:
    """An LFW portrait enlarged 3x in the corner of a 1600 x 1200 grey photo (face ~280 px)."""
    portrait = lfw_photo(shared_data, "Aaron_Peirsol", 1)
    big = cv2.resize(portrait, (750, 750), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((1200, 1600, 3), 128, np.uint8)
    canvas[300:1050, 700:1450] = big
    return canvas


def test_a_crop_embeds_like_the_whole_finer_image(backend: Backend, shared_data: Path) -> None:
    original = photo(shared_data)
    face = centre_face(original, backend.detector.detect(original))
    whole = backend.embedder.embed(original, [face])[0]
    found = _from_fine(backend, face, ArraySource(original, 1.0))
    assert float(found.embedding @ whole) > 0.9999
    assert found.face is face and found.quality > 0


def test_a_face_small_at_working_size_is_embedded_from_the_finer_copy(opencv_backend: Backend,
                                                                        shared_data: Path) -> None:
    original = photo(shared_data)
    working = cv2.resize(original, (400, 300), interpolation=cv2.INTER_AREA)  # scale 4
    fine = ArraySource(original, 1.0)
    [found] = photo_faces(opencv_backend, working, 4.0, fine)
    assert fine.crops == 1
    assert eye_distance(found.face) / 4.0 < DETAIL_IOD
    x1, y1, x2, y2 = found.face.box  # original pixels
    assert 700 < x1 < x2 < 1450 and 300 < y1 < y2 < 1050
    reference = opencv_backend.embedder.embed(original, [found.face])[0]
    assert float(found.embedding @ reference) > 0.9999
    from_working = opencv_backend.embedder.embed(working, [found.face.scaled(0.25)])[0]
    assert float(found.embedding @ from_working) < float(found.embedding @ reference)


def test_a_face_large_at_working_size_needs_no_crop(opencv_backend: Backend, shared_data: Path) -> None:
    original = photo(shared_data)
    fine = ArraySource(original, 1.0)
    working = cv2.resize(original, (800, 600), interpolation=cv2.INTER_AREA)  # eyes ~65 px apart
    [found] = photo_faces(opencv_backend, working, 2.0, fine)
    assert fine.crops == 0
    [direct] = opencv_backend.detector.detect(working)
    np.testing.assert_allclose(found.embedding, opencv_backend.embedder.embed(working, [direct])[0])
    np.testing.assert_allclose(found.face.box, direct.scaled(2.0).box)


def test_a_reduced_photo_gets_no_enlarged_second_pass() -> None:
    from facefile.vision.base import Backend as BackendType

    calls: list[bool] = []

    class Detector:
        def detect(self, image: np.ndarray, *, enlarge: bool = True) -> list:
            calls.append(enlarge)
            return []

    fake = BackendType(name="fake", detector=Detector(), embedder=None)  # type: ignore[arg-type]
    pixels = np.zeros((30, 40, 3), np.uint8)
    assert photo_faces(fake, pixels, 4.0) == [] and photo_faces(fake, pixels, 1.0) == []
    assert calls == [False, True]  # enlarging a reduced copy would only invent the photo's pixels
