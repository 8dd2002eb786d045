"""Face tracks: the faces of one person across consecutive sampled video frames become one track.

A video sampled at one frame per second shows the same face tens of times per appearance; storing
each would flood a person's file with near-identical faces. The tracker links a face to the track
it continues and keeps the track's time range and its best face (highest quality).

Linking rule, per pair of (active track, new face), taken greedily by score (similarity + IoU):

- same place and plausibly the same person: box IoU with the track's last box >= ``min_iou`` and
  cosine similarity to the track's last embedding >= ``min_similarity``; or
- clearly the same person anywhere in the frame (a pan, a zoom, a fast move):
  similarity >= ``jump_similarity``.

A track ends at a scene cut (the next shot is another appearance) and when it was not seen for
``max_gap_s`` (the person left; one or two missed detections are bridged). Pure: no I/O, no models.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

Box = tuple[float, float, float, float]


@dataclass(frozen=True, eq=False)
class FrameFace:
    """A face found in one sampled frame, in original (upright) video pixels."""

    time_s: float
    box: Box
    landmarks: np.ndarray
    det_score: float
    quality: float
    embedding: np.ndarray  # L2-normalised


@dataclass(frozen=True)
class TrackParams:
    # SFace's own same-person threshold is a cosine of 0.363; consecutive frames of one face score
    # 0.6-0.9 and two people rarely above 0.3, so 0.45 in the same place is a safe continuation...
    min_iou: float = 0.2
    min_similarity: float = 0.45
    # ... and 0.6 without overlap (fast pans and zooms, where boxes jump between samples).
    jump_similarity: float = 0.6
    # At one sample per second: two missed detections in a row are bridged, a third ends the track.
    max_gap_s: float = 3.0

    def __post_init__(self) -> None:
        if not (0 <= self.min_iou <= 1 and -1 <= self.min_similarity <= self.jump_similarity <= 1):
            raise ValueError("need 0 <= min_iou <= 1 and -1 <= min_similarity <= jump_similarity <= 1")
        if self.max_gap_s <= 0:
            raise ValueError("max_gap_s must be positive")


@dataclass
class FaceTrack:
    faces: list[FrameFace] = field(default_factory=list)

    @property
    def start_s(self) -> float:
        return self.faces[0].time_s

    @property
    def end_s(self) -> float:
        return self.faces[-1].time_s

    @property
    def best(self) -> FrameFace:
        """The face stored for the track: the best quality, then the best detector score, earliest."""
        return max(self.faces, key=lambda f: (f.quality, f.det_score, -f.time_s))

    @property
    def last(self) -> FrameFace:
        return self.faces[-1]


class FaceTracker:
    """Feed sampled frames in time order with ``add``; ``finish`` returns every track."""

    def __init__(self, params: TrackParams | None = None) -> None:
        self.params = params or TrackParams()
        self.active: list[FaceTrack] = []
        self.done: list[FaceTrack] = []

    def add(self, time_s: float, faces: Sequence[FrameFace], scene_cut: bool = False) -> None:
        p = self.params
        if scene_cut:
            self.done += self.active
            self.active = []
        still = [t for t in self.active if time_s - t.last.time_s <= p.max_gap_s]
        self.done += [t for t in self.active if time_s - t.last.time_s > p.max_gap_s]
        self.active = still
        pairs = []
        for ti, track in enumerate(self.active):
            for fi, face in enumerate(faces):
                similarity = float(np.dot(track.last.embedding, face.embedding))
                overlap = iou(track.last.box, face.box)
                if (overlap >= p.min_iou and similarity >= p.min_similarity) or similarity >= p.jump_similarity:
                    pairs.append((similarity + overlap, ti, fi))
        used_tracks: set[int] = set()
        used_faces: set[int] = set()
        for _, ti, fi in sorted(pairs, key=lambda x: -x[0]):
            if ti in used_tracks or fi in used_faces:
                continue
            self.active[ti].faces.append(faces[fi])
            used_tracks.add(ti)
            used_faces.add(fi)
        self.active += [FaceTrack([face]) for fi, face in enumerate(faces) if fi not in used_faces]

    def finish(self) -> list[FaceTrack]:
        tracks = self.done + self.active
        self.done, self.active = [], []
        return sorted(tracks, key=lambda t: (t.start_s, t.faces[0].box))


def track_faces(
    frames: Iterable[tuple[float, Sequence[FrameFace], bool]], params: TrackParams | None = None
) -> list[FaceTrack]:
    """Tracks of ``(time_s, faces, scene_cut)`` frames given in time order."""
    tracker = FaceTracker(params)
    for time_s, faces, cut in frames:
        tracker.add(time_s, faces, cut)
    return tracker.finish()


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
