"""Hard variants of real face photos, made deterministically from the originals at benchmark time.

Each variant models a complaint users have about today's tools: faces too small to read
(``lowres24``, ``lowres32``: the face scaled to that many pixels across), sunglasses (``eyes``: a
dark band over both eyes), heavy compression (``jpeg15``), and group photos (``compose_group``:
2-4 different people on one canvas, whose faces must never end in one person).
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

# In LFW's 250 x 250 deep-funneled crops the face spans about 110 px and the eyes sit on a
# horizontal line near y = 115: the funnelling aligned them there.
LFW_FACE_WIDTH = 110.0
LFW_EYE_ROW = 0.46
VARIANTS = ("original", "lowres24", "lowres32", "eyes", "jpeg15")


def apply_variant(rgb: np.ndarray, variant: str) -> np.ndarray:
    """The ``variant`` of an RGB uint8 image (see module docstring)."""
    if variant == "original":
        return rgb
    if variant in ("lowres24", "lowres32"):
        return _face_across(rgb, int(variant[-2:]))
    if variant == "eyes":
        return _eye_band(rgb)
    if variant == "jpeg15":
        return _jpeg(rgb, 15)
    raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")


def _face_across(rgb: np.ndarray, pixels: int) -> np.ndarray:
    """Scale the whole photo so the face is ``pixels`` wide: what a face far in the background is."""
    h, w = rgb.shape[:2]
    factor = pixels / LFW_FACE_WIDTH * (w / 250.0)
    size = (max(8, round(w * factor)), max(8, round(h * factor)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))


def _eye_band(rgb: np.ndarray) -> np.ndarray:
    """A dark band across both eyes, as opaque sunglasses would be."""
    out = rgb.copy()
    h, w = out.shape[:2]
    centre = int(h * LFW_EYE_ROW)
    half = max(2, int(h * 0.055))
    out[centre - half : centre + half, int(w * 0.25) : int(w * 0.75)] = 12
    return out


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return np.asarray(Image.open(buffer).convert("RGB"))


def compose_group(tiles: list[np.ndarray], seed: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Several portraits side by side on one canvas (a group photo); returns it and each tile's box."""
    rng = np.random.default_rng(seed)
    size = 250
    gap = int(rng.integers(10, 40))
    width = len(tiles) * size + (len(tiles) + 1) * gap
    canvas = np.full((size + 2 * gap, width, 3), 128, np.uint8)
    boxes = []
    for i, tile in enumerate(tiles):
        tile = np.asarray(Image.fromarray(tile).resize((size, size)))
        x, y = gap + i * (size + gap), gap
        canvas[y : y + size, x : x + size] = tile
        boxes.append((x, y, x + size, y + size))
    return canvas, boxes
