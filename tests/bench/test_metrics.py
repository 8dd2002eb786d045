"""Metrics: the vectorised versions agree with the per-face definitions of reference.py."""
from __future__ import annotations

import collections

import numpy as np
import pytest

from facefile.bench.metrics import bcubed_prf, nmi, noise_as_singletons, pairwise_prf


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
