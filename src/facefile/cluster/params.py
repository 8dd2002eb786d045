"""The engine's parameters: a few thresholds on cosine similarity, validated once, per embedder.

All similarities are cosine similarities between L2-normalised embeddings (1 = identical,
0 = unrelated). Defaults are for SFace (``opencv-sface-2021dec``); ``ClusterParams.for_model``
gives values for the other embedders facefile supports.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

__all__ = ["ClusterParams"]

SFACE_MODEL_ID = "opencv-sface-2021dec"
DLIB_MODEL_ID = "dlib-resnet-v1"


@dataclass(frozen=True)
class ClusterParams:
    """How similar faces must be to be grouped as one person.

    ``link_similarity``
        Average-link threshold: two groups of faces merge while the mean cosine similarity over
        all their cross pairs is at least this (for two single faces: their similarity).
    ``evidence_gain``
        Large groups are compared by many face pairs, so a lower mean similarity is already
        convincing. The threshold for groups of ``a`` and ``b`` faces is lowered by
        ``evidence_gain * (1 - 1 / sqrt(min(a, b)))``: nothing for a single face, at most
        ``evidence_gain`` for two large groups. 0 gives plain average linkage.
    ``quality_margin``
        A face of quality ``q`` (0 = tiny/blurred, 1 = sharp) needs ``quality_margin * (1 - q)``
        more similarity to join a group; a group is as good as its best face.
    ``neighbors``
        Each face is compared with its ``neighbors`` most similar faces only (a sparse graph, so the
        cost grows with N log N, not N^2). Groups never linked by such a pair never merge.
    ``min_person_size``
        Groups smaller than this are left unassigned (label -1) unless a user confirmed a face in
        them or they continue an existing person.
    """

    link_similarity: float = 0.40
    evidence_gain: float = 0.0
    quality_margin: float = 0.15
    neighbors: int = 30
    min_person_size: int = 2

    def __post_init__(self) -> None:
        for name in ("link_similarity", "evidence_gain", "quality_margin"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not -1.0 < self.link_similarity < 1.0:
            raise ValueError(f"link_similarity must lie in (-1, 1), got {self.link_similarity}")
        if not 0.0 <= self.evidence_gain < 1.0:
            raise ValueError(f"evidence_gain must lie in [0, 1), got {self.evidence_gain}")
        if not 0.0 <= self.quality_margin <= 1.0:
            raise ValueError(f"quality_margin must lie in [0, 1], got {self.quality_margin}")
        for name in ("neighbors", "min_person_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")

    @classmethod
    def for_model(cls, model_id: str) -> ClusterParams:
        """Good parameters for an embedder, by the ``model_id`` stored with its embeddings."""
        if model_id == SFACE_MODEL_ID or model_id == "sface":
            return cls()
        if model_id == DLIB_MODEL_ID or model_id == "dlib":
            return replace(cls(), link_similarity=0.90)
        raise ValueError(f"no clustering parameters for model {model_id!r}")
