"""Live progress of a scan, readable from another process (the web UI's status page).

The ``scans`` table says which scan runs and how it ended; how far a running scan has come lives in
a small JSON file beside the database, ``<library>/scan-progress.json``, rewritten at most twice a
second by ``ScanProgressRecorder`` (a ``ScanProgress``). A file rather than a table: progress ticks
would otherwise be write transactions competing with the scan's own batches and growing the WAL,
and the record is worthless once the scan ends.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from facefile.store.db import now
from facefile.store.private_files import write_private
from facefile.store.scans import ScanRow

PROGRESS_FILENAME = "scan-progress.json"
WRITE_INTERVAL_S = 0.5


class _Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class ScanProgressRecorder:
    """Forwards progress to ``inner`` (e.g. the CLI's bars) and records it in the library folder."""

    def __init__(self, folder: Path, inner: _Progress | None = None, interval: float = WRITE_INTERVAL_S) -> None:
        self.path = Path(folder) / PROGRESS_FILENAME
        self.inner = inner
        self.interval = interval
        self.started_at = now()
        self.stage_name = ""
        self.total: int | None = None
        self.done = 0
        self._written = 0.0

    def stage(self, name: str, total: int | None = None) -> None:
        if self.inner is not None:
            self.inner.stage(name, total)
        self.stage_name, self.total, self.done = name, total, 0
        self._write()

    def advance(self, n: int = 1) -> None:
        if self.inner is not None:
            self.inner.advance(n)
        self.done += n
        if time.monotonic() - self._written >= self.interval:
            self._write()

    def _write(self) -> None:
        record = {
            "pid": os.getpid(), "started_at": self.started_at, "stage": self.stage_name,
            "done": self.done, "total": self.total, "updated_at": now(), "updated_unix": time.time(),
        }
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            write_private(tmp, json.dumps(record))  # created 0600, like everything in the library
            os.replace(tmp, self.path)  # atomic: a reader never sees half a record
        except OSError:
            pass  # progress is a courtesy: a full disk or a read-only folder must not stop the scan
        self._written = time.monotonic()


def read_progress(folder: Path) -> dict[str, Any] | None:
    """The last progress record, or None when there is none or it cannot be read."""
    try:
        record = json.loads((Path(folder) / PROGRESS_FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def process_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@dataclass(frozen=True)
class ScanStatus:
    """The recent scans (newest first) and, while one runs, how far it has come."""

    scans: list[ScanRow]
    running: bool
    stage: str | None = None
    done: int = 0
    total: int | None = None
    seconds_since_update: float | None = None
    process_gone: bool = False  # the scan's row says running, but its process has exited

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.running, "stage": self.stage, "done": self.done, "total": self.total,
            "seconds_since_update": self.seconds_since_update, "process_gone": self.process_gone,
            "scans": [row.__dict__ for row in self.scans],
        }


def scan_status(rows: list[ScanRow], folder: Path) -> ScanStatus:
    """Combine the ``scans`` rows with the progress record of the running scan, if any."""
    running = bool(rows) and rows[0].status == "running"
    record = read_progress(folder) if running else None
    # A record last written before the running scan began is a leftover of an earlier scan.
    if not running or record is None or str(record.get("updated_at", "")) < rows[0].started_at:
        return ScanStatus(rows, running)
    updated = record.get("updated_unix")
    total = record.get("total")
    return ScanStatus(
        rows, True, stage=str(record.get("stage") or ""), done=int(record.get("done") or 0),
        total=int(total) if isinstance(total, int) else None,
        seconds_since_update=round(time.time() - updated, 1) if isinstance(updated, (int, float)) else None,
        process_gone=not process_alive(record.get("pid")),
    )
