"""cluster_faces: planted persons come back, and every user decision and photo rule holds."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from facefile.cluster import Assignment, ClusterParams, Constraints, cluster_faces

from .synthetic import people, same_partition

# The thresholds as set, whatever the number of faces: these tests check mechanisms on a handful
# of faces, where the size-aware threshold (tested below) would otherwise be at its floor.
FIXED = ClusterParams(impostor_tail=0.0)


def clusters_of(result: Assignment) -> list[set[int]]:
    return [set(np.flatnonzero(result.labels == c).tolist()) for c in range(len(result.person_of_cluster))]


def test_recovers_planted_persons_and_leaves_strangers_alone() -> None:
    X, truth = people([12] * 15 + [1] * 40, seed=1)
    result = cluster_faces(X, np.arange(len(X)))
    expected = np.where(np.bincount(truth)[truth] > 1, truth, -1)
    assert same_partition(result.labels, expected)
    assert result.person_of_cluster == [None] * 15
    assert result.labels.dtype == np.int64


def test_clusters_are_numbered_largest_first() -> None:
    X, _ = people([3, 9, 5], seed=2)
    labels = cluster_faces(X, np.arange(len(X))).labels
    assert np.bincount(labels).tolist() == [9, 5, 3]


def test_two_faces_of_one_photo_never_share_a_cluster() -> None:
    X, truth = people([10, 10, 10], seed=3)
    rng = np.random.default_rng(3)
    photos = rng.integers(0, 12, len(X))  # many same-photo pairs, also within each person
    labels = cluster_faces(X, photos, params=FIXED).labels
    for c in set(labels.tolist()) - {-1}:
        members = photos[labels == c]
        assert len(members) == len(set(members.tolist()))
    # The rule costs little: faces of one person still end mostly together.
    assert max(np.bincount(labels[labels >= 0])) >= 6


def test_confirmed_faces_end_together_under_their_person() -> None:
    X, truth = people([8, 8, 8], seed=4)
    a, b = int(np.flatnonzero(truth == 0)[0]), int(np.flatnonzero(truth == 1)[0])
    result = cluster_faces(X, np.arange(len(X)), constraints=Constraints(confirmed={a: 7, b: 7}))
    assert result.labels[a] == result.labels[b] >= 0
    assert result.person_of_cluster[result.labels[a]] == 7


def test_faces_confirmed_to_different_persons_stay_apart() -> None:
    X, truth = people([10, 6], seed=5)
    a, b = (int(i) for i in np.flatnonzero(truth == 0)[:2])
    result = cluster_faces(X, np.arange(len(X)), constraints=Constraints(confirmed={a: 1, b: 2}))
    assert result.labels[a] != result.labels[b]
    assert {result.person_of_cluster[result.labels[a]], result.person_of_cluster[result.labels[b]]} == {1, 2}


def test_a_single_confirmed_face_is_kept_as_its_person() -> None:
    X, truth = people([6, 1], seed=6)
    lone = int(np.flatnonzero(truth == 1)[0])
    result = cluster_faces(X, np.arange(len(X)), constraints=Constraints(confirmed={lone: 3}))
    assert result.labels[lone] >= 0 and result.person_of_cluster[result.labels[lone]] == 3


def test_rejected_face_never_joins_the_confirmed_person() -> None:
    X, truth = people([10, 4], seed=7)
    faces = np.flatnonzero(truth == 0)
    confirmed = {int(f): 5 for f in faces[:3]}
    rejected_face = int(faces[5])
    result = cluster_faces(
        X, np.arange(len(X)), constraints=Constraints(confirmed=confirmed, rejected=[(rejected_face, 5)]),
        params=FIXED,
    )
    person = result.person_of_cluster
    assert result.labels[rejected_face] < 0 or person[result.labels[rejected_face]] != 5
    assert all(result.labels[f] == result.labels[faces[0]] for f in faces if f != rejected_face)


def test_rejected_face_is_dropped_from_a_person_continued_through_previous() -> None:
    X, truth = people([10], seed=8)
    previous = {i: 9 for i in range(10)}
    result = cluster_faces(X, np.arange(10), previous=previous, constraints=Constraints(rejected=[(4, 9)]))
    assert result.labels[4] == -1
    assert result.person_of_cluster == [9]
    assert (np.delete(result.labels, 4) == 0).all()


def test_moving_a_face_to_another_person_moves_only_that_face() -> None:
    X, truth = people([8, 8], seed=14)
    alice, bob = np.flatnonzero(truth == 0), np.flatnonzero(truth == 1)
    previous = {int(f): 1 for f in alice} | {int(f): 2 for f in bob}
    moved = int(alice[0])  # the library records a move as confirmed-to-new + rejected-from-old
    constraints = Constraints(confirmed={moved: 2}, rejected=[(moved, 1)])
    result = cluster_faces(X, np.arange(16), constraints=constraints, previous=previous)
    person = [result.person_of_cluster[c] for c in result.labels]
    assert person[moved] == 2
    assert all(person[f] == 1 for f in alice[1:]) and all(person[f] == 2 for f in bob)


def test_a_curated_person_keeps_its_members_an_uncurated_one_does_not() -> None:
    X, truth = people([8, 8], seed=15)
    carol_like = int(np.flatnonzero(truth == 1)[0])  # last run put one of Carol's faces in Bob
    previous = {int(f): 2 for f in np.flatnonzero(truth == 0)} | {carol_like: 2}
    free = cluster_faces(X, np.arange(16), previous=previous)
    assert free.labels[carol_like] == free.labels[np.flatnonzero(truth == 1)[1]]
    curated = cluster_faces(X, np.arange(16), previous=previous, constraints=Constraints(confirmed={0: 2}))
    assert curated.labels[carol_like] == curated.labels[0]
    assert curated.person_of_cluster[curated.labels[0]] == 2


def test_person_ids_stay_stable_when_photos_are_added() -> None:
    X, truth = people([8, 8, 8, 8], seed=9)
    old = np.flatnonzero(truth < 3)  # persons 0-2 known; person 3 arrives with new photos
    first = cluster_faces(X[old], old)
    ids = {c: 100 + c for c in range(len(first.person_of_cluster))}
    rng = np.random.default_rng(9)
    order = rng.permutation(len(X))  # new faces interleaved, indices renumbered
    position = {int(face): i for i, face in enumerate(order)}
    previous = {position[int(old[i])]: ids[int(c)] for i, c in enumerate(first.labels) if c >= 0}
    second = cluster_faces(X[order], order, previous=previous)
    for i, c in enumerate(first.labels):
        assert second.person_of_cluster[second.labels[position[int(old[i])]]] == ids[int(c)]
    newcomer = second.labels[position[int(np.flatnonzero(truth == 3)[0])]]
    assert second.person_of_cluster[newcomer] is None
    assert sorted(p for p in second.person_of_cluster if p is not None) == [100, 101, 102]


def test_each_previous_person_id_is_used_once() -> None:
    X, truth = people([6, 6], seed=10)
    previous = {i: 42 for i in range(12)}  # last run had both persons as one
    result = cluster_faces(X, np.arange(12), previous=previous)
    assert sorted(result.person_of_cluster, key=str) == [42, None]


def test_shuffled_input_gives_the_same_labels_face_for_face() -> None:
    X, truth = people([15, 9, 6, 3, 1, 1], seed=11, noise=0.085)
    photos = np.arange(len(X)) // 2
    quality = np.linspace(0.1, 1.0, len(X))
    constraints = Constraints(confirmed={0: 1, 20: 2}, rejected=[(3, 1)])
    previous = {5: 1, 16: 2, 30: 3}
    base = cluster_faces(X, photos, quality=quality, constraints=constraints, previous=previous)
    for seed in range(3):
        p = np.random.default_rng(seed).permutation(len(X))
        where = np.empty_like(p)
        where[p] = np.arange(len(p))
        shuffled = cluster_faces(
            X[p],
            photos[p],
            quality=quality[p],
            constraints=Constraints(
                confirmed={int(where[f]): q for f, q in constraints.confirmed.items()},
                rejected=[(int(where[f]), q) for f, q in constraints.rejected],
            ),
            previous={int(where[f]): q for f, q in previous.items()},
        )
        assert np.array_equal(shuffled.labels, base.labels[p])
        assert shuffled.person_of_cluster == base.person_of_cluster


def test_same_input_same_answer() -> None:
    X, _ = people([20, 10, 5], seed=12, noise=0.09)
    first = cluster_faces(X, np.arange(len(X)))
    second = cluster_faces(X.copy(), np.arange(len(X)))
    assert np.array_equal(first.labels, second.labels)
    assert first.person_of_cluster == second.person_of_cluster


def test_low_quality_face_needs_stronger_evidence() -> None:
    X = np.zeros((2, 8), np.float32)
    X[0, 0] = 1.0
    X[1, :2] = 0.47, np.sqrt(1 - 0.47**2)  # similarity 0.47: enough for two sharp faces
    sharp = cluster_faces(X, np.arange(2), quality=np.array([1.0, 0.9]), params=FIXED)
    blurred = cluster_faces(X, np.arange(2), quality=np.array([1.0, 0.0]), params=FIXED)
    unknown = cluster_faces(X, np.arange(2), quality=np.array([1.0, np.nan]), params=FIXED)
    assert sharp.labels.tolist() == unknown.labels.tolist() == [0, 0]
    assert blurred.labels.tolist() == [-1, -1]


def test_empty_input() -> None:
    for X in (np.zeros((0, 128), np.float32), np.zeros((0, 0), np.float32)):
        result = cluster_faces(X, np.zeros(0, np.int64))
        assert result.labels.shape == (0,) and result.person_of_cluster == []


def test_single_face() -> None:
    X, _ = people([1])
    assert cluster_faces(X, np.array([7])).labels.tolist() == [-1]
    confirmed = cluster_faces(X, np.array([7]), constraints=Constraints(confirmed={0: 4}))
    assert confirmed.labels.tolist() == [0] and confirmed.person_of_cluster == [4]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"embeddings": np.zeros(5, np.float32)}, "2-D"),
        ({"photo_ids": np.arange(4)}, "photo_ids must have shape"),
        ({"photo_ids": np.arange(5) + 0.5}, "photo_ids must be integers"),
        ({"embeddings": np.full((5, 8), np.nan, np.float32)}, "NaN"),
        ({"embeddings": np.zeros((5, 8), np.float32)}, "all-zero"),
        ({"quality": np.ones(4)}, "quality must have shape"),
        ({"quality": np.full(5, 1.5)}, r"quality must lie in \[0, 1\]"),
        ({"constraints": Constraints(confirmed={5: 1})}, "face index 5"),
        ({"constraints": Constraints(confirmed={0: -2})}, "person id"),
        ({"constraints": Constraints(rejected=[(0, 1, 2)])}, "pair"),
        ({"previous": {9: 1}}, "previous: face index"),
    ],
)
def test_bad_input_is_refused(kwargs: dict, message: str) -> None:
    X, _ = people([5])
    args = {"embeddings": X, "photo_ids": np.arange(5)} | kwargs
    with pytest.raises(ValueError, match=message):
        cluster_faces(args.pop("embeddings"), args.pop("photo_ids"), **args)


def test_wrong_argument_types_are_refused() -> None:
    X, _ = people([3])
    with pytest.raises(TypeError):
        cluster_faces(X, np.arange(3), params={"link_similarity": 0.5})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cluster_faces(X, np.arange(3), constraints={0: 1})  # type: ignore[arg-type]


def test_small_libraries_get_lower_thresholds_down_to_the_look_alike_floor() -> None:
    params = ClusterParams()
    floor = params.link_similarity - params.evidence_gain
    sizes = [2, 100, 1_000, 3_000, 10_000, 1_000_000]
    singles = [params.at_size(n).link_similarity for n in sizes]
    assert singles == sorted(singles) and singles[0] == pytest.approx(max(floor, params.single_floor))
    assert singles[-2] == singles[-1] == params.link_similarity  # never stricter than as set
    for n in sizes:  # the threshold for large groups never moves
        scaled = params.at_size(n)
        assert scaled.link_similarity - scaled.evidence_gain == pytest.approx(floor)
    assert ClusterParams(impostor_tail=0.0).at_size(100) == ClusterParams(impostor_tail=0.0)


def test_a_pair_alone_links_at_a_lower_similarity_than_among_many_strangers() -> None:
    X = np.zeros((2, 8), np.float32)
    X[0, 0] = 1.0
    X[1, :2] = 0.40, np.sqrt(1 - 0.40**2)  # a chance look-alike among 10,000 faces, not among 2
    assert cluster_faces(X, np.arange(2)).labels.tolist() == [0, 0]
    assert cluster_faces(X, np.arange(2), params=FIXED).labels.tolist() == [-1, -1]


def _two_sided_person(rng: np.random.Generator, per_side: int = 30) -> np.ndarray:
    """A person photographed two ways (say with and without a mask): faces of one side are only
    ~0.42 alike, of different sides ~0.30, yet the sides' centroids agree (cosine ~0.7)."""
    d = 128
    centre = rng.standard_normal(d)
    centre /= np.linalg.norm(centre)
    faces = []
    for _side in range(2):
        offset = rng.standard_normal(d)
        offset -= offset @ centre * centre
        offset /= np.linalg.norm(offset)
        for _ in range(per_side):
            noise = rng.standard_normal(d)
            noise -= noise @ centre * centre
            noise /= np.linalg.norm(noise)
            faces.append(np.sqrt(0.3) * centre + np.sqrt(0.1) * offset + np.sqrt(0.6) * noise)
    X = np.array(faces)
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def test_groups_whose_centroids_agree_merge_in_the_second_phase() -> None:
    rng = np.random.default_rng(0)
    strangers = rng.standard_normal((200, 128))
    strangers /= np.linalg.norm(strangers, axis=1, keepdims=True)
    X = np.vstack([_two_sided_person(rng), _two_sided_person(rng), strangers.astype(np.float32)])
    truth = np.r_[np.repeat([0, 1], 60), np.arange(2, 202)]
    photos = np.arange(len(X))
    off = cluster_faces(X, photos, params=replace(ClusterParams(), centroid_similarity=1.0)).labels
    assert len(np.unique(off[:60])) >= 2 and len(np.unique(off[60:120])) >= 2  # average linkage alone: split
    on = cluster_faces(X, photos, params=ClusterParams()).labels
    assert same_partition(on, np.where(truth < 2, truth, -1))
    # A cannot-link still holds: one photo with a face of each side keeps them apart.
    photos = photos.copy()
    photos[30] = photos[0]
    split = cluster_faces(X, photos, params=ClusterParams()).labels
    assert split[0] != split[30] and len(np.unique(split[:60])) == 2


def _person_with_stragglers(rng: np.random.Generator, main: int = 40) -> tuple[np.ndarray, int]:
    """A person's ``main`` faces ~0.42 alike, three stragglers (masked, say) ~0.33 alike to them,
    ~0.26 to each other, and a stranger ~0.16 alike to them: too little for average linkage to take
    any of them in. Returns the faces and the stranger's row (the last)."""
    d = 128
    centre = rng.standard_normal(d)
    centre /= np.linalg.norm(centre)

    def around(weight: float) -> np.ndarray:
        noise = rng.standard_normal(d)
        noise -= noise @ centre * centre
        noise /= np.linalg.norm(noise)
        return np.sqrt(weight) * centre + np.sqrt(1 - weight) * noise

    faces = [around(0.42) for _ in range(main)] + [around(0.26) for _ in range(3)] + [around(0.06)]
    return np.array(faces, dtype=np.float32), main + 3


def test_small_groups_join_the_person_their_nearest_faces_are_in() -> None:
    rng = np.random.default_rng(3)
    person, stranger = _person_with_stragglers(rng)
    others = rng.standard_normal((150, 128)).astype(np.float32)
    others /= np.linalg.norm(others, axis=1, keepdims=True)
    X = np.vstack([person, others])
    photos = np.arange(len(X))
    stragglers = [40, 41, 42]
    off = cluster_faces(X, photos, params=replace(ClusterParams(), fragment_size=0)).labels
    assert (off[stragglers] == -1).all() and len(np.unique(off[:40])) == 1
    on = cluster_faces(X, photos).labels
    assert (on[stragglers] == on[0]).all()
    assert on[stranger] == -1  # its nearest faces are the person's too, but it is too unlike them
    assert (on[44:] == -1).all()
    # A cannot-link holds: a straggler in one photo with a face of the person stays out.
    photos = photos.copy()
    photos[41] = photos[5]
    held = cluster_faces(X, photos).labels
    assert held[41] == -1 and held[40] == held[0]
    # A face of poor quality waits for review rather than being voted in.
    quality = np.ones(len(X))
    quality[42] = 0.1
    poor = cluster_faces(X, np.arange(len(X)), quality=quality).labels
    assert poor[42] == -1 and poor[40] == poor[0]


def test_the_vote_also_runs_on_given_pairs_with_their_nearest_faces() -> None:
    from facefile.cluster.engine import CandidateGraph, cluster_candidates, vote_buffer
    from facefile.cluster.graph import knn_edges

    rng = np.random.default_rng(3)
    person, _ = _person_with_stragglers(rng)
    others = rng.standard_normal((150, 128)).astype(np.float32)
    X = np.vstack([person, others / np.linalg.norm(others, axis=1, keepdims=True)])
    photos = np.arange(len(X))
    params = ClusterParams().at_size(len(X))
    nearest = vote_buffer(len(X), params)
    a, b, _ = knn_edges(X, params.neighbors, params.link_similarity - params.evidence_gain, nearest=nearest)
    shuffle = rng.permutation(len(X))  # given in another order than the engine's own
    back = np.argsort(shuffle)
    graph = CandidateGraph((back[a], back[b]), nearest=np.where(nearest >= 0, back[np.maximum(nearest, 0)], -1)[shuffle])
    given = cluster_candidates(X[shuffle], photos[shuffle], graph, params=params).labels
    assert same_partition(given[back], cluster_faces(X, photos, params=params).labels)
    assert (given[back][[40, 41, 42]] == given[back][0]).all()
