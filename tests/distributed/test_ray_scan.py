"""`facefile scan --ray`: the same faces and embeddings as a local scan, on a local 2-CPU Ray cluster."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from facefile_bench.lfw import link_sample, photo_sample

from facefile.library import Library

ray = pytest.importorskip("ray", reason="the ray extra is not installed")
pytestmark = [pytest.mark.data, pytest.mark.slow]


def faces_of(lib: Library) -> dict[tuple[str, tuple[float, ...]], np.ndarray]:
    faces = lib.faces()
    vectors = lib.embeddings([f.id for f in faces])
    return {(f.path, tuple(round(v, 2) for v in f.box)): v for f, v in zip(faces, vectors, strict=True)}


def test_ray_scan_stores_what_a_local_scan_stores(shared_data: Path, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    link_sample(photo_sample(shared_data / "lfw_dev", 40, cap=3, seed=9), photos)
    try:
        with Library.open(tmp_path / "ray-lib") as distributed:
            report = distributed.scan(photos, workers=2, ray="local")
            assert report.files_new == 40 and report.errors == 0
            assert int(ray.cluster_resources()["CPU"]) == 2
            on_ray = faces_of(distributed)
            persons_ray = len(distributed.people())
    finally:
        ray.shutdown()
    with Library.open(tmp_path / "local-lib") as local:
        local.scan(photos, workers=1)
        here = faces_of(local)
        assert len(local.people()) == persons_ray
    assert on_ray.keys() == here.keys()
    for key, vector in here.items():
        np.testing.assert_allclose(on_ray[key], vector, atol=1e-5)


def test_a_lost_worker_stops_the_scan_with_a_message() -> None:
    """A Ray worker that dies mid-scan (its node lost) ends the stream with a LibraryError, which
    the CLI prints as a message; the results received before it were already handed on."""
    from facefile.library import LibraryError
    from facefile.pipeline import ray_workers
    from facefile.pipeline.workers import FileTask

    @ray.remote(num_cpus=1)
    class DiesOnTheThirdFile:
        def ready(self) -> int:
            return os.getpid()

        def process(self, task: FileTask) -> str:
            if task.stored_path == "f2":
                os._exit(1)
            return task.stored_path

    ray_workers.start(ray_workers.LOCAL, 1)
    try:
        got = []
        tasks = [FileTask(f"/nowhere/f{i}", f"f{i}", 0, 0) for i in range(4)]
        with pytest.raises(LibraryError, match="run the same scan again"):
            for result in ray_workers.stream([DiesOnTheThirdFile.remote()], tasks):  # type: ignore[attr-defined]
                got.append(result)
        assert got == ["f0", "f1"]
    finally:
        ray.shutdown()
