"""Clustering in parts: how facefile's clustering goes past one machine, run here on one.

A library too large for one machine's memory is split by **coarse centroids**: spherical k-means
on the embeddings gives ``parts`` centroids, and each face lives in the part of its nearest
centroid (faces of one person are close to each other, so most persons fall in one part). Then:

1. **Clustering per part**, independently (one part per machine or task): the same engine,
   through the pairs of the k-nearest-neighbour graph that stay inside the part. Faces that are
   as similar to a face of another part as two faces must be to link (*boundary faces*) are held
   back: clustered inside their part they would join the best group within reach, where the
   whole library's clustering, taking pairs in one global order, may give them to a better group
   across the boundary (on 200,000 synthetic faces in 32 parts this cost 0.003 of BCubed
   precision; holding them back, nothing).
2. **Merging across boundaries**: the parts' persons are the starting groups of one more run of
   the engine, over the graph's pairs between different groups; the boundary faces start alone.
   A person split by a boundary is joined by the same average-link rule as everywhere (mean
   similarity of all face pairs, computed from the groups' sum vectors, so on a real cluster only
   one sum vector and size per person, and the boundary faces, travel to the merging step).

The kNN graph comes from an inverted-file index whose cells play the same role: each machine
holds the cells of its part and answers the neighbour queries of faces near its cells. Here one
process computes the same graph. ``partitioned_cluster`` returns labels like ``cluster_faces``;
``facefile bench scale`` compares them with the unpartitioned run on a million faces.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from facefile.cluster.engine import CandidateGraph, cluster_candidates, vote_buffer
from facefile.cluster.graph import knn_edges
from facefile.cluster.params import ClusterParams

__all__ = ["PartitionedResult", "coarse_parts", "part_centroids", "partitioned_cluster"]

KMEANS_SAMPLE_PER_PART = 256
KMEANS_SEED = 20240601


@dataclass(frozen=True)
class PartitionedResult:
    labels: np.ndarray  # (N,) person label per face, -1 unassigned
    part: np.ndarray  # (N,) the part each face lived in
    boundary_pairs: int  # candidate pairs of the merging step (between different starting groups)
    boundary_faces: int  # faces linked to another part, clustered in the merging step
    part_sizes: np.ndarray


def part_centroids(X: np.ndarray, parts: int, sample_per_part: int = KMEANS_SAMPLE_PER_PART,
                   iterations: int = 20) -> np.ndarray:
    """``parts`` spherical k-means centroids, trained on an evenly spaced sample with a fixed seed."""
    step = max(1, len(X) // (parts * sample_per_part))
    sample = np.ascontiguousarray(X[::step], dtype=np.float32)
    return _spherical_kmeans(sample, parts, iterations)


def coarse_parts(X: np.ndarray, parts: int, centroids: np.ndarray | None = None) -> np.ndarray:
    """Part of each face: its nearest centroid (``part_centroids`` unless given)."""
    if parts <= 1 or len(X) <= parts:
        return np.zeros(len(X), dtype=np.int64)
    centroids = part_centroids(X, parts) if centroids is None else centroids
    part = np.empty(len(X), dtype=np.int64)
    for start in range(0, len(X), 65_536):
        part[start : start + 65_536] = np.argmax(X[start : start + 65_536] @ centroids.T, axis=1)
    return part


def _spherical_kmeans(sample: np.ndarray, k: int, iterations: int = 20) -> np.ndarray:
    try:
        import faiss

        km = faiss.Kmeans(sample.shape[1], k, niter=iterations, seed=KMEANS_SEED, spherical=True, verbose=False)
        km.train(sample)
        return np.asarray(km.centroids, dtype=np.float32)
    except ImportError:  # plain NumPy Lloyd iterations: same idea, slower
        rng = np.random.default_rng(KMEANS_SEED)
        centroids = sample[rng.choice(len(sample), k, replace=False)].copy()
        for _ in range(iterations):
            nearest = np.argmax(sample @ centroids.T, axis=1)
            sums = np.zeros_like(centroids)
            np.add.at(sums, nearest, sample)
            empty = np.linalg.norm(sums, axis=1) == 0
            sums[empty] = centroids[empty]
            centroids = sums / np.linalg.norm(sums, axis=1, keepdims=True)
        return centroids


def partitioned_cluster(
    embeddings: np.ndarray,
    photo_ids: np.ndarray,
    *,
    quality: np.ndarray | None = None,
    params: ClusterParams | None = None,
    parts: int = 32,
) -> PartitionedResult:
    """Cluster in ``parts`` parts and merge across their boundaries (see the module docstring).

    The thresholds are those of the whole library (``params.at_size(N)``), not of each part.
    """
    params = ClusterParams() if params is None else params
    X = np.asarray(embeddings, dtype=np.float32)
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    photos = np.asarray(photo_ids, dtype=np.int64)
    n = len(X)
    whole = replace(params.at_size(n), impostor_tail=0.0)  # a part is not a small library
    part = coarse_parts(X, parts)
    floor = whole.link_similarity - whole.evidence_gain
    nearest = vote_buffer(n, whole)  # for the neighbour vote of the merging step: the same search
    a, b, sim = knn_edges(X, whole.neighbors, floor, with_similarity=True, nearest=nearest)
    assert sim is not None
    inside = part[a] == part[b]
    # Faces as similar to a face of another part as two faces must be to link wait for the merging
    # step, where they choose among the groups of every part in the one global order: clustered
    # early inside their part, they were greedy (joining the best group in reach, not the best
    # overall). Weaker pairs across a boundary only matter between whole groups, in that step.
    strong = ~inside & (sim >= whole.link_similarity)
    del sim
    boundary = np.zeros(n, dtype=bool)
    boundary[a[strong]] = True
    boundary[b[strong]] = True
    inside &= ~(boundary[a] | boundary[b])

    start = np.full(n, -1, dtype=np.int64)
    offset = 0
    order = np.argsort(part[a[inside]], kind="stable")
    ia, ib = a[inside][order], b[inside][order]
    bounds = np.searchsorted(part[ia], np.arange(parts + 1))
    sizes = np.bincount(part, minlength=parts)
    for p in range(parts):
        members = np.flatnonzero((part == p) & ~boundary)
        if len(members) == 0:
            continue
        local = np.full(n, -1, dtype=np.int64)
        local[members] = np.arange(len(members))
        pa, pb = local[ia[bounds[p] : bounds[p + 1]]], local[ib[bounds[p] : bounds[p + 1]]]
        labels = cluster_candidates(
            X[members], photos[members], CandidateGraph((pa, pb)),
            quality=None if quality is None else quality[members], params=whole,
        ).labels
        assigned = labels >= 0
        start[members[assigned]] = labels[assigned] + offset
        offset += int(labels.max()) + 1 if assigned.any() else 0
    between = int(((start[a] != start[b]) | (start[a] < 0)).sum())
    merged = cluster_candidates(
        X, photos, CandidateGraph((a, b), nearest=nearest, start_groups=start), quality=quality, params=whole,
    ).labels
    return PartitionedResult(merged, part, between, int(boundary.sum()), sizes)
