"""How alike a group's own faces are, and how much of that a link to something else covers.

Shared by the engine's neighbour vote (``agglomerate._join_by_neighbours``) and the review queue
(``suggest.PersonIndex``): both judge a link against the group's own cohesion rather than against a
fixed similarity, so that a person whose faces are only weakly alike (masks, blur) is judged on its
own scale.
"""
from __future__ import annotations

import numpy as np

__all__ = ["cohesion_ratio", "mean_pair_similarity"]


def mean_pair_similarity(sums: np.ndarray, sizes: np.ndarray, own: np.ndarray | None = None) -> np.ndarray:
    """The mean cosine similarity of each group's pairs of faces, from its sum vector: the sum's
    squared norm counts every ordered pair once and every face with itself once (``own``: the
    faces' squared norms summed; the face count when they are unit vectors). Groups of one face
    have no pairs: NaN."""
    sums = np.asarray(sums, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64)
    own = sizes if own is None else np.asarray(own, dtype=np.float64)
    pairs = sizes * (sizes - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pairs > 0, (np.einsum("ij,ij->i", sums, sums) - own) / pairs, np.nan)


def cohesion_ratio(link: np.ndarray, cohesion: np.ndarray, baseline: float,
                   other_cohesion: np.ndarray | None = None) -> np.ndarray:
    """``(link - baseline) / (cohesion - baseline)``: 1 when the link is as strong as the group's own
    faces are alike, 0 at ``baseline``, the embedder's mean similarity of strangers. With
    ``other_cohesion`` the denominator is the geometric mean of both groups' spans."""
    above = np.maximum(np.asarray(cohesion, dtype=np.float64) - baseline, 1e-6)
    if other_cohesion is not None:
        above = np.sqrt(above * np.maximum(np.asarray(other_cohesion, dtype=np.float64) - baseline, 1e-6))
    return (np.asarray(link, dtype=np.float64) - baseline) / above
