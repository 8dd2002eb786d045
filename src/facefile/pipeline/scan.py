"""The local scan pipeline: discover -> (hash, decode, detect, embed) in workers -> one writer.

Workers are processes (the models are CPU-bound and hold the GIL in places); the parent process is
the only SQLite writer and commits results in batches, so a kill at any moment loses at most one
batch and the next scan resumes from what was stored.
"""
from __future__ import annotations

import os
import signal
import sys
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from facefile.pipeline.scan_config import ScanConfig
from facefile.store.db import now, transaction
from facefile.store.photos import IngestWriter
from facefile.store.records import FaceRecord, ImageResult, ScanReport

if TYPE_CHECKING:
    from facefile.library import Library
    from facefile.vision import Backend


class ScanProgress(Protocol):
    """What a scan reports while it runs (the CLI draws it with rich; tests may record it)."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class _Silent:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass(frozen=True)
class FileTask:
    path: str  # absolute path to read
    stored_path: str  # how the library stores it
    size: int
    mtime_ns: int


# ---------------------------------------------------------------------- worker side

_backend: Backend | None = None
_known_hashes: frozenset[str] = frozenset()
_max_side = 1024


def init_worker(backend_name: str, known_hashes: frozenset[str], max_side: int, in_pool: bool,
                ready: Any = None) -> None:
    """Load the models once per worker process; then put this process's id on the ``ready`` queue
    (or the exception that stopped it, so the scan fails with it instead of waiting forever)."""
    global _backend, _known_hashes, _max_side
    try:
        if in_pool:
            # Ctrl-C is the parent's to handle: it stops the pool and commits what is done.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            import cv2

            cv2.setNumThreads(1)  # one process per core already; OpenCV's own threads would oversubscribe
        from facefile.vision import load_backend

        _backend = load_backend(backend_name)
        _known_hashes = known_hashes
        _max_side = max_side
    except Exception as exc:
        if ready is not None:
            try:
                ready.put(exc)
            except Exception:  # an exception that does not pickle: its message still tells why
                ready.put(RuntimeError(f"a scan worker could not start: {type(exc).__name__}: {exc}"))
        raise
    if ready is not None:
        ready.put(os.getpid())


def process_file(task: FileTask) -> ImageResult:
    """Everything one file needs that is not a database write. Never raises for a bad file."""
    from facefile.media import VIDEO_EXTENSIONS, MediaError, decode_with_detail, hash_file
    from facefile.vision.faces import photo_faces

    result = ImageResult(path=task.stored_path, size=task.size, mtime_ns=task.mtime_ns)
    try:
        result.content_hash = hash_file(Path(task.path))
        if result.content_hash in _known_hashes:
            result.known_image = True
            return result
        assert _backend is not None, "init_worker() was not called"
        if Path(task.path).suffix.lower() in VIDEO_EXTENSIONS:
            from facefile.pipeline.video_frames import process_video

            process_video(Path(task.path), result, _backend)
            return result
        # One decode gives the detector's working image and a finer copy for small faces' crops.
        image, fine = decode_with_detail(Path(task.path), max_side=_max_side)
        result.faces = [
            FaceRecord(
                box=tuple(float(v) for v in found.face.box),  # type: ignore[arg-type]
                landmarks=found.face.landmarks,
                det_score=float(found.face.score),
                quality=found.quality,
                embedding=found.embedding,
            )
            for found in photo_faces(_backend, image.pixels, image.scale, fine)
        ]
        # Names other photo tools stored in the photo or its sidecar become confirmations.
        from facefile.pipeline.xmp_faces import named_faces

        result.faces = named_faces(Path(task.path), image, result.faces, _backend)
        result.width, result.height = image.width, image.height
        # EXIF times are the camera's local wall-clock time without a zone; the file time fallback is
        # given the same form (local, naive) so dates sort and compare as one kind.
        taken = image.taken_at or datetime.fromtimestamp(task.mtime_ns / 1e9)
        result.taken_at = taken.isoformat(timespec="seconds")
        result.model_id = _backend.model_id
    except MediaError as exc:
        result.error = exc.reason
    except OSError as exc:  # vanished or unreadable between discovery and reading
        result.error = f"cannot read file: {exc.strerror or exc}"
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop a scan
        result.error = f"unexpected error: {type(exc).__name__}: {exc}"
    return result


# ---------------------------------------------------------------------- parent side


def run_scan(
    lib: Library,
    folder: Path,
    *,
    backend: str | None = None,
    workers: int | None = None,
    progress: ScanProgress | None = None,
    config: ScanConfig | None = None,
    ray: str | None = None,
) -> ScanReport:
    from facefile.vision import DEFAULT_BACKEND, model_id_of, work_side_of

    config = config or ScanConfig(backend=backend or DEFAULT_BACKEND, ray_address=ray)
    backend_name = backend or config.backend
    workers = workers or config.workers
    max_side = config.max_side or work_side_of(backend_name)
    progress = lib.scan_progress_recorder(progress or _Silent())
    folder = folder.expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    started = time.perf_counter()
    report = ScanReport()
    lib.set_root_if_unset(folder)
    model_id = model_id_of(backend_name)
    writer = lib.writer(model_id)

    with transaction(lib.conn):
        scan_id = lib.conn.execute(
            "INSERT INTO scans(folder, model_id, started_at, status) VALUES (?, ?, ?, 'running')",
            (str(folder.resolve()), model_id, now()),
        ).lastrowid

    status = "done"
    try:
        tasks, seen, unreadable_dirs = _discover(lib, folder, writer, progress, report)
        if tasks:
            _process_all(lib, writer, tasks, backend_name, workers, max_side, config, progress, report)
        # Names read from XMP regions were queued with their faces; confirm them (also any left
        # queued by an earlier scan that was killed before this step).
        lib.apply_imported_names()
        gone = _gone_paths(lib, folder, writer.all_paths(), seen, unreadable_dirs)
        report.files_gone = writer.remove_paths(gone)
        if lib.needs_recluster():
            progress.stage("Grouping faces into persons")
            lib.update_persons(model_id)
            report.reclustered = True
    except KeyboardInterrupt:
        status = "interrupted"
        report.interrupted = True
    except BaseException:
        status = "failed"
        raise
    finally:
        report.persons = len(lib.people(include_hidden=True))
        report.seconds = time.perf_counter() - started
        with transaction(lib.conn):
            lib.conn.execute(
                "UPDATE scans SET finished_at=?, status=?, files_seen=?, files_new=?, files_gone=?, "
                "faces_added=?, errors=? WHERE id=?",
                (now(), status, report.files_seen, report.files_new, report.files_gone,
                 report.faces_added, report.errors, scan_id),
            )
    return report


def _discover(
    lib: Library, folder: Path, writer: IngestWriter, progress: ScanProgress, report: ScanReport
) -> tuple[list[FileTask], set[str], list[str]]:
    """Files to process (new or changed), every path seen, and folders that could not be read."""
    from facefile.media import discover
    from facefile.media.discover import MEDIA_EXTENSIONS

    progress.stage("Looking for photos")
    unreadable_dirs: list[str] = []
    known = writer.unchanged_signatures()
    tasks: list[FileTask] = []
    seen: set[str] = set()

    def unreadable(path: Path, _reason: str) -> None:
        unreadable_dirs.append(lib.rel_path(Path(path)))

    for found in discover(folder, skip=[lib.folder], on_error=unreadable, extensions=MEDIA_EXTENSIONS):
        stored = lib.rel_path(found.path)
        seen.add(stored)
        report.files_seen += 1
        if known.get(stored) == (found.size, found.mtime_ns):
            report.files_unchanged += 1
        else:
            tasks.append(FileTask(str(found.path), stored, found.size, found.mtime_ns))
        progress.advance()
    return tasks, seen, unreadable_dirs


def _process_all(
    lib: Library,
    writer: IngestWriter,
    tasks: list[FileTask],
    backend_name: str,
    workers: int,
    max_side: int,
    config: ScanConfig,
    progress: ScanProgress,
    report: ScanReport,
) -> None:
    known_hashes = frozenset(writer.known_hashes())
    batch: list[ImageResult] = []
    last_commit = time.monotonic()

    def flush() -> None:
        nonlocal batch, last_commit
        if batch:
            faces, errors = writer.store(batch)
            report.faces_added += faces
            report.errors += errors
            report.files_new += sum(1 for r in batch if r.error is None and not r.known_image)
            report.files_moved += sum(1 for r in batch if r.known_image)
            batch = []
        last_commit = time.monotonic()

    try:
        for result in _results(tasks, backend_name, known_hashes, workers, max_side, config, progress):
            batch.append(result)
            progress.advance()
            # Commit by size or every few seconds, so a kill loses little and readers see progress.
            if len(batch) >= config.batch_size or time.monotonic() - last_commit > 5:
                flush()
    finally:
        flush()


def _results(
    tasks: list[FileTask], backend_name: str, known_hashes: frozenset[str], workers: int, max_side: int,
    config: ScanConfig, progress: ScanProgress,
) -> Iterator[ImageResult]:
    """Every task's result, in completion order. Models load in a stage of their own ("Loading
    models", then "Finding faces" once every worker is ready), so the progress rate shows the
    scan's speed, not its start-up (``bench speed`` times from there)."""
    if config.ray_address is not None:
        from facefile.pipeline.ray_workers import ray_results

        progress.stage("Finding faces", total=len(tasks))
        yield from ray_results(tasks, backend_name, known_hashes, max_side,
                               address=config.ray_address, workers=workers)
        return
    progress.stage("Loading models")
    if workers <= 1 or len(tasks) < config.min_files_for_pool:
        init_worker(backend_name, known_hashes, max_side, in_pool=False)
        progress.stage("Finding faces", total=len(tasks))
        for task in tasks:
            yield process_file(task)
        return
    # spawn, not fork: the parent holds an open SQLite connection, a progress thread and maybe
    # OpenCV's thread pool, none of which survive a fork safely. All workers start here, inside
    # _without_main_module, so a user's script without an `if __name__ == "__main__"` guard is not
    # re-run in every worker.
    context = get_context("spawn")
    ready = context.SimpleQueue()
    with _without_main_module():
        pool = context.Pool(
            processes=workers, initializer=init_worker,
            initargs=(backend_name, known_hashes, max_side, True, ready),
        )
    try:
        _wait_until_ready(ready, workers)
        progress.stage("Finding faces", total=len(tasks))
        # Results arrive as they finish; small tasks, so uneven files don't leave a worker idle.
        yield from pool.imap_unordered(process_file, tasks, chunksize=1)
        pool.close()
    except BaseException:
        pool.terminate()  # Ctrl-C or an error: stop the workers now; stored batches stay stored
        raise
    finally:
        pool.join()


def _wait_until_ready(ready: Any, workers: int) -> None:
    """Until ``workers`` processes have loaded their models; the first worker's failure is raised
    here (the pool would otherwise restart failing workers forever)."""
    started: set[int] = set()
    while len(started) < workers:
        message = ready.get()
        if isinstance(message, BaseException):
            raise message
        started.add(message)


@contextmanager
def _without_main_module() -> Iterator[None]:
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def _gone_paths(lib: Library, folder: Path, stored: set[str], seen: set[str], unreadable_dirs: list[str]) -> list[str]:
    """Stored paths under ``folder`` that discovery did not see (deleted or moved away). Paths
    under a folder that could not be read are kept: unreadable is not gone."""
    prefix = lib.rel_path(folder)
    prefix = "" if prefix == "." else prefix.rstrip("/") + "/"
    blocked = tuple(d.rstrip("/") + "/" for d in unreadable_dirs)
    return sorted(
        p for p in stored - seen
        if p.startswith(prefix) and not (blocked and p.startswith(blocked))
    )
