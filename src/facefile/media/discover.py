"""Find the photos under a folder: fast, in a stable order, without tripping over odd file systems."""
from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Collection, Iterator
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from facefile.media.errors import MediaError, reason_for_os_error

# Lower-case suffixes with the dot, as ``Path.suffix.lower()`` gives them.
# Camera RAW files, read through LibRaw (facefile.media.raw).
RAW_EXTENSIONS: frozenset[str] = frozenset({".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2"})
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    # GIF: old scanned albums and animations; the first frame is what is filed.
    {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif", ".tif", ".tiff", ".bmp", ".gif"}
) | RAW_EXTENSIONS
# Read with PyAV (facefile.media.video): faces are tracked across sampled frames.
VIDEO_EXTENSIONS: frozenset[str] = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"})
MEDIA_EXTENSIONS: frozenset[str] = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS

ErrorCallback = Callable[[Path, str], None]

# Folders that NAS systems fill with thumbnail copies of every photo (Synology's @eaDir, QNAP's
# .@__thumb is hidden already): scanning them would file every face twice.
THUMBNAIL_FOLDERS: frozenset[str] = frozenset({"@eaDir", "#recycle", "@Recycle", "#snapshot"})

log = logging.getLogger(__name__)


class DiscoveredFile(NamedTuple):
    """A photo found on disk, with the ``stat`` facts a scan needs to skip files it already knows."""

    path: Path
    size: int
    mtime_ns: int


def is_image_name(name: str) -> bool:
    """Whether a file name looks like a photo discover() would list (image suffix, not hidden)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def discover(
    root: str | os.PathLike[str],
    *,
    skip: Collection[str | os.PathLike[str]] = (),
    on_error: ErrorCallback | None = None,
    extensions: Collection[str] = IMAGE_EXTENSIONS,
) -> Iterator[DiscoveredFile]:
    """Every image file under ``root``, recursively, in ``sorted(paths)`` order; pass
    ``extensions=MEDIA_EXTENSIONS`` for photos and videos (what a scan reads).

    Hidden files and folders (a name starting with ".") and the folders in ``skip`` (the library
    folder) are left out. A symlinked folder is followed once: each real folder is listed at most once,
    so symlink loops end. Broken symlinks are passed over; a folder that cannot be read is reported to
    ``on_error(path, reason)`` (logged when no callback is given) and discovery goes on.

    >>> for photo in discover(Path("~/Pictures").expanduser(), skip=[library_dir]):  # doctest: +SKIP
    ...     print(photo.path, photo.size)
    """
    root = Path(root)
    if not root.is_dir():
        raise MediaError(root, "folder not found" if not root.exists() else "not a folder")
    report = on_error or _log_error
    skipped = {os.path.realpath(p) for p in skip}
    real_root = os.path.realpath(root)
    if real_root in skipped:
        return
    visited = {real_root}
    # A stack of folder listings, each read in name order. Descending into a subfolder before the
    # rest of its parent's listing gives the same order as sorting the full paths.
    stack = [(_sorted_entries(str(root), report), real_root)]
    while stack:
        entries, real_dir = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        if _is_dir(entry):
            if entry.name in THUMBNAIL_FOLDERS:
                continue
            # realpath costs syscalls; only a symlink can lead somewhere other than parent/name.
            real = os.path.realpath(entry.path) if entry.is_symlink() else os.path.join(real_dir, entry.name)
            if real not in visited and real not in skipped:
                visited.add(real)
                stack.append((_sorted_entries(entry.path, report), real))
            continue
        if os.path.splitext(entry.name)[1].lower() not in extensions:
            continue
        found = _stat_file(entry, report)
        if found is not None:
            yield found


def _sorted_entries(folder: str, report: ErrorCallback) -> Iterator[os.DirEntry[str]]:
    # The listing is read whole and closed at once, so a deep tree never holds many open folders.
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=attrgetter("name"))
    except OSError as exc:
        report(Path(folder), _folder_reason(exc))
        return iter(())
    return iter(entries)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows symlinks; False for a broken one
    except OSError:
        return False


def _stat_file(entry: os.DirEntry[str], report: ErrorCallback) -> DiscoveredFile | None:
    try:
        st = entry.stat()  # follows a symlinked file to its target
    except FileNotFoundError:
        return None  # a broken symlink, or deleted since the listing: nothing to scan
    except OSError as exc:
        report(Path(entry.path), reason_for_os_error(exc))
        return None
    if not stat.S_ISREG(st.st_mode):
        return None  # a fifo or device named like a photo would block or never end
    return DiscoveredFile(Path(entry.path), st.st_size, st.st_mtime_ns)


def _folder_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "folder not found (deleted during scan?)"
    return reason_for_os_error(exc)


def _log_error(path: Path, reason: str) -> None:
    log.warning("skipped %s: %s", path, reason)
