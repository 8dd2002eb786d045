"""RAW scan speed against the JPEG path: the speed bench's 12 MP canvases saved as DNG (the same
stored pixels and orientation, no embedded preview: LibRaw demosaics every one, the slow case) and
as the JPEGs they are, each folder scanned by one process, timed in CPU seconds after the models
are loaded (a shared machine's load does not inflate CPU time as it does wall time)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from facefile.library import Library
from facefile_bench.canvases import EXIF_ORIENTATION, Canvas, make_canvases
from facefile_bench.dng import write_dng
from facefile_bench.speed import facefile_cpu, library_boxes, recall


def dng_canvases(canvases: list[Canvas], out: Path) -> list[Canvas]:
    """Each canvas as a DNG of its stored pixels and EXIF orientation (deterministic)."""
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for c in canvases:
        with Image.open(c.path) as img:
            orientation = int(img.getexif().get(EXIF_ORIENTATION, 1))
            stored = np.asarray(img.convert("RGB"))
        path = write_dng(out / f"{c.path.stem}.dng", stored, orientation=orientation)
        made.append(Canvas(path, c.boxes, c.identities))
    return made


def run(lfw: Path, root: Path, *, photos: int = 12, backend: str = "opencv") -> str:
    """The ``raw_…`` key=value line of ``bench scan``."""
    jpegs = make_canvases(lfw, root / "raw-bench-jpeg", photos)
    dngs = dng_canvases(jpegs, root / "raw-bench-dng")
    line = {}
    for kind, canvases in (("jpeg", jpegs), ("raw", dngs)):
        folder, library = canvases[0].path.parent, root / f"raw-bench-{kind}-lib"
        seconds = facefile_cpu(folder, library, backend)
        with Library.open(library) as lib:
            found = library_boxes(lib, canvases, folder)
        line[f"{kind}_per_photo_s"] = seconds / len(canvases)
        line[f"{kind}_recall"] = recall(canvases, found)
    ratio = line["raw_per_photo_s"] / line["jpeg_per_photo_s"]
    return (f"raw_photos={len(dngs)} raw_per_photo_s={line['raw_per_photo_s']:.3f} "
            f"jpeg_per_photo_s={line['jpeg_per_photo_s']:.3f} raw_to_jpeg={ratio:.2f} "
            f"raw_recall={line['raw_recall']:.3f} jpeg_recall={line['jpeg_recall']:.3f}")
