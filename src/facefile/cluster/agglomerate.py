"""Constrained average-link agglomeration over a sparse graph, exact and near-linear.

Average linkage on cosine similarity has a closed form: for groups A and B of unit vectors,
the mean similarity over all cross pairs is ``(sum_A . sum_B) / (|A| |B|)``. Keeping one sum vector
per group, the linkage of any two groups costs one dot product, so the classic algorithm runs over
the pairs of groups linked by the k-nearest-neighbour graph, best pair first from a heap, without
an N x N matrix. Before every merge the cannot-links are checked: two faces of one photo, faces
tied to different persons, a face rejected from a person that a face of the other group belongs to.
A second phase then joins groups whose centroids agree (``ClusterParams.centroid_similarity``), and
a last one lets small groups join the person most of their nearest faces belong to
(``ClusterParams.fragment_size``).
"""
from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from facefile.cluster.cohesion import cohesion_ratio, mean_pair_similarity
from facefile.cluster.constraints import FaceConstraints
from facefile.cluster.graph import neighbours_of, pair_similarity, unique_keys
from facefile.cluster.params import ClusterParams

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

__all__ = ["Faces", "average_link", "link_margin"]

_CHUNK = 8192  # group pairs scored at once: bounds the temporary (chunk x d) arrays
# Each group keeps only its best-scoring neighbouring groups (by margin, at its last scoring) plus
# the neighbours it gains by merging, which are scored on arrival. A neighbour outside the kept
# list can only become a group's best partner by changing (then it re-scores the group from its
# own side) or by the group growing past its kept partners, which its new members' neighbours
# (appended on every merge) cover. Without the cap a person of tens of thousands of faces would
# re-score thousands of pending neighbours on every one of its merges: quadratic in its size.
# On 200,000 synthetic faces keeping 64 gave the same persons as keeping all.
PARTNERS_KEPT = 64
CENTROID_NEIGHBOURS = 10  # candidate partners per group in the centroid phase
NEIGHBOUR_VOTES = 10  # nearest faces each face of a small group counts in the neighbour vote
NEIGHBOUR_ROUNDS = 5  # the vote is repeated while it merges, at most this many times
_NONE: frozenset[int] = frozenset()  # the one shared empty set (never written to)


@dataclass(frozen=True)
class Faces:
    """The engine's input after validation, in canonical order (see ``engine``)."""

    vectors: np.ndarray  # (N, d) float32, unit rows
    photo: np.ndarray  # (N,) int64
    quality: np.ndarray  # (N,) float64 in [0, 1]; 1 where unknown
    constraints: FaceConstraints


class _Groups:
    """Union-find over faces with the per-group state the merge rule needs."""

    def __init__(self, faces: Faces) -> None:
        n = len(faces.vectors)
        fc = faces.constraints
        self.parent = np.arange(n, dtype=np.int64)
        # Sum vectors in float32: one group's partners are gathered on every merge, and a million
        # faces' sums take 0.5 GB. Summing up to 10^5 unit vectors this way is off by ~1e-5 in a
        # mean similarity, far below any threshold's precision; the arithmetic is the same in any
        # input order (canonical order), so results stay deterministic.
        # The sums start as the faces' own vectors and take over their buffer: the engine's
        # vectors (its private, reordered copy) are not read again once the groups exist, and a
        # million of them are 0.5 GB.
        self.sums = faces.vectors if faces.vectors.dtype == np.float32 else faces.vectors.astype(np.float32)
        self.mark = np.full(n, -1, dtype=np.int64)  # scratch for score_neighbours(); -1 = not marked
        self.size = np.ones(n, dtype=np.int64)
        self.best_quality = faces.quality.astype(np.float64).copy()
        self.person = fc.tied.copy()  # the person the group is tied to, or -1
        # Photos matter only where a photo holds several faces: every other face shares one empty
        # set (never mutated, see _union), which saves a set object per face on large libraries.
        _, inverse, counts = np.unique(faces.photo, return_inverse=True, return_counts=True)
        shared = counts[inverse] > 1
        self.photos: list[AbstractSet[int]] = [
            {int(p)} if s else _NONE for p, s in zip(faces.photo.tolist(), shared.tolist(), strict=True)
        ]
        self.rejects: dict[int, set[int]] = {f: set(p) for f, p in fc.rejected.items()}
        # Persons the group's faces belong to (tied, or in the last run), for rejection checks.
        self.known_as: dict[int, set[int]] = {}
        for face in np.flatnonzero((fc.tied >= 0) | (fc.previous >= 0)):
            persons = {int(fc.tied[face]), int(fc.previous[face])} - {-1} - fc.rejected.get(int(face), set())
            if persons:
                self.known_as[int(face)] = persons
        self.version = np.zeros(n, dtype=np.int64)  # bumped on every change; -1 once merged away

    def roots(self, items: np.ndarray) -> np.ndarray:
        """The group of each face (vectorised find with path compression)."""
        r = self.parent[items]
        while True:
            up = self.parent[r]
            if np.array_equal(up, r):
                break
            r = up
        self.parent[items] = r
        return r

    def compatible(self, a: int, b: int) -> bool:
        """May groups a and b become one person without breaking a constraint?"""
        pa, pb = int(self.person[a]), int(self.person[b])
        if pa >= 0 and pb >= 0 and pa != pb:
            return False
        if not self.rejects.get(a, _NONE).isdisjoint(self.known_as.get(b, _NONE)):
            return False
        if not self.rejects.get(b, _NONE).isdisjoint(self.known_as.get(a, _NONE)):
            return False
        return self.photos[a].isdisjoint(self.photos[b])

    def merge(self, a: int, b: int) -> int:
        """Merge b into a or a into b (the larger survives); returns the surviving group."""
        if (self.size[b], -b) > (self.size[a], -a):
            a, b = b, a
        self.parent[b] = a
        self.sums[a] += self.sums[b]
        self.size[a] += self.size[b]
        self.best_quality[a] = max(self.best_quality[a], self.best_quality[b])
        if self.person[a] < 0:
            self.person[a] = self.person[b]
        self.photos[a] = _union(self.photos[a], self.photos[b])
        self.photos[b] = _NONE
        for sets in (self.rejects, self.known_as):
            if b in sets:
                merged = _union(sets.get(a, set()), sets.pop(b))
                assert isinstance(merged, set)  # these dicts hold real sets only
                sets[a] = merged
        self.version[a] += 1
        self.version[b] = -1
        return a


class _Heap:
    """The merge loop's queue of (-margin, x, y, version of x, version of y), smallest first, as
    heapq would keep those tuples; its pushes and pops are compiled (``scoring.heap_push``)."""

    def __init__(self, capacity: int) -> None:
        self.keys = np.empty(max(16, capacity), dtype=np.float64)
        self.items = np.empty((max(16, capacity), 4), dtype=np.int64)
        self.size = 0

    def push(self, key: float, x: int, y: int, vx: int, vy: int) -> None:
        if self.size == len(self.keys):
            self.keys = np.concatenate([self.keys, np.empty_like(self.keys)])
            self.items = np.concatenate([self.items, np.empty_like(self.items)])
        self.size = _scoring().heap_push(self.keys, self.items, self.size, key, x, y, vx, vy)

    def pop_live(self, version: np.ndarray) -> tuple[int, int, int, int]:
        """The best entry whose x has not changed since it was queued: (x, y, vx, vy), x = -1
        when none is left (entries of changed groups are dropped on the way)."""
        self.size, x, y, vx, vy = _scoring().heap_pop_live(self.keys, self.items, self.size, version)
        return x, y, vx, vy


def _union(x: AbstractSet[int], y: AbstractSet[int]) -> AbstractSet[int]:
    """x | y, reusing the larger set (merging small into large keeps merges cheap overall). An
    empty side returns the other unchanged, so the shared empty set is never written to."""
    small, large = (x, y) if len(x) < len(y) else (y, x)
    if not small:
        return large
    assert isinstance(large, set)
    large |= small
    return large


def _margins(groups: _Groups, a: np.ndarray, b: np.ndarray, params: ClusterParams) -> np.ndarray:
    """How far the average link of each group pair (a[i], b[i]) clears its threshold."""
    link = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), _CHUNK):
        part = slice(start, start + _CHUNK)
        link[part] = (groups.sums[a[part]] * groups.sums[b[part]]).sum(axis=1)
    return _clearance(groups, link, a, b, params)


def _clearance(
    groups: _Groups, dot: np.ndarray, a: np.ndarray | np.int64, b: np.ndarray, params: ClusterParams
) -> np.ndarray:
    """Average link minus threshold, from the dot products of the groups' sum vectors."""
    size_a, size_b = groups.size[a].astype(np.float64), groups.size[b].astype(np.float64)
    return link_margin(dot / (size_a * size_b), size_a, size_b, groups.best_quality[a], groups.best_quality[b], params)


def link_margin(
    link: np.ndarray, size_a: np.ndarray, size_b: np.ndarray, quality_a: np.ndarray, quality_b: np.ndarray,
    params: ClusterParams,
) -> np.ndarray:
    """How far the average link of groups of ``size_a`` and ``size_b`` faces (best face qualities
    ``quality_a``, ``quality_b``) clears its threshold; two groups may merge when this is >= 0.

    The threshold starts at ``link_similarity`` for two single faces. It drops for larger groups,
    whose mean similarity averages many pairs, by up to ``evidence_gain``; it rises when the worse
    of the two groups has no face of good quality (a group is as good as its best face): a tiny or
    blurred face must look more alike to join. See ``scoring.pair_margin``.
    """
    return np.asarray(_scoring().pair_margin(
        np.asarray(link, dtype=np.float64), np.asarray(size_a, dtype=np.float64),
        np.asarray(size_b, dtype=np.float64), np.asarray(quality_a, dtype=np.float64),
        np.asarray(quality_b, dtype=np.float64), *_rule(params),
    ))


def _scoring() -> ModuleType:
    """The compiled kernels, imported on first use: loading numba takes half a second, which
    every scan worker process (they import this package, never cluster) would pay at start."""
    from facefile.cluster import scoring

    return scoring


def _rule(params: ClusterParams) -> tuple[float, float, float]:
    """The merge rule's constants as ``pair_margin`` takes them: floor, gain, quality margin."""
    return (params.link_similarity - params.evidence_gain, params.evidence_gain, params.quality_margin)


def average_link(
    faces: Faces, edges: tuple[np.ndarray, np.ndarray, np.ndarray | None] | list[np.ndarray | None],
    params: ClusterParams,
    start: np.ndarray | None = None, nearest: np.ndarray | None = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> np.ndarray:
    """Group faces by constrained average linkage; returns the group id (a face index) of each face.

    ``start``: optional group label per face (-1: none); faces sharing a label begin as one group
    (where the constraints allow), as after a clustering of part of the library. ``edges`` given
    as a list is emptied (the arrays are freed as soon as they are read). ``nearest``: (N, v) each
    face's nearest other faces (-1: none), for the neighbour vote; ``progress``: as the engine's."""
    n = len(faces.vectors)
    groups = _Groups(faces)
    _seed_groups(groups, faces, start)
    ra, rb = _group_pairs(groups, edges, n)
    # int32 where it fits: the adjacency lists hold twice as many entries as there are edges.
    index_type = np.int32 if n < 2**31 else np.int64
    adjacency = _adjacency(ra, rb, n, index_type)
    pairs = [ra, rb]
    del ra, rb
    heap = _first_heap(groups, adjacency, pairs, params, index_type)
    links = 0
    while True:
        # Entries of groups x that merged since are skipped: x is gone, or the merged group has
        # its own entry.
        x, y, vx, vy = heap.pop_live(groups.version)
        if x < 0:
            break
        if groups.version[y] != vy:
            _push_best_partner(heap, groups, adjacency, x, params)  # y changed: re-score x
            continue
        kept = groups.merge(x, y)
        gone = y if kept == x else x
        adjacency[kept] = np.concatenate([adjacency[kept], adjacency[gone]])
        adjacency[gone] = adjacency[gone][:0]
        _push_best_partner(heap, groups, adjacency, kept, params)
        links += 1
        if progress is not None and links % 256 == 0:
            progress("Linking faces", links, None)
    del adjacency, heap
    _merge_by_centroid(groups, params)
    if nearest is not None:
        _join_by_neighbours(groups, nearest, params)
    return groups.roots(np.arange(n, dtype=np.int64))


def _seed_groups(groups: _Groups, faces: Faces, start: np.ndarray | None) -> None:
    """Must-links first: the faces tied to each person start as one group. A user may confirm two
    faces of one photo to one person (a mirror, a photo of a photo): the user's word wins. Then
    the ``start`` groups, where the constraints allow."""
    tied = faces.constraints.tied
    first_of_person: dict[int, int] = {}
    for face in np.flatnonzero(tied >= 0):
        pid = int(tied[face])
        if pid in first_of_person:
            groups.merge(int(groups.roots(np.array([first_of_person[pid]]))[0]), int(face))
        else:
            first_of_person[pid] = int(face)
    if start is None:
        return
    first_of_group: dict[int, int] = {}
    for face_index in np.flatnonzero(start >= 0).tolist():
        label = int(start[face_index])
        if label not in first_of_group:
            first_of_group[label] = face_index
            continue
        x = int(groups.roots(np.array([first_of_group[label]]))[0])
        y = int(groups.roots(np.array([face_index]))[0])
        if x != y and groups.compatible(x, y):
            groups.merge(x, y)


def _group_pairs(
    groups: _Groups, edges: tuple[np.ndarray, np.ndarray, np.ndarray | None] | list[np.ndarray | None], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The face edges as distinct pairs of the seeded groups (each pair once, sorted)."""
    a, b = np.asarray(edges[0]), np.asarray(edges[1])
    if isinstance(edges, list):
        edges.clear()  # consumed: on a million faces these arrays are hundreds of megabytes
    ra, rb = groups.roots(a), groups.roots(b)
    del a, b
    keep = ra != rb
    pairs = np.minimum(ra[keep], rb[keep])
    pairs *= n
    pairs += np.maximum(ra[keep], rb[keep])
    del ra, rb, keep
    return np.divmod(unique_keys(pairs), n)


def _adjacency(ra: np.ndarray, rb: np.ndarray, n: int, index_type: type) -> list[np.ndarray]:
    """Neighbouring groups of each group, as arrays that may hold stale (merged-away) ids; they
    are resolved to current groups whenever the group's best partner is looked up."""
    ends: np.ndarray = np.concatenate([ra, rb]).astype(index_type)
    order = np.argsort(ends, kind="stable")
    ends = ends[order]
    others: np.ndarray = np.concatenate([rb, ra]).astype(index_type)[order]
    del order
    bounds = np.searchsorted(ends, np.arange(n + 1))
    del ends
    return [others[bounds[i] : bounds[i + 1]] for i in range(n)]


def _first_heap(
    groups: _Groups, adjacency: list[np.ndarray], pairs: list[np.ndarray], params: ClusterParams, index_type: type,
) -> _Heap:
    """One heap entry per group: its best partner when the group last changed. An entry whose
    partner has changed since is re-scored when it surfaces. This pops the globally best pair:
    of any two groups, the one that changed last scored the other in its current state, so some
    entry always carries a key at least as high as that pair's margin. ``pairs`` ([ra, rb], the
    group pairs) is emptied: only the pairs with a positive margin are kept."""
    heap = _Heap(2 * len(adjacency))
    ra, rb = pairs
    pairs.clear()
    margin = _margins(groups, ra, rb, params)
    positive = margin >= 0
    ra, rb, margin = ra[positive].astype(index_type), rb[positive].astype(index_type), margin[positive]
    del positive
    ends, others = np.concatenate([ra, rb]), np.concatenate([rb, ra])
    del ra, rb
    margins = np.concatenate([margin, margin])
    del margin
    for i in _first_best(ends, margins).tolist():
        x, y = int(ends[i]), int(others[i])
        if groups.compatible(x, y):
            heap.push(-float(margins[i]), x, y, int(groups.version[x]), int(groups.version[y]))
        else:  # a cannot-link with its best partner: look further down its list
            _push_best_partner(heap, groups, adjacency, x, params)
    return heap


def _join_by_neighbours(groups: _Groups, nearest: np.ndarray, params: ClusterParams) -> None:
    """The neighbour vote (``ClusterParams.fragment_size``): each group of at most
    ``fragment_size`` faces whose best face is of good quality counts the groups its faces'
    ``nearest`` faces belong to; it joins the most voted group when that group is larger, holds at
    least ``neighbour_share`` of the votes, and the average link to it reaches ``cohesion_ratio`` of
    its cohesion (see ``ClusterParams``). All groups decide on the same state, then the merges are
    made (in group order, constraints checked as everywhere); the rounds repeat while they merge,
    as a fragment can become part of a larger group that another fragment voted for."""
    if params.fragment_size <= 0 or nearest.shape[1] == 0:
        return
    n = len(groups.parent)
    everyone = np.arange(n, dtype=np.int64)
    for _ in range(NEIGHBOUR_ROUNDS):
        root = groups.roots(everyone)
        size = groups.size[root]
        good = groups.best_quality[root] >= _scoring().GOOD_QUALITY
        voters = np.flatnonzero((size <= params.fragment_size) & good)
        if not len(voters):
            return
        neighbour = nearest[voters].astype(np.int64)
        own = np.repeat(root[voters], neighbour.shape[1])
        neighbour = neighbour.reshape(-1)
        counted = neighbour >= 0
        own, other = own[counted], root[neighbour[counted]]
        counted = other != own
        own, other = own[counted], other[counted]
        if not len(own):
            return
        # Votes per (group, voted group): keys sorted, so each group's runs are contiguous.
        keys, votes = np.unique(own * n + other, return_counts=True)
        source, target = np.divmod(keys, n)
        starts = np.flatnonzero(np.r_[True, source[1:] != source[:-1]])
        total = np.add.reduceat(votes, starts)
        best = _first_best(source, votes)  # each group's most voted group (the lowest id on a tie)
        x, y = source[best], target[best]
        ok = (votes[best] >= params.neighbour_share * total) & (groups.size[y] > groups.size[x])
        x, y = x[ok], y[ok]
        size_x, size_y = groups.size[x].astype(np.float64), groups.size[y].astype(np.float64)
        sums_x, sums_y = groups.sums[x].astype(np.float64), groups.sums[y].astype(np.float64)
        link = np.einsum("ij,ij->i", sums_x, sums_y) / (size_x * size_y)
        # y is larger than x, so it has pairs of faces: its cohesion is defined.
        ratio = cohesion_ratio(link, mean_pair_similarity(sums_y, size_y), params.impostor_mean)
        join = ratio >= params.cohesion_ratio
        merged = False
        for a, b in zip(x[join].tolist(), y[join].tolist(), strict=True):
            ra, rb = (int(r) for r in groups.roots(np.array([a, b], dtype=np.int64)))
            if ra != rb and groups.compatible(ra, rb):
                groups.merge(ra, rb)
                merged = True
        if not merged:
            return


def _merge_by_centroid(groups: _Groups, params: ClusterParams) -> None:
    """The second phase (``ClusterParams.centroid_similarity``): groups whose centroids agree merge,
    best centroid cosine first, in rounds (a group merges at most once per round, then the
    centroids are computed again) until a round merges nothing. Constraints hold as in the first
    phase.

    Centroids are taken relative to the mean face of the whole clustering: what all faces share
    (a mask, a dark band across the eyes, a camera's colour cast) says nothing about who they are,
    and left in, it made groups of different people agree. After the first round only the groups
    that merged look for partners again: a pair of unchanged groups was already judged."""
    if params.centroid_similarity >= 1.0:
        return
    n = len(groups.parent)
    is_root = groups.parent == np.arange(n)
    library_mean = groups.sums[is_root].astype(np.float64).sum(axis=0) / n
    changed: np.ndarray | None = None  # groups merged in the last round (None: first round)
    while True:
        roots = np.flatnonzero((groups.parent == np.arange(n)) & (groups.size >= params.centroid_min_size))
        if len(roots) < 2:
            return
        sums = groups.sums[roots].astype(np.float64)
        sizes = groups.size[roots].astype(np.float64)
        centroids = sums / sizes[:, None] - library_mean
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        centroids = centroids.astype(np.float32)
        rows = np.arange(len(roots)) if changed is None else np.searchsorted(roots, changed)
        a, b, cosine = _partners_of(centroids, rows, params.centroid_similarity)
        link = np.einsum("ij,ij->i", sums[a], sums[b]) / (sizes[a] * sizes[b])
        keep = link >= params.centroid_floor
        a, b, cosine = a[keep], b[keep], cosine[keep]
        merged: set[int] = set()
        kept: list[int] = []
        for i in np.lexsort((b, a, -cosine)).tolist():
            x, y = int(roots[a[i]]), int(roots[b[i]])
            if x in merged or y in merged or not groups.compatible(x, y):
                continue
            kept.append(groups.merge(x, y))
            merged.update((x, y))
        if not kept:
            return
        changed = np.array(sorted(kept), dtype=np.int64)


def _partners_of(
    centroids: np.ndarray, rows: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (a < b) of each of ``rows`` with its most similar centroids at or above ``floor``
    (at most ``CENTROID_NEIGHBOURS`` each), and their cosines; each pair once."""
    src, dst = neighbours_of(centroids, rows, CENTROID_NEIGHBOURS, floor)
    n = len(centroids)
    keys = unique_keys(np.minimum(src, dst).astype(np.int64) * n + np.maximum(src, dst))
    a, b = np.divmod(keys, n)
    return a, b, pair_similarity(centroids, a, b)


def _first_best(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each distinct key, the position of its largest value (the first of equal maxima).

    What ``np.lexsort((-values, keys))`` gives at each key's first entry, with one stable integer
    sort instead of two sorts (one of floats): on a million faces these arrays have 30 million
    entries."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys, sorted_values = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(order)]))
    best = np.maximum.reduceat(sorted_values, starts)
    at_max = np.flatnonzero(sorted_values == best[segment])
    first = at_max[np.r_[True, segment[at_max][1:] != segment[at_max][:-1]]]
    return order[first]


def _push_best_partner(
    heap: _Heap,
    groups: _Groups,
    adjacency: list[np.ndarray],
    x: int,
    params: ClusterParams,
) -> None:
    """Score group x against its neighbouring groups; queue the best compatible one, if any clears.
    x's neighbours become the ones scored, at most ``PARTNERS_KEPT`` (see there)."""
    linked, margin, best = _scoring().score_neighbours(
        x, adjacency[x], groups.parent, groups.mark, groups.sums, groups.size, groups.best_quality,
        PARTNERS_KEPT, *_rule(params),
    )
    adjacency[x] = linked
    if best < 0 or margin[best] < 0:
        return
    if groups.compatible(x, int(linked[best])):  # the usual case: no sort needed
        candidates = np.array([best])
    else:
        candidates = np.flatnonzero(margin >= 0)
        candidates = candidates[np.argsort(-margin[candidates], kind="stable")]
    for i in candidates:
        y = int(linked[i])
        if groups.compatible(x, y):
            heap.push(-float(margin[i]), x, y, int(groups.version[x]), int(groups.version[y]))
            return
