"""Plain records that cross the library boundary: scan results coming in, answers going out."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# The model_id of a face without embedding (a named XMP region where no face could be detected):
# the clustering engine only takes faces of the library's model, so such faces are never clustered.
NO_EMBEDDING_MODEL = "none"


@dataclass(frozen=True)
class ImportedName:
    """A name another photo tool gave a face (an XMP face region): imported as a confirmation."""

    name: str
    kind: str  # "mwg" (Metadata Working Group regions) or "mp" (Microsoft People Tags)
    origin: str  # "embedded" (the photo's own XMP packet) or "sidecar" (a .xmp file beside it)


@dataclass
class FaceRecord:
    """One face of an image or video, in original pixel coordinates (after EXIF orientation or the
    video's rotation)."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray  # (5, 2) float32
    det_score: float
    quality: float
    embedding: np.ndarray  # (dim,) float32, L2-normalised; empty for a face without embedding
    source: str = "detected"  # "detected", "xmp" (found in a named region's crop) or "manual"
    imported_name: ImportedName | None = None
    # A video face is a face track: seconds from the start where it was seen, and of the stored frame.
    video_start_s: float | None = None
    video_end_s: float | None = None
    video_frame_s: float | None = None


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
    # A companion file (media/shots.py): filed with the photo read from this stored path, no faces.
    companion_of: str | None = None
    live_id: str | None = None  # Apple's Live Photo identifier of a still or clip (media/live_photo.py)
    live_role: str | None = None  # "still" or "clip" when live_id is set


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
    source: str = "detected"  # see FaceRecord.source
    video_start_s: float | None = None  # a face track of a video: when it is on screen (seconds),
    video_end_s: float | None = None
    video_frame_s: float | None = None  # and the frame the box is in (media.video.read_region)


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
    files_paired: int = 0  # RAWs and Live Photo clips filed with the photo of the same shot
    files_gone: int = 0
    faces_added: int = 0
    errors: int = 0
    persons: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    reclustered: bool = False
