"""Decode, detect and embed as Ray actors; results stream back to the one SQLite writer.

The per-file work is ``facefile.pipeline.workers.process_file``, the very function local workers run, so the
two paths cannot drift apart. Each actor loads the models once (``init_worker``) and takes one
file at a time from ``ActorPool.map_unordered``, which submits a new file only when an actor is
free: back-pressure, so a million-file scan never queues a million tasks. Files must be on a path
every node can read (NFS, a shared mount), since only paths travel, never pixels.

Ray is an optional extra (``pip install 'facefile[ray]'``). Its usage statistics are switched off
before it starts: facefile never phones home, and neither does Ray on its behalf.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from facefile.pipeline.workers import FileTask, init_worker, process_file
from facefile.store.library_error import LibraryError
from facefile.store.records import ImageResult

LOCAL = "local"  # `--ray` without an address: start a Ray instance on this machine

# time.perf_counter() when the latest ray_results had every actor's models loaded, so that
# ``bench speed`` can exclude start-up from the Ray scan's clock as it does for the local pool.
last_ready_at: float | None = None


def ray_module():  # noqa: ANN201 - the ray module, imported on demand
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("scanning with --ray needs Ray: pip install 'facefile[ray]'") from exc
    return ray


def start(address: str | None, workers: int) -> int:
    """Connect to the cluster at ``address`` (or start a local one); returns the actors to use."""
    ray = ray_module()
    if not ray.is_initialized():
        if address in (None, LOCAL):
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    cpus = int(ray.cluster_resources().get("CPU", workers))
    return max(1, min(workers, cpus) if address in (None, LOCAL) else cpus)


def ray_results(
    tasks: Sequence[FileTask], backend_name: str, known_hashes: frozenset[str], max_side: int,
    *, address: str | None = None, workers: int = 2,
) -> Iterator[ImageResult]:
    """``process_file`` of every task, on Ray actors, in completion order."""
    ray = ray_module()


    @ray.remote(num_cpus=1)
    class FaceWorker:
        def __init__(self) -> None:
            init_worker(backend_name, known_hashes, max_side, in_pool=True)

        def ready(self) -> int:
            return os.getpid()

        def process(self, task: FileTask) -> ImageResult:
            return process_file(task)

    actors = [FaceWorker.remote() for _ in range(start(address, workers))]  # type: ignore[attr-defined]
    yield from stream(actors, tasks)


def stream(actors: Sequence[Any], tasks: Sequence[FileTask]) -> Iterator[ImageResult]:
    """Every task through ``actors`` (each with ``ready()`` and ``process(task)``), one file per free
    actor. No file is submitted before every actor has its models loaded, so a node that cannot load
    them fails the scan before any work is spread. A lost actor (its node died, its process was
    killed) stops the scan with a LibraryError: what the driver stored so far stays stored, and the
    same scan run again processes only the rest. The actors are killed at the end, however it ends."""
    global last_ready_at
    ray = ray_module()
    from ray.util import ActorPool


    try:
        ray.get([actor.ready.remote() for actor in actors])
        last_ready_at = time.perf_counter()
        yield from ActorPool(actors).map_unordered(lambda actor, task: actor.process.remote(task), list(tasks))
    except ray.exceptions.RayActorError as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LibraryError(f"a Ray worker was lost ({cause}); the files done so far are stored: "
                           "run the same scan again to process the rest") from exc
    finally:
        for actor in actors:
            ray.kill(actor)
