"""Files that are one shot: a camera's JPEG and its RAW, an iPhone Live Photo's still and its clip.

A camera set to RAW+JPEG writes ``DSC_0042.NEF`` beside ``DSC_0042.JPG``; an iPhone writes
``IMG_1234.HEIC`` beside ``IMG_1234.MOV``. Filed separately, every face of the shot would be filed
twice. Files are one shot when they sit in the same folder under the same name stem (case aside);
the shot is one photo, read from one file (its *primary*); the others are its *companions*, kept
with it but never read for faces. This module only pairs names; whether a clip really is the
still's motion (Apple's content identifier, its length) is the scan's to check.
"""
from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from facefile.media.discover import IMAGE_EXTENSIONS, RAW_EXTENSIONS, VIDEO_EXTENSIONS

# The still a shot is read from, best first: the camera's own rendering (JPEG) or the phone's
# (HEIC). Other stills of the same stem (an edited PNG export, a TIFF scan) are photos of their own.
SHOT_STILLS: tuple[str, ...] = (".jpg", ".jpeg", ".heic", ".heif")
LIVE_PHOTO_STILLS: frozenset[str] = frozenset(SHOT_STILLS)
_STILL_RANK = {ext: rank for rank, ext in enumerate(SHOT_STILLS)}
assert set(SHOT_STILLS) <= IMAGE_EXTENSIONS


@dataclass(frozen=True)
class Shot:
    """One shot of several files: ``primary`` is read for faces, ``companions`` are filed with it."""

    primary: str
    companions: tuple[str, ...]


def _suffix(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def _key(path: str) -> tuple[str, str]:
    folder, name = os.path.split(path)
    return folder, os.path.splitext(name)[0].lower()


def shots(paths: Iterable[str], *, stored_primaries: Collection[str] = ()) -> list[Shot]:
    """The shots among ``paths`` (every file of a scan), in path order; files alone are left out.

    A shot needs a still (JPEG or HEIC); its RAW files and video clips of the same stem are its
    companions. A RAW in ``stored_primaries`` (already filed as a photo of its own, perhaps with the
    user's answers on its faces) stays the primary when its JPEG turns up later, so nothing the user
    did is lost; otherwise (and when the still is filed too) the still is. Several stills of one stem: the best ranked one joins the
    shot (JPEG before HEIC), the rest stay photos of their own.

    >>> shots(["a/IMG_1.JPG", "a/IMG_1.CR2", "a/IMG_2.HEIC", "a/IMG_2.MOV", "a/IMG_3.CR2", "b/IMG_1.CR2"])
    [Shot(primary='a/IMG_1.JPG', companions=('a/IMG_1.CR2',)), Shot(primary='a/IMG_2.HEIC', companions=('a/IMG_2.MOV',))]
    """
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in paths:
        if _suffix(path) in _STILL_RANK or _suffix(path) in RAW_EXTENSIONS or _suffix(path) in VIDEO_EXTENSIONS:
            groups[_key(path)].append(path)
    found = []
    for members in groups.values():
        stills = sorted((p for p in members if _suffix(p) in _STILL_RANK), key=lambda p: (_STILL_RANK[_suffix(p)], p))
        if not stills:
            continue  # RAWs or clips alone: each is its own photo or video
        still = stills[0]
        raws = sorted(p for p in members if _suffix(p) in RAW_EXTENSIONS)
        clips = sorted(p for p in members if _suffix(p) in VIDEO_EXTENSIONS)
        if not raws and not clips:
            continue
        kept_raw = None if still in stored_primaries else next((r for r in raws if r in stored_primaries), None)
        primary = kept_raw or still
        companions = tuple(sorted({still, *raws, *clips} - {primary}))
        found.append(Shot(primary, companions))
    return sorted(found, key=lambda s: s.primary)


def is_clip(path: str) -> bool:
    return _suffix(path) in VIDEO_EXTENSIONS
