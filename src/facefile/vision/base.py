"""The small protocol every vision backend implements: pixels in, faces and embeddings out.

A backend knows nothing about files or storage. Images are ``H x W x 3`` uint8 arrays in **RGB**
order (what ``facefile.media.decode`` returns); a backend converts to whatever its library wants.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

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

    def scaled(self, factor: float) -> "DetectedFace":
        """The same face in an image scaled by ``1 / factor`` (working size -> original size)."""
        x1, y1, x2, y2 = self.box
        return DetectedFace(
            box=(x1 * factor, y1 * factor, x2 * factor, y2 * factor),
            landmarks=(self.landmarks * factor).astype(np.float32),
            score=self.score,
        )


class Detector(Protocol):
    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        """All faces in an RGB image, best score first."""
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
