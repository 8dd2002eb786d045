"""The scan's per-file work for a video: sampled frames -> faces -> face tracks -> one face per track.

Runs in the scan's worker processes like photo decoding (``scan.process_file`` dispatches here by
file extension), with the worker's backend.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facefile.media.video import SamplingConfig, sample_frames, video_info
from facefile.store.records import FaceRecord, ImageResult
from facefile.vision.quality import face_quality
from facefile.vision.track import FaceTrack, FrameFace, TrackParams, track_faces

if TYPE_CHECKING:
    from facefile.vision import Backend


def process_video(path: Path, result: ImageResult, backend: Backend, sampling: SamplingConfig | None = None,
                  tracking: TrackParams | None = None) -> None:
    """Fill ``result`` (size, date, faces) for the video at ``path``; MediaError if unreadable."""
    info = video_info(path)
    tracks = track_faces(_frame_faces(path, backend, sampling), tracking)
    result.faces = [track_record(track) for track in tracks]
    result.width, result.height = info.width, info.height
    taken = info.taken_at or datetime.fromtimestamp(result.mtime_ns / 1e9)
    result.taken_at = taken.isoformat(timespec="seconds")
    result.model_id = backend.model_id


def _frame_faces(path: Path, backend: Backend, sampling: SamplingConfig | None):  # noqa: ANN202 - a generator
    for frame in sample_frames(path, sampling):
        found = backend.detector.detect(frame.pixels)
        vectors = backend.embedder.embed(frame.pixels, found) if found else np.zeros((0, 0), np.float32)
        faces = []
        for face, vector in zip(found, vectors, strict=True):
            original = face.scaled(frame.scale)
            faces.append(FrameFace(
                time_s=frame.time_s, box=tuple(float(v) for v in original.box),  # type: ignore[arg-type]
                landmarks=original.landmarks, det_score=float(face.score),
                quality=float(face_quality(frame.pixels, face)), embedding=vector,
            ))
        yield frame.time_s, faces, frame.scene_cut


def track_record(track: FaceTrack) -> FaceRecord:
    """The face stored for a track: its best frame's face, with the track's time range."""
    best = track.best
    return FaceRecord(
        box=best.box, landmarks=best.landmarks, det_score=best.det_score, quality=best.quality,
        embedding=best.embedding, video_start_s=round(track.start_s, 3), video_end_s=round(track.end_s, 3),
        video_frame_s=round(best.time_s, 3),
    )
