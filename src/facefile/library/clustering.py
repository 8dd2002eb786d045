"""Re-clustering: load faces and user decisions from the store, run the pure engine, store persons.

User decisions are rows (confirmed assignments, rejections) that become engine constraints on every
run, so no re-cluster can undo them. Person ids are kept stable through the engine's ``previous``
mapping: a person keeps its id, name and cover as long as its faces stay together.
"""
from __future__ import annotations

from dataclasses import replace
from itertools import chain
from pathlib import Path

import numpy as np

from facefile.cluster import Assignment, ClusterParams, Constraints, calibrate, cluster_faces
from facefile.library.cluster_runs import (
    prepare_updates,
    record_full_run,
    record_threshold_faces,
    threshold_faces,
)
from facefile.library.grouping_progress import GroupingProgress, StageProgress
from facefile.library.vector_cache import save_vectors
from facefile.store import Store
from facefile.store.db import now

__all__ = ["OPTIMISTIC_TRIES", "recluster"]

# A re-cluster reads, clusters (seconds on a large library) and writes. Edits other connections
# commit in between (a rename, a merge, a move from the web UI while a scan ends) must not be
# overwritten by a plan made before them, so the write checks `PRAGMA data_version` (it changes when
# another connection commits) and re-plans when it moved. After OPTIMISTIC_TRIES such misses the plan
# is made inside the write transaction, which blocks other writers only for that one run.
OPTIMISTIC_TRIES = 3


def recluster(
    store: Store, model_id: str, params: ClusterParams | None = None, *, folder: Path | None = None,
    progress: StageProgress | None = None,
) -> int:
    """Re-cluster every face of ``model_id``; returns the number of persons afterwards. With the
    library ``folder``, the embeddings read are also written to its vector cache (for the quick
    updates of ``incremental.py``). ``progress`` (a scan's) is told each phase with its counts."""
    params = params or ClusterParams.for_model(model_id)
    told = None if progress is None else GroupingProgress(progress)
    for _ in range(OPTIMISTIC_TRIES):
        version = store.data_version()
        plan = _plan(store, model_id, params, folder, told)
        with store.transaction():
            if store.data_version() == version:
                _apply(store, model_id, *plan[:5])
                break
    else:
        with store.transaction():
            plan = _plan(store, model_id, params, folder, told)
            _apply(store, model_id, *plan[:5])
    if folder is not None:
        prepare_updates(store, folder, model_id, plan[0], plan[5])
    return store.persons.count()


def _plan(
    store: Store, model_id: str, params: ClusterParams, folder: Path | None, told: GroupingProgress | None = None,
) -> tuple[np.ndarray, Assignment, dict[int, int], dict[int, int], ClusterParams, np.ndarray]:
    """Read faces and decisions and run the engine: (face ids, result, confirmed, previous, params,
    the faces' quality); the first five are what ``_apply`` writes."""
    faces = store.faces.load_model(model_id)
    ids, images, quality = faces.ids, faces.photos, faces.quality
    if folder is not None and len(ids):
        save_vectors(folder, model_id, ids, faces.vectors)
    index = {int(f): i for i, f in enumerate(ids)}
    confirmed: dict[int, int] = {}
    previous: dict[int, int] = {}
    for face_id, person_id, provenance in store.decisions.assignments():
        i = index.get(face_id)
        if i is None:
            continue
        previous[i] = person_id
        if provenance == "confirmed":
            confirmed[i] = person_id
    # A birth date bars the faces of earlier photos from its person: the same cannot-link as a rejection.
    barred = chain(store.decisions.rejections(), store.birth_dates.exclusions(model_id))
    rejected = [(index[face_id], person_id) for face_id, person_id in barred if face_id in index]
    try:
        # Thresholds learned from this library's faces that share a photo (different people):
        # the impostor tail. Confirmations are left out: on the development sets they pulled
        # thresholds too low where the confirmed faces were harder than the model's prior
        # (sunglasses: BCubed F -0.10); so is the measured share of same-person pairs (see
        # ``calibrate``'s ``base_rate``).
        params = calibrate(params, faces.vectors, images, None, model_id=model_id, base_rate=False).params
    except ValueError:  # no score prior for this model: its given thresholds stand
        pass
    # The size-dependent thresholds for a size held across small changes (``threshold_faces``), so
    # unrelated new faces do not move faces of existing persons; fixed here (tail 0), as the parts
    # of a partitioned clustering are, so the engine does not rescale them for the exact size.
    params = replace(params.at_size(threshold_faces(store, model_id, len(ids))), impostor_tail=0.0)
    loaded = [faces.vectors]
    del faces  # handed over: the engine copies it and lets it go (0.5 GB on a million faces)
    result = cluster_faces(
        loaded.pop(),
        images,
        quality=quality,
        constraints=Constraints(confirmed=confirmed, rejected=rejected),
        previous=previous,
        params=params,
        progress=told,
    )
    return ids, result, confirmed, previous, params, quality


def _apply(
    store: Store, model_id: str, ids: np.ndarray, result: Assignment, confirmed: dict[int, int],
    previous: dict[int, int], params: ClusterParams,
) -> None:
    """Write a plan (in the caller's transaction)."""
    if len(ids):
        record_full_run(store, model_id, int(ids[-1]), params)
        record_threshold_faces(store, model_id, threshold_faces(store, model_id, len(ids)))
    stamp = now()
    person_of_cluster: list[int] = []
    for existing in result.person_of_cluster:
        person_of_cluster.append(store.persons.new(stamp) if existing is None else int(existing))
    updates: list[tuple[int, int]] = []
    removals: list[int] = []
    for i, label in enumerate(result.labels):
        if i in confirmed:
            continue  # the user's word stands; the engine kept it where it was told
        face_id = int(ids[i])
        target = person_of_cluster[label] if label >= 0 else None
        if target is None:
            if i in previous:
                removals.append(face_id)
        elif previous.get(i) != target:
            updates.append((face_id, target))
    store.decisions.unassign(removals)
    store.decisions.assign_auto(updates, stamp)
    store.persons.drop_empty()
    store.meta.mark_dirty(False)
