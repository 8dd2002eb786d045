"""Re-clustering: load faces and user decisions from SQLite, run the pure engine, store persons.

User decisions are rows (confirmed assignments, rejections) that become engine constraints on every
run, so no re-cluster can undo them. Person ids are kept stable through the engine's ``previous``
mapping: a person keeps its id, name and cover as long as its faces stay together.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from facefile.cluster import Assignment, ClusterParams, Constraints, cluster_faces
from facefile.cluster.calibrate import calibrate
from facefile.library.vector_cache import save_vectors
from facefile.store.db import now, transaction
from facefile.store.meta import mark_dirty


def photo_key(table: str = "") -> str:
    """SQL for the 'photo' a face counts as for the same-photo rule: its image, except that
    faces of one video are not different people (a person may leave the frame and come back), so
    each video track counts as a photo of its own (-face id). ``table``: the faces table's alias."""
    t = f"{table}." if table else ""
    return f"CASE WHEN {t}video_start_s IS NULL THEN {t}image_id ELSE -{t}id END"


def load_faces(conn: sqlite3.Connection, model_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(face ids, image ids, quality, embeddings) of every face of one model, in face id order.

    Read in chunks into preallocated arrays: a million faces as Python rows would take ~1 GB
    before becoming the 0.5 GB array they are."""
    cursor = conn.execute(
        f"SELECT id, {photo_key()}, quality, embedding FROM faces WHERE model_id = ? ORDER BY id", (model_id,)
    )
    ids: list[np.ndarray] = []
    images: list[np.ndarray] = []
    quality: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    while rows := cursor.fetchmany(65_536):
        ids.append(np.fromiter((r[0] for r in rows), np.int64, len(rows)))
        images.append(np.fromiter((r[1] for r in rows), np.int64, len(rows)))
        quality.append(np.fromiter((r[2] for r in rows), np.float32, len(rows)))
        vectors.append(np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(len(rows), -1))
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros((0, 0), np.float32)
    return np.concatenate(ids), np.concatenate(images), np.concatenate(quality), np.concatenate(vectors)


# A re-cluster reads, clusters (seconds on a large library) and writes. Edits other connections
# commit in between (a rename, a merge, a move from the web UI while a scan ends) must not be
# overwritten by a plan made before them, so the write checks `PRAGMA data_version` (it changes when
# another connection commits) and re-plans when it moved. After OPTIMISTIC_TRIES such misses the plan
# is made inside the write transaction, which blocks other writers only for that one run.
OPTIMISTIC_TRIES = 3


def recluster(
    conn: sqlite3.Connection, model_id: str, params: ClusterParams | None = None, *, folder: Path | None = None
) -> int:
    """Re-cluster every face of ``model_id``; returns the number of persons afterwards. With the
    library ``folder``, the embeddings read are also written to its vector cache (for the quick
    updates of ``incremental.py``)."""
    params = params or ClusterParams.for_model(model_id)
    for _ in range(OPTIMISTIC_TRIES):
        version = _data_version(conn)
        plan = _plan(conn, model_id, params, folder)
        with transaction(conn):
            if _data_version(conn) == version:
                _apply(conn, model_id, *plan[:5])
                break
    else:
        with transaction(conn):
            plan = _plan(conn, model_id, params, folder)
            _apply(conn, model_id, *plan[:5])
    if folder is not None:
        from facefile.library.incremental import prepare_updates  # incremental builds on this module

        prepare_updates(conn, folder, model_id, plan[0], plan[5])
    return _person_count(conn)


def _data_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA data_version").fetchone()[0]


def _person_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT COUNT(*) FROM persons").fetchone()[0]


def _plan(
    conn: sqlite3.Connection, model_id: str, params: ClusterParams, folder: Path | None
) -> tuple[np.ndarray, Assignment, dict[int, int], dict[int, int], ClusterParams, np.ndarray]:
    """Read faces and decisions and run the engine: (face ids, result, confirmed, previous, params,
    the faces' quality); the first five are what ``_apply`` writes."""
    ids, images, quality, embeddings = load_faces(conn, model_id)
    if folder is not None and len(ids):
        save_vectors(folder, model_id, ids, embeddings)
    index = {int(f): i for i, f in enumerate(ids)}
    confirmed: dict[int, int] = {}
    previous: dict[int, int] = {}
    for face_id, person_id, provenance in conn.execute(
        "SELECT face_id, person_id, provenance FROM assignments"
    ):
        i = index.get(face_id)
        if i is None:
            continue
        previous[i] = person_id
        if provenance == "confirmed":
            confirmed[i] = person_id
    rejected = [
        (index[face_id], person_id)
        for face_id, person_id in conn.execute("SELECT face_id, person_id FROM rejections")
        if face_id in index
    ]
    try:
        # Thresholds learned from this library's faces that share a photo (different people):
        # the impostor tail. Confirmations are left out: on the development sets they pulled
        # thresholds too low where the confirmed faces were harder than the model's prior
        # (sunglasses: BCubed F -0.10); so is the measured share of same-person pairs (see
        # ``calibrate``'s ``base_rate``).
        params = calibrate(params, embeddings, images, None, model_id=model_id, base_rate=False).params
    except ValueError:  # no score prior for this model: its given thresholds stand
        pass
    loaded = [embeddings]
    del embeddings  # handed over: the engine copies it and lets it go (0.5 GB on a million faces)
    result = cluster_faces(
        loaded.pop(),
        images,
        quality=quality,
        constraints=Constraints(confirmed=confirmed, rejected=rejected),
        previous=previous,
        params=params,
    )
    return ids, result, confirmed, previous, params, quality


def _apply(
    conn: sqlite3.Connection, model_id: str, ids: np.ndarray, result: Assignment, confirmed: dict[int, int],
    previous: dict[int, int], params: ClusterParams,
) -> None:
    """Write a plan (in the caller's transaction)."""
    from facefile.library.incremental import record_full_run  # incremental builds on this module

    if len(ids):
        record_full_run(conn, model_id, int(ids[-1]), params)
    stamp = now()
    person_of_cluster: list[int] = []
    for existing in result.person_of_cluster:
        person_of_cluster.append(new_person(conn, stamp) if existing is None else int(existing))
    updates, removals = [], []
    for i, label in enumerate(result.labels):
        if i in confirmed:
            continue  # the user's word stands; the engine kept it where it was told
        face_id = int(ids[i])
        target = person_of_cluster[label] if label >= 0 else None
        if target is None:
            if i in previous:
                removals.append((face_id,))
        elif previous.get(i) != target:
            updates.append((face_id, target, stamp))
    conn.executemany("DELETE FROM assignments WHERE face_id = ?", removals)
    conn.executemany(
        "INSERT INTO assignments(face_id, person_id, provenance, updated_at) VALUES (?, ?, 'auto', ?) "
        "ON CONFLICT(face_id) DO UPDATE SET person_id = excluded.person_id, provenance = 'auto', "
        "updated_at = excluded.updated_at",
        updates,
    )
    drop_empty_persons(conn)
    mark_dirty(conn, False)


def new_person(conn: sqlite3.Connection, stamp: str) -> int:
    """A new, unnamed person (in the caller's transaction); its id is never reused."""
    pid = conn.execute("INSERT INTO persons(created_at) VALUES (?)", (stamp,)).lastrowid
    assert pid is not None
    return pid


def drop_empty_persons(conn: sqlite3.Connection) -> None:
    """Persons left without faces disappear unless the user named them (a name is user work)."""
    conn.execute(
        "DELETE FROM persons WHERE name IS NULL AND id NOT IN (SELECT person_id FROM assignments)"
    )
