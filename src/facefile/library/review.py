"""Library actions for the People UI: pages of persons, covers, photos with their faces, batch moves and
rejections, review suggestions, scan status.

A mixin of ``Library``: methods here use ``self.conn`` (sqlite3, WAL) and the helpers of
``library.db`` / ``library.ingest`` like the rest of the class. Every write is one transaction and
becomes a constraint the clustering engine honours (a move is a confirmation, "not this person" a
rejection), exactly as the CLI's ``move``/``reject``/``merge`` do.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from facefile.cluster.suggest import MergeMatch
from facefile.library.review_queue import FaceGroup, FaceSuggestion, ReviewQueue
from facefile.library.scan_status import ScanProgressRecorder, ScanRow, ScanStatus, scan_status
from facefile.store.db import get_meta, set_meta, transaction
from facefile.store.errors import LibraryError
from facefile.store.paths import disk_path

PEOPLE_SORTS = ("faces", "name", "recent")
DISMISSED_MERGES_KEY = "review_dismissed_merges"  # meta: [[a, b], ...] pairs the user said are two people

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


class ReviewActions:
    conn: sqlite3.Connection
    folder: Path

    if TYPE_CHECKING:  # provided by Library
        def resolve_person(self, ref: str | int) -> int: ...
        def abs_path(self, stored: str) -> Path: ...
        def model_id(self) -> str | None: ...
        def _confirm(self, face_id: int, pid: int) -> None: ...
        def _face(self, face_id: int) -> sqlite3.Row: ...

    # ------------------------------------------------------------------ persons

    def people_page(
        self, *, sort: str = "faces", query: str = "", include_hidden: bool = False, limit: int = 60, offset: int = 0
    ) -> PeoplePage:
        """One page of persons with at least one face, with their representative face. One query:
        counts for every person, then the representative face only for the rows of the page."""
        if sort not in _ORDER:
            raise LibraryError(f"unknown sort {sort!r}; use one of {', '.join(PEOPLE_SORTS)}")
        where, args = _person_filter(query, include_hidden)
        rows = self.conn.execute(
            f"""
            SELECT page.*, {_REPRESENTATIVE.format(pid="page.id")} AS face_id FROM (
                SELECT p.id, p.name, p.hidden, c.faces, c.photos, c.first, c.last
                FROM persons p JOIN ({_COUNTS.format(where="")}) c ON c.person_id = p.id
                WHERE {where} ORDER BY {_ORDER[sort]} LIMIT ? OFFSET ?
            ) page ORDER BY {_ORDER[sort]}
            """,
            [*args, max(0, int(limit)), max(0, int(offset))],
        ).fetchall()
        total = self.conn.execute(
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
        rows = self.conn.execute(
            f"""
            SELECT p.id, p.name, p.hidden, COALESCE(c.faces, 0) AS faces, COALESCE(c.photos, 0) AS photos,
                   c.first, c.last, {_REPRESENTATIVE.format(pid="p.id")} AS face_id
            FROM persons p LEFT JOIN ({_COUNTS.format(where=f"WHERE a.person_id IN ({marks})")}) c
                ON c.person_id = p.id
            WHERE p.id IN ({marks})
            """,
            [*wanted, *wanted],
        ).fetchall()
        return {r["id"]: _tile(r) for r in rows}

    def search_persons(self, text: str, limit: int = 10) -> list[PersonTile]:
        """Persons whose name contains ``text`` (or whose id it is), named and larger first; for the
        search boxes of merge and move. Named persons without faces are found too."""
        where, args = _person_filter(text, include_hidden=True)
        ids = [
            r[0]
            for r in self.conn.execute(
                f"""SELECT p.id FROM persons p WHERE {where}
                    ORDER BY p.name IS NULL, (SELECT COUNT(*) FROM assignments a WHERE a.person_id = p.id) DESC,
                             p.name COLLATE NOCASE, p.id LIMIT ?""",
                [*args, max(1, int(limit))],
            )
        ]
        tiles = self.person_tiles(ids)
        return [tiles[i] for i in ids if i in tiles]

    # ------------------------------------------------------------------ faces

    def person_faces(self, person: str | int, *, limit: int = 10_000, offset: int = 0) -> tuple[list[FaceTile], int]:
        """A page of one person's faces, oldest photo first, and how many they have."""
        pid = self.resolve_person(person)
        return self._face_tiles("a.person_id = ?", [pid], limit, offset)

    def unassigned_page(self, *, limit: int = 120, offset: int = 0) -> tuple[list[FaceTile], int]:
        """A page of the faces no person holds, sharpest first, and how many there are."""
        return self._face_tiles("a.person_id IS NULL", [], limit, offset, order="f.quality DESC, f.id")

    def _face_tiles(
        self, where: str, args: list[Any], limit: int, offset: int, order: str = "i.taken_at, f.image_id, f.id"
    ) -> tuple[list[FaceTile], int]:
        base = f"FROM faces f JOIN images i ON i.id = f.image_id LEFT JOIN assignments a ON a.face_id = f.id WHERE {where}"
        rows = self.conn.execute(
            f"SELECT f.id, f.image_id, i.taken_at, f.quality, a.person_id, a.provenance {base} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, max(0, int(limit)), max(0, int(offset))],
        ).fetchall()
        total = self.conn.execute(f"SELECT COUNT(*) {base}", args).fetchone()[0]
        return [FaceTile(*r) for r in rows], total

    def face_source(self, face_id: int) -> FaceSource:
        row = self.conn.execute(
            f"SELECT f.id, f.image_id, i.content_hash, f.x1, f.y1, f.x2, f.y2, {_frame_time(self.conn)} "
            "FROM faces f JOIN images i ON i.id = f.image_id WHERE f.id = ?",
            (int(face_id),),
        ).fetchone()
        if row is None:
            raise LibraryError(f"no face with id {face_id}")
        return FaceSource(row[0], row[1], row[2], (row[3], row[4], row[5], row[6]), self.photo_files(row[1]), row[7])

    # ------------------------------------------------------------------ photos

    def photo_files(self, image_id: int) -> list[Path]:
        """The files on disk of one photo (an exact duplicate has several), as absolute paths."""
        return [
            self.abs_path(disk_path(r[0]))
            for r in self.conn.execute("SELECT path FROM files WHERE image_id = ? ORDER BY path", (int(image_id),))
        ]

    def photo(self, image_id: int) -> PhotoView:
        """One photo with every face in it and the person each belongs to."""
        row = self.conn.execute(
            "SELECT id, width, height, taken_at FROM images WHERE id = ?", (int(image_id),)
        ).fetchone()
        if row is None:
            raise LibraryError(f"no photo with id {image_id}")
        faces = [
            PhotoFace(r[0], (r[1], r[2], r[3], r[4]), r[5], (r[6] or f"person {r[5]}") if r[5] else None, r[7], r[8])
            for r in self.conn.execute(
                f"SELECT f.id, f.x1, f.y1, f.x2, f.y2, a.person_id, p.name, a.provenance, {_frame_time(self.conn)} "
                "FROM faces f LEFT JOIN assignments a ON a.face_id = f.id LEFT JOIN persons p ON p.id = a.person_id "
                "WHERE f.image_id = ? ORDER BY f.x1, f.id",
                (int(image_id),),
            )
        ]
        paths = [r[0] for r in self.conn.execute("SELECT path FROM files WHERE image_id = ? ORDER BY path", (row[0],))]
        return PhotoView(row[0], paths, row[1], row[2], row[3], faces)

    # ------------------------------------------------------------------ review

    def next_suggestion(self, skip: Collection[int] = ()) -> FaceSuggestion | None:
        """The next "is this <person>?" question: an unassigned face and its likeliest persons.
        Answer with ``confirm`` (yes) or ``reject`` (no); ``skip`` holds faces to pass over."""
        queue = self._review_queue()
        return queue.next_face(skip) if queue else None

    def next_face_group(self, skip: Collection[int] = ()) -> FaceGroup | None:
        """Look-alike unassigned faces to file together (``move_faces``), with likely persons."""
        queue = self._review_queue()
        return queue.next_group(skip) if queue else None

    def next_merge_suggestion(self, skip: Collection[tuple[int, int]] = ()) -> MergeMatch | None:
        """Two persons that are probably one: answer with ``merge`` or ``dismiss_merge``."""
        queue = self._review_queue()
        return queue.next_merge(skip, self.dismissed_merges()) if queue else None

    def dismiss_merge(self, a: str | int, b: str | int) -> None:
        """"These are two people": never suggest merging them again."""
        pair = sorted((self.resolve_person(a), self.resolve_person(b)))
        with transaction(self.conn):
            pairs = self.dismissed_merges() | {(pair[0], pair[1])}
            alive = {r[0] for r in self.conn.execute("SELECT id FROM persons")}
            kept = sorted(p for p in pairs if p[0] in alive and p[1] in alive)
            set_meta(self.conn, DISMISSED_MERGES_KEY, json.dumps(kept))

    def dismissed_merges(self) -> set[tuple[int, int]]:
        value = get_meta(self.conn, DISMISSED_MERGES_KEY)
        try:
            return {(int(a), int(b)) for a, b in json.loads(value)} if value else set()
        except (ValueError, TypeError):
            return set()  # a hand-edited value: suggestions come back, nothing else is lost

    def _review_queue(self) -> ReviewQueue | None:
        # The queue lives as long as this Library object (the web app keeps one open). The model
        # only changes with a scan, which commits from another connection and so moves data_version.
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        queue: ReviewQueue | None = self.__dict__.get("_review_queue_state")
        if queue is not None and self.__dict__.get("_review_queue_version") == version:
            return queue
        model_id = self.model_id()
        if model_id is None:
            return None
        if queue is None or queue.model_id != model_id:
            queue = ReviewQueue(self.conn, model_id)
            self.__dict__["_review_queue_state"] = queue
        self.__dict__["_review_queue_version"] = version
        return queue

    # ------------------------------------------------------------------ scans

    def scan_status(self, recent: int = 10) -> ScanStatus:
        """The last scans (newest first) and, while one runs (maybe in another process), its progress."""
        rows = [
            ScanRow(*r)
            for r in self.conn.execute(
                "SELECT id, folder, started_at, finished_at, status, files_seen, files_new, files_gone, "
                "faces_added, errors FROM scans ORDER BY id DESC LIMIT ?",
                (int(recent),),
            )
        ]
        return scan_status(rows, self.folder)

    def scan_progress_recorder(self, inner: Any = None) -> ScanProgressRecorder:
        """A ``ScanProgress`` that records how far a scan is for ``scan_status`` (and forwards to
        ``inner``): ``lib.scan(folder, progress=lib.scan_progress_recorder(bars))``."""
        return ScanProgressRecorder(self.folder, inner)


def _person_filter(query: str, include_hidden: bool) -> tuple[str, list[Any]]:
    """SQL over ``persons p``: not hidden (unless asked), name containing ``query`` or id equal to it."""
    text = (query or "").strip().lstrip("#")
    clauses: list[str] = ["(? OR p.hidden = 0)"]
    args: list[Any] = [bool(include_hidden)]
    if text:
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append("(p.name LIKE ? ESCAPE '\\' OR p.id = ?)")
        args += [like, int(text) if text.isdigit() else -1]
    return " AND ".join(clauses), args


def _frame_time(conn: sqlite3.Connection) -> str:
    """The SQL for a face's video frame time: ``f.video_frame_s`` from schema 3 on (videos), else NULL."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(faces)")}
    return "f.video_frame_s" if "video_frame_s" in columns else "NULL"


def _tile(r: sqlite3.Row) -> PersonTile:
    return PersonTile(
        id=r["id"], name=r["name"], hidden=bool(r["hidden"]), faces=r["faces"], photos=r["photos"],
        first_date=r["first"], last_date=r["last"], face_id=r["face_id"],
    )
