"""SIGKILL at random moments (seeded) loses nothing but the work in flight: a scan, a re-cluster and a
merge, each killed 20 times and resumed, end exactly where an uninterrupted run ends."""
from __future__ import annotations

import random
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from facefile_bench.crash_bench import (
    crash_sample,
    integrity,
    kill_scans,
    library_facts,
    run_and_kill,
    scan_command,
    scan_statuses,
)
from facefile_bench.lfw import link_sample

from tests.trust.conftest import assignments, copy_library, facefile, partition, synthetic_library

KILLS = 20


@pytest.mark.data
@pytest.mark.slow
def test_a_scan_killed_20_times_ends_equal_to_an_uninterrupted_one(shared_data: Path, tmp_path: Path) -> None:
    # 100 photos: two batches of the writer (64 files each) and 20-odd persons, so kills land
    # before, between and after batches and in the re-cluster, in about 40 s on two cores.
    folder = tmp_path / "photos"
    link_sample(crash_sample(shared_data / "lfw_dev", 100, seed=3), folder)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    started = time.monotonic()
    done = facefile(*scan_command(folder, straight, 2)[3:])
    full = time.monotonic() - started
    assert done.returncode == 0, done.stderr

    theirs = library_facts(straight / "library.db")
    assert len(theirs.persons) >= 10 and len(theirs.faces) >= 100
    report = kill_scans(folder, killed, theirs, kills=KILLS, seed=7, full_seconds=full)
    print(f"\n{report.kills} kills ({report.in_write} inside a write transaction, {report.with_workers} with "
          f"worker processes); rounds (kills, differences): "
          f"{report.rounds}; after each kill (files, persons dirty): {report.after_kill}")
    assert report.kills >= KILLS and report.in_write >= KILLS // 4
    assert report.with_workers >= 5 and report.lingering == [], "workers must exit when their pipes close"
    assert report.integrity_failures == []
    assert all(differences == [] for _, differences in report.rounds)
    assert report.stale_running_rows == 0

    resumed = facefile(*scan_command(folder, killed, 2)[3:])
    assert resumed.returncode == 0, resumed.stderr
    db = killed / "library.db"
    assert integrity(db) == "ok"
    ours = library_facts(db)
    assert len(ours.faces) == len(set(ours.faces)), "a face was stored twice"
    assert ours.differences(theirs) == []
    # A killed scan's 'running' row is marked 'interrupted' by the next scan; none stays 'running'.
    statuses = scan_statuses(db)
    assert statuses["running"] == 0 and statuses["done"] >= 1
    assert statuses["interrupted"] >= 1


def _kill_loop(cmd: list[str], base: Path, work: Path, full: float, seed: int,
               before: object, after: object, state: Callable[[Path], object]) -> dict[str, int]:
    """Kill ``cmd`` at random moments, restarting from a copy of ``base`` after each run that got
    through; after every kill the database must be whole and hold either the state before or the
    state after the command (never a mix), and running the command again must finish it."""
    rng = random.Random(seed)
    db = copy_library(base, work)
    counts = {"kills": 0, "in_write": 0, "after_commit": 0, "resumed": 0}
    for _ in range(KILLS * 6):
        if counts["kills"] >= KILLS:
            break
        # Half the kills at a random moment, half at the next moment it holds the write lock.
        outcome = run_and_kill(cmd, rng.uniform(0.0, full * 1.1), in_write_of=db if counts["kills"] % 2 else None)
        if outcome.killed:
            counts["kills"] += 1
            counts["in_write"] += outcome.in_write
            assert outcome.lingering == []
            assert integrity(db) == "ok"
            now = state(db)
            assert now in (before, after), "a killed command left a half-written state"
            if now == before:
                continue  # the next run resumes from here
            counts["after_commit"] += 1
        else:
            assert outcome.returncode == 0
        assert state(db) == after
        counts["resumed"] += 1
        db = copy_library(base, work)
    finished = run_and_kill(cmd, 600)
    assert not finished.killed and finished.returncode == 0
    assert state(db) == after and integrity(db) == "ok"
    return counts


@pytest.fixture(scope="module")
def stored_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6,000 synthetic faces of 600 persons, stored but not clustered: a re-cluster takes ~0.5 s."""
    return synthetic_library(tmp_path_factory.mktemp("synthetic") / ".facefile", 600, 10)


def test_a_recluster_killed_20_times_ends_equal_to_an_uninterrupted_one(stored_faces: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "facefile", "recluster", "--library", str(tmp_path / "work")]
    reference = copy_library(stored_faces, tmp_path / "work")
    started = time.monotonic()
    assert run_and_kill(cmd, 600).returncode == 0
    full = time.monotonic() - started
    after = partition(reference)
    assert len(after) >= 500

    counts = _kill_loop(cmd, stored_faces, tmp_path / "work", full, seed=11, before=set(), after=after,
                        state=partition)
    print(f"\nre-cluster: {counts}")
    assert counts["kills"] >= KILLS and counts["in_write"] >= KILLS // 4


def test_a_merge_killed_20_times_is_all_or_nothing(stored_faces: Path, tmp_path: Path) -> None:
    clustered = copy_library(stored_faces, tmp_path / "clustered")
    assert facefile("recluster", "--library", str(clustered.parent)).returncode == 0
    with sqlite3.connect(clustered) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = assignments(clustered)
    persons = sorted({p for _, p, _ in before})
    keep, others = persons[0], persons[1:41]  # merging 40 persons into one: 400 faces confirmed
    cmd = [sys.executable, "-m", "facefile", "merge", str(keep), *map(str, others),
           "--library", str(tmp_path / "work")]
    reference = copy_library(clustered, tmp_path / "work")
    started = time.monotonic()
    assert run_and_kill(cmd, 600).returncode == 0
    full = time.monotonic() - started
    after = assignments(reference)
    assert after != before and {p for _, p, _ in after} == set(persons) - set(others)

    counts = _kill_loop(cmd, clustered, tmp_path / "work", full, seed=13, before=before, after=after,
                        state=assignments)
    print(f"\nmerge: {counts}")
    assert counts["kills"] >= KILLS and counts["in_write"] >= KILLS // 4
