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

__all__ = ["INCREMENTAL_MIN_FACES", "clustered_upto", "placed_incrementally", "prepare_updates",
           "record_full_run", "record_incremental_run", "recorded_params"]

INCREMENTAL_MIN_FACES = 50_000  # below this, every update is a full re-cluster


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
