"""Defaults in one place, each with the reason it has its value."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ScanConfig:
    # Longer side of the image the detector sees; None: the backend's own (vision.WORK_SIDES: 1024
    # for YuNet, 2048 for dlib's HOG), where the smallest faces worth a person (~80 px in a 12 MP
    # photo) are still found. Small faces are embedded from a finer copy, so this costs no accuracy.
    max_side: int | None = None
    backend: str = "opencv"
    workers: int = field(default_factory=default_workers)
    # Results per SQLite transaction: large enough to amortise the commit, small enough that a kill
    # loses only seconds of work.
    batch_size: int = 64
    # Below this many files to process, starting worker processes (each loads the models) costs
    # more than it saves.
    min_files_for_pool: int = 24
    # A Ray cluster address ("local": start one here) to run the per-file work on, or None.
    ray_address: str | None = None
