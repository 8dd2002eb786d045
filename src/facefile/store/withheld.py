"""What a scan must not file: faces the user erased, and faces of persons who opted out.

The scan writer (``IngestWriter.store``) asks ``WithheldFaces.load(conn, model_id)`` once per batch
and drops every new face for which ``withhold`` is true, before anything about it is stored.

- **Forgotten faces** are recognised by a marker, never by their embedding: a keyed blake2b of the
  photo's content hash and the face box snapped to a ``MARKER_GRID`` pixel grid, under a random
  per-library key. The same photo scanned again with the same detector finds the same box (within
  a few pixels), so the face is withheld; the marker cannot be turned back into a box or a face.
- **Opt-out templates** are one mean embedding per person; a new face of the same model with a
  cosine similarity of at least the template's threshold is withheld.
"""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
from itertools import product

import numpy as np

from facefile.store.db import from_blob, get_meta, set_meta
from facefile.store.records import FaceRecord

MARKER_KEY = "rights_marker_key"  # meta key of the per-library marker key (hex)
# Boxes are snapped to 16 px cells, and a new box is also checked against the nearer neighbouring
# cell of each coordinate: a re-detected face matches when each coordinate moved less than 8 px,
# which covers the jitter of a re-decode, while two different faces never share all four cells.
MARKER_GRID = 16.0

Box = tuple[float, float, float, float]


def marker_key(conn: sqlite3.Connection, *, create: bool = False) -> bytes | None:
    """The library's marker key; created (in the caller's transaction) when ``create`` is set."""
    value = get_meta(conn, MARKER_KEY)
    if value is not None:
        return bytes.fromhex(value)
    if not create:
        return None
    key = secrets.token_bytes(32)
    set_meta(conn, MARKER_KEY, key.hex())
    return key


def _marker(key: bytes, content_hash: str, cells: tuple[int, ...]) -> bytes:
    text = content_hash + ":" + ",".join(map(str, cells))
    return hashlib.blake2b(text.encode(), key=key, digest_size=16).digest()


def face_marker(key: bytes, content_hash: str, box: Box) -> bytes:
    """The marker stored for an erased face: its photo and the grid cells of its box."""
    return _marker(key, content_hash, tuple(int(v // MARKER_GRID) for v in box))


def candidate_markers(key: bytes, content_hash: str, box: Box) -> list[bytes]:
    """Markers a stored face would have if its box lay within half a cell of ``box`` (16 of them)."""
    options = []
    for v in box:
        cell = int(v // MARKER_GRID)
        nearer = cell - 1 if (v / MARKER_GRID) - cell < 0.5 else cell + 1
        options.append((cell, nearer))
    return [_marker(key, content_hash, cells) for cells in product(*options)]


class WithheldFaces:
    """The forgotten-face markers and opt-out templates that apply to one scan batch."""

    def __init__(
        self, conn: sqlite3.Connection, key: bytes | None, templates: np.ndarray, thresholds: np.ndarray
    ) -> None:
        self.conn = conn
        self.key = key  # None when no face was ever forgotten
        self.templates = templates  # (k, d) float32, L2-normalised
        self.thresholds = thresholds  # (k,)

    @classmethod
    def load(cls, conn: sqlite3.Connection, model_id: str) -> WithheldFaces | None:
        """What applies to faces of ``model_id`` now, or None when nothing is withheld (the usual case)."""
        has_markers = conn.execute("SELECT 1 FROM forgotten_faces LIMIT 1").fetchone() is not None
        rows = conn.execute(
            "SELECT embedding, threshold FROM opt_out_templates WHERE model_id = ? ORDER BY id", (model_id,)
        ).fetchall()
        if not has_markers and not rows:
            return None
        templates = np.stack([from_blob(r[0]) for r in rows]) if rows else np.zeros((0, 0), np.float32)
        thresholds = np.array([r[1] for r in rows], np.float32)
        return cls(conn, marker_key(conn) if has_markers else None, templates, thresholds)

    def withhold(self, content_hash: str, face: FaceRecord) -> bool:
        """Whether this newly detected face must not be stored."""
        if len(self.templates) and self.templates.shape[1] == len(face.embedding):
            if bool(np.any(self.templates @ np.asarray(face.embedding, np.float32) >= self.thresholds)):
                return True
        if self.key is None:
            return False
        markers = candidate_markers(self.key, content_hash, face.box)
        marks = ",".join("?" * len(markers))
        return self.conn.execute(
            f"SELECT 1 FROM forgotten_faces WHERE marker IN ({marks}) LIMIT 1", markers
        ).fetchone() is not None
