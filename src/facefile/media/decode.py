"""Decode a photo into RGB pixels at a working size, upright, with the facts needed to map back.

Faces are found on a working-size copy (fast) and stored in the coordinates of the original,
upright image (stable whatever working size a later scan uses): ``box_original = box_working * scale``.
"""
from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from math import ceil

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from facefile.media.errors import MediaError, check_is_nonempty_file, reason_for_os_error
from facefile.media.exif_dates import taken_at_of
from facefile.media.raw import is_raw, load_raw

DEFAULT_MAX_SIDE = 1920
DEFAULT_MAX_PIXELS = 250_000_000

Box = tuple[float, float, float, float]  # x1, y1, x2, y2

# EXIF orientation -> the transpose that makes the image upright (ImageOps.exif_transpose's table).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SWAPS_SIDES = {5, 6, 7, 8}
# Bicubic (antialiased when shrinking) keeps edges sharp for small faces at a lower cost than
# Lanczos, which took longer than the draft decode itself: 2016x1512 -> 1920x1440 in 78 ms vs 57 ms.
RESAMPLE = Image.Resampling.BICUBIC
_WHITE = (255, 255, 255, 255)
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}
_HIGH_BIT_DEPTH_MODES = {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}

# What Pillow and its plugins raise for data they cannot decode (truncated, corrupt, or a header
# that lies), besides an OSError without an errno ("image file is truncated", "broken data stream");
# pillow_heif raises ValueError or RuntimeError from libheif.
_DECODE_ERRORS = (SyntaxError, ValueError, EOFError, struct.error, RuntimeError)


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """A photo at working size. ``width``/``height`` are the original, upright size."""

    pixels: np.ndarray  # (h, w, 3) uint8 RGB, C-contiguous, longer side <= max_side
    width: int
    height: int
    scale: float  # original pixels per working pixel
    taken_at: datetime | None  # EXIF DateTimeOriginal (or DateTime), camera local time, naive
    format: str  # Pillow's name: "JPEG", "PNG", "HEIF", "WEBP", "TIFF", ...
    # Apple's Live Photo identifier from the EXIF read anyway (media/live_photo.py); set by
    # decode_with_detail, the scan's decode, so the scan never opens a still twice for it.
    live_id: str | None = None


def decode(
    path: str | os.PathLike[str],
    *,
    max_side: int = DEFAULT_MAX_SIDE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> DecodedImage:
    """Decode ``path`` upright into RGB with its longer side at most ``max_side``.

    JPEGs are decoded at 1/2, 1/4 or 1/8 size when that still covers ``max_side`` (DCT scaling:
    a 12 MP photo at 1920 decodes in about half the time, in a quarter of the memory). Raises ``MediaError`` for anything that is not a readable image,
    including images over ``max_pixels``, refused from the header before any pixel is decoded.

    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "IMG_0001.jpg"
    >>> Image.new("RGB", (4032, 3024), "grey").save(path)  # a 12 MP photo
    >>> image = decode(path)
    >>> image.pixels.shape, image.width, image.height, image.scale
    ((1440, 1920, 3), 4032, 3024, 2.1)
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    with upright_source(path, max_pixels, lambda size: max(size) / max_side) as source:
        upright, (width, height) = source.image, source.size
        factor = min(1.0, max_side / max(width, height))
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        if upright.size != size:
            # reducing_gap: a cheap box reduce first for big non-JPEGs, near-identical output.
            upright = upright.resize(size, RESAMPLE, reducing_gap=3.0)
        pixels = np.array(upright, dtype=np.uint8)  # a copy: writable, contiguous, detached from Pillow
        return DecodedImage(
            pixels=pixels,
            width=width,
            height=height,
            scale=max(width, height) / max(size),
            taken_at=source.taken_at,
            format=source.format,
        )


@dataclass(frozen=True, eq=False)
class UprightSource:
    """A photo opened for decoding: its first frame upright in RGB (maybe a reduced decode), its
    full upright size, date and format."""

    image: Image.Image
    size: tuple[int, int]
    taken_at: datetime | None
    format: str


@contextmanager
def upright_source(
    path: str | os.PathLike[str], max_pixels: int, shrink: Callable[[tuple[int, int]], float]
) -> Iterator[UprightSource]:
    """Open ``path`` (a RAW through LibRaw, anything else through Pillow), decoded as small as
    ``shrink(stored size)`` allows; every failure is a MediaError."""
    if is_raw(path):
        frame = load_raw(path, shrink, max_pixels)
        yield UprightSource(frame.image, frame.size, frame.taken_at, "RAW")
        return
    with opened(path, max_pixels) as img:
        upright, size, exif = _load_upright(img, shrink(img.size))
        yield UprightSource(upright, size, taken_at_of(exif), format_name(img))


def load_original(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """The whole photo at full size, upright, in RGB (for thumbnails and exports)."""
    with upright_source(path, max_pixels, lambda _size: 1.0) as source:
        return source.image.copy()  # detached from the file, which closes here


def decode_region(
    path: str | os.PathLike[str],
    box: Box,
    *,
    max_side: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """RGB pixels of ``box`` (original upright coordinates, clamped to the image), e.g. a face crop.

    With ``max_side`` the crop is shrunk to fit, and a JPEG is decoded only as large as needed.
    """
    if not (box[2] > box[0] and box[3] > box[1]):
        raise ValueError(f"empty box {box}")
    shrink = max(box[2] - box[0], box[3] - box[1]) / max_side if max_side else 1.0
    with upright_source(path, max_pixels, lambda _size: shrink) as source:
        upright, (width, height) = source.image, source.size
        x1, y1 = max(0.0, box[0]), max(0.0, box[1])
        x2, y2 = min(float(width), box[2]), min(float(height), box[3])
        if x2 - x1 < 1 or y2 - y1 < 1:
            raise MediaError(path, f"box {box} lies outside the {width}×{height} image")
        factor = min(1.0, max_side / max(x2 - x1, y2 - y1)) if max_side else 1.0
        size = (max(1, round((x2 - x1) * factor)), max(1, round((y2 - y1) * factor)))
        sx, sy = upright.width / width, upright.height / height
        # resize(box=...) crops at sub-pixel precision from the reduced decode, so the crop's size and
        # position do not drift by the draft's rounding.
        crop = upright.resize(size, RESAMPLE, box=(x1 * sx, y1 * sy, x2 * sx, y2 * sy))
        return np.array(crop, dtype=np.uint8)


@cache
def _prepare_pillow() -> None:
    """Register the HEIF opener and hand the decompression-bomb policy to ``opened`` (once)."""
    import pillow_heif  # imported here: loading libheif costs time that only image decoding needs

    pillow_heif.register_heif_opener()
    # Pillow's own guard refuses anything over ~179 MP inside Image.open, below our 250 MP default,
    # with a message that loses the image size, and it would cap a caller's max_pixels. opened
    # checks every image by its header size before decoding instead. Process-wide: every image in
    # facefile is opened through this module.
    Image.MAX_IMAGE_PIXELS = None


@contextmanager
def opened(path: str | os.PathLike[str], max_pixels: int) -> Iterator[Image.Image]:
    """``Image.open`` (lazy: header only), refusing oversized images; any failure is a MediaError."""
    _prepare_pillow()
    check_is_nonempty_file(path)
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise MediaError(
                    path,
                    f"image too large: {width}×{height} ({width * height / 1e6:.0f} MP) "
                    f"exceeds the {max_pixels / 1e6:g} MP limit",
                )
            yield img
    except UnidentifiedImageError as exc:
        raise MediaError(path, "not an image or unsupported format") from exc
    except _UnsupportedColourMode as exc:
        raise MediaError(path, f"unsupported colour mode: {exc}") from exc
    except OSError as exc:
        if exc.errno is not None:  # the file system speaking, not the decoder
            raise MediaError(path, reason_for_os_error(exc)) from exc
        raise MediaError(path, _corrupt(exc)) from exc
    except MemoryError as exc:
        raise MediaError(path, "not enough memory to decode") from exc
    except _DECODE_ERRORS as exc:
        raise MediaError(path, _corrupt(exc)) from exc


def _corrupt(exc: BaseException) -> str:
    # libheif's messages run over several lines; a reason is shown in one line of a report.
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"truncated or corrupt image data: {detail[:200]}"


def _load_upright(
    img: Image.Image, shrink: float
) -> tuple[Image.Image, tuple[int, int], Image.Exif | None]:
    """The first frame in RGB and upright, its full upright size, and its EXIF.

    The frame is decoded at 1/2, 1/4 or 1/8 size when ``shrink`` allows: only JPEG can (its DCT
    scaling; ``draft`` is a no-op elsewhere). It still shows the whole image, so callers map boxes by
    the ratio of sizes.
    """
    rgb, (width, height), exif, orientation = load_stored(img, shrink)
    if orientation in SWAPS_SIDES:
        width, height = height, width
    transpose = UPRIGHT.get(orientation)
    return (rgb.transpose(transpose) if transpose is not None else rgb), (width, height), exif


def load_stored(
    img: Image.Image, shrink: float
) -> tuple[Image.Image, tuple[int, int], Image.Exif | None, int]:
    """The first frame in RGB as stored (not yet upright), the full stored size, EXIF and EXIF
    orientation; decoded at 1/2, 1/4 or 1/8 size when ``shrink`` allows (see ``_load_upright``)."""
    width, height = img.size  # read first: draft() changes img.size to the reduced one
    if shrink >= 2:
        # draft works in stored (not upright) orientation; the ratio is the same either way round.
        img.draft("RGB", (ceil(width / shrink), ceil(height / shrink)))
    img.load()
    exif = _read_exif(img)
    return _to_rgb(img), (width, height), exif, _orientation(exif)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in _HIGH_BIT_DEPTH_MODES:
        img = _to_8bit_grey(img)
    if "transparency" in img.info and img.mode in ("P", "L", "RGB"):
        img = img.convert("RGBA")
    if img.mode in _ALPHA_MODES:
        # Transparent areas become white, as a viewer would show them, not black.
        rgba = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, _WHITE), rgba).convert("RGB")
    if img.mode == "RGB":
        return img
    try:
        return img.convert("RGB")  # L, 1, P, CMYK, YCbCr, ...
    except ValueError as exc:
        raise _UnsupportedColourMode(img.mode) from exc


class _UnsupportedColourMode(Exception):
    """A mode Pillow decodes but cannot convert to RGB (LAB, ...); ``opened`` names the file."""


def _to_8bit_grey(img: Image.Image) -> Image.Image:
    # Pillow's convert() clips 16-bit values at 255, turning most 16-bit greys white; keep the high
    # byte instead. "I" can hold either range: treat values over 255 as 16-bit.
    values = np.asarray(img)
    if img.mode == "F" and values.size and float(values.max()) <= 1.0:
        values = values * 255.0
    elif img.mode.startswith("I;16") or (values.size and int(values.max()) > 255):
        values = values.astype(np.uint32) >> 8
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), mode="L")


def _read_exif(img: Image.Image) -> Image.Exif | None:
    try:
        return img.getexif()
    except Exception:  # EXIF is optional metadata: a mangled block must never cost the photo
        return None


def _orientation(exif: Image.Exif | None) -> int:
    value = exif.get(ExifTags.Base.Orientation) if exif is not None else None
    return value if isinstance(value, int) and 1 <= value <= 8 else 1  # bogus values: as stored


def format_name(img: Image.Image) -> str:
    # Phones write MPO (a JPEG with a second, depth or preview image appended); it is a JPEG.
    return "JPEG" if img.format == "MPO" else (img.format or "unknown")
