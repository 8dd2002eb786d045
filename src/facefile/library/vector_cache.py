"""A rebuildable copy of one model's embeddings beside the database, memory-mapped on use.

SQLite stays the source of truth. Reading a million embedding BLOBs out of it takes seconds, too
slow for assigning a handful of new faces, so every full re-cluster (which reads them all anyway)
writes them to ``cache/<model>.vectors.npy`` with their face ids. An update maps that file (the
OS keeps it in its page cache between runs) and reads from SQLite only the faces added since: the
"tail", faces with a larger id than any in the cache. The cache is checked against the database
on every use (the number of faces up to its last id), so a deleted face invalidates it; the
rights actions (``forget``, ``opt-out``) also delete it outright, so no erased embedding survives
in any file of the library folder.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["CachedVectors", "drop_vector_caches", "load_vectors", "save_vectors"]

CACHE_DIRNAME = "cache"


@dataclass(frozen=True)
class CachedVectors:
    """Face ids (ascending) and embeddings: the cached block (a read-only memory map) and the tail
    read from SQLite. Kept apart: joining them would copy the whole map into memory."""

    blocks: tuple[tuple[np.ndarray, np.ndarray], ...]  # (ids, vectors) per block, ids ascending

    def __len__(self) -> int:
        return sum(len(ids) for ids, _ in self.blocks)

    def get(self, face_ids: np.ndarray) -> np.ndarray:
        """Embeddings of ``face_ids`` (each must be present), in that order."""
        face_ids = np.asarray(face_ids, dtype=np.int64)
        out = np.empty((len(face_ids), self.blocks[0][1].shape[1]), dtype=np.float32)
        found = np.zeros(len(face_ids), dtype=bool)
        for ids, vectors in self.blocks:
            if not len(ids):
                continue
            rows = np.searchsorted(ids, face_ids).clip(0, len(ids) - 1)
            hit = ids[rows] == face_ids
            order = np.argsort(rows[hit], kind="stable")  # ascending reads from the map
            out[np.flatnonzero(hit)[order]] = vectors[rows[hit][order]]
            found |= hit
        if not found.all():
            raise KeyError(f"faces not in the cache: {face_ids[~found][:5].tolist()}")
        return out

    def nearest(self, queries: np.ndarray, k: int, block_rows: int = 131_072) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most similar cached faces of each query: (similarities, face ids), best first;
        exact, by blocked products over the map (no index to keep in step with the database)."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        best_sims = np.full((len(q), 0), -np.inf, dtype=np.float32)
        best_ids = np.zeros((len(q), 0), dtype=np.int64)
        for ids, vectors in self.blocks:
            for start in range(0, len(ids), block_rows):
                sims = q @ np.asarray(vectors[start : start + block_rows]).T
                sims = np.concatenate([best_sims, sims], axis=1)
                cand = np.concatenate([best_ids, np.broadcast_to(ids[start : start + block_rows], (len(q), sims.shape[1] - best_ids.shape[1]))], axis=1)
                if sims.shape[1] > k:
                    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
                    sims, cand = np.take_along_axis(sims, top, 1), np.take_along_axis(cand, top, 1)
                best_sims, best_ids = sims, cand
        order = np.lexsort((best_ids, -best_sims), axis=1) if best_sims.size else np.zeros_like(best_ids)
        return np.take_along_axis(best_sims, order, 1), np.take_along_axis(best_ids, order, 1)


def _stem(folder: Path, model_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model_id)
    return folder / CACHE_DIRNAME / safe


def save_vectors(folder: Path, model_id: str, ids: np.ndarray, vectors: np.ndarray) -> None:
    """Write the cache atomically (temporary files, then rename; the stamp goes last)."""
    stem = _stem(folder, model_id)
    stem.parent.mkdir(parents=True, exist_ok=True)
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    stamp = {"count": int(len(ids)), "max_id": int(ids[-1]) if len(ids) else 0, "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0}
    _remove(stem.with_suffix(".json"))  # no stamp while the arrays change: a crash leaves no cache
    for suffix, array in ((".ids.npy", ids), (".vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))):
        tmp = stem.with_suffix(suffix + ".tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, array)
        os.replace(tmp, stem.with_suffix(suffix))
    tmp = stem.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(stamp))
    os.replace(tmp, stem.with_suffix(".json"))


def load_vectors(conn: sqlite3.Connection, folder: Path, model_id: str) -> CachedVectors | None:
    """The cached embeddings plus the faces added since, or None when there is no valid cache."""
    stem = _stem(folder, model_id)
    try:
        stamp = json.loads(stem.with_suffix(".json").read_text())
        ids = np.load(stem.with_suffix(".ids.npy"))
        vectors = np.load(stem.with_suffix(".vectors.npy"), mmap_mode="r")
    except (OSError, ValueError):
        return None
    (count,) = conn.execute(
        "SELECT COUNT(*) FROM faces WHERE model_id = ? AND id <= ?", (model_id, stamp["max_id"])
    ).fetchone()
    if count != stamp["count"] or len(ids) != count or vectors.shape[0] != count:
        return None  # faces were deleted (or the files are not the ones the stamp describes)
    tail = conn.execute(
        "SELECT id, embedding FROM faces WHERE model_id = ? AND id > ? ORDER BY id", (model_id, stamp["max_id"])
    ).fetchall()
    if not tail:
        return CachedVectors(((ids, vectors),))
    tail_ids = np.fromiter((r[0] for r in tail), np.int64, len(tail))
    tail_vectors = np.frombuffer(b"".join(r[1] for r in tail), dtype=np.float32).reshape(len(tail), -1)
    return CachedVectors(((ids, vectors), (tail_ids, tail_vectors)))


def drop_vector_caches(folder: Path) -> None:
    """Delete every cached vector file of the library (after an erasure)."""
    cache = folder / CACHE_DIRNAME
    if cache.is_dir():
        for path in cache.iterdir():
            _remove(path)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
