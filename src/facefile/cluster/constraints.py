"""User decisions as clustering constraints, and their validation against the faces at hand.

A confirmation (face -> person) is a must-link to the other faces confirmed to that person and a
cannot-link to faces confirmed to anyone else. A rejection (face, person) is a cannot-link to the
faces confirmed to that person, and the face never ends in the group that continues that person.
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
    """Constraints checked against ``n`` faces, as per-face arrays the engine indexes cheaply.

    ``person[i]`` is the person face i is confirmed to, or -1; ``rejected[i]`` the persons face i
    was rejected from (only faces with rejections appear).
    """

    person: np.ndarray
    rejected: dict[int, frozenset[int]]

    @classmethod
    def check(cls, constraints: Constraints, n: int) -> FaceConstraints:
        if not isinstance(constraints, Constraints):
            raise TypeError(f"constraints must be a Constraints, got {type(constraints).__name__}")
        person = np.full(n, -1, dtype=np.int64)
        for face, pid in constraints.confirmed.items():
            _check_face(face, n, "confirmed")
            person[face] = _check_person(pid, "confirmed")
        rejected: dict[int, set[int]] = {}
        for pair in constraints.rejected:
            if len(pair) != 2:
                raise ValueError(f"a rejection is a (face index, person id) pair, got {pair!r}")
            face, pid = pair
            _check_face(face, n, "rejected")
            pid = _check_person(pid, "rejected")
            if person[face] != pid:
                rejected.setdefault(int(face), set()).add(pid)
        return cls(person, {face: frozenset(p) for face, p in rejected.items()})


def _check_face(face: object, n: int, what: str) -> None:
    if not isinstance(face, (int, np.integer)) or isinstance(face, bool) or not 0 <= face < n:
        raise ValueError(f"{what}: face index {face!r} is not in 0..{n - 1}")


def _check_person(pid: object, what: str) -> int:
    if not isinstance(pid, (int, np.integer)) or isinstance(pid, bool) or pid < 0:
        raise ValueError(f"{what}: person id must be a non-negative int, got {pid!r}")
    return int(pid)
