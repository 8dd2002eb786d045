"""The scan's per-file work for names other photo tools stored: XMP face regions -> named faces.

Each named region is matched to the face the detector found under it (``interop.regions``: IoU
>= 0.3, or each box's centre inside the other; one face per region). A region with no detected face
gets a second, closer look: the detector runs on the region's crop, enlarged, where small or hard
faces are found more often; a face found there is stored with its embedding (source 'xmp'). Where
even that finds none, the region is kept as a manual face: its box and name, no embedding (source
'manual'), so it joins the named person's file but never the clustering.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from facefile.interop import match_regions, photo_regions, regions_match
from facefile.interop.regions import scale
from facefile.store.records import FaceRecord, ImportedName
from facefile.vision.base import DetectedFace
from facefile.vision.quality import face_quality

if TYPE_CHECKING:
    from facefile.media import DecodedImage
    from facefile.vision import Backend

# The crop around a region: the region plus this fraction of its size on each side (context the
# detector needs), scaled so the region's longer side is CROP_REGION_SIDE pixels.
CROP_MARGIN = 0.5
CROP_REGION_SIDE = 160


def named_faces(path: Path, image: DecodedImage, faces: list[FaceRecord], backend: Backend) -> list[FaceRecord]:
    """``faces`` with the names of the photo's XMP face regions attached, plus one face for each
    named region no detected face matched."""
    regions = photo_regions(path)
    seen_names: set[str] = set()
    unique = []
    for region in regions:  # a name twice in one photo is a mistake: two faces are never one person
        if region.name.casefold() not in seen_names:
            seen_names.add(region.name.casefold())
            unique.append(region)
    boxes = [scale(r.rect, image.width, image.height) for r in unique]
    matched = match_regions(boxes, [f.box for f in faces])
    faces = list(faces)
    for region, box, index in zip(unique, boxes, matched, strict=True):
        name = ImportedName(region.name, region.kind, region.origin)
        if index is None:
            face = face_in_region(image, box, [f.box for f in faces], backend) or _manual_face(box)
            faces.append(face)
            index = len(faces) - 1
        faces[index].imported_name = name
    return faces


def _manual_face(box: tuple[float, float, float, float]) -> FaceRecord:
    return FaceRecord(box=box, landmarks=np.zeros((5, 2), np.float32), det_score=0.0, quality=0.0,
                      embedding=np.zeros(0, np.float32), source="manual")


def face_in_region(image: DecodedImage, box: tuple[float, float, float, float],
                   taken: list[tuple[float, float, float, float]], backend: Backend) -> FaceRecord | None:
    """The detector's face in the enlarged crop of ``box`` (original pixels) that matches the region
    and no face already found, or None. Also what places a face drawn by hand (library/drawn_faces.py)."""
    h, w = image.pixels.shape[:2]
    work = [v / image.scale for v in box]  # working pixels
    side_x, side_y = work[2] - work[0], work[3] - work[1]
    x1, y1 = max(0, int(work[0] - CROP_MARGIN * side_x)), max(0, int(work[1] - CROP_MARGIN * side_y))
    x2, y2 = min(w, int(work[2] + CROP_MARGIN * side_x) + 1), min(h, int(work[3] + CROP_MARGIN * side_y) + 1)
    if x2 - x1 < 8 or y2 - y1 < 8:
        return None
    zoom = CROP_REGION_SIDE / max(side_x, side_y, 1.0)
    crop = cv2.resize(np.ascontiguousarray(image.pixels[y1:y2, x1:x2]),
                      (max(1, round((x2 - x1) * zoom)), max(1, round((y2 - y1) * zoom))),
                      interpolation=cv2.INTER_CUBIC if zoom > 1 else cv2.INTER_AREA)
    best, best_score = None, -1.0
    for found in backend.detector.detect(crop):
        # Crop pixels -> working pixels -> original pixels.
        fx1, fy1, fx2, fy2 = found.box
        in_work = DetectedFace(
            box=(fx1 / zoom + x1, fy1 / zoom + y1, fx2 / zoom + x1, fy2 / zoom + y1),
            landmarks=(found.landmarks / zoom + np.array([x1, y1], np.float32)).astype(np.float32),
            score=found.score,
        )
        original = in_work.scaled(image.scale)
        if not regions_match(box, original.box) or any(regions_match(original.box, t) for t in taken):
            continue
        if found.score > best_score:
            best, best_score = (found, in_work, original), found.score
    if best is None:
        return None
    found, in_work, original = best
    quality = float(face_quality(image.pixels, in_work))
    if quality <= 0.0:
        # Eyes closer than quality.MIN_IOD working pixels: the enlarged crop still finds a face, but
        # its embedding would be noise, and a confirmed face with a noise embedding would pull other
        # faces into the person. Such a region stays a manual face.
        return None
    vector = backend.embedder.embed(crop, [found])[0]
    return FaceRecord(
        box=tuple(float(v) for v in original.box),  # type: ignore[arg-type]
        landmarks=original.landmarks, det_score=float(found.score), quality=quality, embedding=vector,
        source="xmp",
    )
