"""Constrained average-link agglomeration over a sparse graph, exact and near-linear.

Average linkage on cosine similarity has a closed form: for groups A and B of unit vectors,
the mean similarity over all cross pairs is ``(sum_A . sum_B) / (|A| |B|)``. Keeping one sum vector
per group, the linkage of any two groups costs one dot product, so the classic algorithm runs over
the pairs of groups linked by the k-nearest-neighbour graph, best pair first from a heap, without
an N x N matrix. Before every merge the cannot-links are checked: two faces of one photo, faces
confirmed to different persons, a face rejected from the person the other group is confirmed to.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from .constraints import FaceConstraints
from .params import ClusterParams

__all__ = ["Faces", "average_link"]

_CHUNK = 8192  # group pairs scored at once: bounds the temporary (chunk x d) arrays


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
        self.parent = np.arange(n, dtype=np.int64)
        self.sums = faces.vectors.astype(np.float64)
        self.size = np.ones(n, dtype=np.int64)
        self.best_quality = faces.quality.astype(np.float64).copy()
        self.person = faces.constraints.person.copy()
        self.photos: list[set[int]] = [{int(p)} for p in faces.photo]
        self.rejects: dict[int, set[int]] = {f: set(p) for f, p in faces.constraints.rejected.items()}
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
        if pa >= 0 and pa in self.rejects.get(b, ()):
            return False
        if pb >= 0 and pb in self.rejects.get(a, ()):
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
        small, large = sorted((self.photos[a], self.photos[b]), key=len)
        large |= small
        self.photos[a], self.photos[b] = large, set()
        rejected_b = self.rejects.pop(b, None)
        if rejected_b:
            self.rejects.setdefault(a, set()).update(rejected_b)
        self.version[a] += 1
        self.version[b] = -1
        return a


def _margins(groups: _Groups, a: np.ndarray, b: np.ndarray, params: ClusterParams) -> np.ndarray:
    """How far the average link of each group pair (a[i], b[i]) clears its threshold.

    The threshold starts at ``link_similarity``; it drops for pairs of large groups (their mean
    similarity averages many pairs, so it is much less noisy than one pair's) and rises when the
    better group's best face is of low quality (a blurred face must look more alike to join).
    """
    sizes_a, sizes_b = groups.size[a], groups.size[b]
    link = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), _CHUNK):
        part = slice(start, start + _CHUNK)
        link[part] = (groups.sums[a[part]] * groups.sums[b[part]]).sum(axis=1)
    link /= sizes_a * sizes_b
    import os
    if os.environ.get("FF_REL"):
        mu0, kappa, tau, floor = (float(v) for v in os.environ["FF_REL"].split(","))
        def coh(g, sz):
            sq = (groups.sums[g] ** 2).sum(axis=1)
            pairs = sz * (sz - 1) / 2.0
            return ((sq - sz) / 2.0 + kappa * mu0) / (pairs + kappa)
        ca, cb = coh(a, sizes_a), coh(b, sizes_b)
        score = link / np.sqrt(np.maximum(ca, 1e-3) * np.maximum(cb, 1e-3))
        return np.minimum(score - tau, link - floor)
    smaller = np.minimum(sizes_a, sizes_b).astype(np.float64)
    threshold = params.link_similarity - params.evidence_gain * (1.0 - 1.0 / np.sqrt(smaller))
    worse_quality = np.minimum(groups.best_quality[a], groups.best_quality[b])
    threshold = threshold + params.quality_margin * (1.0 - worse_quality)
    return link - threshold


def average_link(
    faces: Faces, edges: tuple[np.ndarray, np.ndarray, np.ndarray], params: ClusterParams
) -> np.ndarray:
    """Group faces by constrained average linkage; returns the group id (a face index) of each face."""
    n = len(faces.vectors)
    groups = _Groups(faces)
    # Must-links first: every person's confirmed faces start as one group. A user may confirm two
    # faces of one photo to one person (a mirror, a photo of a photo): the confirmation wins.
    confirmed = np.flatnonzero(faces.constraints.person >= 0)
    first_of_person: dict[int, int] = {}
    for face in confirmed:
        pid = int(faces.constraints.person[face])
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
    # are resolved to current groups when the group next merges.
    order = np.argsort(np.concatenate([ra, rb]), kind="stable")
    ends = np.concatenate([ra, rb])[order]
    others = np.concatenate([rb, ra])[order]
    bounds = np.searchsorted(ends, np.arange(n + 1))
    adjacency: list[np.ndarray] = [others[bounds[i] : bounds[i + 1]] for i in range(n)]

    heap: list[tuple[float, int, int, int, int]] = []
    margin = _margins(groups, ra, rb, params)
    for i in np.flatnonzero(margin >= 0):
        x, y = int(ra[i]), int(rb[i])
        if groups.compatible(x, y):
            heap.append((-float(margin[i]), x, y, 0, 0))
    heapq.heapify(heap)

    while heap:
        _, x, y, vx, vy = heapq.heappop(heap)
        if groups.version[x] != vx or groups.version[y] != vy:
            continue  # one of them changed since this pair was scored: a fresher entry exists
        kept = groups.merge(x, y)
        gone = y if kept == x else x
        linked = groups.roots(np.concatenate([adjacency[kept], adjacency[gone]]))
        linked = np.unique(linked)
        linked = linked[linked != kept]
        adjacency[kept], adjacency[gone] = linked, linked[:0]
        if len(linked) == 0:
            continue
        margin = _margins(groups, np.full(len(linked), kept), linked, params)
        version = int(groups.version[kept])
        for i in np.flatnonzero(margin >= 0):
            other = int(linked[i])
            if groups.compatible(kept, other):
                lo, hi = min(kept, other), max(kept, other)
                vlo, vhi = (version, int(groups.version[other])) if lo == kept else (
                    int(groups.version[other]), version)
                heapq.heappush(heap, (-float(margin[i]), lo, hi, vlo, vhi))
    return groups.roots(np.arange(n, dtype=np.int64))
