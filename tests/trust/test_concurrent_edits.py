"""Edits made while a scan runs are never lost, the re-cluster at its end included."""
from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from facefile_bench.crash_bench import crash_sample
from facefile_bench.lfw import link_sample

from facefile.library import Library, LibraryError, clustering
from facefile.store import DB_FILENAME
from tests.library.conftest import MODEL, face_of, identity_centres, photo
from tests.support.database import sql


def _faces_of(lib: Library, pid: int) -> set[int]:
    return {r[0] for r in sql(lib).execute("SELECT face_id FROM assignments WHERE person_id = ?", (pid,))}


def _write_locked(lib: Library) -> bool:
    """Whether some connection holds the library's write lock now (asked without waiting for it)."""
    probe = sqlite3.connect(lib.folder / DB_FILENAME, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:  # database is locked
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


class EditLog:
    """Edits made through a second connection, and what each must still hold at the end."""

    def __init__(self) -> None:
        self.merged_into: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.confirmed: dict[int, int] = {}  # face -> person it was confirmed to
        self.placed: dict[int, int] = {}  # face -> person it joined in a merge (any provenance)
        self.count = 0

    def person(self, pid: int) -> int:
        while pid in self.merged_into:
            pid = self.merged_into[pid]
        return pid

    def edit(self, lib: Library, rng: random.Random) -> None:
        people = [p.id for p in lib.people()]
        if len(people) < 3:
            return
        a, b = rng.sample(people, 2)
        action = rng.choice(["name", "merge", "move"])
        try:
            if action == "name":
                name = f"name-{self.count}"
                lib.persons.name(a, name)
                self.names[a] = name
            elif action == "merge":
                # A merge keeps each face's provenance (automatic faces stay automatic): what must
                # hold is that the merged person stays gone and its faces stay with the survivor.
                faces = _faces_of(lib, a) | _faces_of(lib, b)
                lib.persons.merge(a, b)
                self.placed.update(dict.fromkeys(faces, a))
                self.merged_into[b] = a
                self.names.pop(b, None)
            else:
                face = min(_faces_of(lib, a), default=None)
                if face is None:
                    return
                lib.persons.move(face, b)
                self.confirmed[face] = b
                self.placed.pop(face, None)
        except LibraryError:
            return  # the person left in between (a re-cluster dropped or a merge took it): no edit made
        self.count += 1

    def check(self, lib: Library) -> None:
        for pid, name in self.names.items():
            if pid not in self.merged_into:
                assert lib.person(pid).name == name
        alive = {p.id for p in lib.people(include_hidden=True)}
        assert not alive & set(self.merged_into), "a merged person came back"
        for face, pid in self.confirmed.items():
            row = sql(lib).execute("SELECT person_id, provenance FROM assignments WHERE face_id = ?", (face,)).fetchone()
            assert row is not None and tuple(row) == (self.person(pid), "confirmed"), (face, pid)
        for face, pid in self.placed.items():
            row = sql(lib).execute("SELECT person_id FROM assignments WHERE face_id = ?", (face,)).fetchone()
            assert row is not None and row[0] == self.person(pid), (face, pid)


@pytest.mark.data
@pytest.mark.slow
def test_edits_during_a_scan_and_its_recluster_are_kept(shared_data: Path, tmp_path: Path) -> None:
    sample = crash_sample(shared_data / "lfw_dev", 140, seed=5)
    folder = tmp_path / "photos"
    link_sample(sample[::2], folder)
    cmd = [sys.executable, "-m", "facefile", "scan", str(folder), "--quiet", "--workers", "2"]
    assert subprocess.run(cmd, capture_output=True).returncode == 0
    link_sample(sample[1::2], folder)  # new photos of the same people and others

    rng, log = random.Random(3), EditLog()
    with Library.open(folder / ".facefile") as lib:
        scan = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while scan.poll() is None:
            log.edit(lib, rng)
        assert scan.wait() == 0, scan.stderr.read() if scan.stderr else ""
        print(f"\n{log.count} edits during the scan")
        assert log.count >= 20
        assert not lib.needs_recluster()  # the scan's own re-cluster ran to the end
        log.check(lib)
        lib.recluster()  # and any later one keeps them too
        log.check(lib)


def test_edits_committed_while_the_recluster_computes_are_not_overwritten(
    lib: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the fix, the move below was overwritten by the stale plan ('auto', another person) and
    the merge made the write fail with FOREIGN KEY constraint failed (the plan assigned new faces
    to the person merged away): a scan ending in a re-cluster failed."""
    rng, centres = np.random.default_rng(1), identity_centres(5)
    writer = lib.writer(MODEL)
    writer.store([photo(f"id{k}/p{j}.jpg", [face_of(centres[k], rng)]) for k in range(5) for j in range(6)])
    lib.recluster()
    writer.store([photo(f"id{k}/new{j}.jpg", [face_of(centres[k], rng)]) for k in range(5) for j in range(2)])
    other = Library.open(lib.folder)  # the web UI, say
    real, log, calls = clustering.cluster_faces, EditLog(), []

    def edit_while_clustering(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        result = real(*args, **kwargs)  # planned from what was read before the edit below
        calls.append(_write_locked(lib))  # the re-cluster's own connection, nobody else's, holds it
        if calls[-1]:
            return result  # the last try plans under the write lock: no one can edit meanwhile
        people = sorted(p.id for p in other.people())
        if len(calls) == 1:  # a new face, which the plan files with its look-alikes, is split off
            face = other.faces(unassigned=True)[0].id
            log.confirmed[face] = other.persons.move(face, None)
        elif len(calls) == 2:  # a person the plan gives new faces to is merged away
            faces = _faces_of(other, people[0]) | _faces_of(other, people[1])
            other.persons.merge(people[0], people[1])
            log.merged_into[people[1]] = people[0]
            log.placed.update(dict.fromkeys(faces, people[0]))
        else:
            other.persons.name(people[2], "renamed while clustering")
            log.names[people[2]] = "renamed while clustering"
        return result

    monkeypatch.setattr(clustering, "cluster_faces", edit_while_clustering)
    lib.recluster()
    # Each optimistic try saw another connection commit and planned again; the last one planned
    # under the write lock. The edits of every try hold, and the new faces were filed.
    assert calls == [False] * clustering.OPTIMISTIC_TRIES + [True]
    log.check(other)
    assert len(other.faces(unassigned=True)) == 0
    other.close()
