"""One photo's faces: found on the working image, each embedded from enough pixels.

The detector runs on a small working image (fast: YuNet finds faces of 20 px). An embedder wants
more: SFace aligns a face into 112 x 112 with the eyes ~35 px apart, and a face whose eyes are
closer in the working image would be enlarged, its detail invented. Such faces are embedded, and
their quality scored, from a crop of a finer copy of the photo instead (``FineSource``, e.g.
``media.DetailImage``). Measured on the 12 MP bench photos (working side 1008): embeddings of the
smallest faces from the working image alone had a cosine similarity as low as 0.81 to those from
the full-resolution photo; from the crops of the 1/2-size copy, at least 0.97.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from facefile.vision.base import Backend, DetectedFace
from facefile.vision.quality import GOOD_IOD, face_quality

Box = tuple[float, float, float, float]

# Faces with the eyes closer than this in the working image are embedded from the finer copy:
# above SFace's 35 px template distance and dlib's (~45 px in its 150 px chip), and the distance
# quality.py counts as a full-size face.
DETAIL_IOD = GOOD_IOD
# The crop around a face, in face-box sizes on each side. Either embedder's aligned crop reaches
# well under half a box size beyond the box, so alignment reads the same pixels from the crop as
# from the whole copy and the embedding is the one the whole copy gives (tests check it).
CROP_MARGIN = 1.0


class FineSource(Protocol):
    """Pixels of a photo at a finer resolution than the working image."""

    scale: float  # original pixels per pixel of this copy

    def region(self, box: Box) -> tuple[np.ndarray, tuple[float, float]]:
        """RGB pixels of ``box`` (original pixels) and the crop's corner in this copy's pixels."""
        ...


@dataclass(frozen=True, eq=False)
class PhotoFace:
    face: DetectedFace  # in original pixels
    embedding: np.ndarray
    quality: float


def photo_faces(backend: Backend, pixels: np.ndarray, scale: float, fine: FineSource | None = None) -> list[PhotoFace]:
    """Faces of the working image ``pixels`` (``scale`` original pixels per working pixel), with
    boxes and landmarks in original pixels, best detector score first."""
    found = backend.detector.detect(pixels, enlarge=scale <= 1.0)
    small = [fine is not None and fine.scale < scale and eye_distance(f) < DETAIL_IOD for f in found]
    faces: list[PhotoFace | None] = [None] * len(found)
    direct = [i for i, s in enumerate(small) if not s]
    if direct:
        vectors = backend.embedder.embed(pixels, [found[i] for i in direct])  # one call (dlib batches it)
        for i, vector in zip(direct, vectors, strict=True):
            faces[i] = PhotoFace(found[i].scaled(scale), vector, float(face_quality(pixels, found[i])))
    for i in (i for i, s in enumerate(small) if s):
        assert fine is not None
        faces[i] = _from_fine(backend, found[i].scaled(scale), fine)
    return [f for f in faces if f is not None]


def _from_fine(backend: Backend, face: DetectedFace, fine: FineSource) -> PhotoFace:
    x1, y1, x2, y2 = face.box
    mx, my = CROP_MARGIN * (x2 - x1), CROP_MARGIN * (y2 - y1)
    crop, (cx, cy) = fine.region((x1 - mx, y1 - my, x2 + mx, y2 + my))
    corner = np.array([cx, cy], dtype=np.float32)
    local = DetectedFace(
        box=(x1 / fine.scale - cx, y1 / fine.scale - cy, x2 / fine.scale - cx, y2 / fine.scale - cy),
        landmarks=(face.landmarks / fine.scale - corner).astype(np.float32),
        score=face.score,
    )
    vector = backend.embedder.embed(crop, [local])[0]
    return PhotoFace(face, vector, float(face_quality(crop, local)))


def eye_distance(face: DetectedFace) -> float:
    return float(np.linalg.norm(np.asarray(face.landmarks[1], np.float64) - np.asarray(face.landmarks[0], np.float64)))

