"""How long `facefile write-xmp` takes for a large library, that it leaves the photos alone, and
that every format's names round-trip through exiftool.

A synthetic library (no models, no research photos): ``photos`` small JPEGs written to a temporary
folder, stored through the scan's own writer with one or two faces each (planted identities), re-
clustered and every person named. Then the sidecar write is timed, the photos' hashes checked, and
a second, ``--embed`` run timed on a copy-free re-write of the same JPEGs.

The round-trip table: one photo per format (JPEG, a JPEG with 600 names = Extended XMP, PNG, TIFF,
WebP, HEIC, and a DNG when ``facefile.media.raw`` is there), names written with ``--embed``, read
back by exiftool (the bench's only use of it), pixels compared decoded and as stored image data.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
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
    """The XMP write benchmark and the round-trip table: ``xmp_write_s_per_10k=… xmp_embed_s_per_10k=…``
    then one ``xmp_roundtrip_FORMAT=…`` line per format."""
    return f"{write_timing(photos)}\n\n{roundtrip_table()}"


def write_timing(photos: int) -> str:
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


# ---------------------------------------------------------------------- round trip per format

RT_SIZE = (640, 480)
# format row -> (file name, Pillow format, save options, faces named)
ROUND_TRIPS = {
    "jpeg": ("photo.jpg", "JPEG", {"quality": 90}, 3),
    "jpeg-extended": ("crowd.jpg", "JPEG", {"quality": 90}, 600),
    "png": ("photo.png", "PNG", {}, 3),
    "tiff": ("photo.tif", "TIFF", {"compression": "tiff_lzw"}, 3),
    "webp": ("photo.webp", "WEBP", {"quality": 85}, 3),
    "heic": ("photo.heic", "HEIF", {"quality": 85}, 3),
}


def _faces(count: int) -> list[tuple[float, float, float, float]]:
    per_row = 30
    return [(4.0 + 21 * (i % per_row), 4.0 + 21 * (i // per_row), 20.0 + 21 * (i % per_row), 20.0 + 21 * (i // per_row))
            for i in range(count)]


def _named_library(root: Path, photos: dict[str, tuple[tuple[int, int], int]]) -> Library:
    """A library over ``root`` where photo ``name`` has ``count`` faces, each its own named person."""
    from facefile.media import hash_file

    lib = Library.open(root / ".facefile")
    lib.set_root_if_unset(root)
    model = MODEL_IDS["opencv"]
    rng = np.random.default_rng(0)
    results = []
    for name, (size, count) in photos.items():
        st = (root / name).stat()
        faces = []
        for box in _faces(count):
            v = rng.normal(size=128).astype(np.float32)
            faces.append(FaceRecord(box=box, landmarks=np.zeros((5, 2), np.float32), det_score=0.9, quality=0.9,
                                    embedding=v / np.linalg.norm(v)))
        results.append(ImageResult(path=name, size=st.st_size, mtime_ns=st.st_mtime_ns, content_hash=hash_file(root / name),
                                   width=size[0], height=size[1], taken_at="2024-01-01T00:00:00", model_id=model,
                                   faces=faces))
    lib.writer(model).store(results)
    for i, face in enumerate(sorted(lib.faces(), key=lambda f: (f.path, f.box[1], f.box[0]))):
        lib.persons.name(lib.persons.move(face.id, None), f"{Path(face.path).stem} {i:04d}")
    return lib


def _exiftool_names(exiftool: str, path: Path) -> list[str]:
    done = subprocess.run([exiftool, "-j", "-XMP-mwg-rs:RegionName", str(path)], capture_output=True, text=True)
    names = json.loads(done.stdout or "[{}]")[0].get("RegionName", [])
    return [str(n) for n in (names if isinstance(names, list) else [names])]


def _fingerprint(path: Path, fmt: str) -> tuple[bytes, bytes]:
    """The decoded pixels and the stored image data (the whole file for a RAW, never rewritten)."""
    from facefile.interop.embedded_xmp import image_data

    if fmt == "DNG":
        import rawpy

        with rawpy.imread(str(path)) as raw:
            return raw.raw_image_visible.tobytes(), path.read_bytes()
    with Image.open(path) as img:
        return img.tobytes(), image_data(path.read_bytes(), fmt)


def write_dng(path: Path, size: tuple[int, int], seed: int = 0) -> None:
    """A small valid DNG (16-bit RGGB mosaic, identity colour matrix) that LibRaw opens; tifffile
    is the maintained writer."""
    import tifffile

    cfa = np.random.default_rng(seed).integers(0, 4095, (size[1], size[0])).astype(np.uint16)
    identity = tuple(v for i in range(9) for v in (10000 if i in (0, 4, 8) else 0, 10000))
    tags = [(50706, "B", 4, (1, 4, 0, 0), True), (50708, "s", 0, "facefile bench", True),  # DNGVersion, model
            (33421, "H", 2, (2, 2), True), (33422, "B", 4, (0, 1, 1, 2), True),  # CFA repeat, RGGB
            (50717, "H", 1, 4095, True), (50721, "2i", 9, identity, True)]  # WhiteLevel, ColorMatrix1
    tifffile.imwrite(path, cfa, photometric=32803, extratags=tags, compression=None)  # 32803: CFA


def _has_media_raw() -> bool:
    try:
        from facefile.media import raw  # noqa: F401 - only whether the RAW reader is in this tree
    except ImportError:
        return False
    return True


def roundtrip_table() -> str:
    """The names of one photo per format written with ``--embed`` and read back by exiftool."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    exiftool = shutil.which("exiftool")
    trips = dict(ROUND_TRIPS)
    if _has_media_raw():
        trips["dng (sidecar)"] = ("shot.dng", "DNG", {}, 3)
    rows = []
    with tempfile.TemporaryDirectory(prefix="facefile-xmp-rt-") as tmp:
        root = Path(tmp)
        rng = np.random.default_rng(3)
        for name, fmt, options, _ in trips.values():
            if fmt == "DNG":
                write_dng(root / name, RT_SIZE)
            else:
                Image.fromarray(rng.integers(0, 255, (RT_SIZE[1], RT_SIZE[0], 3), dtype=np.uint8)).save(root / name, fmt, **options)
        before = {n: _fingerprint(root / n, f) for n, f, _, _ in trips.values()}
        lib = _named_library(root, {n: (RT_SIZE, count) for n, _, _, count in trips.values()})
        report = lib.interop.write_xmp(embed=True)
        written: dict[str, int] = {}
        for face in lib.faces():
            written[face.path] = written.get(face.path, 0) + 1
        lib.close()
        sidecar, errors = {path for path, _ in report.not_in_place}, dict(report.errors)
        for row, (name, fmt, _, _) in trips.items():
            target = root / f"{name}.xmp" if name in sidecar else root / name
            read = str(len(_exiftool_names(exiftool, target))) if exiftool and target.exists() else "n/a"
            same = "yes" if _fingerprint(root / name, fmt) == before[name] else "NO"
            where = f"error: {errors[name]}" if name in errors else ("sidecar" if name in sidecar else "in place")
            rows.append((row, written.get(name, 0), read, same, where))
    if not _has_media_raw():
        rows.append(("dng", 0, "-", "-", "skipped: facefile.media.raw is not in this tree yet"))
    table = [f"{'format':<14} {'names written':>13} {'exiftool read':>13} {'pixels identical':>16}  where"]
    table += [f"{r[0]:<14} {r[1]:>13} {r[2]:>13} {r[3]:>16}  {r[4]}" for r in rows]
    lines = [f"xmp_roundtrip_{r[0].split()[0].replace('-', '_')}=written:{r[1]} read_back:{r[2]} "
             f"pixels_identical:{r[3]} where:{r[4].split(':')[0].replace(' ', '_')}" for r in rows]
    return "\n".join(table + lines)
