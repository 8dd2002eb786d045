"""The sparse candidate graph: each face linked to its most similar faces (cosine, exact).

Only faces linked here (directly, or through the groups they end in) are ever compared, which
keeps clustering near-linear in the number of faces once the graph exists. The graph is computed
by blocked matrix products in NumPy, so memory stays bounded (no N x N matrix); faiss (a base
dependency) takes over for large collections. Both are exact and O(N^2 d) in time. From
``IVF_MIN_FACES`` on, an exact search would take hours on a laptop, so faiss's inverted-file index
searches only the faces in the cells (k-means centroids) nearest to each face: a face's true
neighbours, which are very similar to it, sit in the same few cells, and ``IVF_PROBE_SHARE`` of
the cells are searched. The index is trained on a sample taken in the engine's canonical order
with a fixed seed, so the graph stays independent of input order.
"""
from __future__ import annotations

import numpy as np

__all__ = ["knn_edges", "neighbours_of", "pair_similarity", "unique_keys"]

# Similarities of one block of rows against all faces are held at once: about 64 MB of float32.
_BLOCK_ELEMENTS = 1 << 24
# From this many faces on, faiss (a base dependency) finds the neighbours: same exact search, a
# faster top-k. Below it NumPy alone. Which path runs depends on the number of faces only.
FAISS_MIN_FACES = 50_000
IVF_MIN_FACES = 200_000
IVF_FACES_PER_CELL = 256  # cells = N / this: ~4,000 cells of ~256 faces for a million faces
IVF_PROBE = 16  # cells searched per face
IVF_TRAIN_PER_CELL = 40  # k-means training sample per cell (faiss warns below 39)
IVF_TRAIN_ITERATIONS = 10
_SEARCH_CHUNK = 65_536  # queries per faiss call: bounds the (chunk x k) result arrays


def knn_edges(
    X: np.ndarray, k: int, floor: float = -1.0, *, with_similarity: bool = True, nearest: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Undirected edges between every face and its ``k`` most similar other faces.

    ``X`` is (N, d), rows L2-normalised. Neighbours less similar than ``floor`` are left out (the
    engine passes its lowest merge threshold: such a pair is evidence for no merge). Returns
    ``(a, b, similarity)`` with ``a < b``, each edge once, sorted by ``(a, b)``. Similarities are
    recomputed pair by pair (not taken from the block products), so an edge's value does not depend
    on where its faces sit in the input; ``with_similarity=False`` skips them (None).

    ``nearest``: an optional (N, v) int array, v <= k, filled by the same search with each face's
    v most similar other faces whatever their similarity, in no particular order (-1 where there
    are fewer): the engine's neighbour vote reads them (``agglomerate._join_by_neighbours``).
    """
    n = len(X)
    k = min(k, n - 1)
    if nearest is not None:
        if nearest.shape[0] != n or nearest.ndim != 2 or nearest.shape[1] > max(k, 0):
            raise ValueError(f"nearest must be (N, v) with v <= k, got {nearest.shape} for N={n}, k={k}")
        nearest[:] = -1
    if k <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64) if with_similarity else None
    if n >= IVF_MIN_FACES:
        sources, targets = _neighbours_faiss(X, k, floor, approximate=True, nearest=nearest)
    elif n >= FAISS_MIN_FACES:
        sources, targets = _neighbours_faiss(X, k, floor, nearest=nearest)
    else:
        sources, targets = neighbours_of(X, np.arange(n), k, floor, nearest=nearest)
    # One key per undirected pair, built in place: on a million faces each of these arrays is
    # hundreds of megabytes, so no more of them live at once than needed.
    pairs = np.minimum(sources, targets).astype(np.int64)
    pairs *= n
    pairs += np.maximum(sources, targets)
    del sources, targets
    pairs = unique_keys(pairs)
    a, b = np.divmod(pairs, n)
    del pairs
    return a, b, pair_similarity(X, a, b) if with_similarity else None


def unique_keys(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` of a 1-D integer array by sort and compare: NumPy 2's ``np.unique`` took 10 s
    on 9 million pair keys that this sorts in under 1 s."""
    keys = np.sort(keys)
    if len(keys) == 0:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def neighbours_of(
    X: np.ndarray, rows: np.ndarray, k: int, floor: float, *, nearest: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Directed (row, neighbour) pairs of the given ``rows`` of ``X`` among all rows: each row's
    most similar rows at or above ``floor``, at most ``k`` (ties at the k-th value all kept), by
    blocked matrix products. ``nearest`` (len(rows), v): filled with each row's v most similar
    rows, floor or not (see ``knn_edges``)."""
    n = len(X)
    rows_per_block = max(1, _BLOCK_ELEMENTS // max(1, n))
    sources: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    targets: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for start in range(0, len(rows), rows_per_block):
        block = rows[start : start + rows_per_block]
        sims = X[block] @ X.T
        sims[np.arange(len(block)), block] = -np.inf  # not one's own neighbour
        if nearest is not None:
            v = min(nearest.shape[1], n - 1)
            if v > 0:
                nearest[start : start + len(block), :v] = np.argpartition(sims, n - v, axis=1)[:, n - v:]
        above = sims >= floor
        # Rows with more than k faces above the floor keep their k best: the k-th largest value
        # (a partial sort, O(N) per row) becomes that row's floor.
        crowded = np.flatnonzero(above.sum(axis=1) > k)
        if len(crowded):
            crowded_sims = sims[crowded]
            kth = np.partition(crowded_sims, n - k, axis=1)[:, n - k]
            above[crowded] = crowded_sims >= kth[:, None]
        hit, cols = np.nonzero(above)
        sources.append(block[hit])
        targets.append(cols)
    return np.concatenate(sources), np.concatenate(targets)


def _neighbours_faiss(
    X: np.ndarray, k: int, floor: float, approximate: bool = False, nearest: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Directed (face, neighbour) pairs by faiss inner-product search: exact (a faster top-k than
    NumPy), or over an inverted-file index for very large collections (see the module docstring).
    ``nearest``: see ``knn_edges``."""
    import faiss

    vectors = np.ascontiguousarray(X, dtype=np.float32)
    n, d = vectors.shape
    index: faiss.Index
    if approximate:
        cells = max(1, n // IVF_FACES_PER_CELL)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, cells, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = 20240601
        # 10 k-means iterations instead of faiss's 25: the same neighbour recall on 400,000
        # synthetic faces (0.789), training in 40% of the time.
        index.cp.niter = IVF_TRAIN_ITERATIONS
        step = max(1, n // (cells * IVF_TRAIN_PER_CELL))
        index.train(vectors[::step])
        index.nprobe = min(cells, IVF_PROBE)  # type: ignore[attr-defined]
    else:
        index = faiss.IndexFlatIP(d)
    index.add(vectors)
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for start in range(0, n, _SEARCH_CHUNK):
        stop = min(n, start + _SEARCH_CHUNK)
        sims, nbrs = index.search(vectors[start:stop], k + 1)
        rows = np.arange(start, stop)[:, None]
        others = (nbrs >= 0) & (nbrs != rows)
        keep = others & (sims >= floor)
        if nearest is not None:
            # Results come best first: each row's first v others (a row holds itself at most once).
            rank = np.cumsum(others, axis=1) - 1
            hit, col = np.nonzero(others & (rank < nearest.shape[1]))
            nearest[start + hit, rank[hit, col]] = nbrs[hit, col]
        sources.append(np.broadcast_to(rows, nbrs.shape)[keep])
        targets.append(nbrs[keep])
    return np.concatenate(sources), np.concatenate(targets)


def pair_similarity(X: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of the pairs ``(X[a[i]], X[b[i]])`` in float64, in bounded memory.

    A row-wise product summed along the row gives every pair the same summation order wherever its
    rows sit (a BLAS product may not), which keeps results independent of input order.
    """
    out = np.empty(len(a), dtype=np.float64)
    step = max(1, _BLOCK_ELEMENTS // (8 * max(1, X.shape[1])))
    for start in range(0, len(a), step):
        stop = start + step
        out[start:stop] = (X[a[start:stop]].astype(np.float64) * X[b[start:stop]]).sum(axis=1)
    return out
