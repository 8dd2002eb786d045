"""Both backends on real LFW photos: detection, embedding contract, identity separation."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facefile.vision import MODEL_IDS, load_backend
from facefile.vision.base import Backend

from .conftest import centre_face, lfw_photo

pytestmark = pytest.mark.data


def embed_centre_face(backend: Backend, image: np.ndarray) -> np.ndarray:
    faces = backend.detector.detect(image)
    assert faces, "no face found in an LFW photo"
    return backend.embedder.embed(image, [centre_face(image, faces)])[0]


def test_finds_the_labelled_face_near_the_centre(backend: Backend, shared_data: Path) -> None:
    image = lfw_photo(shared_data, "Aaron_Peirsol", 1)
    faces = backend.detector.detect(image)
    face = centre_face(image, faces)
    x1, y1, x2, y2 = face.box
    assert x1 < 125 < x2 and y1 < 125 < y2
    assert 0 <= x1 and 0 <= y1 and x2 <= 250 and y2 <= 250
    assert 0.6 <= face.score <= 1.0
    right_eye, left_eye, nose = face.landmarks[0], face.landmarks[1], face.landmarks[2]
    assert face.landmarks.shape == (5, 2)
    assert right_eye[0] < nose[0] < left_eye[0]  # subject's right eye on the image's left
    assert max(right_eye[1], left_eye[1]) < nose[1] < face.landmarks[3:, 1].min()
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)


def test_embeddings_are_unit_float32_rows(backend: Backend, shared_data: Path) -> None:
    image = lfw_photo(shared_data, "Colin_Powell", 1)
    faces = backend.detector.detect(image)
    vectors = backend.embedder.embed(image, faces)
    assert vectors.shape == (len(faces), 128) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert backend.embedder.embed(image, []).shape == (0, 128)
    assert backend.model_id == MODEL_IDS[backend.name] and backend.embedder.dim == 128


def test_one_person_is_closer_than_two(backend: Backend, shared_data: Path) -> None:
    a1, a2 = (embed_centre_face(backend, lfw_photo(shared_data, "Aaron_Peirsol", n)) for n in (1, 2))
    b1, b2 = (embed_centre_face(backend, lfw_photo(shared_data, "Colin_Powell", n)) for n in (1, 2))
    same = min(a1 @ a2, b1 @ b2)
    different = max(a1 @ b1, a1 @ b2, a2 @ b1, a2 @ b2)
    assert same > different


def test_reproduces_the_reference_embeddings(backend: Backend, shared_data: Path) -> None:
    """Same detector settings and weights as shared/data/embeddings: the same vectors."""
    reference = shared_data / "embeddings" / f"{'sface' if backend.name == 'opencv' else 'dlib'}_dev.npz"
    if not reference.is_file():
        pytest.skip(f"{reference} is missing")
    stored = np.load(reference, allow_pickle=False)
    paths = list(stored["path"])
    for name in ("lfw_dev/AJ_Cook/AJ_Cook_0001.jpg", "lfw_dev/Colin_Powell/Colin_Powell_0194.jpg"):
        i = paths.index(name)
        identity, number = name.split("/")[1], int(name[-8:-4])
        ours = embed_centre_face(backend, lfw_photo(shared_data, identity, number))
        theirs = stored["emb"][i] / np.linalg.norm(stored["emb"][i])
        assert float(ours @ theirs) > 0.999


def test_a_face_found_at_working_size_embeds_at_full_size(backend: Backend, shared_data: Path) -> None:
    image = lfw_photo(shared_data, "Aaron_Peirsol", 1)
    large = np.ascontiguousarray(np.repeat(np.repeat(image, 2, axis=0), 2, axis=1))
    face = centre_face(image, backend.detector.detect(image)).scaled(2.0)
    direct = embed_centre_face(backend, large)
    assert float(backend.embedder.embed(large, [face])[0] @ direct) > 0.9


def test_a_blank_image_has_no_faces(backend: Backend) -> None:
    assert backend.detector.detect(np.full((240, 320, 3), 127, np.uint8)) == []


def test_rejects_what_is_not_an_rgb_uint8_image(backend: Backend) -> None:
    with pytest.raises(ValueError, match="RGB"):
        backend.detector.detect(np.zeros((64, 64), np.uint8))


def test_unknown_backend_name() -> None:
    with pytest.raises(ValueError, match="unknown vision backend"):
        load_backend("haar")


def test_dlib_is_imported_only_when_asked_for() -> None:
    code = "import sys, facefile.vision; assert 'dlib' not in sys.modules, 'dlib imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True)
