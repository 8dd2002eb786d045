"""Metrics: the vectorised versions agree with the per-face definitions of reference.py."""
from __future__ import annotations

import collections

import numpy as np
import pytest
from facefile_bench.metrics import bcubed_prf, nmi, noise_as_singletons, pairwise_prf


def reference_pairwise(truth, pred):
    def pairs(labels):
        return sum(n * (n - 1) // 2 for n in collections.Counter(labels).values())

    tp, pp, gp = pairs(list(zip(truth, pred, strict=True))), pairs(list(pred)), pairs(list(truth))
    p = tp / pp if pp else 1.0
    r = tp / gp if gp else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def reference_bcubed(truth, pred):
    joint = collections.Counter(zip(truth, pred, strict=True))
    size_t, size_p = collections.Counter(truth), collections.Counter(pred)
    p = float(np.mean([joint[(t, q)] / size_p[q] for t, q in zip(truth, pred, strict=True)]))
    r = float(np.mean([joint[(t, q)] / size_t[t] for t, q in zip(truth, pred, strict=True)]))
    return p, r, 2 * p * r / (p + r)


@pytest.mark.parametrize("seed", range(4))
def test_metrics_match_the_reference_definitions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = np.array([f"id{i}" for i in rng.integers(0, 30, 400)])
    pred = rng.integers(0, 25, 400) * (seed + 1)
    assert np.allclose(pairwise_prf(truth, pred), reference_pairwise(truth.tolist(), pred.tolist()))
    assert np.allclose(bcubed_prf(truth, pred), reference_bcubed(truth.tolist(), pred.tolist()))


def test_nmi_matches_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    truth, pred = rng.integers(0, 12, 300), rng.integers(0, 9, 300)
    assert nmi(truth, pred) == pytest.approx(metrics.normalized_mutual_info_score(truth, pred))
    assert nmi(truth, truth) == pytest.approx(1.0)
    assert nmi([1, 1, 1], [0, 0, 0]) == 1.0


def test_perfect_and_worst_cases() -> None:
    truth = ["a", "a", "b", "c"]
    assert pairwise_prf(truth, [5, 5, 6, 7]) == (1.0, 1.0, 1.0)
    assert bcubed_prf(truth, [5, 5, 6, 7]) == (1.0, 1.0, 1.0)
    assert pairwise_prf(truth, [0, 1, 2, 3]) == (1.0, 0.0, 0.0)  # no pairs predicted


def test_noise_becomes_singletons() -> None:
    labels = noise_as_singletons(np.array([0, -1, 1, -1, 0]))
    assert labels.tolist() == [0, 2, 1, 3, 0]
    assert noise_as_singletons([]).tolist() == []


def test_bcubed_on_ten_thousand_faces_is_fast() -> None:
    import time

    rng = np.random.default_rng(0)
    truth, pred = rng.integers(0, 4000, 10_000), rng.integers(0, 5000, 10_000)
    start = time.perf_counter()
    bcubed_prf(truth, pred)
    pairwise_prf(truth, pred)
    assert time.perf_counter() - start < 0.5


def test_suggestion_and_merge_precision_on_a_tiny_case() -> None:
    from facefile_bench.metrics import majority_identity, merge_precision, suggestion_precision

    # Ann: faces 0-2 (a person) and 3 (unassigned, near Ann); Bob: 4-5 and 6 (unassigned, but
    # nearest Ann's person); Cid: 7-8, a second person of Ann's look, and 9 (no person of his own).
    ann, bob = np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    near = lambda v, e: (v + e) / np.linalg.norm(v + e)  # noqa: E731
    X = np.array([
        near(ann, [0, 0, 0.05]), near(ann, [0, 0, -0.05]), ann, near(ann, [0, 0.1, 0]),
        bob, near(bob, [0, 0, 0.05]), near(ann, [0, 0.3, 0]),
        near(ann, [0, -0.1, 0.1]), near(ann, [0, -0.1, -0.1]), near(ann, [0, 0.05, 0.3]),
    ], dtype=np.float32)
    truth = np.array(["ann"] * 4 + ["bob"] * 3 + ["ann", "ann", "cid"])
    labels = np.array([0, 0, 0, -1, 1, 1, -1, 2, 2, -1])
    photos = np.arange(10)
    assert majority_identity(truth, labels) == {0: "ann", 1: "bob", 2: "ann"}
    from facefile.cluster.suggest import SuggestParams

    loose = SuggestParams(min_similarity=0.5, margin=0.0, min_cohesion=0.0, baseline=0.0)
    p1, shown, right, eligible = suggestion_precision(truth, labels, X, photos, params=loose)
    # Faces 3 and 6 could be right (their identity owns a person); face 9 (cid) cannot, yet it is
    # asked about (nearest an Ann person) and counts as wrong: every shown question counts.
    assert (eligible, shown, right) == (2, 3, 1) and p1 == 1 / 3
    # A person already in the face's photo is never suggested: with both Ann persons in face 3's
    # photo, only Bob is left for it, and he is too far to ask about.
    photos_shared = photos.copy()
    photos_shared[[0, 7]] = photos_shared[3]
    assert suggestion_precision(truth, labels, X, photos_shared, params=loose)[1] == 2
    # A margin over the runner-up: faces torn between two persons are not asked, unless the two
    # are almost surely one person (the two Ann persons are): then the runner-up is no rival.
    strict = SuggestParams(min_similarity=0.5, margin=0.5, min_cohesion=0.0, baseline=0.0)
    assert suggestion_precision(truth, labels, X, photos, params=strict)[1:3] == (3, 1)  # 3, 6, 9: all near Ann
    rivals = SuggestParams(min_similarity=0.5, merge_similarity=1.0, margin=0.5, min_cohesion=0.0, baseline=0.0)
    assert suggestion_precision(truth, labels, X, photos, params=rivals)[1] == 0
    merge = SuggestParams(merge_similarity=0.5, min_cohesion=0.0, baseline=0.0)
    assert merge_precision(truth, labels, X, photos, params=merge) == (1.0, 1, 1, 1)  # persons 0, 2: Ann
    merge = SuggestParams(merge_similarity=-1.0, min_cohesion=0.0, baseline=0.0)
    merge_p, shown, right, true_pairs = merge_precision(truth, labels, X, photos, params=merge)
    assert (shown, right, true_pairs) == (2, 1, 1) and merge_p == 0.5  # Bob is unlike Ann: ratio < 0
    photos_shared = photos.copy()
    photos_shared[7] = photos_shared[0]  # the two Ann persons share a photo: no split to find
    assert merge_precision(truth, labels, X, photos_shared, params=merge)[2:] == (0, 0)
    p1, *counts = suggestion_precision(truth, np.full(10, -1), X, photos, params=loose)
    assert np.isnan(p1) and counts == [0, 0, 0]  # nothing shown: no precision to claim
