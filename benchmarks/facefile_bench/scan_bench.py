"""``facefile bench scan``: scan speed on LFW photos and person quality against the baselines.

Everything is measured in one run on the same faces: facefile's persons and each baseline's
clustering of the very embeddings facefile stored, scored on the face nearest each image centre.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facefile.library import Library
from facefile_bench.baselines import baselines
from facefile_bench.lfw import centre_faces, integration_sample, link_sample, photo_sample
from facefile_bench.metrics import bcubed_prf, nmi, noise_as_singletons, pairwise_prf


@dataclass
class MethodScore:
    method: str
    pairwise: tuple[float, float, float]
    bcubed: tuple[float, float, float]
    nmi: float
    persons: int
    seconds: float

    def row(self) -> str:
        p, b = self.pairwise, self.bcubed
        return (
            f"| {self.method} | {p[0]:.3f} | {p[1]:.3f} | {p[2]:.3f} | {b[0]:.3f} | {b[1]:.3f} | "
            f"**{b[2]:.3f}** | {self.nmi:.3f} | {self.persons} | {self.seconds:.1f} |"
        )


TABLE_HEAD = (
    "| method | pairwise P | R | F | BCubed P | R | F | NMI | persons | s |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def score(method: str, truth: np.ndarray, pred: np.ndarray, seconds: float) -> MethodScore:
    pred = noise_as_singletons(pred)
    return MethodScore(
        method, pairwise_prf(truth, pred), bcubed_prf(truth, pred), nmi(truth, pred), len(set(pred.tolist())), seconds
    )


def baseline_family(model_id: str) -> str:
    return "dlib" if model_id.startswith("dlib") else "sface"


def score_library(lib: Library, truth_of_path: dict[str, str], *, seed: int = 0) -> list[MethodScore]:
    """facefile's persons, then every baseline on the same centre faces' embeddings."""
    faces = centre_faces(lib)
    paths = sorted(p for p in truth_of_path if p in faces)
    truth = np.array([truth_of_path[p] for p in paths])
    pred = np.array([faces[p].person_id if faces[p].person_id is not None else -1 for p in paths])
    scores = [score("facefile", truth, pred, 0.0)]
    X = lib.embeddings([faces[p].id for p in paths]).astype(np.float32)
    # Immich's algorithm depends on input order: a fixed shuffle, as in the reference numbers.
    order = np.random.default_rng(seed).permutation(len(paths))
    for label, fn in baselines(baseline_family(lib.model_id() or "")):
        t = time.perf_counter()
        labels = np.empty(len(paths), np.int64)
        labels[order] = fn(X[order])
        scores.append(score(label, truth, labels, time.perf_counter() - t))
    return scores


def scan_timed(folder: Path, library: Path, *, backend: str | None = None, workers: int | None = None) -> tuple[Library, float]:
    lib = Library.open(library)
    t = time.perf_counter()
    lib.scan(folder, backend=backend, workers=workers)
    return lib, time.perf_counter() - t


def unchanged_rescan_seconds(lfw: Path, root: Path, n: int = 10_000) -> tuple[int, float, int]:
    """Time a scan of an unchanged folder of ``n`` photos (must be a no-op).

    The library is filled through the real writer with one synthetic face per file and the files'
    real sizes and times, so only the re-scan itself is measured, not ``n`` photos of inference.
    Returns (files, seconds, files processed by the re-scan: 0 when nothing changed).
    """
    from facefile.library import FaceRecord, ImageResult
    from facefile.media import discover
    from facefile.vision import model_id_of

    folder = root / "rescan"
    link_sample(photo_sample(lfw, n, cap=n), folder)
    rng = np.random.default_rng(0)
    model = model_id_of("opencv")
    results = []
    for found in discover(folder):
        v = rng.normal(size=128).astype(np.float32)
        face = FaceRecord((0.0, 0.0, 10.0, 10.0), np.zeros((5, 2), np.float32), 0.9, 0.9, v / np.linalg.norm(v))
        rel = found.path.relative_to(folder).as_posix()
        results.append(ImageResult(rel, found.size, found.mtime_ns, f"synthetic-{rel}", 250, 250, None, model, [face]))
    with Library.open(root / "rescan-lib") as lib:
        lib.set_root_if_unset(folder)
        lib.writer(model).store(results)
        lib.scan(folder)  # clusters once, like the first real scan would have
        t = time.perf_counter()
        report = lib.scan(folder)
        return report.files_seen, time.perf_counter() - t, report.files_new + report.files_moved


def run(data: Path, *, photos: int = 1000, backend: str | None = None, workers: int | None = None) -> str:
    """Both measurements; returns the report text (markdown tables and key=value lines)."""
    lfw = data / "lfw_dev"
    if not lfw.is_dir():
        raise FileNotFoundError(f"no lfw_dev/ in {data}")
    lines = []
    with tempfile.TemporaryDirectory(prefix="facefile-bench-") as tmp:
        root = Path(tmp)
        # 1. Speed: a scan of `photos` LFW photos, all cores, from a cold library.
        truth = link_sample(photo_sample(lfw, photos), root / "speed")
        n_speed = len(truth)
        lib, seconds = scan_timed(root / "speed", root / "speed-lib", backend=backend, workers=workers)
        faces = lib.stats()["faces"]
        t = time.perf_counter()
        lib.scan(root / "speed", backend=backend, workers=workers)
        rescan = time.perf_counter() - t
        speed_scores = score_library(lib, truth)
        lib.close()
        lines += [
            f"## Scan of {len(truth)} LFW photos ({faces} faces)",
            "",
            f"{seconds:.1f} s: {len(truth) / seconds:.1f} photos/s, {faces / seconds:.1f} faces/s; "
            f"unchanged re-scan {rescan:.2f} s",
            "",
            TABLE_HEAD, *(s.row() for s in speed_scores), "",
        ]
        # 2. Quality on the integration sample (the same sample the tests use).
        truth = link_sample(integration_sample(lfw), root / "sample")
        lib, _ = scan_timed(root / "sample", root / "sample-lib", backend=backend, workers=workers)
        sample_scores = score_library(lib, truth)
        lib.close()
        lines += [f"## Integration sample: {len(truth)} photos, {len(set(truth.values()))} identities", "",
                  TABLE_HEAD, *(s.row() for s in sample_scores), ""]
        # 3. An unchanged folder of 10,000 photos: the re-scan must be a quick no-op.
        rescan_files, rescan_10k, rescan_changed = unchanged_rescan_seconds(lfw, root)
        lines += [f"Unchanged re-scan of {rescan_files} photos: {rescan_10k:.2f} s, {rescan_changed} files processed", ""]
        # 4. Camera RAW (DNG, demosaiced) against the same photos as JPEG, one process each.
        from facefile_bench.raw_bench import run as raw_run

        raw_line = raw_run(lfw, root)
    best = max(sample_scores[1:], key=lambda s: s.bcubed[2])
    best_speed = max(speed_scores[1:], key=lambda s: s.bcubed[2])
    lines.append(
        f"scan_photos={n_speed} photos_per_s={n_speed / seconds:.2f} "
        f"faces_per_s={faces / seconds:.2f} rescan_s={rescan:.2f} "
        f"scan_bcubed_f={speed_scores[0].bcubed[2]:.4f} scan_best_baseline_bcubed_f={best_speed.bcubed[2]:.4f} "
        f"rescan_files={rescan_files} rescan_unchanged_s={rescan_10k:.2f}"
    )
    lines.append(raw_line)
    lines.append(
        f"set=lfw-sample facefile_bcubed_f={sample_scores[0].bcubed[2]:.4f} "
        f"best_baseline_bcubed_f={best.bcubed[2]:.4f} best_baseline={best.method.replace(' ', '_')}"
    )
    return "\n".join(lines)
