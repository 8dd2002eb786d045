"""One writer at a time: a scan, a watch or a re-cluster holds the library's writer lock.

Two scans of one library at once would both find the same new files and both store them (SQLite
serialises their transactions, not their plans). So the long writers take an OS file lock,
``fcntl.flock`` on ``<library>/writer.lock`` (0600), for as long as they run; a second one fails at
once with ``WriterBusy``, which names the holder (pid, command line, what and since when) from the
lock file. The kernel drops the lock when its process ends, however it ends (a SIGKILL, a power
cut), so a stale lock cannot exist; the text left in the file only describes the last holder.

The web UI's actions (a rename, a move) are short transactions that SQLite's WAL serialises with a
running scan; they never take this lock. The lock is re-entrant within one ``WriterLock`` (a scan
re-clusters at its end); two ``WriterLock`` objects on one folder exclude each other even in one
process (each holds its own open file).
"""
from __future__ import annotations

import fcntl
import json
import os
import shlex
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from facefile.store import LibraryError
from facefile.store.db import now
from facefile.store.private_files import FILE_MODE

__all__ = ["LOCK_FILENAME", "WriterBusy", "WriterLock"]

LOCK_FILENAME = "writer.lock"


class WriterBusy(LibraryError):
    """Another process (or another ``Library`` in this one) is writing this library now."""

    def __init__(self, folder: Path, holder: dict[str, Any] | None, wanted: str) -> None:
        self.folder = folder
        self.holder = holder or {}
        what = self.holder.get("what") or "a scan, watch or re-cluster"
        known = [f"pid {self.holder['pid']}"] if self.holder.get("pid") else []
        known += [f"`{self.holder['command']}`"] if self.holder.get("command") else []
        described = what + (f" ({', '.join(known)})" if known else "")
        since = self.holder.get("since")
        super().__init__(
            f"another facefile is writing {folder}: {described}"
            + (f", running since {since}" if since else "")
            + f"; this {wanted} was not started: wait until that one has finished (or stop it), then run it again"
        )


class WriterLock:
    """The writer lock of the library in ``folder`` (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_FILENAME
        self._fd: int | None = None
        self._depth = 0
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, what: str) -> Iterator[None]:
        """Hold the lock for ``what`` (``"scan of ~/Pictures"``), or raise ``WriterBusy`` at once."""
        self._acquire(what)
        try:
            yield
        finally:
            self._release()

    def holder(self) -> dict[str, Any] | None:
        """What the lock file says about its last (or current) holder."""
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def _acquire(self, what: str) -> None:
        with self._guard:
            if self._depth:
                self._depth += 1
                return
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise WriterBusy(self.path.parent, self.holder(), what) from None
            except BaseException:
                os.close(fd)
                raise
            record = {"pid": os.getpid(), "command": shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                      "what": what, "since": now()}
            os.fchmod(fd, FILE_MODE)  # an older lock file may be wider
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
            self._fd, self._depth = fd, 1

    def _release(self) -> None:
        with self._guard:
            self._depth -= 1
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None
