"""How long `facefile write-xmp` takes for a large library, and that it leaves the photos alone.

A synthetic library (no models, no research photos): ``photos`` small JPEGs written to a temporary
folder, stored through the scan's own writer with one or two faces each (planted identities), re-
clustered and every person named. Then the sidecar write is timed, the photos' hashes checked, and
a second, ``--embed`` run timed on a copy-free re-write of the same JPEGs.
"""
from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from facefile.library import FaceRecord, ImageResult, Library
from facefile.vision import MODEL_IDS

WIDTH, HEIGHT = 160, 120


def synthetic_library(folder: Path, photos: int, identities: int = 200, seed: int = 0) -> Library:
    """``folder/photos/NNNNN.jpg`` and a library at ``folder/.facefile`` whose persons are all named."""
    rng = np.random.default_rng(seed)
    root = folder / "photos"
    root.mkdir(parents=True)
    pixels = rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    centres = rng.normal(size=(identities, 128)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    lib = Library.open(folder / ".facefile")
    lib.set_root_if_unset(root)
    model = MODEL_IDS["opencv"]
    writer = lib.writer(model)
    batch = []
    for i in range(photos):
        path = root / f"{i:05d}.jpg"
        pixels[0, 0] = (i % 256, (i // 256) % 256, 0)  # distinct contents: one image row per photo
        Image.fromarray(pixels).save(path, quality=80)
        faces = []
        for k in range(1 + i % 2):
            v = centres[rng.integers(identities)] + rng.normal(scale=0.02, size=128).astype(np.float32)
            x = 10.0 + 70 * k
            faces.append(FaceRecord(box=(x, 20.0, x + 50, 80.0), landmarks=np.zeros((5, 2), np.float32),
                                    det_score=0.9, quality=0.9, embedding=(v / np.linalg.norm(v)).astype(np.float32)))
        st = path.stat()
        batch.append(ImageResult(path=path.relative_to(root).as_posix(), size=st.st_size, mtime_ns=st.st_mtime_ns,
                                 content_hash=f"bench-{i}", width=WIDTH, height=HEIGHT,
                                 taken_at="2024-01-01T00:00:00", model_id=model, faces=faces))
        if len(batch) == 500:
            writer.store(batch)
            batch = []
    writer.store(batch)
    lib.recluster(model)
    for person in lib.people():
        lib.persons.name(person.id, f"Person {person.id}")
    return lib


def _hashes(root: Path) -> dict[str, str]:
    return {p.name: hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest() for p in sorted(root.glob("*.jpg"))}


def run(photos: int = 10_000) -> str:
    """The XMP write benchmark; the last line is ``xmp_write_s_per_10k=… xmp_embed_s_per_10k=…``."""
    with tempfile.TemporaryDirectory(prefix="facefile-xmp-bench-") as tmp:
        started = time.perf_counter()
        lib = synthetic_library(Path(tmp), photos)
        setup = time.perf_counter() - started
        before = _hashes(Path(tmp) / "photos")
        sidecar = lib.interop.write_xmp()
        unchanged = before == _hashes(Path(tmp) / "photos")
        embedded = lib.interop.write_xmp(embed=True)
        lib.close()
    per_10k = 10_000 / max(photos, 1)
    return (
        f"{photos} photos, {sidecar.regions} named regions (library built in {setup:.1f} s)\n"
        f"sidecars: {sidecar.seconds:.1f} s, photos byte-identical afterwards: {unchanged}, errors {len(sidecar.errors)}\n"
        f"embedded in the JPEGs: {embedded.seconds:.1f} s, errors {len(embedded.errors)}\n"
        f"xmp_write_s_per_10k={sidecar.seconds * per_10k:.1f} xmp_embed_s_per_10k={embedded.seconds * per_10k:.1f}"
    )
