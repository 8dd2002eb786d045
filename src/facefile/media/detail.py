"""A photo at a working size for the detector, plus a finer copy for the crops of small faces.

The detector needs few pixels (a face of 20 px is found), an embedder needs many (SFace aligns the
face into 112 x 112 with the eyes 35 px apart). ``decode_with_detail`` makes both from one decode:
a JPEG is decoded at the DCT scale that gives twice the working resolution (1/2 for a 12 MP photo
and a working side of 1024), and the working image is that reduced by a whole factor with a box
filter. On 12 MP photos this costs about 1 ms more than decoding at 1/4 directly: the Huffman
decoding both need dominates, and only crops of the finer copy are ever converted to arrays.

The finer copy stays as decoded, in stored orientation: turning a 3 MP image upright costs more
than the crops it serves, so each crop is turned on its own.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from math import ceil, floor

import numpy as np
from PIL import Image

from facefile.media.decode import (
    DEFAULT_MAX_PIXELS,
    RESAMPLE,
    SWAPS_SIDES,
    UPRIGHT,
    Box,
    DecodedImage,
    format_name,
    load_stored,
    opened,
    taken_at_of,
)
from facefile.media.live_photo import exif_identifier
from facefile.media.raw import is_raw, load_raw

# How much finer than the working image the kept copy is: a face the detector sees with its eyes
# 18 px apart (an 80 px face in a 12 MP photo at working side 1024) gets 36 px from the finer copy,
# what SFace's 112 px alignment template asks for.
DETAIL_FACTOR = 2
_MAX_DRAFT = 8  # JPEG's DCT scaling goes down to 1/8


@dataclass(frozen=True, eq=False)
class DetailImage:
    """The photo at a finer resolution than the working image, kept in stored orientation."""

    stored: Image.Image  # RGB, as stored in the file (not yet turned upright), reduced by ``scale``
    orientation: int  # EXIF orientation (1-8) that turns ``stored`` upright
    scale: float  # original pixels per detail pixel

    @property
    def upright_size(self) -> tuple[int, int]:
        w, h = self.stored.size
        return (h, w) if self.orientation in SWAPS_SIDES else (w, h)

    def region(self, box: Box) -> tuple[np.ndarray, tuple[float, float]]:
        """Upright RGB pixels of ``box`` (original upright pixels, clamped to the photo) at this
        copy's resolution, and the crop's top-left corner in detail pixels: a point ``p`` of the
        original is at ``p / scale - corner`` in the crop. Pixels are copied, never resampled."""
        width, height = self.upright_size
        x0 = min(max(0, floor(box[0] / self.scale)), width - 1)
        y0 = min(max(0, floor(box[1] / self.scale)), height - 1)
        x1 = max(min(width, ceil(box[2] / self.scale)), x0 + 1)
        y1 = max(min(height, ceil(box[3] / self.scale)), y0 + 1)
        crop = self.stored.crop(stored_box((x0, y0, x1, y1), self.orientation, width, height))
        transpose = UPRIGHT.get(self.orientation)
        if transpose is not None:
            crop = crop.transpose(transpose)
        return np.array(crop, dtype=np.uint8), (float(x0), float(y0))


def stored_box(box: tuple[int, int, int, int], orientation: int, width: int, height: int) -> tuple[int, int, int, int]:
    """An upright box in a ``width`` x ``height`` upright image -> the same pixels' box in the image
    as stored (the inverse of the EXIF transpose; whole pixels map to whole pixels)."""
    x0, y0, x1, y1 = box
    return {
        1: (x0, y0, x1, y1),
        2: (width - x1, y0, width - x0, y1),
        3: (width - x1, height - y1, width - x0, height - y0),
        4: (x0, height - y1, x1, height - y0),
        5: (y0, x0, y1, x1),
        6: (y0, width - x1, y1, width - x0),
        7: (height - y1, width - x1, height - y0, width - x0),
        8: (height - y1, x0, height - y0, x1),
    }.get(orientation, (x0, y0, x1, y1))


def decode_with_detail(
    path: str | os.PathLike[str],
    *,
    max_side: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[DecodedImage, DetailImage | None]:
    """``path`` upright at a working size, reduced by a whole factor ``n`` (the smallest with the
    longer side at most ``max_side``), and the finer copy (``None`` when the working image is the
    photo itself). Raises ``MediaError`` like ``decode``.

    A whole factor keeps the reduction a cheap, exact box filter; the price is a working side
    between ``max_side / 2`` and ``max_side`` (1008 for a 4032 px photo and 1024).
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    if is_raw(path):
        return _raw_with_detail(path, max_side, max_pixels)
    with opened(path, max_pixels) as img:
        n = ceil(max(img.size) / max_side)
        draft = _power_of_two_at_most(min(_MAX_DRAFT, n // DETAIL_FACTOR if n >= DETAIL_FACTOR else 1))
        fine, (stored_w, stored_h), exif, orientation = load_stored(img, draft)
        size = (ceil(stored_w / n), ceil(stored_h / n))  # stored orientation, as Image.reduce rounds
        work = _reduced(fine, size)
        transpose = UPRIGHT.get(orientation)
        if transpose is not None:
            work = work.transpose(transpose)
        width, height = (stored_h, stored_w) if orientation in SWAPS_SIDES else (stored_w, stored_h)
        image = DecodedImage(
            pixels=np.array(work, dtype=np.uint8),
            width=width,
            height=height,
            scale=max(width, height) / max(work.size),
            taken_at=taken_at_of(exif),
            format=format_name(img),
            live_id=exif_identifier(exif),
        )
        if fine.size == size:
            return image, None
        if fine is img:  # the file's own image: Pillow frees its pixels when the file is closed
            fine = _detached(img)
        return image, DetailImage(fine, orientation, max(stored_w, stored_h) / max(fine.size))


def _raw_with_detail(path: str | os.PathLike[str], max_side: int, max_pixels: int) -> tuple[DecodedImage, DetailImage | None]:
    """``decode_with_detail`` for a camera RAW: LibRaw's frame is upright already, and its half-size
    decode plays the JPEG draft's part (used when the finer copy needs no more than half)."""
    frame = load_raw(path, lambda size: ceil(max(size) / max_side) / DETAIL_FACTOR, max_pixels)
    (width, height), fine = frame.size, frame.image
    n = ceil(max(width, height) / max_side)
    size = (ceil(width / n), ceil(height / n))
    work = _reduced(fine, size)
    image = DecodedImage(np.array(work, dtype=np.uint8), width, height, max(width, height) / max(work.size),
                         frame.taken_at, "RAW")
    if fine.size == size:
        return image, None
    return image, DetailImage(fine, 1, max(width, height) / max(fine.size))


def _reduced(fine: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``fine`` at ``size``: itself, a box reduce by a whole factor, or (odd sizes) a resize."""
    k = fine.width / size[0]
    if fine.size == size:
        return fine
    if k == round(k) and fine.height / size[1] == k:
        return fine.reduce(int(k))
    return fine.resize(size, RESAMPLE, reducing_gap=3.0)  # a draft JPEG not dividing evenly, odd sizes


def _detached(img: Image.Image) -> Image.Image:
    # A new Image around the same decoded pixels (no copy of 12 MB): closing the file then only
    # drops the file's reference to them.
    return img._new(img.im)


def _power_of_two_at_most(n: int) -> int:
    p = 1
    while p * 2 <= n:
        p *= 2
    return p
