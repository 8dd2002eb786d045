"""The scan's worker pool: models load in a stage of their own, and a worker that cannot start
fails the scan with its reason (a pool would otherwise restart it forever)."""
from __future__ import annotations

import pytest

from facefile.pipeline.scan_config import ScanConfig
from facefile.pipeline.workers import FileTask, results


class Stages:
    def __init__(self) -> None:
        self.names: list[str] = []

    def stage(self, name: str, total: int | None = None) -> None:
        self.names.append(name)

    def advance(self, n: int = 1) -> None:
        pass


def test_a_worker_that_cannot_load_its_models_fails_the_scan() -> None:
    tasks = [FileTask(f"/nowhere/{i}.jpg", f"{i}.jpg", 1, 1) for i in range(2)]
    config = ScanConfig(workers=2, min_files_for_pool=1)
    stages = Stages()
    with pytest.raises(ValueError, match="unknown vision backend"):
        list(results(tasks, "no-such-backend", frozenset(), 2, 1024, config, stages))
    assert stages.names == ["Loading models"]
