"""Person files leaving facefile: the public JSON face list and per-person folders of links."""
from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facefile.library.facade import Library


def face_rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """``{"path", "box", "person_id", "person_name", "score"}`` for every face of every file.

    A public contract: paths relative to the scanned folder, boxes ``[x1, y1, x2, y2]`` in original
    pixels after EXIF orientation, ``person_id`` null for an unassigned face. A photo stored under
    two paths (an exact duplicate) is listed under each.
    """
    rows = conn.execute(
        """
        SELECT fi.path, f.x1, f.y1, f.x2, f.y2, a.person_id, p.name, f.det_score
        FROM files fi
        JOIN faces f ON f.image_id = fi.image_id
        LEFT JOIN assignments a ON a.face_id = f.id
        LEFT JOIN persons p ON p.id = a.person_id
        ORDER BY fi.path, f.id
        """
    )
    return [
        {
            "path": path,
            "box": [round(x1, 1), round(y1, 1), round(x2, 1), round(y2, 1)],
            "person_id": person_id,
            "person_name": name,
            "score": round(score, 4),
        }
        for path, x1, y1, x2, y2, person_id, name, score in rows
    ]


def folder_name(person_id: int, name: str | None) -> str:
    """A safe, unique folder name: ``Anna Smith (12)`` or ``person-12``."""
    if not name:
        return f"person-{person_id}"
    safe = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "_", name).strip(" .") or "person"
    return f"{safe} ({person_id})"


def person_folders(lib: Library, out: Path) -> int:
    """Make ``out/<person>/`` with one symbolic link per photo of each visible person. Re-running
    updates the links; files that are not our links are never touched. Returns links written."""
    out.mkdir(parents=True, exist_ok=True)
    rows = lib.conn.execute(
        """
        SELECT DISTINCT a.person_id, p.name, fi.image_id,
               (SELECT MIN(path) FROM files WHERE image_id = fi.image_id) AS path
        FROM assignments a
        JOIN persons p ON p.id = a.person_id AND p.hidden = 0
        JOIN faces f ON f.id = a.face_id
        JOIN files fi ON fi.image_id = f.image_id
        ORDER BY a.person_id, path
        """
    ).fetchall()
    written = 0
    for person_id, name, image_id, path in rows:
        folder = out / folder_name(person_id, name)
        folder.mkdir(exist_ok=True)
        target = lib.abs_path(path)
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
