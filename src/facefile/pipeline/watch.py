"""Keep a library current while photos arrive: filesystem events -> debounced incremental scan.

The same code path as ``facefile scan``: events only say *when* to scan, never *what*, so a missed
or coalesced event can never make the library wrong, only later.
"""
from __future__ import annotations

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

    def dispatch(self, event: object) -> None:  # watchdog's handler interface
        paths = [getattr(event, "src_path", ""), getattr(event, "dest_path", "")]
        if all(not p or str(p).startswith(self.ignore) for p in paths):
            return  # our own database writes
        self.last_event = time.monotonic()
        self.pending.set()


def watch_folder(
    scan: Callable[[], ScanReport],
    folder: Path,
    *,
    ignore: Path,
    debounce: float = 3.0,
    on_scan: Callable[[ScanReport], None] | None = None,
    stop: threading.Event | None = None,
    poll: float = 0.2,
) -> None:
    """``scan()`` once, then again whenever ``folder`` has been quiet for ``debounce`` seconds after
    a change outside ``ignore`` (the library's own folder). Runs until ``stop`` is set (or Ctrl-C)."""
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
                report = scan()
                if on_scan:
                    on_scan(report)
            stop.wait(poll)
    finally:
        observer.stop()
        observer.join()
