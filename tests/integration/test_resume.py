"""Ctrl-C stops a scan cleanly, keeps what was stored, and the next scan resumes to the same library."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from facefile_bench.lfw import link_sample, photo_sample

from facefile.library import Library
from facefile.ui.cli.main import EXIT_INTERRUPTED
from tests.support.database import sql

pytestmark = [pytest.mark.data, pytest.mark.slow]


def files_stored(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    except sqlite3.Error:
        return 0


def partition(lib: Library) -> set[frozenset[tuple[str, int]]]:
    """Persons as sets of (path, rounded box x1): comparable across libraries, ids ignored."""
    groups: dict[int, set[tuple[str, int]]] = {}
    for face in lib.faces():
        if face.person_id is not None:
            groups.setdefault(face.person_id, set()).add((face.path, round(face.box[0])))
    return {frozenset(g) for g in groups.values()}


def test_interrupted_scan_resumes_to_the_same_library(shared_data: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    # Enough photos that the scan is still running when the signal lands: scans got fast, and on a
    # loaded machine this test's polling can lag the scan by a second or more.
    total = 720
    link_sample(photo_sample(shared_data / "lfw_dev", total, cap=8, seed=3), photos)
    library = photos / ".facefile"
    cmd = [sys.executable, "-m", "facefile", "scan", str(photos), "--quiet", "--workers", "2"]
    # The scan gets Ctrl-C's default disposition whatever the test process inherited: a child
    # started while SIGINT is ignored keeps ignoring it (Python only installs its handler when the
    # signal is not ignored), and then the signal below would never interrupt the scan.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while files_stored(library / "library.db") < 64 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=60)[0].decode()
    assert proc.returncode == EXIT_INTERRUPTED, output
    assert "Interrupted" in output
    partial = files_stored(library / "library.db")
    assert 64 <= partial < total

    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{total - partial} new" in resumed.stderr

    with Library.open(library) as lib, Library.open(tmp_path / "straight") as straight:
        straight.scan(photos, workers=2)
        assert sql(lib).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ours = sorted((r["path"], r["box"]) for r in lib.interop.export_faces())
        theirs = sorted((r["path"], r["box"]) for r in straight.interop.export_faces())
        assert ours == theirs
        assert partition(lib) == partition(straight)
