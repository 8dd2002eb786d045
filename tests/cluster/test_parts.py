"""The engine's parts: parameters, the neighbour graph, exact average linkage, person ids."""
from __future__ import annotations

import numpy as np
import pytest

from facefile.cluster import ClusterParams, cluster_faces
from facefile.cluster.graph import knn_edges
from facefile.cluster.person_ids import continue_persons

from .synthetic import people, same_partition


def test_params_for_each_embedder() -> None:
    assert ClusterParams.for_model("opencv-sface-2021dec") == ClusterParams()
    dlib = ClusterParams.for_model("dlib-resnet-v1")
    assert dlib.link_similarity > ClusterParams().link_similarity
    with pytest.raises(ValueError, match="no clustering parameters"):
        ClusterParams.for_model("arcface")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"link_similarity": 1.0},
        {"link_similarity": float("nan")},
        {"link_similarity": "0.5"},
        {"evidence_gain": -0.1},
        {"quality_margin": 2.0},
        {"neighbors": 0},
        {"neighbors": 2.5},
        {"min_person_size": True},
        {"fragment_size": -1},
        {"neighbour_share": 0.0},
        {"cohesion_ratio": float("inf")},
        {"impostor_mean": 1.0},
    ],
)
def test_params_are_validated(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ClusterParams(**kwargs)


def test_knn_edges_match_brute_force() -> None:
    X, _ = people([7, 5, 4, 1], seed=20, noise=0.2)
    k, floor = 4, 0.05
    a, b, sims = knn_edges(X, k, floor)
    S = X.astype(np.float64) @ X.T.astype(np.float64)
    np.fill_diagonal(S, -np.inf)
    expected = set()
    for i in range(len(X)):
        for j in np.argsort(-S[i])[:k]:
            if S[i, j] >= floor:
                expected.add((min(i, j), max(i, j)))
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == expected
    assert np.allclose(sims, S[a, b])
    assert (a < b).all()


def test_faiss_finds_the_same_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("faiss")
    from facefile.cluster import graph

    X, _ = people([30, 20, 10, 5] + [1] * 20, seed=22, noise=0.1)
    numpy_edges = knn_edges(X, 6, 0.2)
    monkeypatch.setattr(graph, "FAISS_MIN_FACES", 0)
    faiss_edges = knn_edges(X, 6, 0.2)
    for ours, theirs in zip(numpy_edges, faiss_edges, strict=True):
        assert np.array_equal(ours, theirs)


@pytest.mark.parametrize("search", ["numpy", "faiss", "ivf"])
def test_nearest_faces_whatever_their_similarity(search: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from facefile.cluster import graph

    X, _ = people([6, 4, 3] + [1] * 12, seed=23, noise=0.3)
    if search != "numpy":
        pytest.importorskip("faiss")
        monkeypatch.setattr(graph, "FAISS_MIN_FACES", 0)
        # An inverted file of one cell searches everything: exact, by the approximate path.
        monkeypatch.setattr(graph, "IVF_MIN_FACES", 0 if search == "ivf" else 10**9)
        monkeypatch.setattr(graph, "IVF_FACES_PER_CELL", 10**6)
        monkeypatch.setattr(graph, "IVF_TRAIN_PER_CELL", 1)
    nearest = np.empty((len(X), 3), dtype=np.int32)
    knn_edges(X, 5, floor=0.99, nearest=nearest)  # the floor leaves no edge, not the nearest
    S = X.astype(np.float64) @ X.T.astype(np.float64)
    np.fill_diagonal(S, -np.inf)
    for i in range(len(X)):
        assert set(nearest[i].tolist()) == set(np.argsort(-S[i])[:3].tolist())
    with pytest.raises(ValueError, match="nearest"):
        knn_edges(X, 2, nearest=np.empty((len(X), 3), dtype=np.int32))


def test_knn_edges_of_tiny_inputs() -> None:
    X, _ = people([1])
    assert all(len(part) == 0 for part in knn_edges(X, 5))


def test_engine_is_exact_average_linkage_when_the_graph_is_complete() -> None:
    from scipy.cluster.hierarchy import fcluster, linkage

    X, _ = people([9, 7, 6, 4, 2, 1, 1], seed=21, noise=0.1)
    threshold = 0.3
    params = ClusterParams(link_similarity=threshold, evidence_gain=0.0, neighbors=len(X), min_person_size=1)
    labels = cluster_faces(X, np.arange(len(X)), params=params).labels
    tree = linkage(X.astype(np.float64), method="average", metric="cosine")
    expected = fcluster(tree, t=1 - threshold, criterion="distance")
    assert same_partition(labels, expected)


def test_continue_persons_prefers_confirmations_then_overlap() -> None:
    labels = np.array([0, 0, 0, 1, 1, 2, -1])
    confirmed = np.array([-1, -1, -1, -1, 8, -1, -1])
    previous = {0: 5, 1: 5, 2: 8, 3: 5, 5: 6, 6: 6}
    # cluster 1 is 8 (confirmed); 5 goes to cluster 0 (two faces), 6 to cluster 2.
    assert continue_persons(labels, np.arange(3), confirmed, previous) == [5, 8, 6]


def test_continue_persons_breaks_ties_by_cluster_then_older_person() -> None:
    labels = np.array([0, 1, 1])
    previous = {0: 4, 1: 3, 2: 4}
    # Three overlaps of one face each: the first cluster picks first (4, the only id it saw), then
    # cluster 1 takes 3.
    assert continue_persons(labels, np.arange(2), np.full(3, -1), previous) == [4, 3]
