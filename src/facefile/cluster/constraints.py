"""User decisions as clustering constraints, and their validation against the faces at hand.

A confirmation (face -> person P) ties the face to P: faces tied to one person start as one group
and end together; faces tied to different persons never end together. A person the user has
confirmed a face of is *curated*: its members from the last run stay tied to it too, so moving one
face into Bob does not dissolve Bob's other faces into whoever the moved face resembles (faces
leave a curated person only when the user rejects them). A rejection (face, P) keeps the face
apart from every face of P (confirmed or from the last run), and out of the group that
continues P.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Constraints", "FaceConstraints"]


@dataclass(frozen=True)
class Constraints:
    """What the user said about faces (indices into the embeddings passed to the engine).

    ``confirmed``: face index -> person id. Faces confirmed to one person always end together,
    faces confirmed to different persons never do. ``rejected``: (face index, person id) pairs: the
    face is not that person. A face both confirmed to and rejected from one person counts as
    confirmed (the confirmation is the more specific statement).
    """

    confirmed: Mapping[int, int] = field(default_factory=dict)
    rejected: Collection[tuple[int, int]] = ()


@dataclass(frozen=True)
class FaceConstraints:
    """Constraints and the last run's persons checked against ``n`` faces, as per-face arrays.

    ``tied[i]``: the person face i must end in (confirmed to it, or a last-run member of a curated
    person), or -1. ``previous[i]``: face i's person in the last run, or -1. ``rejected[i]``: the
    persons face i was rejected from (only faces with rejections appear).
    """

    tied: np.ndarray
    previous: np.ndarray
    rejected: dict[int, frozenset[int]]

    @classmethod
    def check(cls, constraints: Constraints, previous: Mapping[int, int] | None, n: int) -> FaceConstraints:
        if not isinstance(constraints, Constraints):
            raise TypeError(f"constraints must be a Constraints, got {type(constraints).__name__}")
        confirmed = np.full(n, -1, dtype=np.int64)
        for face, pid in constraints.confirmed.items():
            _check_face(face, n, "confirmed")
            confirmed[face] = _check_person(pid, "confirmed")
        earlier = np.full(n, -1, dtype=np.int64)
        for face, pid in (previous or {}).items():
            _check_face(face, n, "previous")
            earlier[face] = _check_person(pid, "previous")
        rejected: dict[int, set[int]] = {}
        for pair in constraints.rejected:
            if len(pair) != 2:
                raise ValueError(f"a rejection is a (face index, person id) pair, got {pair!r}")
            face, pid = pair
            _check_face(face, n, "rejected")
            pid = _check_person(pid, "rejected")
            if confirmed[face] != pid:
                rejected.setdefault(int(face), set()).add(pid)

        tied = confirmed.copy()
        curated = np.isin(earlier, confirmed[confirmed >= 0]) & (confirmed < 0)
        for member in np.flatnonzero(curated):
            if int(earlier[member]) not in rejected.get(int(member), ()):
                tied[member] = earlier[member]
        return cls(tied, earlier, {face: frozenset(p) for face, p in rejected.items()})

    def reordered(self, order: np.ndarray) -> FaceConstraints:
        """The same constraints for the faces taken in ``order`` (face ``order[i]`` becomes i)."""
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        return FaceConstraints(
            self.tied[order],
            self.previous[order],
            {int(position[face]): persons for face, persons in self.rejected.items()},
        )


def _check_face(face: object, n: int, what: str) -> None:
    if not isinstance(face, (int, np.integer)) or isinstance(face, bool) or not 0 <= face < n:
        raise ValueError(f"{what}: face index {face!r} is not in 0..{n - 1}")


def _check_person(pid: object, what: str) -> int:
    if not isinstance(pid, (int, np.integer)) or isinstance(pid, bool) or pid < 0:
        raise ValueError(f"{what}: person id must be a non-negative int, got {pid!r}")
    return int(pid)
