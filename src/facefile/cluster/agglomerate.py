"""Constrained average-link agglomeration over a sparse graph, exact and near-linear.

Average linkage on cosine similarity has a closed form: for groups A and B of unit vectors,
the mean similarity over all cross pairs is ``(sum_A . sum_B) / (|A| |B|)``. Keeping one sum vector
per group, the linkage of any two groups costs one dot product, so the classic algorithm runs over
the pairs of groups linked by the k-nearest-neighbour graph, best pair first from a heap, without
an N x N matrix. Before every merge the cannot-links are checked: two faces of one photo, faces
tied to different persons, a face rejected from a person that a face of the other group belongs to.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .constraints import FaceConstraints
from .params import ClusterParams

__all__ = ["Faces", "average_link"]

# Faces at or above this quality need no extra similarity. facefile.vision.quality maps LFW's
# median face to about 0.7 and small or blurred faces well below 0.5.
GOOD_QUALITY = 0.5
_CHUNK = 8192  # group pairs scored at once: bounds the temporary (chunk x d) arrays
_NONE: frozenset[int] = frozenset()


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
        self.sums = faces.vectors.astype(np.float64)
        self.size = np.ones(n, dtype=np.int64)
        self.best_quality = faces.quality.astype(np.float64).copy()
        self.person = fc.tied.copy()  # the person the group is tied to, or -1
        self.photos: list[set[int]] = [{int(p)} for p in faces.photo]
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
        self.photos[b] = set()
        for sets in (self.rejects, self.known_as):
            if b in sets:
                sets[a] = _union(sets.get(a, set()), sets.pop(b))
        self.version[a] += 1
        self.version[b] = -1
        return a


def _union(x: set[int], y: set[int]) -> set[int]:
    """x | y, reusing the larger set (merging small into large keeps merges cheap overall)."""
    small, large = (x, y) if len(x) < len(y) else (y, x)
    large |= small
    return large


def _margins(groups: _Groups, a: np.ndarray, b: np.ndarray, params: ClusterParams) -> np.ndarray:
    """How far the average link of each group pair (a[i], b[i]) clears its threshold."""
    link = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), _CHUNK):
        part = slice(start, start + _CHUNK)
        link[part] = (groups.sums[a[part]] * groups.sums[b[part]]).sum(axis=1)
    return _clearance(groups, link, a, b, params)


def _margins_to(groups: _Groups, x: int, others: np.ndarray, params: ClusterParams) -> np.ndarray:
    """``_margins`` of group x against each of ``others`` (one matrix-vector product)."""
    return _clearance(groups, groups.sums[others] @ groups.sums[x], np.int64(x), others, params)


def _clearance(
    groups: _Groups, dot: np.ndarray, a: np.ndarray | np.int64, b: np.ndarray, params: ClusterParams
) -> np.ndarray:
    """Average link minus threshold, from the dot products of the groups' sum vectors.

    The threshold starts at ``link_similarity`` for two single faces. It drops for larger groups,
    whose mean similarity averages many pairs: if each face is its person's mean plus independent
    noise, the noise in the mean similarity of groups of a and b faces has a standard deviation
    proportional to sqrt(1/a + 1/b + 1/ab), normalised here to 1 for two single faces; the
    threshold falls by ``evidence_gain`` times the part of that noise that averaging removed.
    It rises when the worse of the two groups has no face of good quality (a group is as good as
    its best face): a tiny or blurred face must look more alike to join.
    """
    size_a, size_b = groups.size[a].astype(np.float64), groups.size[b].astype(np.float64)
    link = dot / (size_a * size_b)
    noise = np.sqrt((1.0 / size_a + 1.0 / size_b + 1.0 / (size_a * size_b)) / 3.0)
    threshold = params.link_similarity - params.evidence_gain * (1.0 - noise)
    worse_quality = np.minimum(groups.best_quality[a], groups.best_quality[b])
    shortfall = np.clip(1.0 - worse_quality / GOOD_QUALITY, 0.0, 1.0)
    return link - (threshold + params.quality_margin * shortfall)


def average_link(
    faces: Faces, edges: tuple[np.ndarray, np.ndarray, np.ndarray], params: ClusterParams
) -> np.ndarray:
    """Group faces by constrained average linkage; returns the group id (a face index) of each face."""
    n = len(faces.vectors)
    groups = _Groups(faces)
    # Must-links first: the faces tied to each person start as one group. A user may confirm two
    # faces of one photo to one person (a mirror, a photo of a photo): the user's word wins.
    tied = faces.constraints.tied
    first_of_person: dict[int, int] = {}
    for face in np.flatnonzero(tied >= 0):
        pid = int(tied[face])
        if pid in first_of_person:
            groups.merge(int(groups.roots(np.array([first_of_person[pid]]))[0]), int(face))
        else:
            first_of_person[pid] = int(face)

    a, b, _ = edges
    ra, rb = groups.roots(a), groups.roots(b)
    keep = ra != rb
    ra, rb = np.minimum(ra[keep], rb[keep]), np.maximum(ra[keep], rb[keep])
    pairs = np.unique(ra * n + rb)
    ra, rb = np.divmod(pairs, n)

    # Neighbouring groups of each group, as arrays that may hold stale (merged-away) ids; they
    # are resolved to current groups whenever the group's best partner is looked up.
    order = np.argsort(np.concatenate([ra, rb]), kind="stable")
    ends = np.concatenate([ra, rb])[order]
    others = np.concatenate([rb, ra])[order]
    bounds = np.searchsorted(ends, np.arange(n + 1))
    adjacency: list[np.ndarray] = [others[bounds[i] : bounds[i + 1]] for i in range(n)]

    # One heap entry per group: its best partner when the group last changed. An entry whose
    # partner has changed since is re-scored when it surfaces. This pops the globally best pair:
    # of any two groups, the one that changed last scored the other in its current state, so some
    # entry always carries a key at least as high as that pair's margin.
    heap: list[tuple[float, int, int, int, int]] = []
    margin = _margins(groups, ra, rb, params)
    positive = np.flatnonzero(margin >= 0)
    has_entry: set[int] = set()
    for i in positive[np.argsort(-margin[positive], kind="stable")]:
        x, y = int(ra[i]), int(rb[i])
        if (x in has_entry and y in has_entry) or not groups.compatible(x, y):
            continue
        for u, v in ((x, y), (y, x)):
            if u not in has_entry:
                has_entry.add(u)
                heap.append((-float(margin[i]), u, v, int(groups.version[u]), int(groups.version[v])))
    heapq.heapify(heap)

    while heap:
        _, x, y, vx, vy = heapq.heappop(heap)
        if groups.version[x] != vx:
            continue  # x merged since: it is gone, or the merged group has its own entry
        if groups.version[y] != vy:
            _push_best_partner(heap, groups, adjacency, x, params)  # y changed: re-score x
            continue
        kept = groups.merge(x, y)
        gone = y if kept == x else x
        adjacency[kept] = np.concatenate([adjacency[kept], adjacency[gone]])
        adjacency[gone] = adjacency[gone][:0]
        _push_best_partner(heap, groups, adjacency, kept, params)
    return groups.roots(np.arange(n, dtype=np.int64))


def _push_best_partner(
    heap: list[tuple[float, int, int, int, int]],
    groups: _Groups,
    adjacency: list[np.ndarray],
    x: int,
    params: ClusterParams,
) -> None:
    """Score group x against its neighbouring groups; queue the best compatible one, if any clears."""
    linked = np.unique(groups.roots(adjacency[x]))
    linked = linked[linked != x]
    adjacency[x] = linked
    if len(linked) == 0:
        return
    margin = _margins_to(groups, x, linked, params)
    candidates = np.flatnonzero(margin >= 0)
    for i in candidates[np.argsort(-margin[candidates], kind="stable")]:
        y = int(linked[i])
        if groups.compatible(x, y):
            heapq.heappush(heap, (-float(margin[i]), x, y, int(groups.version[x]), int(groups.version[y])))
            return
