"""Review suggestions: face -> person ranking, look-alike groups, merge candidates. Pure, synthetic."""
from __future__ import annotations

import numpy as np
import pytest

from facefile.cluster.suggest import PersonIndex, PersonMatch, SuggestParams, similar_faces

from .synthetic import people


def brute_force_score(query: np.ndarray, members: np.ndarray, nearest: int) -> float:
    sims = np.sort(members @ query)[::-1]
    return float(sims[:nearest].mean())


def test_scores_are_the_mean_of_the_nearest_members() -> None:
    X, truth = people([7, 1, 4, 2], seed=3)
    queries, _ = people([5], seed=9)
    index = PersonIndex(X, truth + 100, nearest=3)
    scores = index.scores(queries)
    assert scores.shape == (5, 4) and index.person_ids.tolist() == [100, 101, 102, 103]
    for q in range(5):
        for p in range(4):
            expected = brute_force_score(queries[q], X[truth == p], 3)
            assert scores[q, p] == pytest.approx(expected, abs=1e-5)


def test_exact_ties_count_once_each() -> None:
    v = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)  # two identical faces
    index = PersonIndex(v, np.array([1, 1, 1]), nearest=3)
    q = np.array([0.6, 0.8], dtype=np.float32)
    assert index.scores(q)[0, 0] == pytest.approx((0.6 + 0.6 + 0.8) / 3, abs=1e-6)


def test_a_face_is_matched_to_its_own_person_first() -> None:
    X, truth = people([6, 6, 6, 6], seed=1)
    index = PersonIndex(X[1:], truth[1:] * 10)  # face 0 is the unassigned one, of person 0
    ranked = index.rank(X[0], min_similarity=0.3)
    assert ranked[0].person_id == 0 and ranked[0].similarity > 0.4
    assert [m.person_id for m in ranked] == [0]  # the others are strangers, below the threshold


def test_excluded_persons_are_never_suggested() -> None:
    X, truth = people([6, 6], seed=2)
    index = PersonIndex(X[1:], truth[1:])
    assert index.rank(X[0], exclude={0}, min_similarity=-1.0) == [
        PersonMatch(1, round(float(index.scores(X[0])[0, 1]), 3))
    ]
    persons, scores = index.best(X[:1], exclude=[{0, 1}])
    assert persons.tolist() == [-1] and np.isneginf(scores[0])


def test_best_matches_rank_for_many_queries_and_is_order_independent() -> None:
    X, truth = people([5, 5, 5, 5, 5], seed=4)
    queries, _ = people([3, 3], seed=5)
    index = PersonIndex(X, truth)
    persons, _ = index.best(queries)
    assert persons.tolist() == [index.rank(q, min_similarity=-1.0)[0].person_id for q in queries]
    shuffled = np.random.default_rng(0).permutation(len(X))
    again, _ = PersonIndex(X[shuffled], truth[shuffled]).best(queries)
    assert again.tolist() == persons.tolist()


def test_scores_in_blocks_equal_scores_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    X, truth = people([4, 3, 5], seed=6)
    queries, _ = people([9], seed=7)
    index = PersonIndex(X, truth)
    whole = index.scores(queries)
    monkeypatch.setattr("facefile.cluster.suggest._BLOCK_CELLS", len(X) * 2)  # 2 queries per block
    assert np.allclose(index.scores(queries), whole)


def test_merge_candidates_are_average_link_pairs() -> None:
    # Persons 1 and 2 are one planted identity split in two; person 3 is someone else.
    X, truth = people([8, 6], seed=8)
    persons = np.where(truth == 0, np.where(np.arange(len(truth)) % 2 == 0, 1, 2), 3)
    index = PersonIndex(X, persons)
    found = index.merges(min_similarity=0.3)
    a, b = X[persons == 1], X[persons == 2]
    assert [(m.keep, m.other, m.similarity) for m in found] == [(1, 2, round(float((a @ b.T).mean()), 3))]
    assert found[0].cohesion > 0.9  # two random halves of one identity: as alike across as within
    assert index.merges(min_similarity=0.3, dismissed=[(2, 1)]) == []


def test_look_alikes_are_not_merge_candidates_but_a_split_person_is() -> None:
    # Two tight persons of two people who look alike (centres at cosine 0.6): more
    # similar on average than the two loose halves of a third person, yet far more alike within
    # themselves than across. Only the split is suggested, however low the similarity floor.
    rng = np.random.default_rng(12)
    d = 64
    def person(centre: np.ndarray, n: int, spread: float) -> np.ndarray:
        v = centre + spread * rng.standard_normal((n, d)) / np.sqrt(d)
        return v / np.linalg.norm(v, axis=1, keepdims=True)
    base = rng.standard_normal(d)
    base /= np.linalg.norm(base)
    twist = rng.standard_normal(d)
    twist -= (twist @ base) * base
    twist /= np.linalg.norm(twist)
    sibling = 0.6 * base + 0.8 * twist  # cosine 0.6 with base
    third = rng.standard_normal(d)
    third /= np.linalg.norm(third)
    X = np.vstack([person(base, 6, 0.5), person(sibling, 6, 0.5), person(third, 12, 1.1)])
    persons = np.repeat([1, 2, 3, 4], [6, 6, 6, 6])
    index = PersonIndex(X.astype(np.float32), persons)
    means = index.means
    assert means[0] @ means[1] > means[2] @ means[3]  # raw similarity would rank the look-alikes first
    found = index.merges(min_similarity=0.0, min_cohesion=0.75, baseline=0.0)
    assert [(m.keep, m.other) for m in found] == [(3, 4)]
    assert found[0].cohesion >= 0.75


def test_cohesion_is_the_mean_similarity_of_a_persons_face_pairs() -> None:
    X, truth = people([4, 1, 3], seed=13)
    index = PersonIndex(X, truth)
    for p, members in enumerate([X[truth == 0], None, X[truth == 2]]):
        if members is None:
            continue
        sims = members @ members.T
        n = len(members)
        assert index.cohesion[p] == pytest.approx((sims.sum() - np.trace(sims)) / (n * (n - 1)), abs=1e-5)
    assert index.cohesion[1] == pytest.approx(np.median(index.cohesion[[0, 2]]))  # one face: no pairs


def test_suggest_asks_only_with_a_margin_over_the_runner_up() -> None:
    X, truth = people([6, 6, 6], seed=14)
    index = PersonIndex(X[1:], truth[1:])
    loose = SuggestParams(min_similarity=0.0, margin=0.0, min_cohesion=0.0, baseline=0.0)
    persons, scores = index.suggest(X[:1], params=loose)
    assert persons.tolist() == [0] and scores[0] == pytest.approx(index.scores(X[:1]).max())
    every = index.scores(X[:1])[0]
    gap = float(np.sort(every)[-1] - np.sort(every)[-2])
    strict = SuggestParams(min_similarity=0.0, margin=min(2.0, gap + 0.01), min_cohesion=0.0, baseline=0.0)
    assert index.suggest(X[:1], params=strict)[0].tolist() == [-1]
    # A face halfway between two persons is never asked about, whatever its similarity.
    mid = X[truth == 1].mean(axis=0) + X[truth == 2].mean(axis=0)
    mid = (mid / np.linalg.norm(mid))[None].astype(np.float32)
    assert index.suggest(mid, params=SuggestParams(min_similarity=0.0, margin=0.05, min_cohesion=0.0))[0].tolist() == [-1]
    # Excluded persons are never suggested; with every person excluded nobody is.
    assert index.suggest(X[:1], exclude=[{0}], params=loose)[0].tolist() != [0]
    assert index.suggest(X[:1], exclude=[{0, 1, 2}], params=loose)[0].tolist() == [-1]


def test_suggest_asks_only_when_the_face_is_as_close_as_the_persons_own_faces() -> None:
    X, truth = people([6, 6], seed=15)
    index = PersonIndex(X[1:], truth[1:])
    score = float(index.scores(X[:1])[0].max())
    ratio = float(index.cohesion_ratio(np.array([score]), np.array([0]), baseline=0.0)[0])
    at = dict(min_similarity=0.0, margin=0.0, baseline=0.0)
    assert index.suggest(X[:1], params=SuggestParams(face_cohesion=ratio - 0.01, **at))[0].tolist() == [0]
    assert index.suggest(X[:1], params=SuggestParams(face_cohesion=ratio + 0.01, **at))[0].tolist() == [-1]


def test_persons_seen_in_one_photo_are_never_merge_candidates() -> None:
    X, truth = people([8], seed=10)
    persons = np.where(np.arange(8) < 4, 1, 2)
    photos = np.arange(8)
    assert len(PersonIndex(X, persons, photos=photos).merges(min_similarity=0.3)) == 1
    photos[5] = photos[0]  # a face of person 2 shares a photo with a face of person 1
    assert PersonIndex(X, persons, photos=photos).merges(min_similarity=0.3) == []


def test_similar_faces_groups_look_alikes_one_per_photo() -> None:
    X, truth = people([5, 5], seed=11)
    photos = np.arange(10)
    photos[3] = photos[1]  # two faces of person 0 in one photo: only the more similar joins
    group = similar_faces(0, X, photos=photos, min_similarity=0.4)
    assert group[0] == 0 and set(group) <= {0, 1, 2, 3, 4} and len(group) == 4
    sims = X[group[1:]] @ X[0]
    assert list(sims) == sorted(sims, reverse=True)
    assert similar_faces(0, X, min_similarity=0.4, limit=2) == group[:2]


def test_params_follow_the_engine() -> None:
    sface = SuggestParams.for_model("opencv-sface-2021dec")
    dlib = SuggestParams.for_model("dlib-resnet-v1")
    assert sface.min_similarity == sface.group_similarity == 0.313 and sface.merge_similarity == 0.3
    assert dlib.min_similarity > 0.9
    assert sface.margin == 0.078 and dlib.margin == 0.0201  # three impostor tails of each embedder
    assert sface.baseline < sface.merge_similarity and dlib.baseline < dlib.merge_similarity
    with pytest.raises(ValueError):
        SuggestParams(nearest=0)
    with pytest.raises(ValueError):
        SuggestParams(min_similarity=2.0)


def test_empty_index_suggests_nothing() -> None:
    index = PersonIndex(np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    q = np.ones(4, np.float32) / 2
    assert index.rank(q) == [] and index.merges() == []
    persons, _ = index.best(q[None])
    assert persons.tolist() == [-1]
    assert index.suggest(q[None])[0].tolist() == [-1]
