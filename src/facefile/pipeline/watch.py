"""Keep a library current while photos arrive: filesystem events -> debounced incremental scan.

The same code path as ``facefile scan``: events only say *when* to scan, never *what*, so a missed
or coalesced event can never make the library wrong, only later.

``.xmp`` sidecars are the exception: a sidecar edited by another tool (digiKam, Lightroom) leaves its
photo unchanged, so the scan would not look at it again. Their paths are collected and handed to
``on_sidecars`` after the scan, which re-imports the names of those photos only.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from facefile.store import ScanReport


class _Changes:
    """Set by watchdog's thread, read by the scanning thread."""

    def __init__(self, ignore: Path) -> None:
        self.ignore = str(ignore)
        self.last_event = 0.0
        self.pending = threading.Event()
        self._lock = threading.Lock()
        self._sidecars: set[Path] = set()

    def dispatch(self, event: object) -> None:  # watchdog's handler interface
        paths = [os.fsdecode(p) for p in (getattr(event, "src_path", ""), getattr(event, "dest_path", "")) if p]
        if all(p.startswith(self.ignore) for p in paths):
            return  # our own database writes
        if getattr(event, "is_directory", False) is False:
            # Created, modified, deleted, or renamed onto (how editors save): either end may be one.
            sidecars = {Path(p) for p in paths if p.lower().endswith(".xmp")}
            with self._lock:
                self._sidecars |= sidecars
        self.last_event = time.monotonic()
        self.pending.set()

    def take_sidecars(self) -> set[Path]:
        with self._lock:
            taken, self._sidecars = self._sidecars, set()
        return taken


def watch_folder(
    scan: Callable[[], ScanReport],
    folder: Path,
    *,
    ignore: Path,
    debounce: float = 3.0,
    on_scan: Callable[[ScanReport], None] | None = None,
    stop: threading.Event | None = None,
    poll: float = 0.2,
    on_sidecars: Callable[[set[Path]], None] | None = None,
) -> None:
    """``scan()`` once, then again whenever ``folder`` has been quiet for ``debounce`` seconds after
    a change outside ``ignore`` (the library's own folder), followed by ``on_sidecars(paths)`` when
    ``.xmp`` files were among the changes. Runs until ``stop`` is set (or Ctrl-C)."""
    from watchdog.observers import Observer

    stop = stop or threading.Event()
    changes = _Changes(ignore)
    observer = Observer()
    observer.schedule(changes, str(folder), recursive=True)  # type: ignore[arg-type]
    observer.start()
    try:
        report = scan()
        if on_scan:
            on_scan(report)
        while not stop.is_set():
            if changes.pending.is_set() and time.monotonic() - changes.last_event >= debounce:
                changes.pending.clear()
                sidecars = changes.take_sidecars()
                report = scan()
                if on_scan:
                    on_scan(report)
                if sidecars and on_sidecars:
                    on_sidecars(sidecars)
            stop.wait(poll)
    finally:
        observer.stop()
        observer.join()
