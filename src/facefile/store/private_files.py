"""The library folder is private to its owner: folders 0700, files 0600.

The database holds face embeddings (biometric data) and the caches beside it hold crops and vectors,
so nothing under the library folder may be readable by another local user. Everything facefile
writes there is created private (``private_folder``, ``open_private``, ``write_private``): the mode
is given to ``os.open``/``mkdir`` itself, so no file is ever, even for a moment, wider than 0600.
SQLite creates ``-wal`` and ``-shm`` with the mode of the database file, which is therefore created
0600 before SQLite opens it. ``make_private`` narrows what an older facefile left wider, on every
open of a library.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

__all__ = ["FILE_MODE", "FOLDER_MODE", "create_private_file", "make_private", "open_private", "private_folder",
           "write_private"]

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(folder: Path) -> Path:
    """``folder`` created 0700 (missing parents with the usual mode: they are the user's folders,
    not the library's), or an existing one narrowed to 0700."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=FOLDER_MODE)
    except FileExistsError:
        pass
    _narrow(folder, FOLDER_MODE)  # mkdir's mode passes through the umask; and an old folder may be wider
    return folder


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (then only narrow its mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        _narrow(path, FILE_MODE)


def open_private(path: Path, mode: str = "wb") -> IO[bytes]:
    """A file opened for writing (``"wb"``, truncating, or ``"ab"``) that is created 0600."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "ab" else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    _narrow(path, FILE_MODE)  # it existed already, with a wider mode
    return os.fdopen(fd, mode)


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path``, created 0600."""
    with open_private(path) as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)


def make_private(folder: Path) -> None:
    """Narrow the library ``folder`` to 0700 and every entry in it to its owner's bits only (a
    database 0644 becomes 0600; an executable bit of the owner is kept). A subfolder that others
    could enter is narrowed all the way down; one that was 0700 already is not walked (nobody else
    could reach what it holds), so a large thumbnail cache costs nothing here. Symbolic links are
    never followed. Entries the user does not own (a shared library) are left as they are."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    _narrow(folder, FOLDER_MODE)
    _narrow_entries(folder)


def _narrow_entries(folder: Path) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode):
            continue
        wide = stat.S_IMODE(info.st_mode) & 0o077
        if stat.S_ISDIR(info.st_mode):
            if wide:
                _narrow(Path(entry.path), stat.S_IMODE(info.st_mode) & 0o700 | FOLDER_MODE)
                _narrow_entries(Path(entry.path))
        elif wide:
            _narrow(Path(entry.path), stat.S_IMODE(info.st_mode) & 0o700)


def _narrow(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` when it differs; a path we may not change is left as it is."""
    try:
        info = os.lstat(path)
        if not stat.S_ISLNK(info.st_mode) and stat.S_IMODE(info.st_mode) != mode:
            os.chmod(path, mode)  # not a link (checked): Linux has no chmod that refuses to follow one
    except OSError:
        pass
