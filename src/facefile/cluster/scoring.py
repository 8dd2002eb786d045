"""The engine's inner loop, compiled: the merge rule and the scoring of a group's neighbours.

A million faces take about a million merges, and every merge scores the merged group against
its neighbouring groups. Done with NumPy, each scoring is some fifteen small array operations whose
fixed cost (microseconds each) outweighed the arithmetic; compiled with numba it is one call.

``pair_margin`` is the merge rule itself, one formula for every caller: a NumPy ufunc from Python
(the engine's first scoring of all pairs, incremental assignment) and a plain function inside
``score_neighbours``.
"""
from __future__ import annotations

import numba
import numpy as np

__all__ = ["GOOD_QUALITY", "pair_margin", "score_neighbours"]

# Faces at or above this quality need no extra similarity. facefile.vision.quality maps LFW's
# median face to about 0.7 and small or blurred faces well below 0.5.
GOOD_QUALITY = 0.5


@numba.vectorize(["float64(float64, float64, float64, float64, float64, float64, float64, float64)"], cache=True)
def pair_margin(link: float, size_a: float, size_b: float, quality_a: float, quality_b: float,
                floor: float, gain: float, quality_margin: float) -> float:  # pragma: no cover - compiled
    """How far the average link of groups of ``size_a`` and ``size_b`` faces clears its threshold.

    The threshold is ``floor + gain`` for two single faces and falls toward ``floor`` as the
    groups grow: the noise in the mean similarity of groups of a and b faces (each face its
    person's mean plus independent noise) has a standard deviation proportional to
    sqrt(1/a + 1/b + 1/ab), normalised to 1 for two single faces. It rises by up to
    ``quality_margin`` when the worse group's best face is below ``GOOD_QUALITY``.
    """
    noise = np.sqrt((1.0 / size_a + (1.0 + 1.0 / size_a) / size_b) / 3.0)
    worse = min(quality_a, quality_b)
    shortfall = min(max(1.0 - worse / GOOD_QUALITY, 0.0), 1.0)
    return link - (floor + gain * noise + quality_margin * shortfall)


@numba.njit(cache=True, nogil=True)
def _root(parent: np.ndarray, item: int) -> int:  # pragma: no cover - compiled
    """Union-find root of ``item``, halving the path on the way."""
    while parent[item] != item:
        parent[item] = parent[parent[item]]
        item = parent[item]
    return item


@numba.njit(cache=True, nogil=True)
def score_neighbours(
    x: int, neighbours: np.ndarray, parent: np.ndarray, mark: np.ndarray, sums: np.ndarray, size: np.ndarray,
    best_quality: np.ndarray, keep: int, floor: float, gain: float, quality_margin: float,
) -> tuple[np.ndarray, np.ndarray, int]:  # pragma: no cover - compiled
    """Score group ``x`` against the current groups of ``neighbours`` (face or stale group ids).

    Returns the distinct current groups other than x, in order of first appearance, their margins
    (``pair_margin``), and the position of the best (the first of equal maxima; -1 when none).
    When there are more than ``keep`` of them, only the ``keep`` best are returned (ties by
    position), the list the caller keeps as x's neighbours. ``mark`` is scratch, all -1, and is
    left so.
    """
    count = 0
    linked = np.empty(len(neighbours), dtype=neighbours.dtype)
    for i in range(len(neighbours)):
        group = _root(parent, neighbours[i])
        if group != x and mark[group] < 0:
            mark[group] = 1
            linked[count] = group
            count += 1
    linked = linked[:count]
    margin = np.empty(count, dtype=np.float64)
    own = sums[x]
    size_x = float(size[x])
    for i in range(count):
        group = linked[i]
        mark[group] = -1
        other = sums[group]
        dot = 0.0
        for j in range(own.shape[0]):
            dot += float(own[j]) * float(other[j])
        size_o = float(size[group])
        margin[i] = pair_margin(dot / (size_x * size_o), size_x, size_o, best_quality[x], best_quality[group],
                                floor, gain, quality_margin)
    if count > keep:
        top = np.argsort(-margin, kind="mergesort")[:keep]
        linked, margin = linked[top], margin[top]
    best = -1
    for i in range(len(margin)):
        if best < 0 or margin[i] > margin[best]:
            best = i
    return linked, margin, best


# ------------------------------------------------------------------ the merge loop's priority queue
# A binary min-heap of entries (key, x, y, version of x, version of y) held in two arrays, ordered
# exactly as Python orders those tuples, so it pops what heapq would. heapq on a million tuples
# spent ~5 microseconds a pop in tuple comparisons; here a pop is a fraction of that, and entries
# whose group x has changed since are skipped without returning to Python.


@numba.njit(cache=True, nogil=True)
def _before(keys: np.ndarray, items: np.ndarray, i: int, j: int) -> bool:  # pragma: no cover - compiled
    if keys[i] != keys[j]:
        return keys[i] < keys[j]
    for c in range(4):
        if items[i, c] != items[j, c]:
            return items[i, c] < items[j, c]
    return False


@numba.njit(cache=True, nogil=True)
def _swap(keys: np.ndarray, items: np.ndarray, i: int, j: int) -> None:  # pragma: no cover - compiled
    keys[i], keys[j] = keys[j], keys[i]
    for c in range(4):
        items[i, c], items[j, c] = items[j, c], items[i, c]


@numba.njit(cache=True, nogil=True)
def heap_push(keys: np.ndarray, items: np.ndarray, size: int, key: float, x: int, y: int, vx: int,
              vy: int) -> int:  # pragma: no cover - compiled
    """Add an entry (the arrays must have room for it); returns the new size."""
    keys[size] = key
    items[size, 0], items[size, 1], items[size, 2], items[size, 3] = x, y, vx, vy
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if not _before(keys, items, i, parent):
            break
        _swap(keys, items, i, parent)
        i = parent
    return size + 1


@numba.njit(cache=True, nogil=True)
def heap_pop_live(keys: np.ndarray, items: np.ndarray, size: int,
                  version: np.ndarray) -> tuple[int, int, int, int, int]:  # pragma: no cover - compiled
    """Pop entries, smallest first, until one whose x still has the version it was queued with.
    Returns (new size, x, y, vx, vy); x is -1 when the heap ran empty."""
    while size > 0:
        x, y, vx, vy = items[0, 0], items[0, 1], items[0, 2], items[0, 3]
        size -= 1
        if size > 0:
            keys[0] = keys[size]
            for c in range(4):
                items[0, c] = items[size, c]
            i = 0
            while True:
                left = 2 * i + 1
                if left >= size:
                    break
                child = left
                if left + 1 < size and _before(keys, items, left + 1, left):
                    child = left + 1
                if not _before(keys, items, child, i):
                    break
                _swap(keys, items, i, child)
                i = child
        if version[x] == vx:
            return size, x, y, vx, vy
    return 0, -1, -1, -1, -1
