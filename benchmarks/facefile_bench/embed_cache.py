"""Embeddings of benchmark photos and their variants, computed in worker processes and cached by
file content hash, variant and model, so a second benchmark run costs no inference."""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facefile.media import decode, hash_file
from facefile_bench.variants import apply_variant, compose_group

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Embedded:
    """The labelled face of one benchmark item (or None when no face was found there)."""

    embedding: np.ndarray | None
    quality: float


def cache_dir() -> Path:
    return Path(os.environ.get("FACEFILE_BENCH_CACHE", Path.home() / ".cache" / "facefile" / "bench"))


# ---------------------------------------------------------------------- worker side

_backend = None


def _init(backend_name: str) -> None:
    global _backend
    import cv2

    cv2.setNumThreads(1)
    from facefile.vision import load_backend

    _backend = load_backend(backend_name)


def _faces(rgb: np.ndarray) -> tuple[list, np.ndarray, list[float]]:
    from facefile.vision.quality import face_quality

    assert _backend is not None
    found = _backend.detector.detect(rgb)
    vectors = _backend.embedder.embed(rgb, found) if found else np.zeros((0, 128), np.float32)
    return found, vectors, [face_quality(rgb, f) for f in found]


def _nearest(found: list, point: tuple[float, float], box: tuple[int, int, int, int] | None = None) -> int | None:
    """The face whose centre is nearest ``point`` (and inside ``box`` when given)."""
    from facefile_bench.lfw import distance_to

    def inside(face_box: tuple[float, float, float, float]) -> bool:
        cx, cy = (face_box[0] + face_box[2]) / 2, (face_box[1] + face_box[3]) / 2
        return box is None or (box[0] <= cx < box[2] and box[1] <= cy < box[3])

    candidates = [i for i, face in enumerate(found) if inside(face.box)]
    return min(candidates, key=lambda i: distance_to(found[i].box, point), default=None)


def embed_single(task: tuple[str, str]) -> tuple[np.ndarray | None, float]:
    """The face nearest the centre of one photo's variant."""
    path, variant = task
    rgb = apply_variant(decode(Path(path), max_side=4096).pixels, variant)
    found, vectors, quality = _faces(rgb)
    i = _nearest(found, (rgb.shape[1] / 2, rgb.shape[0] / 2))
    return (None, 0.0) if i is None else (vectors[i], quality[i])


def embed_group(task: tuple[tuple[str, ...], int]) -> list[tuple[np.ndarray | None, float]]:
    """Each portrait's face on a composed group photo (the face nearest its tile's centre)."""
    paths, seed = task
    canvas, boxes = compose_group([decode(Path(p), max_side=4096).pixels for p in paths], seed)
    found, vectors, quality = _faces(canvas)
    out: list[tuple[np.ndarray | None, float]] = []
    for box in boxes:
        i = _nearest(found, ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), box)
        out.append((None, 0.0) if i is None else (vectors[i], quality[i]))
    return out


# ---------------------------------------------------------------------- parent side


class EmbeddingCache:
    """``key -> (embedding, quality)`` for one model, kept in one .npz file."""

    def __init__(self, model_id: str) -> None:
        self.path = cache_dir() / f"{model_id}.npz"
        self.items: dict[str, Embedded] = {}
        if self.path.exists():
            z = np.load(self.path, allow_pickle=False)
            for key, emb, q, ok in zip(z["keys"], z["emb"], z["quality"], z["found"], strict=True):
                self.items[str(key)] = Embedded(emb if ok else None, float(q))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.items)
        dim = next((e.embedding.shape[0] for e in self.items.values() if e.embedding is not None), 128)
        emb = np.stack([self.items[k].embedding if self.items[k].embedding is not None else np.zeros(dim, np.float32)
                        for k in keys]) if keys else np.zeros((0, dim), np.float32)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), emb=emb.astype(np.float32),
                 quality=np.array([self.items[k].quality for k in keys], np.float32),
                 found=np.array([self.items[k].embedding is not None for k in keys]))
        os.replace(tmp, self.path)


def embed_items(
    cache: EmbeddingCache,
    backend_name: str,
    singles: Sequence[tuple[Path, str]] = (),
    groups: Sequence[tuple[tuple[Path, ...], int]] = (),
    *,
    workers: int = 2,
    progress: Progress | None = None,
) -> tuple[list[Embedded], list[list[Embedded]]]:
    """Embeddings of single photos (path, variant) and of composed groups (paths, seed)."""
    from multiprocessing import get_context

    from facefile.pipeline.workers import without_main_module  # the same safe spawn as a scan

    single_keys = [f"{hash_file(p)}:{v}" for p, v in singles]
    group_keys = [[f"{'+'.join(hash_file(p) for p in paths)}:group{seed}:{i}" for i in range(len(paths))]
                  for paths, seed in groups]
    todo_single = [(str(p), v) for (p, v), k in zip(singles, single_keys, strict=True) if k not in cache.items]
    todo_keys = [k for k in single_keys if k not in cache.items]
    todo_group = [(tuple(str(p) for p in paths), seed) for (paths, seed), ks in zip(groups, group_keys, strict=True)
                  if ks[0] not in cache.items]
    todo_group_keys = [ks for ks in group_keys if ks[0] not in cache.items]
    if todo_single or todo_group:
        with without_main_module():
            pool = get_context("spawn").Pool(workers, initializer=_init, initargs=(backend_name,))
        try:
            for key, (emb, q) in zip(todo_keys, pool.imap(embed_single, todo_single, chunksize=8), strict=True):
                cache.items[key] = Embedded(emb, q)
                if progress:
                    progress(1)
            for keys, faces in zip(todo_group_keys, pool.imap(embed_group, todo_group, chunksize=4), strict=True):
                for key, (emb, q) in zip(keys, faces, strict=True):
                    cache.items[key] = Embedded(emb, q)
                if progress:
                    progress(1)
            pool.close()
        finally:
            pool.terminate()
            pool.join()
            cache.save()
    return [cache.items[k] for k in single_keys], [[cache.items[k] for k in ks] for ks in group_keys]
