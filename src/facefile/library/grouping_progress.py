"""Progress of the grouping step (a re-cluster) in the terms of a scan's progress: one counted stage
per phase of the engine, so the step shows how far it has come instead of a bare spinner."""
from __future__ import annotations

from typing import Protocol

__all__ = ["GroupingProgress", "StageProgress"]


class StageProgress(Protocol):
    """What a scan's progress offers (``facefile.pipeline.ScanProgress``)."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class GroupingProgress:
    """A ``cluster.ClusterProgress`` (``(phase, done, total)`` calls) that drives ``progress``: a new
    phase starts a stage ``"Grouping faces: <phase>"``, and counts advance it. Also the library's
    own phases (reading faces, storing persons) are told through it."""

    def __init__(self, progress: StageProgress) -> None:
        self.progress = progress
        self.phase: str | None = None
        self.done = 0

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        if phase != self.phase:
            self.progress.stage(f"Grouping faces: {phase[:1].lower()}{phase[1:]}", total)
            self.phase, self.done = phase, 0
        if done > self.done:
            self.progress.advance(done - self.done)
            self.done = done
