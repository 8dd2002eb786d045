"""``facefile bench speed``: scan throughput on 12 MP photos against the face_recognition library.

Measured in one run on identical inputs (see canvases.py): facefile's scan with its default
backend and with the dlib backend (the same models face_recognition uses), the face_recognition
pipeline exactly as its README shows it with a pool of processes, detection recall of each on the
known face positions, the bare model inference time, and BCubed F of the bench faces embedded from
the working-size image (facefile's fast path) and from the full-resolution image.
"""
from __future__ import annotations

import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ..cluster import ClusterParams, cluster_faces
from ..config import ScanConfig
from ..library import Library
from ..media import decode
from .canvases import Canvas, make_canvases, match_faces
from .metrics import bcubed_prf, noise_as_singletons

# ---------------------------------------------------------------------- face_recognition, as its README shows


def _fr_init() -> None:
    import cv2  # noqa: F401 - nothing of ours; keeps the worker's thread use comparable
    import face_recognition  # noqa: F401 - loads the models once per process


def _fr_photo(path: str) -> list[tuple[float, float, float, float]]:
    import face_recognition

    image = face_recognition.load_image_file(path)
    locations = face_recognition.face_locations(image)
    face_recognition.face_encodings(image, locations)
    # (top, right, bottom, left) in the image as stored: face_recognition ignores EXIF orientation.
    return [(float(left), float(top), float(right), float(bottom)) for top, right, bottom, left in locations]


def face_recognition_run(canvases: list[Canvas], workers: int) -> tuple[float, list[list[tuple[float, float, float, float]]]]:
    from ..scan import _without_main_module

    with _without_main_module():
        pool = get_context("spawn").Pool(workers, initializer=_fr_init)
    try:
        pool.map(_fr_init_barrier, range(workers))  # models loaded before the clock starts
        t = time.perf_counter()
        found = pool.map(_fr_photo, [str(c.path) for c in canvases], chunksize=1)
        seconds = time.perf_counter() - t
        pool.close()
    finally:
        pool.terminate()
        pool.join()
    return seconds, [_upright(boxes, c.path) for boxes, c in zip(found, canvases, strict=True)]


def _fr_init_barrier(_: int) -> None:
    time.sleep(0.5)


def _upright(boxes: list[tuple[float, float, float, float]], path: Path) -> list[tuple[float, float, float, float]]:
    """Boxes in the stored image mapped to upright pixels (orientation 6 stores the photo rotated)."""
    from PIL import Image

    with Image.open(path) as img:
        if img.getexif().get(0x0112) != 6:
            return boxes
        stored_h = img.height
    # Stored = upright rotated 90 degrees counter-clockwise, so upright x = stored_h - stored y and
    # upright y = stored x.
    return [(stored_h - y2, x1, stored_h - y1, x2) for x1, y1, x2, y2 in boxes]


# ---------------------------------------------------------------------- facefile


def facefile_run(folder: Path, library: Path, backend: str, workers: int) -> tuple[float, Library]:
    lib = Library.open(library)
    t = time.perf_counter()
    lib.scan(folder, backend=backend, workers=workers)
    return time.perf_counter() - t, lib


def recall(canvases: list[Canvas], found: list[list[tuple[float, float, float, float]]]) -> float:
    total = sum(len(c.boxes) for c in canvases)
    hits = sum(m is not None for c, f in zip(canvases, found, strict=True) for m in match_faces(c.boxes, f))
    return hits / max(1, total)


def library_boxes(lib: Library, canvases: list[Canvas], folder: Path) -> list[list[tuple[float, float, float, float]]]:
    by_path: dict[str, list[tuple[float, float, float, float]]] = {}
    for face in lib.faces():
        by_path.setdefault(face.path, []).append(face.box)
    return [by_path.get(c.path.relative_to(folder).as_posix(), []) for c in canvases]


def model_floor(canvases: list[Canvas], backend_name: str, max_side: int) -> tuple[float, float, float]:
    """Bare inference, one process: detector at the working size + embedder per face (decoding
    excluded). Returns (seconds, BCubed F with working-size embeddings, BCubed F full-resolution)."""
    import cv2

    from ..vision import load_backend

    cv2.setNumThreads(1)
    backend = load_backend(backend_name)
    seconds = 0.0
    fast, full, truth = [], [], []
    for canvas in canvases:
        image = decode(canvas.path, max_side=max_side)
        t = time.perf_counter()
        faces = backend.detector.detect(image.pixels)
        vectors = backend.embedder.embed(image.pixels, faces) if faces else []
        seconds += time.perf_counter() - t
        matched = match_faces(canvas.boxes, [f.scaled(image.scale).box for f in faces])
        if any(m is not None for m in matched):
            original = decode(canvas.path, max_side=100_000)
            big = backend.embedder.embed(original.pixels, [faces[m].scaled(image.scale) for m in matched if m is not None])
            k = 0
            for name, m in zip(canvas.identities, matched, strict=True):
                if m is not None:
                    fast.append(vectors[m])
                    full.append(big[k])
                    truth.append(name)
                    k += 1
    params = ClusterParams.for_model(backend.model_id)

    def f(X: list[np.ndarray]) -> float:
        if len(X) < 2:
            return 1.0
        labels = cluster_faces(np.stack(X), np.arange(len(X)), params=params).labels
        return bcubed_prf(np.array(truth), noise_as_singletons(labels))[2]

    return seconds, f(fast), f(full)


def run(data: Path, *, photos: int = 40, workers: int = 2, include_face_recognition: bool = True) -> str:
    lfw = data / "lfw_dev"
    lines = []
    with tempfile.TemporaryDirectory(prefix="facefile-speed-") as tmp:
        root = Path(tmp)
        canvases = make_canvases(lfw, root / "photos", photos)
        n_faces = sum(len(c.boxes) for c in canvases)
        results = {}
        for backend in ("opencv", "dlib"):
            seconds, lib = facefile_run(root / "photos", root / f"lib-{backend}", backend, workers)
            results[backend] = (seconds, recall(canvases, library_boxes(lib, canvases, root / "photos")))
            lib.close()
        if include_face_recognition:
            results["face_recognition"] = face_recognition_run(canvases, workers)
            fr_seconds, fr_found = results["face_recognition"]
            results["face_recognition"] = (fr_seconds, recall(canvases, fr_found))
        floor, bcubed_fast, bcubed_full = model_floor(canvases, "opencv", ScanConfig.max_side)
    lines.append(f"## {len(canvases)} photos of 4032x3024 with {n_faces} faces, {workers} worker processes")
    lines.append("")
    lines.append("| pipeline | seconds | photos/s | faces/s | detection recall |")
    lines.append("|---|---|---|---|---|")
    for name, (seconds, rec) in results.items():
        lines.append(f"| {name} | {seconds:.1f} | {len(canvases) / seconds:.2f} | {n_faces / seconds:.2f} | {rec:.3f} |")
    lines.append("")
    default_s = results["opencv"][0]
    overhead = default_s * workers / floor  # wall time x processes against one process doing only inference
    fields = [
        f"photos_per_s={len(canvases) / default_s:.2f}",
        f"recall={results['opencv'][1]:.3f}",
        f"recall_dlib={results['dlib'][1]:.3f}",
        f"overhead_vs_models={overhead:.2f}",
        f"bcubed_fast={bcubed_fast:.4f}",
        f"bcubed_fullres={bcubed_full:.4f}",
    ]
    if "face_recognition" in results:
        fr_s, fr_recall = results["face_recognition"]
        fields[1:1] = [f"speedup_same_models={fr_s / results['dlib'][0]:.2f}", f"speedup_default={fr_s / default_s:.2f}"]
        fields.insert(4, f"recall_face_recognition={fr_recall:.3f}")
    lines.append(f"Bare model inference (YuNet at the working size + SFace per face, one process): {floor:.1f} s")
    lines.append("")
    lines.append(" ".join(fields))
    return "\n".join(lines)
