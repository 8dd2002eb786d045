"""Which existing person each new cluster continues, so person ids (names, covers) stay stable.

Confirmed faces decide first: the cluster holding faces confirmed to person P *is* P. The other
clusters take the remaining person ids greedily by overlap with the previous assignment (the pair
sharing the most faces first), each id at most once; a cluster left without one is a new person.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["continue_persons"]


def continue_persons(
    labels: np.ndarray, keys: np.ndarray, confirmed: np.ndarray, previous: Mapping[int, int]
) -> list[int | None]:
    """The existing person id each cluster continues, or None for a new person.

    ``labels``: cluster of each face (-1 = none). ``keys``: for each cluster, a number that does not
    depend on input order, used to break ties between clusters of equal overlap. ``confirmed``:
    confirmed person of each face or -1. ``previous``: face index -> person id of the last run.
    """
    n_clusters = len(keys)
    person_of: list[int | None] = [None] * n_clusters
    used: set[int] = set()
    for anchor in np.flatnonzero((confirmed >= 0) & (labels >= 0)):
        cluster, pid = int(labels[anchor]), int(confirmed[anchor])
        person_of[cluster] = pid
        used.add(pid)

    overlap: dict[tuple[int, int], int] = {}
    for face, pid in previous.items():
        cluster = int(labels[face])
        if cluster >= 0 and person_of[cluster] is None and pid not in used:
            overlap[cluster, pid] = overlap.get((cluster, pid), 0) + 1
    # Most shared faces first; ties go to the cluster with the smaller order-independent key, then
    # to the older (smaller) person id.
    for (cluster, pid), _ in sorted(overlap.items(), key=lambda item: (-item[1], keys[item[0][0]], item[0][1])):
        if person_of[cluster] is None and pid not in used:
            person_of[cluster] = pid
            used.add(pid)
    return person_of
