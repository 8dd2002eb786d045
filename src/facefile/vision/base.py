"""The small protocol every vision backend implements: pixels in, faces and embeddings out.

A backend knows nothing about files or storage. Images are ``H x W x 3`` uint8 arrays in **RGB**
order (what ``facefile.media.decode`` returns); a backend converts to whatever its library wants.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class DetectedFace:
    """One face found by a detector, in the pixel coordinates of the image it was found in.

    ``landmarks`` is a (5, 2) float32 array in the order right eye, left eye, nose tip, right mouth
    corner, left mouth corner (the subject's right/left, YuNet's order); every backend maps its own
    landmark layout to this one so alignment and quality code is shared.
    """

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    landmarks: np.ndarray
    score: float

    def scaled(self, factor: float) -> DetectedFace:
        """The same face in an image scaled by ``1 / factor`` (working size -> original size)."""
        x1, y1, x2, y2 = self.box
        return DetectedFace(
            box=(x1 * factor, y1 * factor, x2 * factor, y2 * factor),
            landmarks=(self.landmarks * factor).astype(np.float32),
            score=self.score,
        )

    def clipped(self, width: int, height: int) -> DetectedFace:
        """The same face with its box clipped to a ``width`` x ``height`` image (landmarks untouched).

        Detectors' boxes may poke out of the photo; every backend returns clipped boxes so callers
        can crop with them directly.
        """
        x1, y1, x2, y2 = self.box
        box = (min(max(x1, 0.0), width), min(max(y1, 0.0), height),
               min(max(x2, 0.0), width), min(max(y2, 0.0), height))
        return DetectedFace(box=box, landmarks=self.landmarks, score=self.score)


class Detector(Protocol):
    def detect(self, image: np.ndarray, *, enlarge: bool = True) -> list[DetectedFace]:
        """All faces in an RGB image, best score first.

        ``enlarge=False``: no second pass on an enlarged copy when nothing is found. Callers pass
        it for a reduced copy of a larger photo, where enlarging would only invent pixels the photo
        has, at four times the cost of the first pass (a photo without faces pays it every time).
        """
        ...


class Embedder(Protocol):
    model_id: str  # e.g. "opencv-sface-2021dec": stored with every embedding
    dim: int

    def embed(self, image: np.ndarray, faces: Sequence[DetectedFace]) -> np.ndarray:
        """One L2-normalised float32 row per face (shape ``(len(faces), dim)``)."""
        ...


@dataclass
class Backend:
    """A detector and the embedder meant to follow it."""

    name: str
    detector: Detector
    embedder: Embedder

    @property
    def model_id(self) -> str:
        return self.embedder.model_id


def check_rgb(image: np.ndarray) -> np.ndarray:
    """``image`` itself if it is an H x W x 3 uint8 array, else ValueError (fail at the boundary)."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {shape} {getattr(image, 'dtype', type(image))}")
    return image


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32 (what ``Embedder.embed`` promises)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
