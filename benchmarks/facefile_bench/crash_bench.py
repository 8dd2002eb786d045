"""``facefile bench crash``: SIGKILL a scan at random moments, resume each time, compare.

A scan is killed with SIGKILL (no handler runs, as in a power cut or the OOM killer) after a random
delay, many times over one folder, and re-run each time. The library it ends with must equal that of
one uninterrupted scan: the same faces with the same boxes, no duplicates, the same persons (ids
aside), and a database that passes ``PRAGMA integrity_check``. The worker processes of a killed
scan must exit on their own (their pipes to the dead parent close).

The helpers here are shared with ``tests/trust/test_crash.py``, which runs a small version.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from facefile.store.inspection import integrity, stored_contents, write_lock_held
from facefile_bench.lfw import integration_sample, link_sample

LINGER_TIMEOUT = 15.0  # seconds a killed scan's workers get to notice and exit


# ---------------------------------------------------------------------- processes


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc), e.g. a scan's pool workers and resource tracker."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def living(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (zombies count as gone: they hold nothing)."""
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            alive.append(pid)
    return alive


@dataclass
class KillOutcome:
    killed: bool  # False: the command finished before its moment came
    seconds: float  # how long it ran
    returncode: int
    in_write: bool = False  # killed while it held the database's write lock (inside a transaction)
    children: int = 0  # child processes it had when killed (pool workers, resource tracker)
    lingering: list[int] = field(default_factory=list)  # children alive LINGER_TIMEOUT s after the kill


def run_and_kill(cmd: list[str], delay: float, *, in_write_of: Path | None = None,
                 env: dict[str, str] | None = None) -> KillOutcome:
    """Run ``cmd``; SIGKILL it after ``delay`` seconds unless it ended, then wait for its children.

    With ``in_write_of`` (a database), the kill waits after ``delay`` for the next moment the command
    holds that database's write lock, so that it lands inside a transaction."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        proc.wait(timeout=delay)
        return KillOutcome(False, time.monotonic() - started, proc.returncode)
    except subprocess.TimeoutExpired:
        pass
    in_write = False
    if in_write_of is not None:
        while proc.poll() is None and not (in_write := write_lock_held(in_write_of)):
            time.sleep(0.0005)
        if proc.poll() is not None:
            return KillOutcome(False, time.monotonic() - started, proc.returncode)
    children = child_pids(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    seconds = time.monotonic() - started
    deadline = time.monotonic() + LINGER_TIMEOUT
    while living(children) and time.monotonic() < deadline:
        time.sleep(0.05)
    lingering = living(children)
    for pid in lingering:  # leave the machine clean even when the check fails
        os.kill(pid, signal.SIGKILL)
    return KillOutcome(True, seconds, proc.returncode, in_write, len(children), lingering)


# ---------------------------------------------------------------------- library comparison


@dataclass
class LibraryFacts:
    """What must be equal after any number of kills and resumes (person ids aside)."""

    faces: list[tuple[str, float, float, float, float]]  # (path, box), sorted; duplicates would show
    persons: set[frozenset[tuple[str, float]]]  # each person as its faces' (path, x1)
    files: int
    images: int
    file_errors: int

    def differences(self, other: LibraryFacts) -> list[str]:
        return [name for name in ("faces", "persons", "files", "images", "file_errors")
                if getattr(self, name) != getattr(other, name)]


def library_facts(db: Path) -> LibraryFacts:
    contents = stored_contents(db)
    groups: dict[int, set[tuple[str, float]]] = {}
    for path, x1, _y1, _x2, _y2, person in contents.faces:
        if person is not None:
            groups.setdefault(person, set()).add((path, x1))
    return LibraryFacts(
        faces=sorted(r[:5] for r in contents.faces),
        persons={frozenset(g) for g in groups.values()},
        files=contents.files,
        images=contents.images,
        file_errors=contents.file_errors,
    )


def persons_dirty(db: Path) -> bool:
    return stored_contents(db).persons_dirty


def scan_statuses(db: Path) -> Counter[str]:
    return stored_contents(db).scan_statuses


# ---------------------------------------------------------------------- the scan kill loop


def scan_command(folder: Path, library: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "facefile", "scan", str(folder), "--library", str(library), "--quiet",
            "--workers", str(workers)]


@dataclass
class ScanKills:
    kills: int = 0
    in_write: int = 0  # kills that landed while the scan held the write lock
    with_workers: int = 0  # kills of a scan that had child processes (all must exit by themselves)
    lingering: list[int] = field(default_factory=list)
    integrity_failures: list[str] = field(default_factory=list)
    # After each kill: files stored, and whether persons still awaited a re-cluster (then the
    # kill landed between a stored batch and the end of the re-cluster).
    after_kill: list[tuple[int, bool]] = field(default_factory=list)
    # One per round (empty library -> killed and resumed until a run got through): its kills, and
    # how the library it ended with differs from the uninterrupted one (empty: equal).
    rounds: list[tuple[int, list[str]]] = field(default_factory=list)
    stale_running_rows: int = 0  # 'running' scan rows left at the end of a round (must be 0)
    seconds: float = 0.0


def kill_scans(folder: Path, library: Path, reference: LibraryFacts, *, kills: int, seed: int,
               full_seconds: float, workers: int = 2) -> ScanKills:
    """SIGKILL ``facefile scan`` ``kills`` times at random moments, resuming each time.

    A round starts from an empty library; each run is killed after a delay drawn uniformly from
    the length of an uninterrupted scan (``full_seconds``), and every other kill is then put off to
    the next moment the scan holds the write lock (a batch commit, the removal of gone files, the
    re-cluster's write, a status update). The database is checked after every kill. When a run gets
    through, the round is over: its library is compared with ``reference`` and the next round starts
    empty again. The last round is left for the caller to finish with one more run."""
    rng = random.Random(seed)
    report = ScanKills()
    db = library / "library.db"
    started = time.monotonic()
    in_round = 0
    for _ in range(kills * 6):
        if report.kills >= kills:
            break
        outcome = run_and_kill(scan_command(folder, library, workers), rng.uniform(0.05, full_seconds * 1.1),
                               in_write_of=db if report.kills % 2 else None)
        if not outcome.killed:
            report.rounds.append((in_round, library_facts(db).differences(reference)))
            report.stale_running_rows += scan_statuses(db)["running"]
            shutil.rmtree(library)
            in_round = 0
            continue
        report.kills += 1
        in_round += 1
        report.in_write += outcome.in_write
        report.with_workers += outcome.children > 0
        report.lingering += outcome.lingering
        if db.exists():
            check = integrity(db)
            if check != "ok":
                report.integrity_failures.append(check)
            report.after_kill.append((library_facts(db).files, persons_dirty(db)))
    report.seconds = time.monotonic() - started
    return report


# ---------------------------------------------------------------------- the benchmark


def crash_sample(lfw: Path, photos: int, *, seed: int = 0) -> list[tuple[Path, str]]:
    """About ``photos`` LFW photos: persons of 2-6 photos and some single faces, so that persons
    form and a kill can land in any of a scan's batches (64 files each) or in its re-cluster."""
    return integration_sample(lfw, repeated=photos // 4, per_identity=6, singles=photos // 4, seed=seed)[:photos]


def run(data: Path, *, photos: int = 400, kills: int = 50, seed: int = 1,
        workers: int = 2) -> str:
    """Kill a scan of ``photos`` LFW photos ``kills`` times; report what survived."""
    with tempfile.TemporaryDirectory(prefix="facefile-crash-") as tmp:
        folder = Path(tmp) / "photos"
        link_sample(crash_sample(data / "lfw_dev", photos, seed=seed), folder)
        straight, killed = Path(tmp) / "straight", Path(tmp) / "killed"
        t0 = time.monotonic()
        done = subprocess.run(scan_command(folder, straight, workers), capture_output=True)
        full = time.monotonic() - t0
        if done.returncode != 0:
            return f"uninterrupted scan failed ({done.returncode}): {done.stderr.decode()[-500:]}"
        theirs = library_facts(straight / "library.db")
        report = kill_scans(folder, killed, theirs, kills=kills, seed=seed, full_seconds=full, workers=workers)
        final = subprocess.run(scan_command(folder, killed, workers), capture_output=True)
        ours = library_facts(killed / "library.db")
        statuses = scan_statuses(killed / "library.db")
        return "\n".join([
            f"crash bench: {photos} LFW photos, {workers} workers, seed {seed}",
            f"uninterrupted scan: {full:.1f} s, {len(theirs.faces)} faces, {len(theirs.persons)} persons",
            f"kills={report.kills} (inside a write transaction: {report.in_write}), "
            f"{len(report.rounds) + 1} rounds, loop {report.seconds:.0f} s",
            "after each kill, files stored (* = persons not yet re-clustered): "
            + " ".join(f"{n}{'*' if dirty else ''}" for n, dirty in report.after_kill),
            f"integrity after every kill: {'ok' if not report.integrity_failures else report.integrity_failures}",
            f"kills of a scan with child processes: {report.with_workers}; "
            f"children still alive {LINGER_TIMEOUT:.0f} s after the kill: {len(report.lingering)}",
            "rounds (kills, differences from the uninterrupted library): "
            + "; ".join(f"{k}, {d or 'none'}" for k, d in report.rounds),
            f"last round: resumed with exit code {final.returncode}, integrity {integrity(killed / 'library.db')}, "
            f"scan rows {dict(statuses)}, differences {ours.differences(theirs) or 'none'}",
        ])
