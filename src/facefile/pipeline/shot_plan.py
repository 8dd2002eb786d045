"""Which files of a scan are read for faces and which are filed as companions of another's photo.

``media.shots`` pairs names (a RAW beside its JPEG, a clip beside its still); this module weighs
that against what the library holds, so a re-scan of an unchanged folder does nothing, and a shot
that changed (a JPEG deleted, its RAW left; a still that arrived after its clip) is filed again.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from facefile.media.live_photo import clip_identifier, is_motion_of, still_identifier
from facefile.media.shots import is_clip, shots
from facefile.pipeline.workers import FileTask
from facefile.store.records import ImageResult


@dataclass(frozen=True)
class CompanionTask:
    """A file to file with the photo read from ``primary`` (its stored path; ``primary_path`` on disk)."""

    file: FileTask
    primary: str
    primary_path: str
    stored_alone: bool  # filed now as a photo of its own, unchanged: left so if it is no companion


@dataclass
class ShotPlan:
    tasks: list[FileTask] = field(default_factory=list)  # read for faces
    companions: list[CompanionTask] = field(default_factory=list)  # filed with another's photo
    unchanged: int = 0


def plan_files(
    found: Sequence[FileTask],
    known: Mapping[str, tuple[int, int]],
    companions_now: Mapping[str, str],
    stored_primaries: Collection[str],
) -> ShotPlan:
    """Sort the files a scan found (``stored_path``, size and mtime in each task) into work.

    ``known``: stored path -> (size, mtime_ns) of files needing no work; ``companions_now``: companion
    -> primary as stored; ``stored_primaries``: paths filed as photos of their own.
    """
    primary_of = {}
    for shot in shots([f.stored_path for f in found], stored_primaries=set(stored_primaries)):
        for companion in shot.companions:
            primary_of[companion] = shot.primary
    by_path = {f.stored_path: f for f in found}
    plan = ShotPlan()
    for f in found:
        unchanged = known.get(f.stored_path) == (f.size, f.mtime_ns)
        if f.stored_path in primary_of:
            continue  # decided below, once every primary is
        if unchanged and f.stored_path not in companions_now:
            plan.unchanged += 1
        else:  # new or changed, or a former companion that is a photo of its own now
            plan.tasks.append(f)
    changed_primaries = {t.stored_path for t in plan.tasks}
    for path, primary in primary_of.items():
        f = by_path[path]
        unchanged = known.get(path) == (f.size, f.mtime_ns)
        linked = companions_now.get(path) == primary and primary not in changed_primaries
        if unchanged and linked:
            plan.unchanged += 1
            continue
        alone = unchanged and path in stored_primaries
        plan.companions.append(CompanionTask(f, primary, by_path[primary].path, alone))
    return plan


def companion_result(task: CompanionTask) -> ImageResult | None:
    """The result that files ``task`` with its photo, or None when it is no companion after all: a
    clip whose Live Photo identifier differs from its still's, or too long to be a still's motion."""
    f = task.file
    result = ImageResult(path=f.stored_path, size=f.size, mtime_ns=f.mtime_ns, companion_of=task.primary)
    if is_clip(f.path):
        clip_id, seconds = clip_identifier(Path(f.path))
        still_id = still_identifier(Path(task.primary_path)) if not is_clip(task.primary_path) else None
        if not is_motion_of(still_id, clip_id, seconds):
            return None
        result.live_id = clip_id or still_id
    return result
