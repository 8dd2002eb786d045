"""``facefile bench scale``: a million-face library through the real store.

Embeddings are drawn per identity around centres and spreads estimated from the real LFW
embeddings (``synthetic.py``; the fit's check against the real pairs is printed), ~100,000
identities with Zipf-distributed sizes, packed into photos of 1-4 different persons. They are
written through the scan's writer, and the bench reports:

- the full re-cluster (``Library.recluster``, run in a child process so its peak RSS is its own):
  seconds, peak RSS, and BCubed F against the planted identities;
- adding 100 new faces (stored by the writer, then ``Library.update_persons``) 20 times: p50/p95;
- opening the library; bytes per face on disk;
- the partitioned clustering (``cluster/partition.py``) on the same faces and thresholds: its
  BCubed F against the unpartitioned run's.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np

from facefile.cluster import partitioned_cluster
from facefile.library import FaceRecord, ImageResult, Library
from facefile.library.cluster_runs import recorded_params
from facefile.store import DB_FILENAME, Store
from facefile_bench.metrics import bcubed_prf, noise_as_singletons
from facefile_bench.synthetic import FaceModel, SyntheticFaces, zipf_sizes

MODEL = "opencv-sface-2021dec"
ADD_RUNS = 20
ADD_FACES = 100
STORE_BATCH = 5_000  # photos per writer transaction, as a scan's writer batches them
_NO_LANDMARKS = np.zeros((5, 2), np.float32)

# Run in a child process: the re-cluster's own peak memory, without the bench's arrays.
_RECLUSTER_CHILD = """
import json, resource, sys, time
from facefile.library import Library
t = time.perf_counter()
lib = Library.open(sys.argv[1])
persons = lib.recluster()
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "persons": persons,
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}))
"""


def _photos(faces: SyntheticFaces, rows: np.ndarray, tag: str) -> list[ImageResult]:
    """The faces ``rows`` (sorted by photo) as scan results, one per photo."""
    results: list[ImageResult] = []
    photo_of = faces.photo[rows]
    bounds = np.flatnonzero(np.r_[True, photo_of[1:] != photo_of[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        records = [
            FaceRecord(box=(100.0 + 300 * k, 100.0, 300.0 + 300 * k, 340.0), landmarks=_NO_LANDMARKS, det_score=0.9,
                       quality=0.8, embedding=faces.embeddings[r])
            for k, r in enumerate(rows[lo:hi].tolist())
        ]
        name = f"{tag}/{int(photo_of[lo]):07d}.jpg"
        results.append(ImageResult(path=name, size=1, mtime_ns=1, content_hash=f"synthetic-{name}", width=4032,
                                   height=3024, model_id=MODEL, faces=records))
    return results


def _store(lib: Library, results: list[ImageResult], progress: object | None = None) -> None:
    writer = lib.writer(MODEL)
    for start in range(0, len(results), STORE_BATCH):
        writer.store(results[start : start + STORE_BATCH])
        if progress is not None:
            progress.advance(min(STORE_BATCH, len(results) - start))  # type: ignore[attr-defined]


def _fit_check(model: FaceModel, npz: Path) -> str:
    """Genuine and impostor similarity of the real LFW pairs and of synthetic ones."""
    data = np.load(npz, allow_pickle=False)
    lfw = data["dataset"] == "lfw_dev"
    X = data["emb"][lfw].astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    synthetic = model.sample(zipf_sizes(len(X), len(np.unique(data["identity"][lfw]))), seed=7)

    def stats(X: np.ndarray, ids: np.ndarray) -> tuple[float, float, float]:
        rng = np.random.default_rng(0)
        i, j = rng.integers(0, len(X), 400_000), rng.integers(0, len(X), 400_000)
        s = (X[i] * X[j]).sum(axis=1)
        same, diff = (ids[i] == ids[j]) & (i != j), ids[i] != ids[j]
        return float(s[same].mean()), float(s[diff].mean()), float((s[diff] > 0.45).mean())

    real = stats(X, data["identity"][lfw])
    syn = stats(synthetic.embeddings, synthetic.identity)
    return (f"Fit check (random pairs): genuine mean {real[0]:.3f} real / {syn[0]:.3f} synthetic; impostor mean "
            f"{real[1]:.3f} / {syn[1]:.3f}; impostors above 0.45: {real[2]:.1e} / {syn[2]:.1e}")


def run(data: Path, *, faces: int = 1_000_000, identities: int | None = None, parts: int = 32,
        folder: Path | None = None, progress: object | None = None) -> str:
    npz = data / "embeddings" / "sface_dev.npz"
    model = FaceModel.from_npz(npz)
    identities = identities or max(1, faces // 10)
    extra = ADD_RUNS * ADD_FACES
    synthetic = model.sample(zipf_sizes(faces + extra, identities), seed=1)
    rng = np.random.default_rng(2)
    later = np.sort(rng.choice(faces + extra, size=extra, replace=False))
    first = np.setdiff1d(np.arange(faces + extra), later)
    first = first[np.argsort(synthetic.photo[first], kind="stable")]
    lines = [f"## {faces:,} synthetic faces of {identities:,} identities (Zipf sizes, largest "
             f"{int(np.bincount(synthetic.identity).max()):,}), {len(np.unique(synthetic.photo[first])):,} photos",
             _fit_check(model, npz), ""]

    with tempfile.TemporaryDirectory(prefix="facefile-scale-", dir=folder) as tmp:
        path = Path(tmp) / "lib"
        lib = Library.open(path)
        t = time.perf_counter()
        results = _photos(synthetic, first, "photos")
        if progress is not None:
            progress.stage("Writing faces through the store", total=len(results))  # type: ignore[attr-defined]
        _store(lib, results, progress)
        del results
        store_s = time.perf_counter() - t
        with closing(Store.open(path / DB_FILENAME)) as store:
            face_ids = store.faces.load_model(MODEL).ids
        truth = dict(zip(face_ids.tolist(), synthetic.identity[first].tolist(), strict=True))
        lib.close()

        if progress is not None:
            progress.stage("Full re-cluster (child process)")  # type: ignore[attr-defined]
        child = subprocess.run([sys.executable, "-c", _RECLUSTER_CHILD, str(path)], check=True,
                               capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        full = json.loads(child.stdout.strip().splitlines()[-1])

        lib = Library.open(path)
        store = Store.open(path / DB_FILENAME)  # the bench's own reads, beside the library's connection
        assigned = dict(store.decisions.assignment_pairs())
        full_labels = np.array([assigned.get(int(f), -1) for f in face_ids], dtype=np.int64)
        true_labels = synthetic.identity[first]
        full_f = bcubed_prf(true_labels, noise_as_singletons(full_labels))[2]

        # 20 x 100 new faces, each batch its own photos.
        if progress is not None:
            progress.stage("Adding 100 faces", total=ADD_RUNS)  # type: ignore[attr-defined]
        add_s, placed_right, modes = [], 0, []
        for k in range(ADD_RUNS):
            rows = later[k * ADD_FACES : (k + 1) * ADD_FACES]
            batch = _photos(_single_photos(synthetic, rows), np.arange(len(rows)), f"added-{k}")
            t = time.perf_counter()
            lib.writer(MODEL).store(batch)
            report = lib.update_persons(MODEL)
            add_s.append(time.perf_counter() - t)
            modes.append(report.mode)
            placed_right += _placed_right(store, synthetic.identity[rows], truth, len(rows))
            if progress is not None:
                progress.advance()  # type: ignore[attr-defined]
        lib.close()

        t = time.perf_counter()
        lib = Library.open(path)
        lib.model_id()
        open_s = time.perf_counter() - t
        store.close()
        with closing(Store.open(path / DB_FILENAME)) as store:
            store.checkpoint()  # the WAL folded into the file: "on disk" is the database itself
            stored = store.faces.load_model(MODEL)
            params = recorded_params(store, MODEL)
        ids, images, quality, embeddings = stored.ids, stored.photos, stored.quality, stored.vectors
        lib.close()
        disk = sum(p.stat().st_size for p in path.iterdir() if p.is_file())
        bytes_per_face = disk / len(ids)

        # Partitioned clustering on the faces the full run clustered, with its thresholds.
        if progress is not None:
            progress.stage(f"Partitioned clustering ({parts} parts)")  # type: ignore[attr-defined]
        assert params is not None  # the full re-cluster above recorded them
        n = len(face_ids)
        t = time.perf_counter()
        part = partitioned_cluster(embeddings[:n], images[:n], quality=quality[:n], params=params, parts=parts)
        part_s = time.perf_counter() - t
        part_f = bcubed_prf(true_labels, noise_as_singletons(part.labels))[2]

    p50, p95 = statistics.median(add_s), float(np.percentile(add_s, 95))
    lines += [
        "| step | result |",
        "|---|---|",
        f"| write {faces:,} faces through the store | {store_s:.0f} s |",
        f"| full re-cluster (child process) | {full['seconds']:.1f} s, peak RSS {full['peak_rss_gb']:.2f} GB, "
        f"{full['persons']:,} persons, BCubed F {full_f:.4f} |",
        f"| add {ADD_FACES} faces and assign them ({ADD_RUNS} runs: {', '.join(sorted(set(modes)))}) | p50 {p50:.3f} s, "
        f"p95 {p95:.3f} s; {placed_right / (ADD_RUNS * ADD_FACES):.1%} placed with their identity's person |",
        f"| open the library | {open_s:.3f} s |",
        f"| on disk | {disk / 2**30:.2f} GiB, {bytes_per_face:.0f} bytes per face |",
        f"| partitioned clustering, {parts} parts ({part.boundary_faces:,} boundary faces, {part.boundary_pairs:,} "
        f"pairs in the merging step) | {part_s:.0f} s, "
        f"BCubed F {part_f:.4f} vs {full_f:.4f} unpartitioned |",
        "",
        f"faces={n} recluster_s={full['seconds']:.1f} peak_rss_gb={full['peak_rss_gb']:.2f} "
        f"add100_p50_s={p50:.3f} add100_p95_s={p95:.3f} open_s={open_s:.3f} bytes_per_face={bytes_per_face:.0f} "
        f"bcubed_f={full_f:.4f} partitioned_bcubed_f={part_f:.4f} partitioned_bcubed_delta={part_f - full_f:+.4f}",
    ]
    return "\n".join(lines)


def _single_photos(synthetic: SyntheticFaces, rows: np.ndarray) -> SyntheticFaces:
    return SyntheticFaces(synthetic.embeddings[rows], synthetic.identity[rows], np.arange(len(rows), dtype=np.int64))


def _placed_right(store: Store, identities: np.ndarray, truth: dict[int, int], count: int) -> int:
    """Of the last ``count`` faces, how many joined a person whose faces are mostly their identity."""
    _, largest = store.faces.extent(MODEL)
    faces = list(range(largest - count + 1, largest + 1))  # a batch's faces get consecutive ids
    person_of = store.decisions.persons_of(faces)
    right = 0
    for face, identity in zip(faces, identities.tolist(), strict=True):
        truth[face] = identity
        person = person_of.get(face)
        if person is None:
            continue
        members = [truth.get(f) for f in store.decisions.faces_of(person)[:50]]
        values, counts = np.unique([m for m in members if m is not None], return_counts=True)
        right += int(len(values) > 0 and values[np.argmax(counts)] == identity)
    return right
