"""cluster.calibrate: thresholds learned from same-photo (different-person) and confirmed pairs."""
from __future__ import annotations

import numpy as np

from facefile.cluster import ClusterParams
from facefile.cluster.calibration import calibrate, score_prior

PRIOR = ClusterParams.for_model("sface")


def photo_pairs(sims: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two-face photos whose faces have exactly the cosine similarities ``sims``, each photo in its
    own random plane (so faces of different photos are near-unrelated)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in sims:
        q, _ = np.linalg.qr(rng.standard_normal((128, 2)))
        a, b = q[:, 0], q[:, 1]
        rows += [a, s * a + np.sqrt(1 - s * s) * b]
    return np.array(rows, np.float32), np.repeat(np.arange(len(sims)), 2)


def impostor_sims(n: int, shift: float, seed: int = 1) -> np.ndarray:
    """Impostor similarities with the prior's tail above its anchor, shifted by ``shift``."""
    prior = score_prior("sface")
    rng = np.random.default_rng(seed)
    bulk = np.minimum(rng.normal(0.05, 0.1, n), prior.anchor)  # the tail comes from below only
    tail = rng.random(n) < prior.exceed
    bulk[tail] = prior.anchor + rng.exponential(prior.tail, tail.sum())
    return np.clip(bulk + shift, -0.9, 0.95)


def test_no_evidence_gives_the_prior_exactly() -> None:
    X = np.eye(5, 8, dtype=np.float32)
    assert calibrate(PRIOR, X, np.arange(5)).params == PRIOR
    assert calibrate(PRIOR, X[:0], np.arange(0)).params == PRIOR


def test_few_pairs_stay_at_the_prior() -> None:
    X, photos = photo_pairs(impostor_sims(100, shift=0.1))
    result = calibrate(PRIOR, X, photos)
    assert result.negatives == 100
    assert abs(result.threshold - PRIOR.link_similarity) < 0.01
    assert result.weight < 0.01


def test_many_pairs_of_a_shifted_impostor_distribution_move_the_threshold_their_way() -> None:
    up = calibrate(PRIOR, *photo_pairs(impostor_sims(40_000, shift=0.05)))
    down = calibrate(PRIOR, *photo_pairs(impostor_sims(40_000, shift=-0.05)))
    same = calibrate(PRIOR, *photo_pairs(impostor_sims(40_000, shift=0.0)))
    assert up.weight > 0.7 and up.exceed > 3 * score_prior("sface").exceed
    assert up.threshold > PRIOR.link_similarity + 0.02
    assert down.threshold < PRIOR.link_similarity - 0.005
    assert abs(same.threshold - PRIOR.link_similarity) < 0.01
    assert down.threshold < same.threshold < up.threshold
    # More evidence, a larger move.
    few = calibrate(PRIOR, *photo_pairs(impostor_sims(4_000, shift=0.05)))
    assert PRIOR.link_similarity < few.threshold < up.threshold


def test_confirmed_pairs_estimate_the_genuine_distribution() -> None:
    # Ten persons of eight faces each, their faces at cosine ~0.5 of each other (lower than the
    # prior's 0.66): confirmations pull the genuine mean down.
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((10, 128))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    X = np.repeat(centres, 8, axis=0) + rng.standard_normal((80, 128)) * 0.0885
    confirmed = {i: i // 8 for i in range(80)}
    result = calibrate(PRIOR, X, np.arange(80), confirmed)
    assert result.positives == 10 * 28
    assert result.genuine_mean < score_prior("sface").genuine_mean - 0.05


def test_deterministic_and_independent_of_input_order() -> None:
    X, photos = photo_pairs(impostor_sims(3_000, shift=0.03))
    confirmed = {0: 5, 2: 5, 4: 6}
    a = calibrate(PRIOR, X, photos, confirmed)
    assert calibrate(PRIOR, X, photos, confirmed) == a
    order = np.random.default_rng(9).permutation(len(X))
    where = {int(old): new for new, old in enumerate(order)}
    b = calibrate(PRIOR, X[order], photos[order], {where[f]: p for f, p in confirmed.items()})
    assert b.params == a.params and b.negatives == a.negatives and b.positives == a.positives
    assert b.threshold == a.threshold


def test_dlib_prior_and_fixed_thresholds() -> None:
    dlib = ClusterParams.for_model("dlib")
    X = np.eye(4, 8, dtype=np.float32)
    assert calibrate(dlib, X, np.arange(4), model_id="dlib").params == dlib
    fixed = ClusterParams(impostor_tail=0.0)
    result = calibrate(fixed, *photo_pairs(impostor_sims(20_000, shift=0.05)))
    assert result.params.impostor_tail == 0.0 and result.threshold > fixed.link_similarity
