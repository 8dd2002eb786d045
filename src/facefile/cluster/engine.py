"""``cluster_faces``: embeddings, photo ids and user decisions in, one label per face out.

Pure and deterministic: no I/O, no global state, and independent of input order. The faces are
first put in a canonical order that depends only on their content (embedding, photo, quality,
constraints), everything runs in that order, and the labels are put back in the caller's order.
So a shuffled input gives the very same labels, bit for bit, not just the same partition.

>>> import numpy as np
>>> X = np.array([[1, 0], [0.99, 0.14], [0.98, -0.2], [0, 1], [0.14, 0.99]], dtype=np.float32)
>>> X /= np.linalg.norm(X, axis=1, keepdims=True)
>>> cluster_faces(X, photo_ids=np.array([1, 2, 3, 1, 4])).labels.tolist()
[0, 0, 0, 1, 1]
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from facefile.cluster.agglomerate import NEIGHBOUR_VOTES, Faces, average_link
from facefile.cluster.constraints import Constraints, FaceConstraints
from facefile.cluster.graph import knn_edges, unique_keys
from facefile.cluster.params import ClusterParams
from facefile.cluster.person_ids import continue_persons

__all__ = ["Assignment", "CandidateGraph", "ClusterProgress", "cluster_candidates", "cluster_faces", "vote_buffer"]

# Told how far a long clustering has come: (phase, done, total or None). A callback, so the engine
# stays pure: it only calls it, and what it is told never changes the result.
ClusterProgress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class Assignment:
    """The engine's answer.

    ``labels``: int64 per face, the cluster index 0..K-1, or -1 for a face left unassigned (alone,
    or rejected from the person its cluster continues). Clusters are numbered largest first.
    ``person_of_cluster``: for each cluster, the existing person id it continues, or None for a new
    person.
    """

    labels: np.ndarray
    person_of_cluster: list[int | None]


def cluster_faces(
    embeddings: np.ndarray,
    photo_ids: np.ndarray,
    *,
    quality: np.ndarray | None = None,
    constraints: Constraints | None = None,
    previous: Mapping[int, int] | None = None,
    params: ClusterParams | None = None,
    progress: ClusterProgress | None = None,
) -> Assignment:
    """Group faces into persons.

    ``embeddings``: (N, d) float, one L2-normalised row per face (rows are re-normalised here, as
    the engine compares by cosine similarity). ``photo_ids``: (N,) ints; two faces of one photo
    never end in one cluster. ``quality``: optional (N,) in [0, 1], NaN = unknown (treated as 1);
    a low-quality face needs stronger evidence to join a person. ``constraints``: what the user
    confirmed or rejected. ``previous``: face index -> person id of the last run: clusters
    continue these ids (``Assignment.person_of_cluster``), and the last members of a person the
    user confirmed a face of stay with it (see ``constraints``). ``params``: thresholds
    (``ClusterParams.for_model(model_id)``). ``progress``: optional, called as
    ``progress(phase, done, total)`` while it runs ("Comparing faces" N of N faces, then "Linking
    faces" with the number of links made so far, total None).
    """
    handed = [embeddings]
    del embeddings  # only _cluster holds it now, so it can let it go once copied
    return _cluster(handed, photo_ids, quality, constraints, previous, params, None, progress)


@dataclass(frozen=True)
class CandidateGraph:
    """What clustering in parts (``partition.py``) gives the engine instead of its own search.

    ``pairs``: (a, b) face indices, the pairs through which groups may link (they replace the
    k-nearest-neighbour graph). ``nearest``: (N, v) face indices (-1: none), each face's nearest
    faces from the same search (``knn_edges(nearest=)``), for the neighbour vote (without them
    there is no vote). ``start_groups``: (N,) ints; faces with the same value >= 0 begin as one
    group (a part's persons), -1 alone.
    """

    pairs: tuple[np.ndarray, np.ndarray]
    nearest: np.ndarray | None = None
    start_groups: np.ndarray | None = None


def cluster_candidates(
    embeddings: np.ndarray,
    photo_ids: np.ndarray,
    graph: CandidateGraph,
    *,
    quality: np.ndarray | None = None,
    params: ClusterParams | None = None,
) -> Assignment:
    """``cluster_faces`` over a given candidate graph: the partitioned clustering's entry."""
    handed = [embeddings]
    del embeddings
    return _cluster(handed, photo_ids, quality, None, None, params, graph)


def _cluster(
    handed: list[np.ndarray], photo_ids: np.ndarray, quality: np.ndarray | None, constraints: Constraints | None,
    previous: Mapping[int, int] | None, params: ClusterParams | None, graph: CandidateGraph | None,
    progress: ClusterProgress | None = None,
) -> Assignment:
    """The engine. ``handed`` holds the embeddings and is emptied: no frame of the engine keeps
    the caller's array once its copy is made (0.5 GB on a million faces)."""
    params = ClusterParams() if params is None else params
    if not isinstance(params, ClusterParams):
        raise TypeError(f"params must be a ClusterParams, got {type(params).__name__}")
    vectors, photos, qualities = _check_faces(handed.pop(), photo_ids, quality)
    n = len(vectors)
    checked = FaceConstraints.check(Constraints() if constraints is None else constraints, previous, n)
    if n == 0:
        return Assignment(np.zeros(0, dtype=np.int64), [])

    order = _canonical_order(vectors, photos, qualities, checked)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    vectors = vectors[order]  # rebound, so one (N, d) copy lives at a time
    faces = Faces(vectors=vectors, photo=photos[order], quality=qualities[order], constraints=checked.reordered(order))
    del vectors
    params = params.at_size(n)
    if graph is None:
        # A face pair below the lowest threshold any two groups can face is evidence for no merge.
        floor = params.link_similarity - params.evidence_gain
        nearest = vote_buffer(n, params)
        if progress is not None:
            progress("Comparing faces", 0, n)
        edges = list(knn_edges(faces.vectors, params.neighbors, floor, with_similarity=False, nearest=nearest))
        if progress is not None:
            progress("Comparing faces", n, n)
        start = None
    else:
        edges = list(_reordered_pairs(graph.pairs, position, n))
        nearest = None if graph.nearest is None else _reordered_nearest(graph.nearest, order, position, n)
        start = None if graph.start_groups is None else _reordered_groups(graph.start_groups, order, n)
    # Thousands of small matrix-vector products: BLAS threads only add contention (5x slower on
    # a busy 2-core machine).
    with threadpool_limits(1):
        group = average_link(faces, edges, params, start=start, nearest=nearest, progress=progress)
    if progress is not None:  # every merge of the three phases: faces less groups
        progress("Linking faces", n - len(np.unique(group)), None)
    del nearest
    labels, person_of_cluster = _persons(faces, group, params)
    return Assignment(labels[position], person_of_cluster)


def _reordered_groups(start_groups: np.ndarray, order: np.ndarray, n: int) -> np.ndarray:
    start = np.asarray(start_groups, dtype=np.int64)
    if start.shape != (n,):
        raise ValueError(f"start_groups must have shape ({n},), got {start.shape}")
    return start[order]


def _persons(faces: Faces, group: np.ndarray, params: ClusterParams) -> tuple[np.ndarray, list[int | None]]:
    """Cluster labels (canonical order) and the existing person each cluster continues."""
    tied, rejected = faces.constraints.tied, faces.constraints.rejected
    labels = _number_clusters(group, tied, params.min_person_size)
    # The last run's persons, except where the user rejected the face from that person: such a
    # face is no evidence that its cluster continues the person.
    earlier = faces.constraints.previous
    previous_person = {int(f): int(earlier[f]) for f in np.flatnonzero(earlier >= 0)}
    for face, persons in rejected.items():
        if previous_person.get(face) in persons:
            del previous_person[face]
    n_clusters = int(labels.max()) + 1
    person_of_cluster = continue_persons(labels, np.arange(n_clusters), tied, previous_person)
    for face, persons in rejected.items():
        if labels[face] >= 0 and person_of_cluster[labels[face]] in persons:
            labels[face] = -1  # never in the person it was rejected from
    return labels, person_of_cluster


def vote_buffer(n: int, params: ClusterParams) -> np.ndarray | None:
    """An (n, v) array for ``knn_edges(nearest=)`` to fill for the neighbour vote, or None when
    ``params`` has no vote."""
    votes = min(NEIGHBOUR_VOTES, params.neighbors, n - 1) if params.fragment_size > 0 else 0
    return np.empty((n, votes), dtype=np.int32 if n < 2**31 else np.int64) if votes > 0 else None


def _reordered_nearest(nearest: np.ndarray, order: np.ndarray, position: np.ndarray, n: int) -> np.ndarray:
    """Caller's (N, v) nearest-face indices as canonical positions, rows in canonical order."""
    nearest = np.asarray(nearest)
    if nearest.ndim != 2 or nearest.shape[0] != n:
        raise ValueError(f"candidate_nearest must have shape ({n}, v), got {nearest.shape}")
    if nearest.size and (nearest.min() < -1 or nearest.max() >= n):
        raise ValueError(f"candidate_nearest holds face indices outside -1..{n - 1}")
    rows = nearest[order]
    return np.where(rows >= 0, position[np.maximum(rows, 0)], -1)


def _reordered_pairs(
    pairs: tuple[np.ndarray, np.ndarray], position: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, None]:
    """Caller's face index pairs as canonical positions (a < b, each pair once, sorted)."""
    a, b = (np.asarray(x, dtype=np.int64) for x in pairs)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("candidate_pairs must be two 1-D arrays of equal length")
    if len(a) and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n):
        raise ValueError(f"candidate_pairs hold face indices outside 0..{n - 1}")
    pa, pb = position[a], position[b]
    keys = unique_keys(np.minimum(pa, pb) * n + np.maximum(pa, pb))
    lo, hi = np.divmod(keys, n)
    keep = lo != hi
    return lo[keep], hi[keep], None


def _check_faces(
    embeddings: np.ndarray, photo_ids: np.ndarray, quality: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = np.asarray(embeddings)
    if X.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D (faces x dims) array, got shape {X.shape}")
    n = X.shape[0]
    if n and X.shape[1] == 0:
        raise ValueError("embeddings have no dimensions")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise ValueError(f"embeddings must be numeric, got dtype {X.dtype}")
    X = X.astype(np.float32)  # a copy: normalised in place below, the caller's array untouched
    if not np.isfinite(X).all():
        raise ValueError("embeddings contain NaN or infinite values")
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if (norms == 0).any():
        raise ValueError("embeddings contain an all-zero row")
    X /= norms

    photos = np.asarray(photo_ids)
    if photos.shape != (n,):
        raise ValueError(f"photo_ids must have shape ({n},), got {photos.shape}")
    if n and not np.issubdtype(photos.dtype, np.integer):
        raise ValueError(f"photo_ids must be integers, got dtype {photos.dtype}")
    photos = photos.astype(np.int64)

    if quality is None:
        qualities = np.ones(n, dtype=np.float64)
    else:
        qualities = np.asarray(quality, dtype=np.float64)
        if qualities.shape != (n,):
            raise ValueError(f"quality must have shape ({n},), got {qualities.shape}")
        qualities = np.where(np.isnan(qualities), 1.0, qualities)
        if ((qualities < 0) | (qualities > 1)).any():
            raise ValueError("quality must lie in [0, 1] (NaN = unknown)")
    return X, photos, qualities


def _canonical_order(
    vectors: np.ndarray, photos: np.ndarray, qualities: np.ndarray, constraints: FaceConstraints
) -> np.ndarray:
    """An order of the faces that depends only on what each face is, not on where it was.

    The main key is a fixed projection of the embedding, computed row by row (elementwise product
    summed along the row: the same arithmetic for every row wherever it sits). Faces with equal
    projections (duplicates) are ordered by photo, quality, tied and previous person.
    """
    projection = row_projection(vectors)
    keys = (constraints.previous, constraints.tied, qualities, photos, projection)
    return np.lexsort(keys)


def row_projection(vectors: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """A fixed random projection of each row, in float64, by the same arithmetic for every row
    wherever it sits (elementwise product summed along the row), in chunks: a float64 copy of a
    million embeddings would take 1 GB."""
    direction = np.random.default_rng(20240601).standard_normal(vectors.shape[1])
    out = np.empty(len(vectors), dtype=np.float64)
    for start in range(0, len(vectors), chunk):
        out[start : start + chunk] = (vectors[start : start + chunk].astype(np.float64) * direction).sum(axis=1)
    return out


def _number_clusters(group: np.ndarray, tied: np.ndarray, min_person_size: int) -> np.ndarray:
    """Cluster labels 0..K-1 from group ids, largest cluster first, small groups unassigned.

    Groups with fewer than ``min_person_size`` faces get -1 unless one of their faces is tied to a
    person (a person the user made must not vanish). Ties in size go to the group whose first face
    (in canonical order) comes first, so the numbering is independent of input order too.
    """
    n = len(group)
    ids, first, sizes = np.unique(group, return_index=True, return_counts=True)
    has_tied = np.zeros(n, dtype=bool)
    has_tied[group[tied >= 0]] = True
    kept = (sizes >= min_person_size) | has_tied[ids]
    ids, first, sizes = ids[kept], first[kept], sizes[kept]
    rank = np.lexsort((first, -sizes))
    label_of_group = np.full(n, -1, dtype=np.int64)
    label_of_group[ids[rank]] = np.arange(len(ids))
    return label_of_group[group]
