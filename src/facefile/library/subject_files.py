"""The file side of the subject rights: erasing cached face images, writing a subject's export.

The database side (what is erased, remembered, exported and logged) is ``library/rights.py``; this
module only touches files, so the web UI's caches and the export format are defined in one place.

Cached face images: the web UI keeps face crops under ``<library>/thumbs/``, each file named by
its face id: ``thumbs/<face id>.<ext>`` or ``thumbs/<face id><non-digit><anything>`` (``123.jpg``,
``123-160.webp``, ``face-123.jpg``, in any sub-folder). ``forget_face_files`` removes every such
file of the erased faces.
"""
from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from PIL import Image

from facefile.media import decode_region

THUMBS_DIRNAME = "thumbs"
_FACE_FILE = re.compile(r"^(?:face[-_])?(\d+)(?:\D.*)?$")

# A face crop in an export: the box widened by a quarter on each side (a face cut at the box
# edges is hard to recognise as oneself), at most 512 px, JPEG quality 90.
CROP_MARGIN = 0.25
CROP_MAX_SIDE = 512
EXPORT_FORMAT = "facefile subject access export, version 1"


def face_file_id(name: str) -> int | None:
    """The face id a cached file name stands for, or None."""
    match = _FACE_FILE.match(name)
    return int(match[1]) if match else None


def forget_face_files(library_folder: str | os.PathLike[str], face_ids: Iterable[int]) -> int:
    """Overwrite and delete every cached image of these faces under ``<library>/thumbs/``.

    Overwriting before unlinking keeps the bytes out of free blocks on ordinary file systems; SSD
    wear levelling, copy-on-write file systems and backups can still hold copies (see README).
    Returns the number of files removed.
    """
    folder = Path(library_folder) / THUMBS_DIRNAME
    wanted = {int(i) for i in face_ids}
    if not wanted or not folder.is_dir():
        return 0
    removed = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if face_file_id(name) in wanted:
                _overwrite_and_unlink(Path(dirpath) / name)
                removed += 1
    return removed


def _overwrite_and_unlink(path: Path) -> None:
    try:
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
    except OSError:
        pass  # unreadable or vanished: unlinking is still the right thing to try
    path.unlink(missing_ok=True)


def face_crop_jpeg(photo: str | os.PathLike[str], box: tuple[float, float, float, float]) -> bytes:
    """A JPEG of one face cut from the original photo (upright), with a margin around the box."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * CROP_MARGIN, (y2 - y1) * CROP_MARGIN
    pixels = decode_region(photo, (x1 - mx, y1 - my, x2 + mx, y2 + my), max_side=CROP_MAX_SIDE)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def write_subject_export(out: str | os.PathLike[str], record: Mapping[str, Any], crops: Mapping[str, bytes]) -> Path:
    """``out`` as a zip of ``person.json`` and the crops (name -> JPEG bytes), written whole or not
    at all (a temporary file renamed into place)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("person.json", json.dumps(record, indent=1, ensure_ascii=False) + "\n")
            for name, data in crops.items():
                archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)  # JPEGs do not deflate
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return out
