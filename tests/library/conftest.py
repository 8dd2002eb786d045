"""Synthetic libraries: faces with planted identities, no images or models needed."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facefile.library import FaceRecord, ImageResult, Library

MODEL = "opencv-sface-2021dec"


def identity_centres(n: int, dim: int = 128, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(n, dim)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def face_of(centre: np.ndarray, rng: np.random.Generator, spread: float = 0.25) -> FaceRecord:
    v = centre + rng.normal(scale=spread / np.sqrt(len(centre)), size=len(centre)).astype(np.float32)
    v = (v / np.linalg.norm(v)).astype(np.float32)
    return FaceRecord(
        box=(10.0, 20.0, 110.0, 140.0), landmarks=np.zeros((5, 2), np.float32),
        det_score=0.9, quality=0.9, embedding=v,
    )


def photo(path: str, faces: list[FaceRecord], *, content: str | None = None) -> ImageResult:
    return ImageResult(
        path=path, size=1000, mtime_ns=1, content_hash=content or f"hash-{path}", width=640, height=480,
        taken_at="2024-05-01T10:00:00+00:00", model_id=MODEL, faces=faces,
    )


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    library = Library.open(tmp_path / "photos" / ".facefile")
    library.set_root_if_unset(tmp_path / "photos")
    yield library
    library.close()


@pytest.fixture
def people_photos() -> list[ImageResult]:
    """5 identities x 6 single-face photos, plus 3 group photos of two identities each."""
    rng = np.random.default_rng(1)
    centres = identity_centres(5)
    photos = [photo(f"id{k}/p{j}.jpg", [face_of(centres[k], rng)]) for k in range(5) for j in range(6)]
    photos += [photo(f"groups/g{j}.jpg", [face_of(centres[j], rng), face_of(centres[j + 1], rng)]) for j in range(3)]
    return photos
