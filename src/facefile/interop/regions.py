"""Face regions between frames: normalised stored-image rectangles <-> upright pixel boxes, and the
rule that matches a region someone named to a face facefile detected.

MWG and Microsoft regions are normalised to the image **as stored**: a portrait photo from a
phone is stored landscape with EXIF orientation 6, and its regions are in that landscape frame
(digiKam fixed its own writer to this in 2018, KDE bugs 372340 and 395243). facefile's boxes are in
original pixels **after** orientation, so every region passes through ``to_upright`` on the way in
and ``to_stored`` on the way out.
"""
from __future__ import annotations

from collections.abc import Sequence

from facefile.vision.track import iou

Rect = tuple[float, float, float, float]  # x1, y1, x2, y2

# A detected face and a named region are the same face when they overlap by this IoU, or when each
# one's centre lies inside the other. IoU alone fails where tools draw regions of a different size
# from YuNet's boxes (Windows and Lightroom include hair and chin: IoU ~0.25 for the same face);
# mutual centre containment alone would let a large region claim a small face beside its centre.
MATCH_IOU = 0.3
_SWAPS_SIDES = {5, 6, 7, 8}


def to_upright(rect: Rect, orientation: int) -> Rect:
    """A normalised rectangle of the stored image, in the upright (EXIF-applied) image."""
    return _map(rect, lambda u, v: _upright_point(u, v, orientation))


def to_stored(rect: Rect, orientation: int) -> Rect:
    """The inverse of ``to_upright``."""
    return _map(rect, lambda u, v: _stored_point(u, v, orientation))


def _upright_point(u: float, v: float, orientation: int) -> tuple[float, float]:
    # Where a point of the stored image lands once PIL's transpose for this orientation is applied.
    return {
        2: (1 - u, v), 3: (1 - u, 1 - v), 4: (u, 1 - v), 5: (v, u),
        6: (1 - v, u), 7: (1 - v, 1 - u), 8: (v, 1 - u),
    }.get(orientation, (u, v))


def _stored_point(u: float, v: float, orientation: int) -> tuple[float, float]:
    # 6 and 8 are each other's inverse; every other orientation is its own.
    inverse = {6: 8, 8: 6}.get(orientation, orientation)
    return _upright_point(u, v, inverse)


def _map(rect: Rect, point) -> Rect:  # type: ignore[no-untyped-def]
    (ax, ay), (bx, by) = point(rect[0], rect[1]), point(rect[2], rect[3])
    return (min(ax, bx), min(ay, by), max(ax, bx), max(ay, by))


def stored_frame_is_upright(applied_to: tuple[float, float] | None, stored_size: tuple[int, int],
                            orientation: int) -> bool:
    """Whether a region list was written in the upright frame although the image is rotated.

    Some tools ignore MWG and write upright coordinates; their ``AppliedToDimensions`` then has the
    upright aspect. Trusting the dimensions fixes those files and changes nothing for correct ones.
    """
    if orientation not in _SWAPS_SIDES or applied_to is None:
        return False
    w, h = stored_size
    aw, ah = applied_to
    if w == h or aw == ah:
        return False
    return (aw > ah) != (w > h)


def scale(rect: Rect, width: float, height: float) -> Rect:
    return (rect[0] * width, rect[1] * height, rect[2] * width, rect[3] * height)


def _contains_centre(outer: Rect, inner: Rect) -> bool:
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3]


def regions_match(a: Rect, b: Rect) -> bool:
    """The matching rule (see ``MATCH_IOU``): same frame, any units."""
    return iou(a, b) >= MATCH_IOU or (_contains_centre(a, b) and _contains_centre(b, a))


def match_regions(regions: Sequence[Rect], faces: Sequence[Rect]) -> list[int | None]:
    """For each region, the index of the face it names, or None. One face per region and one region
    per face: candidate pairs (``regions_match``) are taken greedily by IoU, best first, then by
    centre distance, so two neighbouring faces each keep the region drawn over them."""
    pairs = []
    for r, region in enumerate(regions):
        for f, face in enumerate(faces):
            if regions_match(region, face):
                dx = (region[0] + region[2] - face[0] - face[2]) / 2
                dy = (region[1] + region[3] - face[1] - face[3]) / 2
                pairs.append((-iou(region, face), dx * dx + dy * dy, r, f))
    result: list[int | None] = [None] * len(regions)
    taken: set[int] = set()
    for _, _, r, f in sorted(pairs):
        if result[r] is None and f not in taken:
            result[r] = f
            taken.add(f)
    return result
