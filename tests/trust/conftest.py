"""Helpers of the trust tests: the `facefile` command as a subprocess, small libraries to copy."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np

from facefile.library import Library
from tests.library.conftest import MODEL, face_of, identity_centres, lib, photo  # noqa: F401 (lib: a fixture)
from tests.support.database import sql


def facefile(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m facefile ARGS`` in a fresh process, output captured as text."""
    return subprocess.run([sys.executable, "-m", "facefile", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def synthetic_library(folder: Path, identities: int, per_identity: int, seed: int = 0) -> Path:
    """A library of ``identities`` x ``per_identity`` single-face photos (no images, no models),
    stored but not yet clustered, checkpointed into one file. Returns the database path."""
    with Library.open(folder) as library:
        library.set_root_if_unset(folder.parent)
        rng = np.random.default_rng(seed)
        centres = identity_centres(identities, seed=seed)
        photos = [photo(f"id{k}/p{j}.jpg", [face_of(centres[k], rng)])
                  for k in range(identities) for j in range(per_identity)]
        writer = library.writer(MODEL)
        for start in range(0, len(photos), 1000):
            writer.store(photos[start:start + 1000])
        sql(library).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return folder / "library.db"


def copy_library(db: Path, folder: Path) -> Path:
    """A fresh copy of a checkpointed library database in ``folder`` (replacing what was there)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(db, folder / "library.db")
    return folder / "library.db"


def assignments(db: Path) -> set[tuple[int, int, str]]:
    with sqlite3.connect(db, timeout=30) as conn:
        return set(conn.execute("SELECT face_id, person_id, provenance FROM assignments"))


def partition(db: Path) -> set[frozenset[int]]:
    """Persons as sets of face ids (ids of persons aside)."""
    groups: dict[int, set[int]] = {}
    for face, person, _ in assignments(db):
        groups.setdefault(person, set()).add(face)
    return {frozenset(g) for g in groups.values()}
