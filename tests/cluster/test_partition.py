"""Clustering in parts, then merging across the parts' boundaries (cluster/partition.py)."""
from __future__ import annotations

import numpy as np
from facefile_bench.metrics import bcubed_prf, noise_as_singletons

from facefile.cluster import ClusterParams, cluster_faces
from facefile.cluster.partition import coarse_parts, partitioned_cluster


def _planted(identities: int, per: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(identities, 64))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    truth = np.repeat(np.arange(identities), per)
    X = centres[truth] + rng.normal(scale=0.8 / np.sqrt(64), size=(len(truth), 64))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), truth


def test_partitioned_matches_the_whole_run() -> None:
    X, truth = _planted(120, 8, seed=1)
    photos = np.arange(len(X))
    whole = cluster_faces(X, photos, params=ClusterParams()).labels
    parted = partitioned_cluster(X, photos, params=ClusterParams(), parts=6)
    f_whole = bcubed_prf(truth, noise_as_singletons(whole))[2]
    f_parted = bcubed_prf(truth, noise_as_singletons(parted.labels))[2]
    assert f_whole > 0.95 and abs(f_parted - f_whole) <= 0.01
    assert len(np.unique(parted.part)) == 6 and parted.part_sizes.sum() == len(X)
    # Persons split by a boundary are joined in the merge: some identity spans two parts.
    spans = [len(np.unique(parted.part[truth == k])) for k in range(120)]
    assert max(spans) > 1 and parted.boundary_pairs > 0 and 0 < parted.boundary_faces < len(X)


def test_parts_never_put_two_faces_of_a_photo_together() -> None:
    X, truth = _planted(60, 6, seed=2)
    photos = np.arange(len(X)) // 3  # three different persons per photo
    perm = np.random.default_rng(3).permutation(len(X))
    X, truth = X[perm], truth[perm]
    labels = partitioned_cluster(X, photos, params=ClusterParams(), parts=4).labels
    for photo in np.unique(photos):
        members = labels[(photos == photo) & (labels >= 0)]
        assert len(members) == len(np.unique(members))


def test_coarse_parts_are_deterministic() -> None:
    X, _ = _planted(50, 4, seed=4)
    assert np.array_equal(coarse_parts(X, 5), coarse_parts(X, 5))
