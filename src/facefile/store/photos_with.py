"""Photos of several people: those showing every one of the given persons ("Anna and Ben"), and
with ``only`` those where nobody else is filed.

``only`` looks at who is *filed* in the photo: a face of any other person (shown, not hidden)
takes the photo out; faces no person holds (bystanders, faces not reviewed yet) and faces of hidden
persons (strangers, posters, statues the user hid) do not, since nobody is filed there that the
user keeps. Videos count as photos: a face track of each person somewhere in the video.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facefile.store.repository import Repository


@dataclass(frozen=True)
class PhotoWith:
    """One photo that shows the persons asked for."""

    id: int
    taken_at: str | None
    path: str  # the first of its files, as stored (relative to the library root)
    faces: dict[int, int]  # person asked for -> a face of theirs in the photo (the lowest id)
    others: int  # faces of other shown persons in the photo (0 with ``only``)
    unassigned: int  # faces no person holds


class PhotosWithRepository(Repository):
    """``store.photos_with``."""

    def find(self, person_ids: Sequence[int], *, only: bool, limit: int, offset: int) -> tuple[list[PhotoWith], int]:
        """A page of the photos showing all of ``person_ids``, oldest first, and how many there are."""
        wanted = sorted({int(p) for p in person_ids})
        if not wanted:
            return [], 0
        marks = ",".join("?" * len(wanted))
        nobody_else = (
            f"AND NOT EXISTS (SELECT 1 FROM faces o JOIN assignments oa ON oa.face_id = o.id "
            f"JOIN persons op ON op.id = oa.person_id WHERE o.image_id = m.image_id "
            f"AND oa.person_id NOT IN ({marks}) AND op.hidden = 0)"
        ) if only else ""
        matching = (
            f"SELECT m.image_id FROM (SELECT f.image_id FROM assignments a JOIN faces f ON f.id = a.face_id "
            f"WHERE a.person_id IN ({marks}) GROUP BY f.image_id HAVING COUNT(DISTINCT a.person_id) = ?) m "
            f"WHERE 1 {nobody_else}"
        )
        args: list[int] = [*wanted, len(wanted), *(wanted if only else [])]
        total = int(self._conn.execute(f"SELECT COUNT(*) FROM ({matching})", args).fetchone()[0])
        rows = self._conn.execute(
            f"SELECT i.id, i.taken_at, (SELECT MIN(path) FROM files WHERE image_id = i.id AND companion = 0) FROM images i "
            f"WHERE i.id IN ({matching}) ORDER BY i.taken_at IS NULL, i.taken_at, i.id LIMIT ? OFFSET ?",
            [*args, max(0, int(limit)), max(0, int(offset))],
        ).fetchall()
        found = []
        for image_id, taken_at, path in rows:
            faces: dict[int, int] = {}
            others = unassigned = 0
            for face_id, person_id, hidden in self._conn.execute(
                "SELECT f.id, a.person_id, p.hidden FROM faces f LEFT JOIN assignments a ON a.face_id = f.id "
                "LEFT JOIN persons p ON p.id = a.person_id WHERE f.image_id = ? ORDER BY f.id",
                (image_id,),
            ):
                if person_id is None:
                    unassigned += 1
                elif person_id in wanted:
                    faces.setdefault(person_id, face_id)
                elif not hidden:
                    others += 1
            found.append(PhotoWith(image_id, taken_at, path or "", faces, others, unassigned))
        return found, total
