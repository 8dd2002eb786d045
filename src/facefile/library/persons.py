"""Re-clustering: load faces and user decisions from SQLite, run the pure engine, store persons.

User decisions are rows (confirmed assignments, rejections) that become engine constraints on every
run, so no re-cluster can undo them. Person ids are kept stable through the engine's ``previous``
mapping: a person keeps its id, name and cover as long as its faces stay together.
"""
from __future__ import annotations

import sqlite3

import numpy as np

from ..cluster import ClusterParams, Constraints, cluster_faces
from .db import now
from .ingest import mark_dirty, transaction


def load_faces(conn: sqlite3.Connection, model_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(face ids, image ids, quality, embeddings) of every face of one model, in face id order."""
    rows = conn.execute(
        "SELECT id, image_id, quality, embedding FROM faces WHERE model_id = ? ORDER BY id", (model_id,)
    ).fetchall()
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros((0, 0), np.float32)
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    images = np.fromiter((r[1] for r in rows), np.int64, len(rows))
    quality = np.fromiter((r[2] for r in rows), np.float32, len(rows))
    blob = b"".join(r[3] for r in rows)
    embeddings = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), -1)
    return ids, images, quality, embeddings


def recluster(conn: sqlite3.Connection, model_id: str, params: ClusterParams | None = None) -> int:
    """Re-cluster every face of ``model_id``; returns the number of persons afterwards."""
    ids, images, quality, embeddings = load_faces(conn, model_id)
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
    result = cluster_faces(
        embeddings,
        images,
        quality=quality,
        constraints=Constraints(confirmed=confirmed, rejected=rejected),
        previous=previous,
        params=params or ClusterParams.for_model(model_id),
    )
    with transaction(conn):
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
    return conn.execute("SELECT COUNT(*) FROM persons").fetchone()[0]


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
