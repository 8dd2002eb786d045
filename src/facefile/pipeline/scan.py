"""The local scan pipeline: discover -> (hash, decode, detect, embed) in workers -> one writer.

Workers are processes (``workers.py``); the parent process is the only SQLite writer and commits
results in batches, so a kill at any moment loses at most one batch and the next scan resumes from
what was stored. What follows the files (imported names, persons) is the caller's ``after_files``,
so the pipeline knows the store and nothing above it.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from facefile.pipeline.ray_workers import ray_results
from facefile.pipeline.scan_config import ScanConfig
from facefile.pipeline.shot_plan import ShotPlan, companion_result, plan_files
from facefile.pipeline.workers import FileTask, ScanProgress, results
from facefile.store import ImageResult, ScanReport, Store
from facefile.store.photos import IngestWriter

# After the files of a scan are stored and gone ones removed: (model id, progress) -> whether
# persons were regrouped. The library passes its names-and-persons step.
AfterFiles = Callable[[str, ScanProgress], bool]


class _Silent:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


def run_scan(
    store: Store,
    library_folder: Path,
    folder: Path,
    *,
    after_files: AfterFiles,
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
    progress = progress or _Silent()
    folder = folder.expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    started = time.perf_counter()
    report = ScanReport()
    with store.transaction():
        store.paths.set_root_if_unset(folder)
    model_id = model_id_of(backend_name)
    writer = store.photos.writer(model_id)
    with store.transaction():
        scan_id = store.scans.start(str(folder.resolve()), model_id)

    status = "done"
    try:
        plan, seen, unreadable_dirs = _discover(store, library_folder, folder, writer, progress, report)

        def read(tasks: list[FileTask]) -> None:
            _process_all(writer, tasks, backend_name, workers, max_side, config, progress, report)

        if plan.tasks:
            read(plan.tasks)
        _file_companions(writer, plan, read, report)  # also joins clips renamed apart from their stills
        gone = _gone_paths(store, folder, writer.all_paths(), seen, unreadable_dirs)
        report.files_gone = writer.remove_paths(gone)
        report.reclustered = after_files(model_id, progress)
    except KeyboardInterrupt:
        status = "interrupted"
        report.interrupted = True
    except BaseException:
        status = "failed"
        raise
    finally:
        report.persons = len(store.persons.summaries(include_hidden=True))
        report.seconds = time.perf_counter() - started
        with store.transaction():
            store.scans.finish(scan_id, status, files_seen=report.files_seen, files_new=report.files_new,
                               files_gone=report.files_gone, faces_added=report.faces_added, errors=report.errors)
    return report


def _discover(
    store: Store, library_folder: Path, folder: Path, writer: IngestWriter, progress: ScanProgress,
    report: ScanReport,
) -> tuple[ShotPlan, set[str], list[str]]:
    """What to do with each file found (read, file as a companion, nothing), every path seen, and
    folders that could not be read."""
    from facefile.media import discover
    from facefile.media.discover import MEDIA_EXTENSIONS

    progress.stage("Looking for photos")
    unreadable_dirs: list[str] = []
    found: list[FileTask] = []

    def unreadable(path: Path, _reason: str) -> None:
        unreadable_dirs.append(store.paths.stored(Path(path)))

    for item in discover(folder, skip=[library_folder], on_error=unreadable, extensions=MEDIA_EXTENSIONS):
        found.append(FileTask(str(item.path), store.paths.stored(item.path), item.size, item.mtime_ns))
        report.files_seen += 1
        progress.advance()
    plan = plan_files(found, writer.unchanged_signatures(), writer.companions(), writer.primary_paths())
    report.files_unchanged += plan.unchanged
    return plan, {f.stored_path for f in found}, unreadable_dirs


def _file_companions(
    writer: IngestWriter, plan: ShotPlan, read: Callable[[list[FileTask]], None], report: ScanReport
) -> None:
    """File RAWs and Live Photo clips with their shot's photo, once every photo of the scan is
    stored; what turns out to be no companion (a clip of its own, a RAW whose JPEG failed) is read
    like any other file."""
    linkable, alone = [], []
    for task in plan.companions:
        result = companion_result(task)
        if result is not None:
            linkable.append(result)
        elif task.stored_alone:
            report.files_unchanged += 1
        else:
            alone.append(task.file)
    paired, orphans = writer.store_companions(linkable)
    report.files_paired += paired
    orphan_paths = {r.path for r in orphans}
    alone += [t.file for t in plan.companions if t.file.stored_path in orphan_paths]
    if alone:
        read(alone)


def _process_all(
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
            # Counted by the writer, which looks each content up as it stores it: a duplicate of a
            # file found earlier in this scan is "moved or duplicate", not new.
            stored = writer.store_batch(batch)
            report.faces_added += stored.faces
            report.errors += stored.errors
            report.files_new += stored.new_files
            report.files_moved += stored.linked_files
            batch = []
        last_commit = time.monotonic()

    try:
        if config.ray_address is not None:
            progress.stage("Finding faces", total=len(tasks))
            found = ray_results(tasks, backend_name, known_hashes, max_side, address=config.ray_address,
                                workers=workers)
        else:
            found = results(tasks, backend_name, known_hashes, workers, max_side, config, progress)
        for result in found:
            batch.append(result)
            progress.advance()
            # Commit by size or every few seconds, so a kill loses little and readers see progress.
            if len(batch) >= config.batch_size or time.monotonic() - last_commit > 5:
                flush()
    finally:
        flush()


def _gone_paths(store: Store, folder: Path, stored: set[str], seen: set[str], unreadable_dirs: list[str]) -> list[str]:
    """Stored paths under ``folder`` that discovery did not see (deleted or moved away). Paths
    under a folder that could not be read are kept: unreadable is not gone."""
    prefix = store.paths.stored(folder)
    prefix = "" if prefix == "." else prefix.rstrip("/") + "/"
    blocked = tuple(d.rstrip("/") + "/" for d in unreadable_dirs)
    return sorted(
        p for p in stored - seen
        if p.startswith(prefix) and not (blocked and p.startswith(blocked))
    )
