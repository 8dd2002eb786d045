"""Persons brought up to date after a scan: a full re-cluster, or, on a large library, new faces
placed among the existing persons in well under a second.

A full re-cluster reads every face (seconds to minutes on a million faces). When a library holds
at least ``cluster_runs.INCREMENTAL_MIN_FACES`` faces and only a few are new, each new face instead
joins the existing person it clears the engine's own average-link rule with (``cluster.link_margin``,
the person's faces against the one new face, never a person already in its photo), best margin first;
the new faces that join nobody are clustered, with the unassigned faces near them, by the engine
itself, and groups holding a new face become new persons. Person ids, names and every user
decision stay as they are: nothing existing is renumbered or moved.

This is an approximation of what a full run would do (a new face can also bridge two persons,
or pull unassigned faces into a person), so the library counts the faces placed this way and runs
a full re-cluster once they exceed ``INCREMENTAL_MAX_SHARE`` of it, and ``facefile recluster``
runs one at any time. The engine's order independence holds for the full runs.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from facefile.cluster import ClusterParams, cluster_faces, link_margin
from facefile.library import cluster_runs, person_sum_cache
from facefile.library.clustering import recluster
from facefile.library.grouping_progress import StageProgress
from facefile.library.vector_cache import CachedVectors, load_vectors
from facefile.store import Store
from facefile.store.db import now

__all__ = ["UpdateReport", "update_persons"]

INCREMENTAL_MAX_SHARE = 0.05  # of the library placed incrementally before the next full run


@dataclass(frozen=True)
class UpdateReport:
    mode: str  # "full", "incremental" or "none"
    new_faces: int = 0
    joined: int = 0  # new faces that joined an existing person
    new_persons: int = 0


def update_persons(
    store: Store, folder: Path, model_id: str, *, force_full: bool = False, progress: StageProgress | None = None,
) -> UpdateReport:
    """Bring persons up to date with the faces of ``model_id`` (see the module docstring);
    ``progress``: a scan's, told the phases of a full re-cluster with their counts."""
    recorded_upto = cluster_runs.clustered_upto(store, model_id)
    upto = -1 if recorded_upto is None else recorded_upto
    total, new = store.faces.count_newer(model_id, upto)  # one pass over the model's faces for both counts
    placed = cluster_runs.placed_incrementally(store, model_id)
    base = cluster_runs.recorded_params(store, model_id)
    if force_full or recorded_upto is None or base is None or total < cluster_runs.INCREMENTAL_MIN_FACES:
        return _full(store, folder, model_id, progress)
    if placed + new > INCREMENTAL_MAX_SHARE * total:
        return _full(store, folder, model_id, progress)
    if new == 0:
        if store.meta.is_dirty():  # faces left (files removed): persons lose them; no new grouping needed
            with store.transaction():
                store.persons.drop_empty()
                store.meta.mark_dirty(False)
        return UpdateReport("none")
    cache = load_vectors(store, folder, model_id)
    if cache is None:
        return _full(store, folder, model_id, progress)
    params = base.at_size(total)
    # Small products only: BLAS threads would just contend (5x slower on a busy 2-core laptop).
    with threadpool_limits(1), store.transaction():  # planned under the write lock: quick, no edit interleaves
        report = _place_new_faces(store, cache, model_id, upto, params)
        _, last = store.faces.extent(model_id)
        cluster_runs.record_incremental_run(store, model_id, last, placed + report.new_faces)
        store.persons.drop_empty()
        store.meta.mark_dirty(False)
    return report


def _full(store: Store, folder: Path, model_id: str, progress: StageProgress | None = None) -> UpdateReport:
    recluster(store, model_id, folder=folder, progress=progress)
    return UpdateReport("full")


def _place_new_faces(store: Store, cache: CachedVectors, model_id: str, upto: int, params: ClusterParams) -> UpdateReport:
    rows = store.faces.newer_than(model_id, upto)
    # Faces a user filed before any grouping saw them (a hand-drawn face, a name from XMP) stay theirs.
    filed = store.decisions.persons_of(r[0] for r in rows)
    rows = [r for r in rows if r[0] not in filed]
    if not rows:
        return UpdateReport("incremental")
    new_ids = np.array([r[0] for r in rows], dtype=np.int64)
    new_photo = np.array([r[1] for r in rows], dtype=np.int64)
    new_quality = np.array([r[2] for r in rows], dtype=np.float64)
    X = cache.get(new_ids)
    X /= np.linalg.norm(X, axis=1, keepdims=True)

    # Neighbours among all faces (the new ones included: they may group with each other).
    floor = params.link_similarity - params.evidence_gain
    sims, nbrs = cache.nearest(X, params.neighbors + 1)
    near = (sims >= floor) & (nbrs != new_ids[:, None])
    near_ids = np.unique(nbrs[near])
    person_of = store.decisions.persons_of(near_ids.tolist())

    # Candidate persons: those of a new face's neighbours. Their faces, sums, best quality, photos.
    candidates = sorted({p for p in person_of.values()})
    joined = _join_existing(store, cache, model_id, X, new_ids, new_photo, new_quality, nbrs, near, person_of, candidates, params)

    # The rest: clustered with the unassigned faces near them, by the engine itself.
    left = np.array([i for i in range(len(new_ids)) if int(new_ids[i]) not in joined], dtype=np.int64)
    made = 0
    if len(left):
        new_set = set(new_ids.tolist())
        old_loose = [int(f) for f in np.unique(nbrs[left][near[left]]) if int(f) not in person_of and int(f) not in new_set]
        made = _group_leftovers(store, cache, new_ids[left], old_loose, params)
    return UpdateReport("incremental", len(new_ids), len(joined), made)


def _join_existing(
    store: Store, cache: CachedVectors, model_id: str, X: np.ndarray, new_ids: np.ndarray,
    new_photo: np.ndarray, new_quality: np.ndarray, nbrs: np.ndarray, near: np.ndarray, person_of: dict[int, int],
    candidates: list[int], params: ClusterParams,
) -> dict[int, int]:
    """New face id -> existing person it joins: best margin first, one face per photo per person.
    Inserts the assignments and keeps the persons' stored sums up to date."""
    if not candidates:
        return {}
    index = {p: i for i, p in enumerate(candidates)}
    known = person_sum_cache.load(store, cache, model_id, candidates)
    in_photo = store.sums.persons_in_photos(new_photo.tolist())
    barred = store.birth_dates.barred_pairs(new_ids.tolist())  # photos before a person's birth date
    # Every (new face, candidate person of one of its neighbours) pair, scored.
    pairs = sorted({(i, index[person_of[int(f)]]) for i, j in zip(*np.nonzero(near), strict=True)
                    for f in (nbrs[i, j],) if int(f) in person_of})
    if not pairs:
        return {}
    face_i = np.array([p[0] for p in pairs], dtype=np.int64)
    slot = np.array([p[1] for p in pairs], dtype=np.int64)
    live = known.sizes[slot] > 0
    face_i, slot = face_i[live], slot[live]
    link = (known.sums[slot] * X[face_i]).sum(axis=1) / known.sizes[slot]
    quality = np.where(np.isnan(new_quality[face_i]), 1.0, new_quality[face_i])
    margin = link_margin(link, np.ones(len(slot)), known.sizes[slot], quality, known.best_quality[slot], params)
    order = np.lexsort((slot, new_ids[face_i], -margin))
    joined: dict[int, int] = {}
    joined_row: list[int] = []
    joined_slot: list[int] = []
    for k in order[margin[order] >= 0]:
        i, s = int(face_i[k]), int(slot[k])
        face, photo = int(new_ids[i]), int(new_photo[i])
        taken = in_photo.setdefault(photo, set()) if photo >= 0 else set()
        if face in joined or candidates[s] in taken or (face, candidates[s]) in barred:
            continue
        joined[face] = candidates[s]
        taken.add(candidates[s])
        joined_row.append(i)
        joined_slot.append(s)
    store.decisions.assign_auto(joined.items())
    rows = np.array(joined_row, dtype=np.int64)
    person_sum_cache.add_faces(store, model_id, known, np.array(joined_slot, dtype=np.int64), X[rows], new_quality[rows])
    return joined


def _group_leftovers(
    store: Store, cache: CachedVectors, new_ids: np.ndarray, old_loose: list[int], params: ClusterParams
) -> int:
    """Cluster new faces that joined nobody with nearby unassigned faces; groups with a new face
    become new persons. Returns the number of persons made."""
    ids = np.concatenate([new_ids, np.array(sorted(old_loose), dtype=np.int64)])
    rows = store.faces.photo_and_quality(ids.tolist())
    photos = np.array([rows[int(f)][0] for f in ids], dtype=np.int64)
    quality = np.array([rows[int(f)][1] for f in ids], dtype=np.float64)
    # The library's thresholds, not those of a clustering of this handful of faces.
    fixed = replace(params, impostor_tail=0.0)
    labels = cluster_faces(cache.get(ids), photos, quality=quality, params=fixed).labels
    fresh = labels[: len(new_ids)]
    stamp = now()
    made = 0
    for label in np.unique(fresh[fresh >= 0]):
        members = ids[labels == label]
        person = store.persons.new(stamp)
        store.decisions.assign_auto(((int(f), person) for f in members), stamp)
        made += 1
    return made

