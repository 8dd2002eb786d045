"""The ``Library``: the one API the CLI, the web UI and scripts use.

    lib = Library.open("photos/.facefile")
    lib.scan("photos")
    for person in lib.people():
        print(person.label, person.faces)
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from facefile.library.clustering import drop_empty_persons, new_person, recluster
from facefile.library.incremental import UpdateReport, update_persons
from facefile.library.name_exchange import InteropActions
from facefile.library.review import ReviewActions
from facefile.library.subject_rights import RightsActions
from facefile.store.db import DB_FILENAME, connect, from_blob, get_meta, now, transaction
from facefile.store.errors import LibraryError
from facefile.store.meta import is_dirty
from facefile.store.paths import disk_path
from facefile.store.photos import IngestWriter
from facefile.store.records import NO_EMBEDDING_MODEL, FaceInfo, FileError, PersonSummary, ScanReport

LIBRARY_DIRNAME = ".facefile"


class Library(ReviewActions, RightsActions, InteropActions):
    """A face library: one SQLite database (plus rebuildable caches) in a folder.

    The actions of the People UI, of subject rights and of interoperability live in mixins
    (``review.py``, ``rights.py``, ``interop.py``) so that each concern stays a small module.
    """

    def __init__(self, folder: Path, conn: sqlite3.Connection) -> None:
        self.folder = folder
        self.conn = conn

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> Library:
        """Open the library in ``folder`` (usually ``PHOTOS/.facefile``), creating it if needed."""
        folder = Path(folder).expanduser().resolve()
        if folder.exists() and not folder.is_dir():
            raise LibraryError(f"{folder} is not a folder")
        return cls(folder, connect(folder / DB_FILENAME))

    @staticmethod
    def default_folder(photos: str | os.PathLike[str] | None = None) -> Path:
        """``$FACEFILE_LIBRARY``, else the ``.facefile/`` of ``photos`` (or of the current folder)."""
        env = os.environ.get("FACEFILE_LIBRARY")
        if env:
            return Path(env).expanduser()
        return Path(photos or ".").expanduser() / LIBRARY_DIRNAME

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ paths

    @property
    def root(self) -> Path | None:
        """The photo folder paths are stored relative to: the first folder scanned."""
        root = get_meta(self.conn, "root")
        return Path(root) if root is not None else None

    def set_root_if_unset(self, folder: Path) -> Path:
        with transaction(self.conn):
            self.conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('root', ?)", (str(folder.resolve()),))
        return self.root  # type: ignore[return-value]

    def rel_path(self, path: Path) -> str:
        """How a file path is stored: relative to the root when inside it, else absolute."""
        root = self.root
        path = path.absolute()
        if root is not None:
            try:
                return path.relative_to(root).as_posix()
            except ValueError:
                pass
        return path.as_posix()

    def abs_path(self, stored: str) -> Path:
        p = Path(disk_path(stored))  # undo the escaping of non-UTF-8 bytes in stored names
        return p if p.is_absolute() or self.root is None else self.root / p

    # ------------------------------------------------------------------ scanning

    def scan(
        self,
        folder: str | os.PathLike[str],
        *,
        backend: str | None = None,
        workers: int | None = None,
        progress: Any = None,
        ray: str | None = None,
    ) -> ScanReport:
        """Bring the library up to date with ``folder``: new faces in, gone files out, persons
        re-clustered. Resumable: an interrupted scan keeps what it stored and the next one goes on."""
        from facefile.pipeline.scan import (
            run_scan,  # the pipeline imports vision and media; keep opening cheap
        )

        return run_scan(self, Path(folder), backend=backend, workers=workers, progress=progress, ray=ray)

    def writer(self, model_id: str) -> IngestWriter:
        return IngestWriter(self.conn, model_id)

    def model_id(self) -> str | None:
        """The model persons are clustered from: that of the most recent scan, else the model with
        the most faces."""
        row = self.conn.execute("SELECT model_id FROM scans ORDER BY id DESC LIMIT 1").fetchone()
        row = row or self.conn.execute(
            "SELECT model_id FROM faces GROUP BY model_id ORDER BY COUNT(*) DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def needs_recluster(self) -> bool:
        return is_dirty(self.conn)

    def recluster(self, model_id: str | None = None) -> int:
        """Re-cluster all faces of the library's model; user decisions are kept. Returns #persons."""
        model_id = model_id or self.model_id()
        if model_id is None:
            return 0
        return recluster(self.conn, model_id, folder=self.folder)

    def update_persons(self, model_id: str | None = None) -> UpdateReport:
        """Persons brought up to date after faces came or went: a full re-cluster, or on a large
        library with few new faces, those placed among the existing persons (``incremental.py``)."""
        model_id = model_id or self.model_id()
        if model_id is None:
            return UpdateReport("none")
        return update_persons(self.conn, self.folder, model_id)

    # ------------------------------------------------------------------ reading

    def people(self, *, include_hidden: bool = False) -> list[PersonSummary]:
        """Every person with at least one face, most faces first."""
        rows = self.conn.execute(
            """
            SELECT p.id, p.name, p.hidden, COUNT(a.face_id) AS faces,
                   COUNT(DISTINCT f.image_id) AS photos, MIN(i.taken_at) AS first, MAX(i.taken_at) AS last
            FROM persons p
            JOIN assignments a ON a.person_id = p.id
            JOIN faces f ON f.id = a.face_id
            JOIN images i ON i.id = f.image_id
            WHERE (? OR p.hidden = 0)
            GROUP BY p.id
            ORDER BY faces DESC, p.id
            """,
            (include_hidden,),
        ).fetchall()
        return [_person(r) for r in rows]

    def person(self, ref: str | int) -> PersonSummary:
        pid = self.resolve_person(ref)
        row = self.conn.execute(
            """
            SELECT p.id, p.name, p.hidden, COUNT(a.face_id) AS faces,
                   COUNT(DISTINCT f.image_id) AS photos, MIN(i.taken_at) AS first, MAX(i.taken_at) AS last
            FROM persons p
            LEFT JOIN assignments a ON a.person_id = p.id
            LEFT JOIN faces f ON f.id = a.face_id
            LEFT JOIN images i ON i.id = f.image_id
            WHERE p.id = ? GROUP BY p.id
            """,
            (pid,),
        ).fetchone()
        return _person(row)

    def faces(self, person: str | int | None = None, *, unassigned: bool = False) -> list[FaceInfo]:
        """Faces of one person, or the unassigned faces, or all faces; one row per face (first path)."""
        where, args = "", []
        if person is not None:
            where, args = "WHERE a.person_id = ?", [self.resolve_person(person)]
        elif unassigned:
            where = "WHERE a.person_id IS NULL"
        rows = self.conn.execute(
            f"""
            SELECT f.id, (SELECT MIN(path) FROM files WHERE image_id = f.image_id) AS path,
                   f.x1, f.y1, f.x2, f.y2, f.det_score, f.quality, a.person_id, a.provenance, i.taken_at,
                   i.width, i.height, f.source, f.video_start_s, f.video_end_s, f.video_frame_s
            FROM faces f JOIN images i ON i.id = f.image_id
            LEFT JOIN assignments a ON a.face_id = f.id
            {where}
            ORDER BY i.taken_at, path, f.id
            """,
            args,
        ).fetchall()
        return [
            FaceInfo(r[0], r[1], (r[2], r[3], r[4], r[5]), r[6], r[7], r[8], r[9], r[10], (r[11], r[12]),
                     r[13], r[14], r[15], r[16])
            for r in rows
        ]

    def embeddings(self, face_ids: list[int]) -> np.ndarray:
        """The stored (L2-normalised) embeddings of these faces, in the order given, one row per face
        that has one: a face without embedding (a named XMP region no face was detected in, model
        ``NO_EMBEDDING_MODEL``) is skipped, so rows line up with ``face_ids`` only when every face
        has one. ``(0, 0)`` when none has. An unknown id raises ``KeyError``."""
        if not face_ids:
            return np.zeros((0, 0), np.float32)
        by_id: dict[int, bytes] = {}
        for start in range(0, len(face_ids), 500):  # SQLite's bound-parameter limit
            chunk = face_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            by_id.update(self.conn.execute(f"SELECT id, embedding FROM faces WHERE id IN ({marks})", chunk).fetchall())
        rows = [from_blob(blob) for blob in (by_id[int(i)] for i in face_ids) if blob]
        return np.stack(rows) if rows else np.zeros((0, 0), np.float32)

    def errors(self) -> list[FileError]:
        return [
            FileError(r[0], r[1], r[2])
            for r in self.conn.execute("SELECT path, reason, failed_at FROM file_errors ORDER BY path")
        ]

    def stats(self) -> dict[str, Any]:
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "library": str(self.folder),
            "root": str(self.root) if self.root else None,
            "files": one("SELECT COUNT(*) FROM files"),
            "photos": one("SELECT COUNT(*) FROM images"),
            "photos_with_faces": one("SELECT COUNT(DISTINCT image_id) FROM faces"),
            "faces": one("SELECT COUNT(*) FROM faces"),
            "faces_assigned": one("SELECT COUNT(*) FROM assignments"),
            "faces_confirmed": one("SELECT COUNT(*) FROM assignments WHERE provenance = 'confirmed'"),
            "persons": one("SELECT COUNT(DISTINCT person_id) FROM assignments"),
            "named_persons": one("SELECT COUNT(*) FROM persons WHERE name IS NOT NULL"),
            "errors": one("SELECT COUNT(*) FROM file_errors"),
            # Embedding models only: faces without embedding carry the pseudo-model NO_EMBEDDING_MODEL.
            "models": [r[0] for r in self.conn.execute(
                "SELECT DISTINCT model_id FROM faces WHERE model_id != ? ORDER BY 1", (NO_EMBEDDING_MODEL,))],
            "faces_without_embedding": self.conn.execute(
                "SELECT COUNT(*) FROM faces WHERE model_id = ?", (NO_EMBEDDING_MODEL,)).fetchone()[0],
            "scans": one("SELECT COUNT(*) FROM scans"),
            "database_bytes": (self.folder / DB_FILENAME).stat().st_size,
        }

    # ------------------------------------------------------------------ user actions (constraints)

    def resolve_person(self, ref: str | int) -> int:
        """A person by id, or by name (case-insensitive, must be unambiguous)."""
        text = str(ref).strip()
        if text.isdigit():
            if self.conn.execute("SELECT 1 FROM persons WHERE id = ?", (int(text),)).fetchone():
                return int(text)
            raise LibraryError(f"no person with id {text}")
        rows = self.conn.execute("SELECT id FROM persons WHERE name = ? COLLATE NOCASE", (text,)).fetchall()
        if len(rows) == 1:
            return rows[0][0]
        if not rows:
            raise LibraryError(f"no person named {text!r}")
        raise LibraryError(f"{len(rows)} persons are named {text!r}; use an id: {', '.join(str(r[0]) for r in rows)}")

    def name(self, person: str | int, name: str | None) -> PersonSummary:
        pid = self.resolve_person(person)
        name = (name or "").strip() or None
        with transaction(self.conn):
            self.conn.execute("UPDATE persons SET name = ? WHERE id = ?", (name, pid))
        return self.person(pid)

    def hide(self, person: str | int, hidden: bool = True) -> PersonSummary:
        pid = self.resolve_person(person)
        with transaction(self.conn):
            self.conn.execute("UPDATE persons SET hidden = ? WHERE id = ?", (int(hidden), pid))
        return self.person(pid)

    def merge(self, keep: str | int, *others: str | int) -> PersonSummary:
        """The persons are one: every face of ``others`` and ``keep`` is confirmed to ``keep``, so no
        re-cluster splits them again. ``keep`` takes the first name among them if it has none."""
        target = self.resolve_person(keep)
        sources = [self.resolve_person(o) for o in others]
        if target in sources:
            raise LibraryError("cannot merge a person into itself")
        with transaction(self.conn):
            stamp = now()
            for pid in [target, *sources]:
                self.conn.execute(
                    "UPDATE assignments SET person_id = ?, provenance = 'confirmed', updated_at = ? "
                    "WHERE person_id = ?",
                    (target, stamp, pid),
                )
            if self.conn.execute("SELECT name FROM persons WHERE id = ?", (target,)).fetchone()[0] is None:
                for pid in sources:
                    row = self.conn.execute("SELECT name FROM persons WHERE id = ?", (pid,)).fetchone()
                    if row[0]:
                        self.conn.execute("UPDATE persons SET name = ? WHERE id = ?", (row[0], target))
                        break
            # Rejections against a merged person now speak about the merged one.
            for pid in sources:
                self.conn.execute(
                    "INSERT OR IGNORE INTO rejections(face_id, person_id, created_at) "
                    "SELECT face_id, ?, created_at FROM rejections WHERE person_id = ?",
                    (target, pid),
                )
                self.conn.execute("DELETE FROM persons WHERE id = ?", (pid,))
        return self.person(target)

    def move(self, face_id: int, person: str | int | None) -> int:
        """Confirm a face as ``person`` (``None``: a new person of its own). Returns the person id."""
        self._face(face_id)
        with transaction(self.conn):
            pid = new_person(self.conn, now()) if person is None else self.resolve_person(person)
            self._confirm(face_id, pid)
            drop_empty_persons(self.conn)
        return pid

    def confirm(self, face_id: int, person: str | int) -> None:
        """"Yes, this is them": the face is confirmed to the person."""
        self.move(face_id, person)

    def reject(self, face_id: int, person: str | int) -> None:
        """"Not this person": remembered forever; the face leaves the person and stays unassigned
        until the next re-cluster finds it another one."""
        self._face(face_id)
        pid = self.resolve_person(person)
        with transaction(self.conn):
            self.conn.execute(
                "INSERT OR IGNORE INTO rejections(face_id, person_id, created_at) VALUES (?, ?, ?)",
                (face_id, pid, now()),
            )
            self.conn.execute("DELETE FROM assignments WHERE face_id = ? AND person_id = ?", (face_id, pid))
            drop_empty_persons(self.conn)

    def _confirm(self, face_id: int, pid: int) -> None:
        # Moving a face away from a person also says "not that person": remembered as a rejection.
        row = self.conn.execute("SELECT person_id FROM assignments WHERE face_id = ?", (face_id,)).fetchone()
        if row is not None and row[0] != pid:
            self.conn.execute(
                "INSERT OR IGNORE INTO rejections(face_id, person_id, created_at) VALUES (?, ?, ?)",
                (face_id, row[0], now()),
            )
        self.conn.execute("DELETE FROM rejections WHERE face_id = ? AND person_id = ?", (face_id, pid))
        self.conn.execute(
            "INSERT INTO assignments(face_id, person_id, provenance, updated_at) VALUES (?, ?, 'confirmed', ?) "
            "ON CONFLICT(face_id) DO UPDATE SET person_id = excluded.person_id, provenance = 'confirmed', "
            "updated_at = excluded.updated_at",
            (face_id, pid, now()),
        )

    def _face(self, face_id: int) -> sqlite3.Row:
        row = self.conn.execute("SELECT * FROM faces WHERE id = ?", (int(face_id),)).fetchone()
        if row is None:
            raise LibraryError(f"no face with id {face_id}")
        return row

    # ------------------------------------------------------------------ export

    def export_faces(self) -> list[dict[str, Any]]:
        """Every face of every file, in the public JSON export format (see README)."""
        from facefile.library.export import face_rows

        return face_rows(self.conn)

    def export_folders(self, out: str | os.PathLike[str]) -> int:
        """One folder per person under ``out`` holding links to that person's photos."""
        from facefile.library.export import person_folders

        return person_folders(self, Path(out))


def _person(r: sqlite3.Row) -> PersonSummary:
    return PersonSummary(
        id=r["id"], name=r["name"], faces=r["faces"], photos=r["photos"],
        first_date=r["first"], last_date=r["last"], hidden=bool(r["hidden"]),
    )
