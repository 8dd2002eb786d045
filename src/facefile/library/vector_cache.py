"""A rebuildable copy of one model's embeddings beside the database, memory-mapped on use.

SQLite stays the source of truth. Reading a million embedding BLOBs out of it takes seconds, too
slow for assigning a handful of new faces, so every full re-cluster (which reads them all anyway)
writes them to ``cache/<model>.*.npy``. An update maps the vectors (the OS keeps the file in its
page cache between runs) and reads from SQLite only the faces added since: the "tail", faces with
a larger id than any in the cache.

Large caches are an inverted file: the rows are stored grouped by their nearest of ~N/1000 coarse
centroids, so the neighbours of a new face are searched in the ``PROBE_CELLS`` cells nearest to
it instead of in all rows (a million-row product per update would take most of a second).
Below ``CELL_MIN_FACES`` there is one cell: the search is exact.

The cache is checked against the database on every use (the number of faces up to its last id),
so a deleted face invalidates it; the rights actions (``forget``, ``opt-out``) also delete it
outright, so no erased embedding survives in any file of the library folder.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facefile.cluster import coarse_parts, part_centroids  # the cells: the engine's k-means
from facefile.store import Store
from facefile.store.private_files import open_private, private_folder, write_private

__all__ = ["CachedVectors", "drop_vector_caches", "load_vectors", "save_vectors"]

CACHE_DIRNAME = "cache"
CELL_MIN_FACES = 50_000
FACES_PER_CELL = 1_000
PROBE_CELLS = 12
_PARTS = ("vectors", "ids", "byid", "offsets", "centroids")


@dataclass(frozen=True)
class CachedVectors:
    """The cached rows (a read-only memory map, grouped by cell) and the tail read from SQLite.
    Kept apart: joining them would copy the whole map into memory."""

    vectors: np.ndarray  # (N, d) rows, grouped by cell
    ids: np.ndarray  # (N,) face id of each row
    by_id: np.ndarray  # (N,) rows in ascending face id order
    offsets: np.ndarray  # (C + 1,) row range of each cell
    centroids: np.ndarray  # (C, d)
    tail_ids: np.ndarray  # faces added since, ascending
    tail_vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.ids) + len(self.tail_ids)

    def get(self, face_ids: np.ndarray) -> np.ndarray:
        """Embeddings of ``face_ids`` (each must be present), in that order."""
        face_ids = np.asarray(face_ids, dtype=np.int64)
        out = np.empty((len(face_ids), self.vectors.shape[1]), dtype=np.float32)
        found = np.zeros(len(face_ids), dtype=bool)
        sorted_ids = self.ids[self.by_id]
        for ids, rows_of, vectors in ((sorted_ids, self.by_id, self.vectors), (self.tail_ids, None, self.tail_vectors)):
            if not len(ids):
                continue
            at = np.searchsorted(ids, face_ids).clip(0, len(ids) - 1)
            hit = ids[at] == face_ids
            rows = at[hit] if rows_of is None else rows_of[at[hit]]
            order = np.argsort(rows, kind="stable")  # ascending reads from the map
            out[np.flatnonzero(hit)[order]] = vectors[rows[order]]
            found |= hit
        if not found.all():
            raise KeyError(f"faces not in the cache: {face_ids[~found][:5].tolist()}")
        return out

    def nearest(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` most similar faces of each query among those cached and the tail:
        (similarities, face ids), best first, -inf / -1 where fewer exist. Exact with one cell;
        otherwise over the ``PROBE_CELLS`` cells nearest each query."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        cells = len(self.offsets) - 1
        probe = min(cells, PROBE_CELLS)
        near_cells = np.argsort(-(q @ self.centroids.T), axis=1, kind="stable")[:, :probe] if cells > 1 else None
        tail_sims = q @ self.tail_vectors.T if len(self.tail_ids) else None
        sims_out = np.full((len(q), k), -np.inf, dtype=np.float32)
        ids_out = np.full((len(q), k), -1, dtype=np.int64)
        for i in range(len(q)):
            if near_cells is None:
                rows = slice(0, len(self.ids))
                vectors, ids = np.asarray(self.vectors[rows]), self.ids[rows]
            else:
                chosen = np.sort(near_cells[i])
                ranges = [np.arange(self.offsets[c], self.offsets[c + 1]) for c in chosen]
                rows_i = np.concatenate(ranges)
                vectors, ids = np.asarray(self.vectors[rows_i]), self.ids[rows_i]
            sims = vectors @ q[i]
            if tail_sims is not None:
                sims = np.concatenate([sims, tail_sims[i]])
                ids = np.concatenate([ids, self.tail_ids])
            take = min(k, len(sims))
            top = np.argpartition(-sims, take - 1)[:take] if len(sims) > take else np.arange(len(sims))
            order = np.lexsort((ids[top], -sims[top]))
            sims_out[i, :take], ids_out[i, :take] = sims[top][order], ids[top][order]
        return sims_out, ids_out


def _stem(folder: Path, model_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model_id)
    return folder / CACHE_DIRNAME / safe


def _part(stem: Path, name: str) -> Path:
    return stem.with_name(f"{stem.name}.{name}.npy")


def save_vectors(folder: Path, model_id: str, ids: np.ndarray, vectors: np.ndarray) -> None:
    """Write the cache atomically enough: the stamp is removed first and written last, so a crash
    in between leaves no cache (rebuilt by the next full re-cluster), never a wrong one."""
    stem = _stem(folder, model_id)
    private_folder(stem.parent)  # embeddings: private to the user, like the database
    stamp_path = stem.with_name(f"{stem.name}.json")
    _remove(stamp_path)
    ids = np.asarray(ids, dtype=np.int64)
    X = np.asarray(vectors, dtype=np.float32)
    n, d = X.shape
    cells = 1 if n < CELL_MIN_FACES else max(1, n // FACES_PER_CELL)
    if cells > 1:
        centroids = part_centroids(X, cells, sample_per_part=40, iterations=10)  # a cache, not a model
        cell = coarse_parts(X, cells, centroids=centroids)
    else:
        centroids = np.zeros((1, d), dtype=np.float32)
        cell = np.zeros(n, dtype=np.int64)
    order = np.lexsort((ids, cell))
    offsets = np.searchsorted(cell[order], np.arange(len(centroids) + 1))
    arrays = {"ids": ids[order], "byid": np.argsort(ids[order], kind="stable"), "offsets": offsets,
              "centroids": centroids}
    with open_private(_part(stem, "vectors.tmp")) as fh:  # row blocks: no second (N, d) copy in memory
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f4", "fortran_order": False, "shape": (n, d)})
        for start in range(0, n, 65_536):
            fh.write(np.ascontiguousarray(X[order[start : start + 65_536]]).tobytes())
    os.replace(_part(stem, "vectors.tmp"), _part(stem, "vectors"))
    for name, array in arrays.items():
        with open_private(_part(stem, f"{name}.tmp")) as fh:
            np.save(fh, array)
        os.replace(_part(stem, f"{name}.tmp"), _part(stem, name))
    tmp = stem.with_name(f"{stem.name}.json.tmp")
    write_private(tmp, json.dumps({"count": int(n), "max_id": int(ids.max()) if n else 0, "dim": int(d)}))
    os.replace(tmp, stamp_path)


def load_vectors(store: Store, folder: Path, model_id: str) -> CachedVectors | None:
    """The cached embeddings plus the faces added since, or None when there is no valid cache."""
    stem = _stem(folder, model_id)
    try:
        stamp = json.loads(stem.with_name(f"{stem.name}.json").read_text())
        parts = {name: np.load(_part(stem, name), mmap_mode="r" if name == "vectors" else None) for name in _PARTS}
    except (OSError, ValueError):
        return None
    count = store.faces.count_upto(model_id, stamp["max_id"])
    if count != stamp["count"] or len(parts["ids"]) != count or parts["vectors"].shape[0] != count:
        return None  # faces were deleted (or the files are not the ones the stamp describes)
    tail_ids, tail_vectors = store.faces.vectors_after(model_id, stamp["max_id"], parts["vectors"].shape[1])
    return CachedVectors(parts["vectors"], parts["ids"], parts["byid"], parts["offsets"], parts["centroids"],
                         tail_ids, tail_vectors)


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
