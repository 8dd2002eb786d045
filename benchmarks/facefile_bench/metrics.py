"""Clustering quality metrics: pairwise and BCubed precision/recall/F, NMI.

The definitions are those of ``shared/bench/reference.py`` (which produced REFERENCE.md), computed
from a contingency table instead of per-face Python loops, so that 10k-1M faces score in
milliseconds. Labels may be any hashable numpy-compatible values (identity strings, ints).

BCubed is the headline number: pairwise scores are dominated by the largest identities.

>>> truth = ["ann", "ann", "bob", "bob"]
>>> pred = [0, 0, 0, 1]
>>> [round(v, 3) for v in bcubed_prf(truth, pred)]
[0.667, 0.75, 0.706]
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from facefile.cluster import SuggestParams

__all__ = ["bcubed_prf", "majority_identity", "merge_precision", "nmi", "noise_as_singletons", "pairwise_prf",
           "suggestion_precision"]


def _codes(labels: ArrayLike) -> np.ndarray:
    """Dense int codes 0..K-1 for arbitrary labels (strings or numbers)."""
    return np.unique(np.asarray(labels), return_inverse=True)[1].ravel()


def _contingency(truth: ArrayLike, pred: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sizes of the non-empty (class, cluster) cells with their class and cluster sizes alongside.

    Returns ``(joint, size_of_class, size_of_cluster)``, three int64 arrays of one entry per
    non-empty cell.
    """
    t, p = _codes(truth), _codes(pred)
    if len(t) != len(p):
        raise ValueError(f"truth has {len(t)} labels, pred has {len(p)}")
    cells, joint = np.unique(t.astype(np.int64) * (int(p.max(initial=0)) + 1) + p, return_counts=True)
    ct, cp = np.divmod(cells, int(p.max(initial=0)) + 1)
    return joint, np.bincount(t)[ct], np.bincount(p)[cp]


def _pairs(sizes: np.ndarray) -> int:
    sizes = sizes.astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def _f(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def pairwise_prf(truth: ArrayLike, pred: ArrayLike) -> tuple[float, float, float]:
    """Pairwise precision/recall/F over all pairs of faces (learn-to-cluster's definition)."""
    t, p = _codes(truth), _codes(pred)
    joint, _, _ = _contingency(t, p)
    tp, pp, gp = _pairs(joint), _pairs(np.bincount(p)), _pairs(np.bincount(t))
    precision = tp / pp if pp else 1.0
    recall = tp / gp if gp else 1.0
    return precision, recall, _f(precision, recall)


def bcubed_prf(truth: ArrayLike, pred: ArrayLike) -> tuple[float, float, float]:
    """BCubed precision/recall/F (Amigo et al. 2009): per-face overlap of its cluster and its class.

    Each face in cell (class t, cluster q) scores ``|t & q| / |q|`` for precision and
    ``|t & q| / |t|`` for recall; a cell of n faces contributes n times its score.
    """
    joint, size_t, size_p = _contingency(truth, pred)
    n = joint.sum()
    if n == 0:
        raise ValueError("no faces to score")
    j = joint.astype(np.float64)
    precision = float((j * j / size_p).sum() / n)
    recall = float((j * j / size_t).sum() / n)
    return precision, recall, _f(precision, recall)


def noise_as_singletons(labels: ArrayLike) -> np.ndarray:
    """Unassigned faces (label < 0) count as one-face clusters, as a user would see them."""
    labels = np.array(labels, dtype=np.int64)
    noise = labels < 0
    start = labels.max() + 1 if len(labels) else 0
    labels[noise] = start + np.arange(int(noise.sum()))
    return labels


def nmi(truth: ArrayLike, pred: ArrayLike) -> float:
    """Normalised mutual information, arithmetic-mean normalisation (scikit-learn's default)."""
    joint, size_t, size_p = _contingency(truth, pred)
    n = float(joint.sum())
    if n == 0:
        raise ValueError("no faces to score")
    t_sizes = np.bincount(_codes(truth)).astype(np.float64)
    p_sizes = np.bincount(_codes(pred)).astype(np.float64)
    if len(t_sizes) == len(p_sizes) == 1:
        return 1.0  # both labelings are one group: identical (scikit-learn's convention)
    j = joint.astype(np.float64)
    mutual = float((j / n * (np.log(j * n) - np.log(size_t.astype(np.float64) * size_p))).sum())
    h_t = float(-(t_sizes / n * np.log(t_sizes / n)).sum())
    h_p = float(-(p_sizes / n * np.log(p_sizes / n)).sum())
    mutual = max(mutual, 0.0)  # rounding can leave a tiny negative for independent labelings
    denom = (h_t + h_p) / 2
    return mutual / denom if denom > 0 else 1.0


def majority_identity(truth: ArrayLike, labels: ArrayLike) -> dict[int, object]:
    """The most frequent true identity of each person (label >= 0); ties go to the smallest."""
    truth, labels = np.asarray(truth), np.asarray(labels)
    members: dict[int, list[object]] = {}
    for t, label in zip(truth.tolist(), labels.tolist(), strict=True):
        if label >= 0:
            members.setdefault(int(label), []).append(t)
    out: dict[int, object] = {}
    for label, ts in members.items():
        values, counts = np.unique(np.array(ts), return_counts=True)
        out[label] = values[int(np.argmax(counts))].item()
    return out


def suggestion_precision(
    truth: ArrayLike, labels: ArrayLike, vectors: np.ndarray, photos: ArrayLike, *, params: SuggestParams | None = None,
) -> tuple[float, int, int, int]:
    """Precision@1 of "is this Anna?" suggestions for unassigned faces (label -1), as the review
    queue asks them (``cluster.suggest.PersonIndex.suggest``, persons already in the face's photo
    left out).

    Every suggestion the user would see counts: one for a face of someone with no person of their
    own (a bystander, a stranger) has no right answer and is wrong. Returns ``(precision, shown,
    right, eligible)``: the share of shown suggestions whose person's majority identity is the
    face's, how many were shown, how many were right, and how many unassigned faces could have had
    a right one (their identity is some person's majority identity: ``right / eligible`` is the
    recall). Precision is nan when nothing was shown (read it with ``shown``).
    """
    from facefile.cluster import PersonIndex

    truth, labels, photos = np.asarray(truth), np.asarray(labels), np.asarray(photos)
    majority = majority_identity(truth, labels)
    owned = set(majority.values())
    queries = np.flatnonzero(labels < 0)
    eligible = sum(truth[i].item() in owned for i in queries.tolist())
    assigned = np.flatnonzero(labels >= 0)
    if not len(queries) or not len(assigned):
        return float("nan"), 0, 0, eligible  # nothing shown: no precision
    params = params or SuggestParams()
    index = PersonIndex(vectors[assigned], labels[assigned], photos=photos[assigned], nearest=params.nearest)
    in_photo: dict[int, set[int]] = {}
    for i in assigned.tolist():
        in_photo.setdefault(int(photos[i]), set()).add(int(labels[i]))
    persons, _ = index.suggest(vectors[queries], exclude=[in_photo.get(int(photos[i]), set()) for i in queries],
                               params=params)
    shown = np.flatnonzero(persons >= 0)
    right = sum(majority[int(persons[k])] == truth[queries[k]].item() for k in shown.tolist())
    return (right / len(shown) if len(shown) else float("nan")), len(shown), right, eligible


def merge_precision(
    truth: ArrayLike, labels: ArrayLike, vectors: np.ndarray, photos: ArrayLike, *, params: SuggestParams | None = None,
    top: int = 50,
) -> tuple[float, int, int, int]:
    """Precision of the merge suggestions the review queue would show first (``PersonIndex.merges``,
    its ``top`` best): the share of shown person pairs whose majority identities agree. Returns
    ``(precision, shown, right, true_pairs)``; ``true_pairs`` is how many pairs of persons share a
    majority identity and no photo (the splits a perfect queue would offer: ``right / true_pairs``
    is the recall, capped by ``top``). Precision is nan when nothing was shown (read it with
    ``shown``)."""
    from facefile.cluster import PersonIndex

    truth, labels, photos = np.asarray(truth), np.asarray(labels), np.asarray(photos)
    assigned = np.flatnonzero(labels >= 0)
    if not len(assigned):
        return float("nan"), 0, 0, 0  # nothing shown: no precision
    params = params or SuggestParams()
    majority = majority_identity(truth, labels)
    index = PersonIndex(vectors[assigned], labels[assigned], photos=photos[assigned])
    matches = index.merges(min_similarity=params.merge_similarity, min_cohesion=params.min_cohesion,
                           baseline=params.baseline, limit=top)
    right = sum(majority[m.keep] == majority[m.other] for m in matches)
    by_identity: dict[object, list[int]] = {}
    for person, identity in majority.items():
        by_identity.setdefault(identity, []).append(person)
    photos_of = {p: set(photos[assigned][labels[assigned] == p].tolist()) for ps in by_identity.values()
                 if len(ps) > 1 for p in ps}
    true_pairs = sum(not photos_of[a] & photos_of[b] for ps in by_identity.values()
                     for k, a in enumerate(ps) for b in ps[k + 1:])
    return (right / len(matches) if matches else float("nan")), len(matches), right, true_pairs  # nan: none shown
