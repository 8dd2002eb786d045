"""The per-file work of a scan (hash, decode, detect, embed) and the pool of processes that runs it.

Workers are processes (the models are CPU-bound and hold the GIL in places). ``process_file`` is
the one function every worker runs, local or on Ray (``ray_workers``), and never writes the
database: the parent is the only writer.
"""
from __future__ import annotations

import os
import signal
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from facefile.pipeline.scan_config import ScanConfig
from facefile.store.records import FaceRecord, ImageResult

if TYPE_CHECKING:
    from facefile.vision import Backend


class ScanProgress(Protocol):
    """What a scan reports while it runs (the CLI draws it with rich; tests may record it)."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


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
    from facefile.media.live_photo import live_identity
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
            if result.error is None:
                result.live_id, result.live_role = live_identity(Path(task.path))
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
        if image.live_id is not None:  # read with the photo's EXIF: no second open
            result.live_id, result.live_role = image.live_id, "still"
    except MediaError as exc:
        result.error = exc.reason
    except OSError as exc:  # vanished or unreadable between discovery and reading
        result.error = f"cannot read file: {exc.strerror or exc}"
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop a scan
        result.error = f"unexpected error: {type(exc).__name__}: {exc}"
    return result


# ---------------------------------------------------------------------- the pool


def results(
    tasks: list[FileTask], backend_name: str, known_hashes: frozenset[str], workers: int, max_side: int,
    config: ScanConfig, progress: ScanProgress,
) -> Iterator[ImageResult]:
    """Every task's result, in completion order. Models load in a stage of their own ("Loading
    models", counting the worker processes that have loaded them, then "Finding faces" once every
    worker is ready), so the progress rate shows the scan's speed, not its start-up (``bench
    speed`` times from there)."""
    if workers <= 1 or len(tasks) < config.min_files_for_pool:
        progress.stage("Loading models", total=1)
        init_worker(backend_name, known_hashes, max_side, in_pool=False)
        progress.advance()
        progress.stage("Finding faces", total=len(tasks))
        for task in tasks:
            yield process_file(task)
        return
    # spawn, not fork: the parent holds an open SQLite connection, a progress thread and maybe
    # OpenCV's thread pool, none of which survive a fork safely. All workers start here, inside
    # without_main_module, so a user's script without an `if __name__ == "__main__"` guard is not
    # re-run in every worker.
    progress.stage("Loading models", total=workers)
    context = get_context("spawn")
    ready = context.SimpleQueue()
    with without_main_module():
        pool = context.Pool(
            processes=workers, initializer=init_worker,
            initargs=(backend_name, known_hashes, max_side, True, ready),
        )
    try:
        wait_until_ready(ready, workers, progress)
        progress.stage("Finding faces", total=len(tasks))
        # Results arrive as they finish; small tasks, so uneven files don't leave a worker idle.
        yield from pool.imap_unordered(process_file, tasks, chunksize=1)
        pool.close()
    except BaseException:
        pool.terminate()  # Ctrl-C or an error: stop the workers now; stored batches stay stored
        raise
    finally:
        pool.join()


def wait_until_ready(ready: Any, workers: int, progress: ScanProgress | None = None) -> None:
    """Until ``workers`` processes have loaded their models (each one counted on ``progress``); the
    first worker's failure is raised here (the pool would otherwise restart failing workers forever)."""
    started: set[int] = set()
    while len(started) < workers:
        message = ready.get()
        if isinstance(message, BaseException):
            raise message
        if message not in started and progress is not None:
            progress.advance()
        started.add(message)


@contextmanager
def without_main_module() -> Iterator[None]:
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main
