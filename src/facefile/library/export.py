"""Person files leaving facefile: the public JSON face list, the CSV face list and per-person folders
of links. Called by ``NameExchange`` (``lib.interop.export_faces`` and the like)."""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import Any, TextIO

from facefile.store import Store

CSV_COLUMNS = ["path", "face_id", "person_id", "person_name", "x1", "y1", "x2", "y2", "score", "quality",
               "source", "video_start_s", "video_end_s", "taken_at"]


def face_rows(store: Store) -> list[dict[str, Any]]:
    """``{"path", "box", "person_id", "person_name", "score"}`` for every face of every file.

    A public contract: paths relative to the scanned folder, boxes ``[x1, y1, x2, y2]`` in original
    pixels after EXIF orientation, ``person_id`` null for an unassigned face. A photo stored under
    two paths (an exact duplicate) is listed under each. Faces of hidden persons are left out
    (``facefile hide``: strangers, posters, statues leave every export).
    """
    hidden = store.persons.hidden_ids()
    return [
        {
            "path": path,
            "box": [round(v, 1) for v in box],
            "person_id": person_id,
            "person_name": name,
            "score": round(score, 4),
        }
        for path, box, person_id, name, score in store.regions.export_rows()
        if person_id not in hidden
    ]


def write_csv(store: Store, out: TextIO) -> int:
    """Every face of every file as CSV (``CSV_COLUMNS``, one header row), hidden persons' faces left
    out as in ``face_rows``; returns the faces written."""
    hidden = store.persons.hidden_ids()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in store.regions.csv_rows():
        path, fid, pid, name, x1, y1, x2, y2, score, quality, source, start, end, taken = row
        if pid in hidden:
            continue
        writer.writerow([path, fid, _blank(pid), _blank(name), *(round(v, 1) for v in (x1, y1, x2, y2)),
                         round(score, 4), round(quality, 4), source, _blank(start), _blank(end), _blank(taken)])
        count += 1
    return count


def folder_name(person_id: int, name: str | None) -> str:
    """A safe, unique folder name: ``Anna Smith (12)`` or ``person-12``."""
    if not name:
        return f"person-{person_id}"
    safe = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "_", name).strip(" .") or "person"
    return f"{safe} ({person_id})"


def person_folders(store: Store, out: Path) -> int:
    """Make ``out/<person>/`` with one symbolic link per photo of each visible person. Re-running
    updates the links; files that are not our links are never touched. Returns links written."""
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for person_id, name, image_id, path in store.regions.person_photos():
        folder = out / folder_name(person_id, name)
        folder.mkdir(exist_ok=True)
        target = store.paths.on_disk(path)
        link = folder / f"{image_id}-{Path(path).name}"
        if link.is_symlink():
            if os.readlink(link) == str(target):
                written += 1
                continue
            link.unlink()
        elif link.exists():
            continue
        link.symlink_to(target)
        written += 1
    return written


def _blank(value: Any) -> Any:
    return "" if value is None else value
