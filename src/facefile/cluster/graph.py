"""The sparse candidate graph: each face linked to its most similar faces (cosine, exact).

Only faces linked here (directly, or through the groups they end in) are ever compared, which
keeps clustering near-linear in the number of faces once the graph exists. The graph is computed
by blocked matrix products in NumPy, so memory stays bounded (no N x N matrix).
"""
from __future__ import annotations

import numpy as np

__all__ = ["knn_edges", "pair_similarity"]

# Similarities of one block of rows against all faces are held at once: about 64 MB of float32.
_BLOCK_ELEMENTS = 1 << 24


def knn_edges(X: np.ndarray, k: int, floor: float = -1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected edges between every face and its ``k`` most similar other faces.

    ``X`` is (N, d), rows L2-normalised. Neighbours less similar than ``floor`` are left out (the
    engine passes its lowest merge threshold: such a pair is evidence for no merge). Returns
    ``(a, b, similarity)`` with ``a < b``, each edge once, sorted by ``(a, b)``. Similarities are
    recomputed pair by pair (not taken from the block products), so an edge's value does not depend
    on where its faces sit in the input.
    """
    n = len(X)
    k = min(k, n - 1)
    if k <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    rows_per_block = max(1, _BLOCK_ELEMENTS // n)
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    for start in range(0, n, rows_per_block):
        stop = min(n, start + rows_per_block)
        sims = X[start:stop] @ X.T
        sims[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not one's own neighbour
        above = sims >= floor
        crowded = np.flatnonzero(above.sum(axis=1) > k)
        # Rows with at most k faces above the floor keep all of them: a cheap sparse pick. Only
        # rows with more need the (slow, O(N) per row) partial sort.
        above[crowded] = False
        rows, cols = np.nonzero(above)
        sources.append(rows + start)
        targets.append(cols)
        if len(crowded):
            top = np.argpartition(sims[crowded], n - k, axis=1)[:, n - k :]
            sources.append(np.repeat(crowded + start, k))
            targets.append(top.ravel())
    a, b = np.concatenate(sources), np.concatenate(targets)
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    pairs = np.unique(lo * n + hi)
    a, b = np.divmod(pairs, n)
    return a, b, pair_similarity(X, a, b)


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
