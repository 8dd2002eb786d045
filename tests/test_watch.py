"""`facefile watch`: photos that arrive are scanned by the same code path, after a quiet moment."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from facefile_bench.lfw import identities, link_sample

from facefile.library import Library, ScanReport

pytestmark = pytest.mark.data


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


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
