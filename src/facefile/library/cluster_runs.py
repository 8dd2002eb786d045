"""What a full re-cluster leaves behind for the quick updates after it (``incremental.py``): the
faces it saw, the (calibrated) parameters it used, how many faces were placed incrementally since,
and every person's sum of face embeddings.

The full re-cluster (``clustering.py``) writes this record and the updates read and extend it, so
both import this module and neither imports the other's internals.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from facefile.cluster import ClusterParams
from facefile.library import person_sum_cache
from facefile.library.vector_cache import load_vectors
from facefile.store import Store

__all__ = ["INCREMENTAL_MIN_FACES", "THRESHOLD_SIZE_BAND", "clustered_upto", "placed_incrementally",
           "prepare_updates", "record_full_run", "record_incremental_run", "record_threshold_faces",
           "recorded_params", "threshold_faces"]

INCREMENTAL_MIN_FACES = 50_000  # below this, every update is a full re-cluster
# The engine's thresholds rise with the number of faces (``ClusterParams.at_size``: more faces, more
# chance look-alikes). Recomputed on every re-cluster, 34 unrelated photos added to 384 raised the
# single-link threshold of SFace by 0.002 and took faces out of persons the new faces had nothing
# to do with (issue 15; 2 faces in 8 trials of 12 masked identities + 34 others, none with the
# size held). So the size the thresholds are computed for is held until the library has grown or
# shrunk by this factor since it was set: at most 0.026 * ln(1.25) = 0.006 below the exact value.
THRESHOLD_SIZE_BAND = 1.25


def _meta_key(name: str, model_id: str) -> str:
    return f"{name}:{model_id}"


def record_full_run(store: Store, model_id: str, upto: int, params: ClusterParams) -> None:
    """After a full re-cluster (in its transaction): the faces it saw and the parameters it used."""
    store.meta.set(_meta_key("clustered_upto", model_id), str(upto))
    store.meta.set(_meta_key("incremental_faces", model_id), "0")
    store.meta.set(_meta_key("cluster_params", model_id), json.dumps(asdict(params)))


def record_incremental_run(store: Store, model_id: str, upto: int, placed: int) -> None:
    """After an incremental update (in its transaction): the faces seen so far, and how many of
    them were placed incrementally since the last full re-cluster."""
    store.meta.set(_meta_key("clustered_upto", model_id), str(upto))
    store.meta.set(_meta_key("incremental_faces", model_id), str(placed))


def threshold_faces(store: Store, model_id: str, faces: int) -> int:
    """The library size to compute the size-dependent thresholds for, for a re-cluster of ``faces``
    faces: the size recorded by an earlier run while ``faces`` is within ``THRESHOLD_SIZE_BAND`` of
    it, else ``faces`` itself."""
    value = store.meta.get(_meta_key("threshold_faces", model_id))
    held = 0 if value is None else int(value)
    if held > 0 and held / THRESHOLD_SIZE_BAND <= faces <= held * THRESHOLD_SIZE_BAND:
        return held
    return faces


def record_threshold_faces(store: Store, model_id: str, faces: int) -> None:
    """After a full re-cluster (in its transaction): the size its thresholds were computed for."""
    store.meta.set(_meta_key("threshold_faces", model_id), str(int(faces)))


def recorded_params(store: Store, model_id: str) -> ClusterParams | None:
    """The (calibrated) parameters of the last full re-cluster, or None before the first."""
    value = store.meta.get(_meta_key("cluster_params", model_id))
    return None if value is None else ClusterParams(**json.loads(value))


def clustered_upto(store: Store, model_id: str) -> int | None:
    """The largest face id persons were brought up to date with, or None before the first full run."""
    value = store.meta.get(_meta_key("clustered_upto", model_id))
    return None if value is None else int(value)


def placed_incrementally(store: Store, model_id: str) -> int:
    """Faces placed by incremental updates since the last full re-cluster."""
    return int(store.meta.get(_meta_key("incremental_faces", model_id)) or 0)


def prepare_updates(store: Store, folder: Path, model_id: str, ids: np.ndarray, quality: np.ndarray) -> None:
    """After a full re-cluster of a library large enough for incremental updates: store every
    person's sum (``person_sum_cache``), which the re-cluster dropped, so that the first updates do
    not read the largest persons' faces (a second on a million faces). ``ids``/``quality``: the
    faces of ``model_id`` the re-cluster read, ascending."""
    if len(ids) < INCREMENTAL_MIN_FACES:
        return
    cache = load_vectors(store, folder, model_id)
    if cache is None:
        return
    with store.transaction():
        person_sum_cache.store_all(store, cache, model_id, ids, quality)
