"""A reference point for reading ``facefile bench quality``: how far the embeddings themselves go.

``average_link_ceiling`` clusters a set by average linkage and cuts the tree at whichever cosine
similarity gives the best BCubed F *against the truth*. No tool can choose its threshold that way,
so this is not a competitor: it is the best any single global threshold can do on average linkage
with these embeddings. When a target lies above it (a degraded variant where the embedder's
same-person and different-person similarities overlap), no threshold tuning can reach it; only
better evidence per face, or a different grouping rule, could.

The benchmark prints it as its own row, marked, and never counts it as the best baseline.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facefile_bench.metrics import bcubed_prf

__all__ = ["CEILING_LABEL", "Ceiling", "average_link_ceiling"]

CEILING_LABEL = "(ceiling: average link at the truth's best threshold, not a tool)"

# Cosine similarities tried: every SFace and normalised-dlib threshold of interest, 0.01 apart.
SIMILARITIES = tuple(round(float(s), 2) for s in np.arange(-0.20, 0.99, 0.01))


@dataclass(frozen=True)
class Ceiling:
    labels: np.ndarray
    similarity: float  # the cut that scored best
    bcubed_f: float


def average_link_ceiling(X: np.ndarray, truth: np.ndarray,
                         similarities: tuple[float, ...] = SIMILARITIES) -> Ceiling:
    """Average linkage on cosine distance, cut at the similarity of ``similarities`` whose persons
    score the best BCubed F against ``truth`` (the lowest such similarity on a tie). ``X``: (N, d)
    embeddings, L2-normalised or not (cosine either way)."""
    from scipy.cluster.hierarchy import fcluster, linkage  # type: ignore[import-untyped]
    from scipy.spatial.distance import pdist  # type: ignore[import-untyped]

    X = np.asarray(X, dtype=np.float64)
    truth = np.asarray(truth)
    if len(X) != len(truth):
        raise ValueError(f"X has {len(X)} rows but truth {len(truth)}")
    if len(X) < 2:
        return Ceiling(np.zeros(len(X), np.int64), similarities[0], 1.0)
    tree = linkage(pdist(X, "cosine"), "average")
    best: Ceiling | None = None
    for s in similarities:
        # fcluster keeps merges at distances <= t: pairs averaging at least s stay together.
        labels = fcluster(tree, 1.0 - s, "distance").astype(np.int64) - 1
        f = bcubed_prf(truth, labels)[2]
        if best is None or f > best.bcubed_f:
            best = Ceiling(labels, s, f)
    assert best is not None
    return best
