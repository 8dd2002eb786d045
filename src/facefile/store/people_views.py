"""What the People UI shows, read in as few queries as a page needs: pages of persons with their
counts and representative face, one person's (or the unassigned) faces, a photo with its faces, the
files and box a thumbnail is cut from. Read-only: every write goes through the other repositories."""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facefile.store.paths import PathRepository
from facefile.store.repository import Repository

PEOPLE_SORTS = ("faces", "name", "recent")

_ORDER = {
    "faces": "faces DESC, id",
    "name": "name IS NULL, name COLLATE NOCASE, faces DESC, id",
    "recent": "last IS NULL, last DESC, faces DESC, id",
}
# A person's face to show: the cover the user chose while it is still theirs, else the sharpest face.
_REPRESENTATIVE = """COALESCE(
    (SELECT c.cover_face_id FROM persons c JOIN assignments ca
        ON ca.face_id = c.cover_face_id AND ca.person_id = c.id WHERE c.id = {pid}),
    (SELECT rf.id FROM assignments ra JOIN faces rf ON rf.id = ra.face_id
        WHERE ra.person_id = {pid} ORDER BY rf.quality DESC, rf.det_score DESC, rf.id LIMIT 1))"""
_COUNTS = """SELECT a.person_id, COUNT(*) AS faces, COUNT(DISTINCT f.image_id) AS photos,
                    MIN(i.taken_at) AS first, MAX(i.taken_at) AS last
             FROM assignments a JOIN faces f ON f.id = a.face_id JOIN images i ON i.id = f.image_id
             {where} GROUP BY a.person_id"""


@dataclass(frozen=True)
class PersonTile:
    """A person as the UI shows them: counts and the face that stands for them."""

    id: int
    name: str | None
    hidden: bool
    faces: int
    photos: int
    first_date: str | None
    last_date: str | None
    face_id: int | None  # cover, else the best-quality face; None for a named person without faces
    birth_date: str | None = None  # entered by the user (store/birth_dates.py); read by person_tiles

    @property
    def label(self) -> str:
        return self.name or f"person {self.id}"


@dataclass(frozen=True)
class PeoplePage:
    persons: list[PersonTile]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class FaceTile:
    id: int
    image_id: int
    taken_at: str | None
    quality: float
    person_id: int | None
    provenance: str | None


@dataclass(frozen=True)
class PhotoFace:
    id: int
    box: tuple[float, float, float, float]
    person_id: int | None
    person_label: str | None
    provenance: str | None
    video_frame_s: float | None = None  # a face track of a video: the time of its stored frame


@dataclass(frozen=True)
class PhotoView:
    id: int
    paths: list[str]  # as stored (relative to the library root)
    width: int
    height: int
    taken_at: str | None
    faces: list[PhotoFace]

    @property
    def is_video(self) -> bool:
        """Faces of a video are tracks over time, each boxed in its own frame: no single picture."""
        return any(f.video_frame_s is not None for f in self.faces)


@dataclass(frozen=True)
class FaceSource:
    """Where a face's pixels are: the files of its photo (any one will do), its box, and for a face
    of a video the time of the frame the box is in."""

    id: int
    image_id: int
    content_hash: str
    box: tuple[float, float, float, float]
    files: list[Path]
    video_frame_s: float | None = None


class PeopleViewRepository(Repository):
    """The read-only views of the People UI (``store.views``)."""

    def __init__(self, conn: sqlite3.Connection, paths: PathRepository) -> None:
        super().__init__(conn)
        self._paths = paths  # stored paths -> files on disk (relative to the library's root)

    # ------------------------------------------------------------------ persons

    def people_page(self, *, sort: str, query: str, include_hidden: bool, limit: int, offset: int) -> PeoplePage:
        """One page of persons with at least one face (``sort`` one of ``PEOPLE_SORTS``). One query:
        counts for every person, then the representative face only for the rows of the page."""
        where, args = _person_filter(query, include_hidden)
        rows = self._conn.execute(
            f"""
            SELECT page.*, {_REPRESENTATIVE.format(pid="page.id")} AS face_id FROM (
                SELECT p.id, p.name, p.hidden, c.faces, c.photos, c.first, c.last
                FROM persons p JOIN ({_COUNTS.format(where="")}) c ON c.person_id = p.id
                WHERE {where} ORDER BY {_ORDER[sort]} LIMIT ? OFFSET ?
            ) page ORDER BY {_ORDER[sort]}
            """,
            [*args, max(0, int(limit)), max(0, int(offset))],
        ).fetchall()
        total = self._conn.execute(
            f"SELECT COUNT(*) FROM persons p WHERE {where} "
            "AND EXISTS (SELECT 1 FROM assignments a WHERE a.person_id = p.id)",
            args,
        ).fetchone()[0]
        return PeoplePage([_tile(r) for r in rows], total, offset, limit)

    def person_tiles(self, ids: Iterable[int]) -> dict[int, PersonTile]:
        """Tiles of these persons (those that exist), by id."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._conn.execute(
            f"""
            SELECT p.id, p.name, p.hidden, COALESCE(c.faces, 0) AS faces, COALESCE(c.photos, 0) AS photos,
                   c.first, c.last, {_REPRESENTATIVE.format(pid="p.id")} AS face_id, p.birth_date
            FROM persons p LEFT JOIN ({_COUNTS.format(where=f"WHERE a.person_id IN ({marks})")}) c
                ON c.person_id = p.id
            WHERE p.id IN ({marks})
            """,
            [*wanted, *wanted],
        ).fetchall()
        return {r["id"]: _tile(r) for r in rows}

    def search_persons(self, text: str, limit: int = 10) -> list[PersonTile]:
        """Persons whose name contains ``text`` (or whose id it is), named and larger first. Named
        persons without faces are found too."""
        where, args = _person_filter(text, include_hidden=True)
        ids = [
            r[0]
            for r in self._conn.execute(
                f"""SELECT p.id FROM persons p WHERE {where}
                    ORDER BY p.id = ? DESC, p.name IS NULL,
                             (SELECT COUNT(*) FROM assignments a WHERE a.person_id = p.id) DESC,
                             p.name COLLATE NOCASE, p.id LIMIT ?""",
                [*args, person_id_in(text) or -1, max(1, int(limit))],
            )
        ]
        tiles = self.person_tiles(ids)
        return [tiles[i] for i in ids if i in tiles]

    # ------------------------------------------------------------------ faces

    def person_faces(self, person_id: int, *, limit: int, offset: int) -> tuple[list[FaceTile], int]:
        """A page of one person's faces, oldest photo first, and how many they have."""
        return self._face_tiles("a.person_id = ?", [int(person_id)], limit, offset)

    def person_months(self, person_id: int) -> list[tuple[str, int]]:
        """How many faces of one person each month holds ("2014-03"; "" for photos without a date),
        oldest first as ``person_faces`` pages them: the headings of the person page."""
        return [
            (r[0], r[1])
            for r in self._conn.execute(
                "SELECT COALESCE(substr(i.taken_at, 1, 7), '') AS month, COUNT(*) FROM assignments a "
                "JOIN faces f ON f.id = a.face_id JOIN images i ON i.id = f.image_id WHERE a.person_id = ? "
                "GROUP BY month ORDER BY month",
                (int(person_id),),
            )
        ]

    def unassigned_faces(self, *, limit: int, offset: int) -> tuple[list[FaceTile], int]:
        """A page of the faces no person holds, sharpest first, and how many there are."""
        return self._face_tiles("a.person_id IS NULL", [], limit, offset, order="f.quality DESC, f.id")

    def _face_tiles(
        self, where: str, args: list[Any], limit: int, offset: int, order: str = "i.taken_at, f.image_id, f.id"
    ) -> tuple[list[FaceTile], int]:
        base = f"FROM faces f JOIN images i ON i.id = f.image_id LEFT JOIN assignments a ON a.face_id = f.id WHERE {where}"
        rows = self._conn.execute(
            f"SELECT f.id, f.image_id, i.taken_at, f.quality, a.person_id, a.provenance {base} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, max(0, int(limit)), max(0, int(offset))],
        ).fetchall()
        total = self._conn.execute(f"SELECT COUNT(*) {base}", args).fetchone()[0]
        return [FaceTile(*r) for r in rows], total

    def face_source(self, face_id: int) -> FaceSource | None:
        """The files, box and frame time of one face; None when there is no such face."""
        row = self._conn.execute(
            "SELECT f.id, f.image_id, i.content_hash, f.x1, f.y1, f.x2, f.y2, f.video_frame_s "
            "FROM faces f JOIN images i ON i.id = f.image_id WHERE f.id = ?",
            (int(face_id),),
        ).fetchone()
        if row is None:
            return None
        return FaceSource(row[0], row[1], row[2], (row[3], row[4], row[5], row[6]), self.photo_files(row[1]), row[7])

    # ------------------------------------------------------------------ photos

    def photo_files(self, image_id: int) -> list[Path]:
        """The files on disk of one photo (an exact duplicate has several), as absolute paths."""
        return [self._paths.on_disk(p) for p in self._stored_paths(image_id)]

    def photo(self, image_id: int) -> PhotoView | None:
        """One photo with every face in it and the person each belongs to; None when there is none."""
        row = self._conn.execute(
            "SELECT id, width, height, taken_at FROM images WHERE id = ?", (int(image_id),)
        ).fetchone()
        if row is None:
            return None
        faces = [
            PhotoFace(r[0], (r[1], r[2], r[3], r[4]), r[5], (r[6] or f"person {r[5]}") if r[5] else None, r[7], r[8])
            for r in self._conn.execute(
                "SELECT f.id, f.x1, f.y1, f.x2, f.y2, a.person_id, p.name, a.provenance, f.video_frame_s "
                "FROM faces f LEFT JOIN assignments a ON a.face_id = f.id LEFT JOIN persons p ON p.id = a.person_id "
                "WHERE f.image_id = ? ORDER BY f.x1, f.id",
                (int(image_id),),
            )
        ]
        return PhotoView(row[0], self._stored_paths(row[0]), row[1], row[2], row[3], faces)

    def _stored_paths(self, image_id: int) -> list[str]:
        return [r[0] for r in self._conn.execute(
            "SELECT path FROM files WHERE image_id = ? ORDER BY companion, path", (int(image_id),))]


# What the UI shows for a person, typed back: "person 5" (the label of an unnamed person), "#5", "5";
# "person" alone stands for every unnamed person (the label they all share).
_PERSON_ID_TEXT = re.compile(r"(?:person\s*)?#?\s*(\d{1,18})", re.IGNORECASE)
_UNNAMED_TEXT = re.compile(r"persons?", re.IGNORECASE)


def _person_filter(query: str, include_hidden: bool) -> tuple[str, list[Any]]:
    """SQL over ``persons p``: not hidden (unless asked), and matching ``query``: a name containing
    it, the id it names ("person 5", "#5" or "5"), or any unnamed person for "person"."""
    text = (query or "").strip()
    clauses: list[str] = ["(? OR p.hidden = 0)"]
    args: list[Any] = [bool(include_hidden)]
    if text:
        name = text.lstrip("#") or text
        like = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append("(p.name LIKE ? ESCAPE '\\' OR p.id = ? OR (? AND p.name IS NULL))")
        args += [like, person_id_in(text) or -1, bool(_UNNAMED_TEXT.fullmatch(text))]
    return " AND ".join(clauses), args


def person_id_in(text: str) -> int | None:
    """The person id a search names ("person 5", "#5", "5"), or None."""
    found = _PERSON_ID_TEXT.fullmatch((text or "").strip())
    return int(found[1]) if found else None


def _tile(r: sqlite3.Row) -> PersonTile:
    return PersonTile(
        id=r["id"], name=r["name"], hidden=bool(r["hidden"]), faces=r["faces"], photos=r["photos"],
        first_date=r["first"], last_date=r["last"], face_id=r["face_id"],
        birth_date=r["birth_date"] if "birth_date" in r.keys() else None,
    )
