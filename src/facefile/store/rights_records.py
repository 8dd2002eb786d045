"""The rights of the people in the photos, as stored: forgotten-face markers, opt-out templates, the
``rights_audit`` log, and what a subject access export reads about one person.

The markers and the scan's filter are explained in ``withheld.py``; the actions (forget, opt-out,
export-person) are ``facefile.library.subject_rights``. Every write here runs in the caller's
transaction (``Store.transaction()``).
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facefile.store.db import from_blob, get_meta, now, set_meta, to_blob
from facefile.store.face_rows import CHUNK
from facefile.store.repository import Repository
from facefile.store.withheld import Box, WithheldFaces, face_marker

MARKER_KEY = "rights_marker_key"  # meta key of the per-library marker key (hex)


@dataclass(frozen=True)
class OptOutTemplate:
    id: int
    model_id: str
    threshold: float
    created_at: str


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    action: str
    person_id: int | None
    template_id: int | None
    faces: int
    detail: str | None


@dataclass(frozen=True)
class SubjectPerson:
    """A person's own row, as a subject access export shows it."""

    id: int
    name: str | None
    hidden: bool
    created_at: str


@dataclass(frozen=True)
class SubjectFace:
    """One face of a person with everything stored about it (``paths``: its photo's files)."""

    face_id: int
    paths: list[str]
    box: Box
    landmarks: np.ndarray  # (5, 2)
    det_score: float
    quality: float | None
    model_id: str
    embedding: np.ndarray
    provenance: str
    assigned_at: str
    taken_at: str | None
    width: int
    height: int


@dataclass(frozen=True)
class SubjectRejection:
    """A face the user said is not the person."""

    face_id: int
    paths: list[str]
    box: Box
    at: str


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


class RightsRepository(Repository):
    # ------------------------------------------------------------------ forgotten faces

    def marker_key(self, *, create: bool = False) -> bytes | None:
        """The library's marker key; created (in the caller's transaction) when ``create`` is set."""
        value = get_meta(self._conn, MARKER_KEY)
        if value is not None:
            return bytes.fromhex(value)
        if not create:
            return None
        key = secrets.token_bytes(32)
        set_meta(self._conn, MARKER_KEY, key.hex())
        return key

    def erase_faces(self, face_ids: Sequence[int]) -> None:
        """Delete faces (in the caller's transaction), remembering each by its marker only. Their
        assignments and rejections go with them (ON DELETE CASCADE); covers fall back to none."""
        if not face_ids:
            return
        key = self.marker_key(create=True)
        assert key is not None
        for chunk in _chunks(face_ids):
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT i.content_hash, f.x1, f.y1, f.x2, f.y2 FROM faces f JOIN images i ON i.id = f.image_id "
                f"WHERE f.id IN ({marks})", chunk,
            ).fetchall()
            self._conn.executemany(
                "INSERT OR IGNORE INTO forgotten_faces(marker) VALUES (?)",
                [(face_marker(key, r[0], (r[1], r[2], r[3], r[4])),) for r in rows],
            )
            self._conn.execute(f"DELETE FROM faces WHERE id IN ({marks})", chunk)

    def clear_markers(self) -> int:
        """Forget every forgotten-face marker; returns how many there were."""
        return self._conn.execute("DELETE FROM forgotten_faces").rowcount

    def has_markers(self) -> bool:
        return self._conn.execute("SELECT 1 FROM forgotten_faces LIMIT 1").fetchone() is not None

    def any_forgotten(self, markers: Sequence[bytes]) -> bool:
        """Whether any of these markers is stored."""
        marks = ",".join("?" * len(markers))
        return self._conn.execute(
            f"SELECT 1 FROM forgotten_faces WHERE marker IN ({marks}) LIMIT 1", list(markers)
        ).fetchone() is not None

    def withheld(self, model_id: str) -> WithheldFaces | None:
        """What applies to faces of ``model_id`` now, or None when nothing is withheld (the usual case)."""
        has_markers = self.has_markers()
        rows = self.template_vectors(model_id)
        if not has_markers and not rows:
            return None
        templates = np.stack([v for v, _ in rows]) if rows else np.zeros((0, 0), np.float32)
        thresholds = np.array([t for _, t in rows], np.float32)
        return WithheldFaces(self.any_forgotten, self.marker_key() if has_markers else None, templates, thresholds)

    # ------------------------------------------------------------------ opt-out templates

    def person_embeddings(self, person_id: int, model_id: str) -> list[np.ndarray]:
        """The embeddings of a person's faces of one model."""
        return [from_blob(r[0]) for r in self._conn.execute(
            "SELECT f.embedding FROM assignments a JOIN faces f ON f.id = a.face_id "
            "WHERE a.person_id = ? AND f.model_id = ?", (person_id, model_id),
        )]

    def unassigned_embeddings(self, model_id: str) -> list[tuple[int, np.ndarray]]:
        """(face id, embedding) of every face of this model that no person holds."""
        return [(r[0], from_blob(r[1])) for r in self._conn.execute(
            "SELECT f.id, f.embedding FROM faces f LEFT JOIN assignments a ON a.face_id = f.id "
            "WHERE a.face_id IS NULL AND f.model_id = ?", (model_id,),
        )]

    def add_template(self, model_id: str, embedding: np.ndarray, threshold: float) -> int:
        """Store an opt-out template; returns its id."""
        template_id = self._conn.execute(
            "INSERT INTO opt_out_templates(model_id, embedding, threshold, created_at) VALUES (?, ?, ?, ?)",
            (model_id, to_blob(embedding), threshold, now()),
        ).lastrowid
        assert template_id is not None
        return template_id

    def templates(self) -> list[OptOutTemplate]:
        return [OptOutTemplate(*r) for r in self._conn.execute(
            "SELECT id, model_id, threshold, created_at FROM opt_out_templates ORDER BY id")]

    def template_vectors(self, model_id: str) -> list[tuple[np.ndarray, float]]:
        """(embedding, threshold) of the templates of one model, in id order."""
        return [(from_blob(r[0]), r[1]) for r in self._conn.execute(
            "SELECT embedding, threshold FROM opt_out_templates WHERE model_id = ? ORDER BY id", (model_id,))]

    def remove_template(self, template_id: int) -> bool:
        """Delete a template; False when there was none with this id."""
        return self._conn.execute("DELETE FROM opt_out_templates WHERE id = ?", (template_id,)).rowcount > 0

    # ------------------------------------------------------------------ audit log

    def audit(
        self, action: str, *, person_id: int | None = None, template_id: int | None = None, faces: int = 0,
        detail: str | None = None,
    ) -> None:
        """Append one entry (in the caller's transaction). Never pass erased data (names, paths, boxes)."""
        # Append-only: migration 0004 made UPDATE and DELETE of rights_audit abort.
        self._conn.execute(
            "INSERT INTO rights_audit(at, action, person_id, template_id, faces, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (now(), action, person_id, template_id, faces, detail),
        )

    def audit_log(self, person_id: int | None = None) -> list[AuditEntry]:
        """Every entry, oldest first (only those about one person id when given)."""
        where, args = ("WHERE person_id = ?", (person_id,)) if person_id is not None else ("", ())
        return [AuditEntry(*r) for r in self._conn.execute(
            f"SELECT id, at, action, person_id, template_id, faces, detail FROM rights_audit {where} ORDER BY id",
            args)]

    # ------------------------------------------------------------------ subject access

    def subject_person(self, person_id: int) -> SubjectPerson:
        p = self._conn.execute(
            "SELECT id, name, hidden, created_at FROM persons WHERE id = ?", (person_id,)).fetchone()
        return SubjectPerson(p["id"], p["name"], bool(p["hidden"]), p["created_at"])

    def subject_faces(self, person_id: int) -> list[SubjectFace]:
        """Every face of the person, by date taken then id."""
        rows = self._conn.execute(
            """
            SELECT f.id, f.image_id, f.x1, f.y1, f.x2, f.y2, f.landmarks, f.det_score, f.quality, f.model_id,
                   f.embedding, a.provenance, a.updated_at, i.taken_at, i.width, i.height
            FROM assignments a JOIN faces f ON f.id = a.face_id JOIN images i ON i.id = f.image_id
            WHERE a.person_id = ? ORDER BY i.taken_at, f.id
            """, (person_id,),
        ).fetchall()
        return [
            SubjectFace(
                face_id=r[0], paths=self._paths(r[1]), box=(r[2], r[3], r[4], r[5]),
                landmarks=from_blob(r[6], (5, 2)), det_score=r[7], quality=r[8], model_id=r[9],
                embedding=from_blob(r[10]), provenance=r[11], assigned_at=r[12], taken_at=r[13],
                width=r[14], height=r[15],
            )
            for r in rows
        ]

    def subject_rejections(self, person_id: int) -> list[SubjectRejection]:
        """The faces the user said are not the person, by face id."""
        rows = self._conn.execute(
            "SELECT r.face_id, f.image_id, f.x1, f.y1, f.x2, f.y2, r.created_at FROM rejections r "
            "JOIN faces f ON f.id = r.face_id WHERE r.person_id = ? ORDER BY r.face_id", (person_id,)
        ).fetchall()
        return [SubjectRejection(r[0], self._paths(r[1]), (r[2], r[3], r[4], r[5]), r[6]) for r in rows]

    def _paths(self, image_id: int) -> list[str]:
        """The stored paths of one photo's files (as stored, not yet ``disk_path``)."""
        return [r[0] for r in self._conn.execute("SELECT path FROM files WHERE image_id = ? ORDER BY companion, path", (image_id,))]
