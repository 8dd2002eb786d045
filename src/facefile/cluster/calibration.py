"""Thresholds learned from the library itself: an empirical-Bayes calibration of ``ClusterParams``.

A library teaches two things for free. Faces of **one photo** are different people (one person is
never twice in a photo): every pair of them is a *negative*, a sample of the embedder's impostor
similarities on this library's cameras, lighting and people. Faces the user **confirmed** to one
person are *positives*, samples of its genuine similarities. ``calibrate`` fits both
distributions, shrunk toward the embedder's development-set prior (``ScorePrior``) so that a small
library keeps today's thresholds and the estimate sharpens as the library grows.

The statistics
--------------
*Impostor upper tail.* Above an anchor ``u`` (SFace 0.35) impostor similarities have an
exponential tail: ``P(s > t) = p * exp(-(t - u) / tau)``. Among ``m`` negatives, ``k`` exceed
``u`` with total excess ``E``. With conjugate priors worth ``A`` exceedances (a Beta prior on
``p`` with mean ``p0`` and an inverse-gamma prior on ``tau`` with mean ``tau0``) the posterior
means are ``p = (k + A) / (m + A / p0)`` and ``tau = (E + A * tau0) / (k + A)``: the prior's
weight is ``A / p0`` negatives (SFace: 13,500), so a few hundred pairs barely move it.

*Genuine distribution.* Confirmed pairs are modelled as Normal(mu, sigma), shrunk toward the
prior's (mu0, sigma0) with a weight of ``GENUINE_STRENGTH`` pairs (normal-inverse-gamma means).

*Base rate.* How many of all face pairs are same-person pairs matters as much as the two
distributions: a library of 20 people photographed 200 times each (one pair in 20 is genuine) can
link at a far lower similarity than LFW (one pair in 1,100) for the same share of wrong links.
With ``C`` pairs of the library at or above the prior threshold ``L`` and the fitted impostor tail,
``C - I * P_imp(s >= L)`` of them are genuine, which is the share ``S_gen(L)`` of all ``G``
genuine pairs: ``rho = G / I``. It is shrunk in log space toward the prior's ``rho0``, weighted
like the impostor tail (by the number of negatives), since its estimate leans on that tail.

*Threshold.* A pair at similarity ``t`` is one person with posterior odds
``rho * g(t) / f(t)`` (genuine over impostor density). The prior's ``link_similarity`` ``L``
fixes the odds the engine accepts on the development set, ``rho0 * g0(L) / f0(L)``; the calibrated
threshold is the lowest ``t`` at which this library reaches the same odds. With no evidence every
estimate equals its prior and ``t = L`` exactly. The move is bounded to ``MAX_SHIFT_TAILS`` prior
tails either way.

*Library size.* ``ClusterParams.at_size`` lowers thresholds for small libraries by extrapolating
the impostor tail at a fixed base rate. Measured odds already contain the library's size (``rho``
falls as strangers are added), so the calibrated parameters keep only the unmeasured share of that
rule: ``reference_faces`` moves geometrically from the prior's toward the library's face count
with the evidence weight.

Pure and deterministic: no I/O, and the result does not depend on the order of the faces.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from facefile.cluster.params import DLIB_MODEL_ID, SFACE_MODEL_ID, ClusterParams

__all__ = ["Calibration", "ScorePrior", "calibrate", "score_prior"]

# Prior pseudo-exceedances of the impostor tail's level (SFace: worth 20 / 1.48e-3 = 13,500
# negatives) and of its slope: the slope is extrapolated over ~4 tails to the threshold, so its
# noise counts four times, and it is more a property of the embedder than of a library.
TAIL_STRENGTH = 20.0
SLOPE_STRENGTH = 100.0
# Prior pseudo-pairs of the base rate: genuine pairs at or above the threshold (the count the
# library's estimate rests on).
RATE_STRENGTH = 500.0
# Prior pseudo-pairs of the genuine distribution.
GENUINE_STRENGTH = 50.0
# The calibrated threshold stays within this many prior impostor tails of the prior's.
MAX_SHIFT_TAILS = 6.0
# All-pair counts (for the base rate) use at most this many faces, chosen by content.
COUNT_FACES = 6000
# At most this many confirmed faces per person give positive pairs (chosen by content).
POSITIVES_PER_PERSON = 60


@dataclass(frozen=True)
class ScorePrior:
    """An embedder's similarity distributions on the development set (LFW, at most 50 photos each).

    ``anchor``/``exceed``/``tail``: impostor pairs exceed ``anchor`` with probability ``exceed``,
    beyond it e-fold every ``tail``. ``genuine_mean``/``genuine_sd``: same-person pairs.
    ``same_rate``: same-person pairs per different-person pair in the development set.
    """

    anchor: float
    exceed: float
    tail: float
    genuine_mean: float
    genuine_sd: float
    same_rate: float


# Measured on the LFW development identities capped at 50 photos (9,861 faces; 44,485 genuine and
# 48.6 M impostor pairs): the same data ClusterParams' defaults were chosen on.
_PRIORS = {
    SFACE_MODEL_ID: ScorePrior(anchor=0.35, exceed=1.48e-3, tail=0.026, genuine_mean=0.664, genuine_sd=0.1006,
                               same_rate=9.16e-4),
    DLIB_MODEL_ID: ScorePrior(anchor=0.92, exceed=2.30e-3, tail=0.0067, genuine_mean=0.952, genuine_sd=0.0162,
                              same_rate=9.16e-4),
}


def score_prior(model_id: str) -> ScorePrior:
    """The development-set prior of an embedder (``"sface"`` and ``"dlib"`` are accepted too)."""
    key = {"sface": SFACE_MODEL_ID, "dlib": DLIB_MODEL_ID}.get(model_id, model_id)
    if key not in _PRIORS:
        raise ValueError(f"no score prior for model {model_id!r}")
    return _PRIORS[key]


@dataclass(frozen=True)
class Calibration:
    """The calibrated parameters and the evidence behind them.

    ``negatives``: different-person pairs (faces sharing a photo); ``exceedances``: those above the
    prior's anchor. ``positives``: same-person pairs from confirmations. ``exceed``/``tail``:
    posterior impostor tail; ``genuine_mean``/``genuine_sd``: posterior genuine distribution;
    ``same_rate``: posterior same-person pairs per different-person pair (``same_rate_seen``: the
    library's own estimate before shrinkage, None when it could not be made). ``weight``: how much
    the negatives weigh against the prior (0..1); ``rate_weight``: the same for the base rate. ``threshold``: the calibrated
    ``link_similarity``; ``prior_threshold``: the one it replaces.
    """

    params: ClusterParams
    negatives: int
    exceedances: int
    positives: int
    exceed: float
    tail: float
    genuine_mean: float
    genuine_sd: float
    same_rate: float
    same_rate_seen: float | None
    weight: float
    rate_weight: float
    threshold: float
    prior_threshold: float


def calibrate(
    params: ClusterParams,
    embeddings: np.ndarray,
    photo_ids: np.ndarray,
    confirmed: Mapping[int, int] | None = None,
    *,
    model_id: str = SFACE_MODEL_ID,
    base_rate: bool = True,
) -> Calibration:
    """``params`` recalibrated on a library's faces (see the module docstring for the statistics).

    ``embeddings``: (N, d) face embeddings (re-normalised here); ``photo_ids``: (N,) ints, faces of
    one photo are different people; ``confirmed``: face index -> person id the user confirmed.
    ``params`` is the prior (normally ``ClusterParams.for_model(model_id)``); ``model_id`` picks
    the embedder's ``ScorePrior``. ``base_rate=False`` keeps the prior's share of same-person
    pairs: that share is dominated by the persons with most photos, while chance look-alikes
    threaten every person, so on libraries where a few persons hold most photos (families,
    Zipf-sized synthetic libraries) a measured share lowers thresholds too far (BCubed F 0.997 ->
    0.976 on 60,000 Zipf-sized synthetic faces).
    """
    prior = score_prior(model_id)
    # float32, normalised in place: on a million faces a float64 copy alone would be 1 GB.
    X = np.array(embeddings, dtype=np.float32)
    photos = np.asarray(photo_ids, dtype=np.int64)
    if X.ndim != 2 or photos.shape != (len(X),):
        raise ValueError(f"embeddings must be (N, d) and photo_ids (N,), got {X.shape} and {photos.shape}")
    n = len(X)
    if n:
        X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    key = _content_order(X, photos)

    # Impostor tail from the negatives: conjugate posterior means.
    negatives = _pair_sims(X, _negative_pairs(photos, key))
    above = negatives[negatives > prior.anchor] - prior.anchor
    m, k = len(negatives), len(above)
    exceed = (k + TAIL_STRENGTH) / (m + TAIL_STRENGTH / prior.exceed)
    tail = (float(above.sum()) + SLOPE_STRENGTH * prior.tail) / (k + SLOPE_STRENGTH)
    weight = m / (m + TAIL_STRENGTH / prior.exceed)

    # Genuine distribution from the confirmations: normal-inverse-gamma posterior means.
    positives = _pair_sims(X, _positive_pairs(confirmed or {}, photos, key, n))
    g = len(positives)
    genuine_mean, genuine_sd = _genuine(positives, prior)

    # Base rate: genuine pairs among all pairs, from the count of pairs at or above the prior threshold.
    L = params.link_similarity
    seen, support = (_same_rate(X, key, L, prior.anchor, exceed, tail, genuine_mean, genuine_sd)
                     if base_rate else (None, 0.0))
    rate_weight = support / (support + RATE_STRENGTH)
    same_rate = prior.same_rate if seen is None else math.exp(
        rate_weight * math.log(seen) + (1 - rate_weight) * math.log(prior.same_rate))

    threshold = _lowest_threshold(L, prior, same_rate, exceed, tail, genuine_mean, genuine_sd)

    shift = threshold - L
    reference = round(math.exp((1 - rate_weight) * math.log(params.reference_faces) + rate_weight * math.log(max(n, 2))))
    calibrated = replace(
        params,
        link_similarity=threshold,
        single_floor=min(params.single_floor + shift, threshold),
        impostor_tail=round(tail, 5) if params.impostor_tail > 0 else 0.0,
        reference_faces=max(1, reference) if params.impostor_tail > 0 else params.reference_faces,
    )
    if m == 0 and g == 0 and rate_weight == 0:
        calibrated = params  # no evidence at all: exactly the prior
    return Calibration(
        params=calibrated, negatives=m, exceedances=k, positives=g, exceed=exceed, tail=tail,
        genuine_mean=genuine_mean, genuine_sd=genuine_sd, same_rate=same_rate, same_rate_seen=seen,
        weight=weight, rate_weight=rate_weight, threshold=calibrated.link_similarity, prior_threshold=L,
    )


def _genuine(positives: np.ndarray, prior: ScorePrior) -> tuple[float, float]:
    """Mean and spread of same-person similarities: normal-inverse-gamma posterior means."""
    g = len(positives)
    mean_seen = float(positives.mean()) if g else prior.genuine_mean
    genuine_mean = (g * mean_seen + GENUINE_STRENGTH * prior.genuine_mean) / (g + GENUINE_STRENGTH)
    spread = float(((positives - mean_seen) ** 2).sum()) if g else 0.0
    spread += g * GENUINE_STRENGTH / (g + GENUINE_STRENGTH) * (mean_seen - prior.genuine_mean) ** 2
    return genuine_mean, math.sqrt((spread + GENUINE_STRENGTH * prior.genuine_sd**2) / (g + GENUINE_STRENGTH))


def _lowest_threshold(
    L: float, prior: ScorePrior, same_rate: float, exceed: float, tail: float, genuine_mean: float, genuine_sd: float,
) -> float:
    """The lowest threshold at which this library reaches the prior's posterior odds at ``L``."""
    target = _log_odds(L, prior.same_rate, prior.anchor, prior.exceed, prior.tail, prior.genuine_mean,
                       prior.genuine_sd)
    lo, hi = L - MAX_SHIFT_TAILS * prior.tail, L + MAX_SHIFT_TAILS * prior.tail
    grid = np.linspace(lo, hi, 1201)
    odds = _log_odds(grid, same_rate, prior.anchor, exceed, tail, genuine_mean, genuine_sd)
    reached = np.flatnonzero(odds >= target)
    threshold = float(grid[reached[0]]) if len(reached) else hi
    if abs(threshold - L) <= (hi - lo) / 1200:  # within one grid step: the prior itself
        threshold = L
    return round(threshold, 4)


def _log_odds(t, same_rate: float, anchor: float, exceed: float, tail: float, mean: float, sd: float):  # noqa: ANN001, ANN202
    """log(same_rate * genuine density / impostor density) at similarity ``t`` (float or array)."""
    log_genuine = -0.5 * ((t - mean) / sd) ** 2 - math.log(sd)
    log_impostor = math.log(exceed / tail) - (t - anchor) / tail
    return math.log(same_rate) + log_genuine - log_impostor


def _content_order(X: np.ndarray, photos: np.ndarray) -> np.ndarray:
    """Face indices in an order that depends on content only (a fixed projection, then photo)."""
    if not len(X):
        return np.zeros(0, dtype=np.int64)
    from facefile.cluster.engine import row_projection  # the engine's own content key

    projection = row_projection(X)
    # The fine digits of the projection, not the projection itself: faces of one person have close
    # projections, so a prefix of that order would over-sample a few persons; the digits scatter
    # them, and a prefix of this order is a fair sample (as ``_same_rate`` needs).
    scrambled = np.modf(projection * 1e6)[0]
    return np.lexsort((photos, projection, scrambled))


def _negative_pairs(photos: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of faces sharing a photo (indices in content order within each pair)."""
    by_photo: dict[int, list[int]] = {}
    for i in order.tolist():
        by_photo.setdefault(int(photos[i]), []).append(i)
    a, b = [], []
    for faces in by_photo.values():
        for x in range(len(faces)):
            for y in range(x + 1, len(faces)):
                a.append(faces[x])
                b.append(faces[y])
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)


def _positive_pairs(
    confirmed: Mapping[int, int], photos: np.ndarray, order: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of faces confirmed to one person, not sharing a photo; at most
    ``POSITIVES_PER_PERSON`` faces per person (the first in content order)."""
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    by_person: dict[int, list[int]] = {}
    for face, person in confirmed.items():
        if not 0 <= int(face) < n:
            raise ValueError(f"confirmed face {face} outside 0..{n - 1}")
        by_person.setdefault(int(person), []).append(int(face))
    a, b = [], []
    for person in sorted(by_person):
        faces = sorted(by_person[person], key=lambda f: rank[f])[:POSITIVES_PER_PERSON]
        for x in range(len(faces)):
            for y in range(x + 1, len(faces)):
                if photos[faces[x]] != photos[faces[y]]:
                    a.append(faces[x])
                    b.append(faces[y])
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)


def _pair_sims(X: np.ndarray, pairs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    a, b = pairs
    if not len(a):
        return np.zeros(0, dtype=np.float64)
    return np.sort((X[a] * X[b]).sum(axis=1))  # sorted: sums do not depend on input order


def _same_rate(
    X: np.ndarray, order: np.ndarray, at: float, anchor: float, exceed: float, tail: float, mean: float, sd: float
) -> tuple[float | None, float]:
    """Same-person pairs per different-person pair, from the pairs at or above ``at``.

    Counted on at most ``COUNT_FACES`` faces (the first in content order: an unbiased sample of the
    pairs) by blocked products; None when the library is too small to say. Also returns the
    estimated number of genuine pairs at or above ``at`` in the whole library (the support).
    """
    faces = X[order[:COUNT_FACES]].astype(np.float32)
    n = len(faces)
    pairs = n * (n - 1) / 2
    if n < 50:
        return None, 0.0
    count = 0
    step = max(1, (1 << 22) // n)
    for start in range(0, n, step):
        sims = faces[start:start + step] @ faces.T
        rows = np.arange(sims.shape[0])
        upper = np.arange(n)[None, :] > (start + rows)[:, None]
        count += int(((sims >= at) & upper).sum())
    impostor_share = exceed * math.exp(-(at - anchor) / tail)
    genuine_share = 0.5 * math.erfc((at - mean) / (sd * math.sqrt(2)))  # P(genuine >= at)
    above = max(count - pairs * impostor_share, 0.0)  # genuine pairs at or above ``at`` in the sample
    genuine = min(max(above, 0.5) / max(genuine_share, 1e-6), pairs / 2)
    scale = len(X) * (len(X) - 1) / 2 / pairs  # the sample's pairs are this share of all pairs
    return genuine / (pairs - genuine), above * scale
