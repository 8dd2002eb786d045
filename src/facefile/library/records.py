"""Plain records that cross the library boundary: scan results coming in, answers going out."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FaceRecord:
    """One detected face of an image, in original pixel coordinates."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray  # (5, 2) float32
    det_score: float
    quality: float
    embedding: np.ndarray  # (dim,) float32, L2-normalised


@dataclass
class ImageResult:
    """What the vision workers learned about one file: its faces, or why it could not be read."""

    path: str  # as stored in the library (see Library.rel_path)
    size: int
    mtime_ns: int
    content_hash: str | None = None
    width: int = 0
    height: int = 0
    taken_at: str | None = None
    model_id: str | None = None
    faces: list[FaceRecord] = field(default_factory=list)
    error: str | None = None
    known_image: bool = False  # content already in the library: only the path is new


@dataclass(frozen=True)
class PersonSummary:
    id: int
    name: str | None
    faces: int
    photos: int
    first_date: str | None
    last_date: str | None
    hidden: bool

    @property
    def label(self) -> str:
        return self.name or f"person {self.id}"


@dataclass(frozen=True)
class FaceInfo:
    id: int
    path: str
    box: tuple[float, float, float, float]
    det_score: float
    quality: float
    person_id: int | None
    provenance: str | None
    taken_at: str | None
    image_size: tuple[int, int]  # original width, height of the photo the face is in


@dataclass(frozen=True)
class FileError:
    path: str
    reason: str
    failed_at: str


@dataclass
class ScanReport:
    files_seen: int = 0
    files_unchanged: int = 0
    files_new: int = 0  # new or changed files whose content had to be processed
    files_moved: int = 0  # new paths whose content was already known (moved, renamed, duplicate)
    files_gone: int = 0
    faces_added: int = 0
    errors: int = 0
    persons: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    reclustered: bool = False
