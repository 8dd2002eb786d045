"""`facefile watch`: photos that arrive are scanned by the same code path, after a quiet moment;
sidecars edited by other tools bring their names in."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from facefile_bench.lfw import identities, link_sample

from facefile.library import Library, ScanReport
from tests.interop.conftest import exif, write_mwg
from tests.interop.test_xmp_write import library_of, make_photo
from tests.support.database import sql


@pytest.fixture
def exiftool() -> str:
    found = shutil.which("exiftool")
    if found is None:
        pytest.skip("exiftool not installed (tests only: it checks what other tools read back)")
    return found


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.data
def test_new_photos_are_filed_while_watching(shared_data: Path, tmp_path: Path) -> None:
    ids = identities(shared_data / "lfw_dev")
    name = next(n for n, files in ids.items() if len(files) >= 5)
    photos = tmp_path / "photos"
    link_sample([(p, name) for p in ids[name][:3]], photos)
    lib = Library.open(photos / ".facefile")
    reports: list[ScanReport] = []
    stop = threading.Event()
    watcher = threading.Thread(
        target=lib.watch, args=(photos,),
        kwargs={"debounce": 0.5, "on_scan": reports.append, "stop": stop, "poll": 0.05},
    )
    watcher.start()
    try:
        wait_for(lambda: len(reports) == 1)
        assert reports[0].files_new == 3
        link_sample([(p, name) for p in ids[name][3:5]], photos)
        wait_for(lambda: len(reports) >= 2)
        assert sum(r.files_new for r in reports[1:]) == 2
        # The library's own writes never trigger a scan: it stays quiet afterwards.
        time.sleep(1.5)
        assert sum(r.files_new for r in reports) == 5
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert lib.stats()["files"] == 5
    lib.close()


def watching(lib: Library, folder: Path):  # noqa: ANN201 - (stop event, thread, scan reports, name reports)
    reports: list[ScanReport] = []
    names: list = []
    stop = threading.Event()
    watcher = threading.Thread(
        target=lib.watch, args=(folder,),
        kwargs={"debounce": 0.3, "on_scan": reports.append, "stop": stop, "poll": 0.05, "on_names": names.append},
    )
    watcher.start()
    wait_for(lambda: len(reports) == 1)
    return stop, watcher, reports, names


def test_a_sidecar_edited_elsewhere_brings_its_names_in_and_our_own_do_not(exiftool: str, tmp_path: Path) -> None:
    photos = ("a.jpg", "b.jpg", "c1.jpg", "c2.jpg", "c3.jpg")
    for name in photos:
        make_photo(tmp_path / name, (400, 300))
    lib = library_of(tmp_path, {name: ((400, 300), [((40, 30, 120, 130), None)]) for name in photos})
    # Cleo: one person found by the engine (automatic assignments) and named in facefile.
    rng = np.random.default_rng(5)
    cleo = rng.normal(size=128)
    for face in lib.faces():
        v = cleo + rng.normal(scale=0.02, size=128) if face.path.startswith("c") else rng.normal(size=128)
        sql(lib).execute("UPDATE faces SET embedding = ? WHERE id = ?",
                         ((v / np.linalg.norm(v)).astype(np.float32).tobytes(), face.id))
    lib.recluster()
    lib.persons.name(next(f for f in lib.faces() if f.path == "c1.jpg").person_id, "Cleo")
    stop, watcher, reports, names = watching(lib, tmp_path)
    try:
        # digiKam names the face in a.jpg (sidecar of the photo.jpg.xmp kind) ...
        write_mwg(exiftool, tmp_path / "a.jpg.xmp", (400, 300), [("Anna Smith", (0.1, 0.1, 0.3, 130 / 300))],
                  source=tmp_path / "a.jpg")
        wait_for(lambda: sum(r.confirmed for r in names) == 1)
        face = next(f for f in lib.faces() if f.path == "a.jpg")
        assert (lib.person(face.person_id).name, face.provenance) == ("Anna Smith", "confirmed")
        # ... and Lightroom the one in b.jpg (photo.xmp), edited in place after its first save.
        write_mwg(exiftool, tmp_path / "b.xmp", (400, 300), [("Bob", (0.1, 0.1, 0.3, 130 / 300))], source=tmp_path / "b.jpg")
        wait_for(lambda: sum(r.confirmed for r in names) == 2)
        exif(exiftool, "-q", "-overwrite_original", "-XMP-mwg-rs:RegionName=Robert", tmp_path / "b.xmp")
        wait_for(lambda: sum(r.confirmed for r in names) == 3)
        assert lib.person(next(f for f in lib.faces() if f.path == "b.jpg").person_id).name == "Robert"
        # write-xmp's own sidecars (Cleo's, named in facefile) are seen, but are no new evidence.
        seen = len(names)
        other = Library.open(tmp_path / ".facefile")  # as `facefile write-xmp` in another shell would
        other.interop.write_xmp()
        other.close()
        wait_for(lambda: sum(r.names_queued for r in names[seen:]) >= 3)
        assert sum(r.confirmed for r in names[seen:]) == 0
        assert {f.provenance for f in lib.faces() if f.path.startswith("c")} == {"auto"}
        # A deleted sidecar is noticed; the names imported stay (they were decisions).
        (tmp_path / "a.jpg.xmp").unlink()
        wait_for(lambda: len(names) > seen + 1)
        assert lib.person(next(f for f in lib.faces() if f.path == "a.jpg").person_id).name == "Anna Smith"
        assert all(r.files_new == 0 for r in reports)  # no photo was scanned again
    finally:
        stop.set()
        watcher.join(timeout=30)
    lib.close()
