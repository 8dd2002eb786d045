"""Camera RAW files through LibRaw (rawpy): upright RGB like any other photo.

A RAW is read from its embedded preview when that is full size (most cameras write one: the
camera's own rendering, a JPEG that decodes in a fraction of a demosaic), else demosaiced, at half
size when the caller needs no more (2x2 binning: a 12 MP RAW in a fifth of the full demosaic's
time). Which frame a file is read from depends only on the file, so every decode of it, at any
size, has the same width and height, and face boxes stored from one decode fit every other.
"""
from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

from facefile.media.discover import RAW_EXTENSIONS
from facefile.media.errors import MediaError, check_is_nonempty_file
from facefile.media.exif_dates import taken_at_of

# A preview at least this share of the sensor's long side is the photo (previews are often a few
# pixels smaller than the sensor's visible area); a smaller one (a 1024 px thumbnail) is not.
FULL_SIZE_PREVIEW = 0.9
# LibRaw's flip codes (dcraw's: bit 0 mirrors left-right, bit 1 top-bottom, bit 2 swaps the axes)
# -> the transpose that makes its preview upright (postprocess applies it itself). EXIF 2, 4, 5, 7
# (mirrored) become flips 1, 2, 4, 7; each is checked against postprocess in tests/media/test_raw.py.
_FLIP_TRANSPOSE = {
    1: Image.Transpose.FLIP_LEFT_RIGHT,
    2: Image.Transpose.FLIP_TOP_BOTTOM,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.TRANSPOSE,
    5: Image.Transpose.ROTATE_90,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
}
_SWAPS = {Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE}
_SWAPS_AXES = 4  # the flip bit that makes the upright width the stored height


@dataclass(frozen=True, eq=False)
class RawFrame:
    image: Image.Image  # RGB, upright; at most the full size, maybe a half-size decode of it
    size: tuple[int, int]  # the photo's full upright (width, height)
    taken_at: datetime | None


def is_raw(path: str | os.PathLike[str]) -> bool:
    return os.path.splitext(os.fspath(path))[1].lower() in RAW_EXTENSIONS


def upright_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """The (width, height) every decode of this RAW reports, without demosaicing it."""
    with _opened(path) as raw:
        found = _full_size_preview(raw)
        if found is None:
            return _sensor_size(raw)
        preview, transpose = found
        w, h = preview.size
        return (h, w) if transpose in _SWAPS else (w, h)


def load_raw(
    path: str | os.PathLike[str], shrink: Callable[[tuple[int, int]], float], max_pixels: int
) -> RawFrame:
    """The RAW upright in RGB; ``shrink(stored size)`` (full size / wanted size) >= 2 allows a
    half-size decode.
    Raises MediaError for a file LibRaw cannot read, or one over ``max_pixels``."""
    with _opened(path) as raw:
        width, height = _sensor_size(raw)
        if width * height > max_pixels:
            raise MediaError(path, f"image too large: {width}×{height} ({width * height / 1e6:.0f} MP) "
                                   f"exceeds the {max_pixels / 1e6:g} MP limit")
        found = _full_size_preview(raw)
        if found is not None:
            preview, transpose = found
            w, h = preview.size
            factor = shrink((w, h))
            if factor >= 2 and preview.format == "JPEG":
                preview.draft("RGB", (-(-w // int(factor)), -(-h // int(factor))))  # DCT scaling
            try:
                exif = preview.getexif() if preview.format == "JPEG" else None
                image = preview.convert("RGB")
            except Exception as exc:  # noqa: BLE001 - Pillow's errors for a truncated or corrupt JPEG
                raise MediaError(path, f"not a readable RAW file: broken embedded preview: {_message(exc)}") from exc
            if transpose is not None:
                image = image.transpose(transpose)
                w, h = (h, w) if transpose in _SWAPS else (w, h)
            return RawFrame(image, (w, h), taken_at_of(exif) or _tiff_taken_at(path))
        try:
            # No auto-brightening: dcraw's default stretches until 1% of the pixels clip, which
            # burns out faces in bright scenes (the bench's DNGs came out 1.5x brighter than their
            # JPEGs and lost 7% of the faces); the sensor's exposure with the sRGB curve is closer.
            pixels = raw.postprocess(use_camera_wb=True, output_bps=8, no_auto_bright=True,
                                     half_size=shrink((width, height)) >= 2)
        except Exception as exc:  # noqa: BLE001 - LibRaw's errors: one clear reason per file
            raise MediaError(path, f"not a readable RAW file: {_message(exc)}") from exc
    return RawFrame(Image.fromarray(np.ascontiguousarray(pixels)), (width, height), _tiff_taken_at(path))


class _opened:
    """``rawpy.imread`` as a context manager whose failures are MediaErrors naming the file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path

    def __enter__(self):  # noqa: ANN204 - rawpy.RawPy, imported late: photo-only scans never load LibRaw
        import rawpy

        check_is_nonempty_file(self.path)  # LibRaw gives all three the same I/O error
        try:
            self.raw = rawpy.imread(os.fspath(self.path))
        except (OSError, MemoryError) as exc:
            raise MediaError(self.path, f"cannot read file: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - LibRawFileUnsupportedError, LibRawDataError, ...
            raise MediaError(self.path, f"not a readable RAW file: {_message(exc)}") from exc
        return self.raw

    def __exit__(self, *exc: object) -> None:
        self.raw.close()


def _message(exc: BaseException) -> str:
    text = exc.args[0] if exc.args else type(exc).__name__
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text).strip()[:200] or type(exc).__name__


def _sensor_size(raw) -> tuple[int, int]:  # noqa: ANN001
    sizes = raw.sizes
    w, h = int(sizes.width), int(sizes.height)
    return (h, w) if int(sizes.flip) & _SWAPS_AXES else (w, h)


def _full_size_preview(raw) -> tuple[Image.Image, Image.Transpose | None] | None:  # noqa: ANN001
    """The embedded preview (not yet decoded, as stored) and the transpose that makes it upright,
    when it is the photo at full size; else None."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except Exception:  # noqa: BLE001 - no preview, or one LibRaw cannot unpack: demosaic instead
        return None
    try:
        if thumb.format == rawpy.ThumbFormat.JPEG:
            preview = Image.open(io.BytesIO(thumb.data))
        else:
            preview = Image.fromarray(np.ascontiguousarray(thumb.data))
    except Exception:  # noqa: BLE001 - a broken preview is no reason to lose the photo
        return None
    sensor = raw.sizes
    if max(preview.size) < FULL_SIZE_PREVIEW * max(int(sensor.width), int(sensor.height)):
        return None
    return preview, _FLIP_TRANSPOSE.get(int(sensor.flip))


def _tiff_taken_at(path: str | os.PathLike[str]) -> datetime | None:
    """EXIF date of a TIFF-based RAW (DNG, CR2, NEF, ARW, ...): Pillow reads the TIFF directories
    without decoding the sensor data. None for other containers (CR3) or unreadable metadata."""
    try:
        data = Path(path).read_bytes()
        if data[:4] not in (b"II*\x00", b"MM\x00*"):
            return None
        exif = Image.Exif()
        exif.load(data)
        return taken_at_of(exif)
    except Exception:  # noqa: BLE001 - a date is optional; the scan falls back to the file time
        return None
