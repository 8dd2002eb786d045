"""Bugs a new user hit (issue 15), each pinned by a test on synthetic data: private library files,
one writer at a time, hidden persons in exports, duplicates within one scan, the scan's exit code."""
from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from facefile.library import ImageResult, Library, WriterBusy, cluster_runs
from facefile.library.scan_status import ScanProgressRecorder
from facefile.library.writer_lock import LOCK_FILENAME, WriterLock
from facefile.pipeline import scan as scan_module
from facefile.ui.cli.main import EXIT_FILES_FAILED, EXIT_WRITER_BUSY, main

from .conftest import MODEL, face_of, identity_centres, photo


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def wide_umask() -> Iterator[None]:
    """The usual 022: what made library.db 0644 before."""
    old = os.umask(0o022)
    yield
    os.umask(old)


# ---------------------------------------------------------------------- 1. private library folder


def test_a_new_library_is_private_from_creation(tmp_path: Path, wide_umask: None, people_photos) -> None:
    folder = tmp_path / "photos" / ".facefile"
    with Library.open(folder) as lib:
        lib.writer(MODEL).store(people_photos)
        lib.recluster()  # writes the vector cache
        ScanProgressRecorder(folder).stage("Looking for photos")
        with WriterLock(folder).hold("test"):
            pass
        names = {p.name for p in folder.iterdir()}
        assert {"library.db", "library.db-wal", "library.db-shm", "cache", "scan-progress.json", LOCK_FILENAME} <= names
        for path in [folder, *folder.rglob("*")]:
            assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert mode(tmp_path / "photos") == 0o755  # the user's own folder is left as it was


def test_an_existing_wide_library_is_narrowed_on_open(tmp_path: Path, wide_umask: None, people_photos) -> None:
    folder = tmp_path / ".facefile"
    with Library.open(folder) as lib:
        lib.writer(MODEL).store(people_photos)
        lib.recluster()
    # As an older facefile left it: everything readable by every local user.
    for path in [folder, *folder.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    (folder / "old-thing.json").write_text("{}")
    with Library.open(folder):
        for path in [folder, *folder.rglob("*")]:
            assert mode(path) & 0o077 == 0, path
        assert mode(folder / "library.db") == 0o600 and mode(folder / "cache") == 0o700


# ---------------------------------------------------------------------- 2. one writer at a time

HOLD_LOCK = """
import sys, time
from pathlib import Path
from facefile.library.writer_lock import WriterLock
with WriterLock(Path(sys.argv[1])).hold("scan of /photos"):
    print("held", flush=True)
    time.sleep(60)
"""


@contextmanager
def held_elsewhere(folder: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the library's writer lock, as a running `facefile scan` does."""
    child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        yield child
    finally:
        child.kill()
        child.wait()


@pytest.fixture
def other_writer(lib: Library) -> Iterator[subprocess.Popen[str]]:
    with held_elsewhere(lib.folder) as child:
        yield child


def test_a_second_scan_or_recluster_is_refused_naming_the_running_one(
    lib: Library, tmp_path: Path, people_photos
) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    lib.writer(MODEL).store([photo("late.jpg", [face_of(identity_centres(1)[0], np.random.default_rng(5))])])
    with held_elsewhere(lib.folder) as other:
        with pytest.raises(WriterBusy, match=rf"scan of /photos \(pid {other.pid}, .*since .*this scan of") as busy:
            lib.scan(tmp_path / "photos")
        assert busy.value.holder["pid"] == other.pid
        with pytest.raises(WriterBusy):
            lib.recluster()
        with pytest.raises(WriterBusy):
            lib.update_persons()
        assert lib.stats()["scans"] == 0 and lib.needs_recluster()  # nothing was started
        # The web UI's actions are short transactions: they go on while the other writer runs.
        assert lib.persons.name(lib.people()[0].id, "Anna").name == "Anna"


def test_the_cli_exits_4_with_the_message(lib: Library, other_writer: subprocess.Popen[str], tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir(exist_ok=True)
    for args in (["scan", str(photos), "--library", str(lib.folder), "--quiet"],
                 ["recluster", "--library", str(lib.folder)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == EXIT_WRITER_BUSY == 4, result.output
        assert f"pid {other_writer.pid}" in result.output and "another facefile is writing" in result.output


def test_the_lock_is_reentrant_and_two_holders_exclude_each_other(tmp_path: Path) -> None:
    first, second = WriterLock(tmp_path), WriterLock(tmp_path)
    with first.hold("scan of a"):
        with first.hold("re-cluster"):  # a scan re-clusters at its end
            with pytest.raises(WriterBusy, match="scan of a"):
                with second.hold("scan of b"):
                    pass
        with pytest.raises(WriterBusy):
            with second.hold("scan of b"):
                pass
    with second.hold("scan of b"):  # free again once the first let go
        assert second.holder()["what"] == "scan of b"


def test_the_lock_dies_with_its_process(lib: Library) -> None:
    child = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lib.folder)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    child.kill()  # as a SIGKILL or a power cut would: no chance to clean up
    child.wait()
    assert lib.recluster() == 0


# ---------------------------------------------------------------------- 3. hidden persons in exports


def test_hidden_persons_leave_every_export(lib: Library, people_photos, tmp_path: Path) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    hidden = lib.people()[0]
    lib.persons.hide(hidden.id)
    rows = lib.interop.export_faces()
    assert rows and all(r["person_id"] != hidden.id for r in rows)
    assert len(rows) == 36 - hidden.faces
    out = io.StringIO()
    written = lib.interop.export_csv(out)
    persons = [r["person_id"] for r in csv.DictReader(io.StringIO(out.getvalue()))]
    assert written == len(persons) == 36 - hidden.faces and str(hidden.id) not in persons
    lib.interop.export_folders(tmp_path / "people")
    assert not any(d.name.endswith(f"({hidden.id})") or d.name == f"person-{hidden.id}"
                   for d in (tmp_path / "people").iterdir())
    lib.persons.hide(hidden.id, False)
    assert len(lib.interop.export_faces()) == 36


# ---------------------------------------------------------------------- 5. duplicates within one scan


def fake_results(tasks, backend_name, known_hashes, workers, max_side, config, progress):  # noqa: ANN001, ANN201
    """``workers.results`` without models: each file's bytes say its content; one face per photo,
    a file whose bytes start with ``broken`` fails. Like the real workers, a content already in the
    library when the scan started is only hashed."""
    rng = np.random.default_rng(0)
    centre = identity_centres(1)[0]
    progress.stage("Finding faces", total=len(tasks))
    for task in tasks:
        data = Path(task.path).read_bytes()
        result = ImageResult(path=task.stored_path, size=task.size, mtime_ns=task.mtime_ns,
                             content_hash=hashlib.sha256(data).hexdigest())
        if data.startswith(b"broken"):
            result.error = "truncated or corrupt image data"
        elif result.content_hash in known_hashes:
            result.known_image = True
        else:
            result.faces = [face_of(centre, rng)]
            result.width, result.height, result.taken_at, result.model_id = 640, 480, "2024-05-01T10:00:00", MODEL
        yield result


@pytest.fixture
def fake_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_module, "results", fake_results)


def test_a_duplicate_found_in_the_same_scan_is_not_new(lib: Library, tmp_path: Path, fake_scan: None) -> None:
    photos = tmp_path / "photos"
    for k in range(3):
        (photos / f"p{k}.jpg").write_bytes(f"photo {k}".encode())
    (photos / "copy-of-p0.jpg").write_bytes(b"photo 0")  # an exact copy, new to the library too
    report = lib.scan(photos)
    assert (report.files_new, report.files_moved) == (3, 1)
    assert lib.stats()["photos"] == 3 and lib.stats()["files"] == 4
    (photos / "another-copy.jpg").write_bytes(b"photo 1")  # known from the last scan
    report = lib.scan(photos)
    assert (report.files_new, report.files_moved, report.files_unchanged) == (0, 1, 4)


def test_store_batch_counts_a_repeat_within_one_batch_as_linked(lib: Library) -> None:
    rng = np.random.default_rng(3)
    centre = identity_centres(1)[0]
    first = photo("a.jpg", [face_of(centre, rng)], content="same")
    again = photo("b.jpg", [face_of(centre, rng)], content="same")
    stored = lib.writer(MODEL).store_batch([first, again, photo("c.jpg", [face_of(centre, rng)])])
    assert (stored.new_files, stored.linked_files, stored.faces) == (2, 1, 2)


# ---------------------------------------------------------------------- 9. the scan's exit code


def test_an_old_unreadable_file_does_not_fail_every_later_scan(tmp_path: Path, fake_scan: None) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "good.jpg").write_bytes(b"photo")
    (photos / "broken.jpg").write_bytes(b"broken jpeg")
    first = CliRunner().invoke(main, ["scan", str(photos), "--quiet"])
    assert first.exit_code == EXIT_FILES_FAILED, first.output
    assert "1 failed" in first.output
    again = CliRunner().invoke(main, ["scan", str(photos), "--quiet"])
    assert again.exit_code == 0, again.output
    assert "0 failed" in again.output
    time.sleep(0.01)
    (photos / "broken2.jpg").write_bytes(b"broken too")  # a new failure fails this scan again
    third = CliRunner().invoke(main, ["scan", str(photos), "--quiet"])
    assert third.exit_code == EXIT_FILES_FAILED and "1 failed" in third.output


# ---------------------------------------------------------------------- 6. thresholds held across small changes


def test_the_threshold_size_is_held_within_its_band(tmp_path: Path) -> None:
    with Library.open(tmp_path / ".facefile") as lib:
        store = lib._store  # noqa: SLF001 - the record lives in the store's meta table
        assert cluster_runs.threshold_faces(store, MODEL, 400) == 400  # nothing recorded yet
        with store.transaction():
            cluster_runs.record_threshold_faces(store, MODEL, 400)
        band = cluster_runs.THRESHOLD_SIZE_BAND
        assert cluster_runs.threshold_faces(store, MODEL, 434) == 400
        assert cluster_runs.threshold_faces(store, MODEL, int(400 * band)) == 400
        assert cluster_runs.threshold_faces(store, MODEL, int(400 * band) + 1) == int(400 * band) + 1
        assert cluster_runs.threshold_faces(store, MODEL, 300) == 300
