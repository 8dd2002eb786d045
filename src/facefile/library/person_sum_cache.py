"""Each person's sum of face embeddings, kept in the library so that new faces can be placed
without reading the persons' faces.

The average link of a face with a person is its dot product with the person's sum divided by the
person's size; on a million-face library the largest person has tens of thousands of faces, and
reading them all for each update of a hundred faces took most of a second. The sums live in the
``person_sums`` table (schema 0005, ``store.sums``): a cache of ``assignments`` whose rows the
database's own triggers delete whenever a person gains or loses a face, whoever changes it (a scan,
a user's move, an erasure). ``load`` recomputes the missing ones; ``add_faces`` updates the sums of
persons that just gained faces, in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facefile.cluster import segment_sums
from facefile.library.vector_cache import CachedVectors
from facefile.store import Store

__all__ = ["PersonSums", "add_faces", "load", "store_all"]

PERSONS_PER_PASS = 900  # missing sums are computed this many persons at a time: bounded memory


@dataclass
class PersonSums:
    """Sums, sizes and best face quality of some persons (rows in the order of ``persons``)."""

    persons: list[int]
    sums: np.ndarray  # (k, d) float64
    sizes: np.ndarray  # (k,) float64: faces of the model in each person (0: none)
    best_quality: np.ndarray  # (k,) float64


def _quality(values: list[float | None]) -> np.ndarray:
    """Face qualities with unknown (NULL) as 1, as the engine reads them."""
    q = np.array(values, dtype=np.float64)
    return np.where(np.isnan(q), 1.0, q)


def load(store: Store, cache: CachedVectors, model_id: str, persons: list[int]) -> PersonSums:
    """The sums of ``persons`` (faces of ``model_id``); missing ones are computed and stored."""
    dim = cache.vectors.shape[1]
    index = {p: i for i, p in enumerate(persons)}
    out = PersonSums(list(persons), np.zeros((len(persons), dim)), np.zeros(len(persons)), np.zeros(len(persons)))
    found: set[int] = set()
    for person, faces, best, vector in store.sums.stored(model_id, persons):
        i = index[person]
        out.sums[i] = vector
        out.sizes[i], out.best_quality[i] = faces, best
        found.add(person)
    missing = [p for p in persons if p not in found]
    for start in range(0, len(missing), PERSONS_PER_PASS):
        _compute(store, cache, model_id, missing[start : start + PERSONS_PER_PASS], index, out)
    return out


def store_all(store: Store, cache: CachedVectors, model_id: str, face_ids: np.ndarray, quality: np.ndarray) -> None:
    """Compute and store the sum of every person with faces of ``model_id`` in one pass over the
    vector cache (after a full re-cluster, which dropped them all). ``face_ids``: the model's
    faces, ascending, with their ``quality`` (NaN unknown)."""
    assigned, person_of = store.sums.assignments_by_face()
    ours = np.isin(assigned, face_ids, assume_unique=True)
    assigned, person_of = assigned[ours], person_of[ours]
    if not len(assigned):
        return
    face_quality = np.where(np.isnan(quality), 1.0, quality)[np.searchsorted(face_ids, assigned)]
    order = np.argsort(person_of, kind="stable")
    assigned, person_of, face_quality = assigned[order], person_of[order], face_quality[order]
    starts = np.flatnonzero(np.r_[True, person_of[1:] != person_of[:-1]])
    persons = person_of[starts].tolist()
    out = PersonSums(persons, np.zeros((len(persons), cache.vectors.shape[1])), np.diff(np.r_[starts, len(order)]),
                     np.maximum.reduceat(face_quality, starts))
    step = 65_536  # persons' faces summed a block of faces at a time: bounded memory
    for begin in range(0, len(assigned), step):
        block = slice(begin, begin + step)
        vectors = cache.get(assigned[block]).astype(np.float64)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        owner = np.searchsorted(starts, np.arange(begin, begin + len(vectors)), side="right") - 1
        first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        out.sums[owner[first]] += segment_sums(vectors, first)
    _store(store, model_id, out, list(range(len(persons))))


def _compute(
    store: Store, cache: CachedVectors, model_id: str, persons: list[int], index: dict[int, int], out: PersonSums
) -> None:
    """Sum the faces of ``persons`` from the vector cache; store the sums."""
    rows = store.sums.members(model_id, persons)
    if rows:
        faces = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        slot = np.fromiter((index[r[1]] for r in rows), np.int64, len(rows))
        vectors = cache.get(faces).astype(np.float64)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        # Rows come grouped by person: one reduction per person (np.add.at is far slower).
        starts = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1]])
        owners = slot[starts]
        out.sums[owners] = segment_sums(vectors, starts)
        out.sizes[owners] = np.diff(np.r_[starts, len(slot)])
        out.best_quality[owners] = np.maximum.reduceat(_quality([r[2] for r in rows]), starts)
    _store(store, model_id, out, [index[p] for p in persons])


def _store(store: Store, model_id: str, sums: PersonSums, rows: list[int]) -> None:
    store.sums.put(model_id, ((sums.persons[i], sums.sizes[i], sums.best_quality[i], sums.sums[i]) for i in rows))


def add_faces(
    store: Store, model_id: str, sums: PersonSums, rows: np.ndarray, vectors: np.ndarray, quality: np.ndarray
) -> None:
    """After faces were assigned (in the caller's transaction, after their INSERTs, whose triggers
    dropped the stored sums): face k joined the person in row ``rows[k]`` of ``sums``, with
    L2-normalised ``vectors[k]``; store the updated sums."""
    if not len(rows):
        return
    np.add.at(sums.sums, rows, vectors.astype(np.float64))
    np.add.at(sums.sizes, rows, 1.0)
    np.maximum.at(sums.best_quality, rows, np.where(np.isnan(quality), 1.0, quality))
    _store(store, model_id, sums, sorted(set(rows.tolist())))
