"""Camera-like test photos made from LFW portraits: 12-megapixel canvases holding 0-4 faces of
80-600 px, some stored sideways with an EXIF rotation, with every face's true position known."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from facefile_bench.lfw import identities

CANVAS = (4032, 3024)  # a 12 MP phone photo, landscape
# The face in a deep-funneled 250 x 250 LFW portrait (median detector box on the development set).
LFW_FACE_BOX = (78.0, 66.0, 171.0, 189.0)
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class Canvas:
    path: Path
    boxes: list[tuple[float, float, float, float]]  # true face boxes, upright pixels
    identities: list[str]


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A smooth colour gradient with sensor-like noise: JPEG-compresses like a photo, not a flat fill."""
    yy, xx = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
    base = rng.uniform(40, 200, 3)
    tilt = rng.uniform(-0.02, 0.02, (2, 3))
    small = base + xx[..., None] * tilt[0] + yy[..., None] * tilt[1]
    big = np.asarray(Image.fromarray(np.clip(small, 0, 255).astype(np.uint8)).resize((w, h), Image.Resampling.BILINEAR))
    noise = rng.normal(0, 6, (h, w, 1)).astype(np.float32)
    return np.clip(big.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def make_canvases(lfw: Path, out: Path, n: int = 40, *, seed: int = 0) -> list[Canvas]:
    """Write ``n`` canvases to ``out`` (deterministic); every fourth is a portrait photo stored
    sideways with EXIF orientation 6, as phones do."""
    rng = np.random.default_rng(seed)
    people = [(name, photos) for name, photos in identities(lfw).items() if len(photos) >= 3]
    out.mkdir(parents=True, exist_ok=True)
    canvases = []
    for k in range(n):
        portrait = k % 4 == 3
        w, h = (CANVAS[1], CANVAS[0]) if portrait else CANVAS
        image = Image.fromarray(_background(rng, w, h))
        boxes: list[tuple[float, float, float, float]] = []
        names: list[str] = []
        for _ in range(int(rng.choice([0, 1, 1, 2, 2, 3, 4]))):
            face_px = float(np.exp(rng.uniform(np.log(80), np.log(600))))
            scale = face_px / (LFW_FACE_BOX[2] - LFW_FACE_BOX[0])
            side = int(250 * scale)
            for _attempt in range(20):
                x, y = int(rng.integers(0, w - side)), int(rng.integers(0, h - side))
                box = (x + LFW_FACE_BOX[0] * scale, y + LFW_FACE_BOX[1] * scale,
                       x + LFW_FACE_BOX[2] * scale, y + LFW_FACE_BOX[3] * scale)
                if all(_apart((x, y, x + side, y + side), b, scale) for b in boxes):
                    break
            else:
                continue
            name, photos = people[int(rng.integers(len(people)))]
            portrait_img = Image.open(photos[int(rng.integers(len(photos)))]).convert("RGB").resize((side, side))
            image.paste(portrait_img, (x, y))
            boxes.append(box)
            names.append(name)
        path = out / f"canvas-{k:03d}.jpg"
        if portrait:
            exif = Image.Exif()
            exif[EXIF_ORIENTATION] = 6  # "rotate 90 CW to display": store it rotated the other way
            image.transpose(Image.Transpose.ROTATE_90).save(path, quality=90, exif=exif)
        else:
            image.save(path, quality=90)
        canvases.append(Canvas(path, boxes, names))
    return canvases


def _apart(tile: tuple[int, int, int, int], face: tuple[float, float, float, float], scale: float) -> bool:
    """The new portrait tile must not cover an earlier face."""
    x1, y1, x2, y2 = tile
    return x2 <= face[0] or face[2] <= x1 or y2 <= face[1] or face[3] <= y1


def match_faces(truth: list[tuple[float, float, float, float]], found: list[tuple[float, float, float, float]]) -> list[int | None]:
    """For each true face, the index of the detection whose centre lies in it (nearest centre)."""
    matched: list[int | None] = []
    used: set[int] = set()
    for tx1, ty1, tx2, ty2 in truth:
        cx, cy = (tx1 + tx2) / 2, (ty1 + ty2) / 2
        best, best_d = None, float("inf")
        for i, (x1, y1, x2, y2) in enumerate(found):
            fx, fy = (x1 + x2) / 2, (y1 + y2) / 2
            if i in used or not (tx1 <= fx <= tx2 and ty1 <= fy <= ty2):
                continue
            d = (fx - cx) ** 2 + (fy - cy) ** 2
            if d < best_d:
                best, best_d = i, d
        if best is not None:
            used.add(best)
        matched.append(best)
    return matched
