"""Video files in, sampled frames out: RGB, upright, at a working size, with their time.

Frames are sampled at a fixed rate (default one per second) plus one at every scene change, found
by a cheap detector: the mean absolute difference of consecutive frames shrunk to 32 x 18 colour
pixels (colour, not grey: a cut between two scenes of equal brightness still differs in hue).
Every frame is decoded (a cut can fall anywhere) but only sampled frames are converted to RGB at
working size, which is where the time goes.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from facefile.media.errors import MediaError, reason_for_os_error


@dataclass(frozen=True)
class SamplingConfig:
    # One frame per second: a face on screen for a second or more is seen at least once, and a
    # minute of video costs 60 detections.
    every_s: float = 1.0
    # Mean absolute difference (0..255, over R, G, B) of consecutive 32 x 18 thumbnails that marks a cut.
    # Hard cuts between shots score 25-80; pans and walking people 2-12 at 25 fps.
    scene_threshold: float = 20.0
    # Cuts closer than this are one (a flash, a fast whip pan) so a strobe cannot force every frame.
    min_scene_gap_s: float = 0.5
    # Longer side of the frames the detector sees: a face of 3 % of a 4K frame's width keeps ~40 px.
    max_side: int = 1280
    # A 3-hour film at 1 fps is 10,800 detections; beyond this the rest of the file is not sampled.
    max_samples: int = 20_000


@dataclass(frozen=True)
class VideoInfo:
    width: int  # upright, original pixels (after the display rotation)
    height: int
    duration_s: float | None
    rotation: int  # degrees counter-clockwise the stored frames are turned for display
    taken_at: datetime | None  # the container's creation time, converted to local wall-clock time


@dataclass(frozen=True, eq=False)
class VideoFrame:
    time_s: float
    pixels: np.ndarray  # (h, w, 3) uint8 RGB, upright, longer side <= max_side
    scale: float  # original pixels per working pixel
    scene_cut: bool  # the first sample after a cut: faces before it belong to another shot


def _av():  # noqa: ANN202 - PyAV, imported on first use: photo-only scans never load FFmpeg
    import av

    return av


def _opened(path: str | os.PathLike[str]):  # noqa: ANN202 - an av container
    av = _av()
    try:
        if os.stat(path).st_size == 0:
            raise MediaError(path, "empty file")
        container = av.open(str(path))
    except OSError as exc:
        raise MediaError(path, reason_for_os_error(exc)) from exc
    except av.FFmpegError as exc:
        raise MediaError(path, f"not a readable video: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise MediaError(path, "no video stream")
    return container


def video_info(path: str | os.PathLike[str]) -> VideoInfo:
    """Size, duration, rotation and creation time of a video, from its headers and first frame."""
    with _opened(path) as container:
        stream = container.streams.video[0]
        av = _av()
        try:
            first = next(container.decode(stream), None)
        except av.FFmpegError as exc:
            raise MediaError(path, f"truncated or corrupt video data: {exc}") from exc
        if first is None:
            raise MediaError(path, "no frames")
        rotation = int(first.rotation or 0)
        width, height = first.width, first.height
        if rotation % 180:
            width, height = height, width
        duration = float(container.duration) / 1e6 if container.duration else None
        return VideoInfo(width, height, duration, rotation, _creation_time(container.metadata))


def sample_frames(path: str | os.PathLike[str], config: SamplingConfig | None = None) -> Iterator[VideoFrame]:
    """Frames every ``config.every_s`` seconds and at scene changes, in time order."""
    config = config or SamplingConfig()
    av = _av()
    with _opened(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        previous: np.ndarray | None = None
        next_sample, last_cut, samples = 0.0, -1e9, 0
        try:
            for frame in container.decode(stream):
                t = float(frame.time) if frame.time is not None else 0.0
                thumb = frame.to_ndarray(format="rgb24", width=32, height=18).astype(np.int16)
                cut = previous is not None and float(np.abs(thumb - previous).mean()) >= config.scene_threshold
                previous = thumb
                cut = cut and t - last_cut >= config.min_scene_gap_s
                if cut:
                    last_cut = t
                if not cut and t < next_sample:
                    continue
                next_sample = t + config.every_s
                yield _upright_frame(frame, t, cut, config.max_side)
                samples += 1
                if samples >= config.max_samples:
                    return
        except av.FFmpegError as exc:
            if samples == 0:
                raise MediaError(path, f"truncated or corrupt video data: {exc}") from exc
            # A broken tail (a copy cut short) keeps the faces of what could be read.


def _upright_frame(frame, t: float, cut: bool, max_side: int) -> VideoFrame:  # noqa: ANN001 - av.VideoFrame
    rotation = int(frame.rotation or 0)
    stored_w, stored_h = frame.width, frame.height
    factor = min(1.0, max_side / max(stored_w, stored_h))
    w, h = max(2, round(stored_w * factor)), max(2, round(stored_h * factor))
    pixels = frame.to_ndarray(format="rgb24", width=w, height=h)
    turns = round(rotation / 90) % 4
    if turns:
        pixels = np.rot90(pixels, turns)  # counter-clockwise, as the display matrix says
    return VideoFrame(t, np.ascontiguousarray(pixels), max(stored_w, stored_h) / max(w, h), cut)


def read_frame(path: str | os.PathLike[str], time_s: float, max_side: int | None = None) -> np.ndarray:
    """The upright RGB frame shown at ``time_s``, at its original size unless ``max_side`` says less."""
    av = _av()
    with _opened(path) as container:
        stream = container.streams.video[0]
        try:
            container.seek(max(0, int(time_s / stream.time_base)), stream=stream, backward=True)
            chosen = None
            for frame in container.decode(stream):
                chosen = frame
                if frame.time is not None and frame.time >= time_s - 1e-3:
                    break
        except av.FFmpegError as exc:
            raise MediaError(path, f"cannot read the frame at {time_s:.2f} s: {exc}") from exc
        if chosen is None:
            raise MediaError(path, f"no frame at {time_s:.2f} s")
        return _upright_frame(chosen, time_s, False, max_side or max(chosen.width, chosen.height)).pixels


def read_region(path: str | os.PathLike[str], time_s: float, box: tuple[float, float, float, float],
                max_side: int | None = None) -> np.ndarray:
    """RGB pixels of ``box`` (original upright pixels) in the frame at ``time_s``: the thumbnail of a
    video face, as ``decode_region`` gives it for a photo."""
    import cv2

    frame = read_frame(path, time_s)
    h, w = frame.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    if x2 - x1 < 1 or y2 - y1 < 1:
        raise MediaError(path, f"box {box} lies outside the {w}×{h} frame")
    crop = frame[y1:y2, x1:x2]
    if max_side and max(crop.shape[:2]) > max_side:
        factor = max_side / max(crop.shape[:2])
        crop = cv2.resize(crop, (max(1, round((x2 - x1) * factor)), max(1, round((y2 - y1) * factor))),
                          interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop)


def _creation_time(metadata: dict[str, str]) -> datetime | None:
    # Cameras write UTC ("2024-05-01T10:00:00.000000Z"); photos carry local wall-clock time, so the
    # video's time is converted to the same form for dates to sort together.
    text = metadata.get("creation_time") or metadata.get("com.apple.quicktime.creationdate")
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.year < 1971:  # an unset clock writes 1904 or 1970
        return None
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def is_video(path: str | os.PathLike[str]) -> bool:
    from facefile.media.discover import VIDEO_EXTENSIONS

    return Path(path).suffix.lower() in VIDEO_EXTENSIONS
