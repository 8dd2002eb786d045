"""What a scan must not file: faces the user erased, and faces of persons who opted out.

The scan writer (``IngestWriter.store``) asks ``RightsRepository.withheld(model_id)`` once per batch
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
from collections.abc import Callable
from itertools import product

import numpy as np

from facefile.store.records import FaceRecord

# Boxes are snapped to 16 px cells, and a new box is also checked against the nearer neighbouring
# cell of each coordinate: a re-detected face matches when each coordinate moved less than 8 px,
# which covers the jitter of a re-decode, while two different faces never share all four cells.
MARKER_GRID = 16.0

Box = tuple[float, float, float, float]


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
        self, forgotten: Callable[[list[bytes]], bool], key: bytes | None, templates: np.ndarray,
        thresholds: np.ndarray,
    ) -> None:
        self.forgotten = forgotten  # whether any of these markers is stored (``RightsRepository``)
        self.key = key  # None when no face was ever forgotten
        self.templates = templates  # (k, d) float32, L2-normalised
        self.thresholds = thresholds  # (k,)

    def withhold(self, content_hash: str, face: FaceRecord) -> bool:
        """Whether this newly detected face must not be stored."""
        if len(self.templates) and self.templates.shape[1] == len(face.embedding):
            if bool(np.any(self.templates @ np.asarray(face.embedding, np.float32) >= self.thresholds)):
                return True
        if self.key is None:
            return False
        return self.forgotten(candidate_markers(self.key, content_hash, face.box))
