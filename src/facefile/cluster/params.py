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
        Two single faces are one person when their cosine similarity is at least this. Groups
        merge by average linkage: the mean similarity over all their cross pairs must clear the
        threshold.
    ``evidence_gain``
        Large groups are compared through many face pairs, so a lower mean similarity already
        convinces: the threshold falls by up to ``evidence_gain`` as the groups grow (by
        ``evidence_gain * (1 - sqrt((1/a + 1/b + 1/ab) / 3))`` for groups of a and b faces: 0 for
        two single faces, 0.42 of it for a face against a large group, all of it for two large
        groups). ``link_similarity - evidence_gain`` must stay above the mean similarity of
        look-alike persons (siblings), or they merge. 0 gives plain average linkage.
    ``quality_margin``
        How much more similar a face of quality 0 must be to join a group; it shrinks linearly
        to nothing at quality 0.5 (see ``scoring.GOOD_QUALITY``). A group is as good as its
        best face.
    ``neighbors``
        Each face is compared with its ``neighbors`` most similar faces only (a sparse graph, so
        memory stays linear in the number of faces). Groups never linked by such a pair never
        merge.
    ``min_person_size``
        Groups smaller than this are left unassigned (label -1) unless they hold a face tied to a
        person (confirmed, or a member of a person the user confirmed a face of).
    ``reference_faces`` and ``impostor_tail``
        ``link_similarity`` is the threshold for a library of ``reference_faces`` faces. A face is
        compared with every other face, so the chance that some stranger looks alike grows with
        the number of faces: with an impostor tail P(similarity > t) ~ exp(-t / impostor_tail)
        (a property of the embedder, measured on its different-person pairs), keeping the
        expected number of chance look-alikes per face constant asks for a threshold that moves
        by ``impostor_tail * ln(N / reference_faces)``. Smaller libraries get lower thresholds,
        never below ``single_floor`` nor ``link_similarity - evidence_gain`` (the look-alike
        floor); larger ones keep ``link_similarity``. 0 turns this off. See ``at_size``.
    ``single_floor``
        Two single faces never link below the embedder's documented same-person threshold
        (SFace: OpenCV's cosine 0.363).
    ``centroid_similarity``, ``centroid_floor`` and ``centroid_min_size``
        A second phase, once average linkage is done: two groups of at least
        ``centroid_min_size`` faces whose centroids have a cosine of at least
        ``centroid_similarity`` merge, if their mean pair similarity is at least
        ``centroid_floor``. Centroids are the groups' mean faces minus the mean face of the whole
        clustering (what every face shares says nothing about who it is). A person photographed
        in poor conditions (masks, blur) has faces only weakly alike one to one, yet its groups'
        centroids agree, because each averages away what is particular to its photos. 1 turns
        it off.
    ``fragment_size``, ``neighbour_share`` and ``cohesion_ratio``
        A last phase, the neighbour vote: a group of at most ``fragment_size`` faces (an
        unassigned face is a group of one) joins a larger group when at least ``neighbour_share``
        of its faces' nearest other faces (``NEIGHBOUR_VOTES`` each, whatever their similarity)
        belong to that group, and its average link to it covers at least ``cohesion_ratio`` of the
        way from strangers (``impostor_mean``, the embedder's mean similarity of two different
        people's faces) to that group's own cohesion (the mean similarity of its faces' pairs).
        Votes count ranks, not similarities, so they hold where every similarity is low: a masked
        face's nearest faces are mostly its own person's, though none is very similar. The ratio
        keeps a stranger whose few neighbours happen to fall in one large person out of it.
        Groups whose best face is below ``scoring.GOOD_QUALITY`` do not vote (they wait for the
        review queue). 0 turns it off.

    SFace defaults, measured on the LFW and masked-face development sets (REFERENCE.md): two
    SFace faces of different people exceed 0.45 in about 1 pair in 35,000, while the whole-person
    mean similarity of LFW's closest look-alikes (the Bush brothers, the Williams sisters) is
    0.36-0.40: with 0.45 - 0.10 = 0.35 the sisters stay apart, the brothers merge. Masked and
    unmasked photos of one person average only 0.25-0.35, so larger gains would help them, at
    the price of merging look-alikes. dlib vectors (normalised) crowd near 1: same threshold
    logic, ten times smaller steps.
    """

    link_similarity: float = 0.45
    evidence_gain: float = 0.10
    # Measured on the hard variants of `facefile bench quality`: 0.15 left most faces of 24-32 px
    # unassigned (BCubed recall 0.78 on lowres24); 0.05 keeps blurred faces out of persons with
    # recall 0.89 and no loss on sharp sets.
    quality_margin: float = 0.05
    neighbors: int = 30
    min_person_size: int = 2
    reference_faces: int = 10_000
    # SFace: P(impostor > 0.35) = 1.5e-3, P(> 0.45) = 3.2e-5 on LFW development pairs: a factor
    # e^3.85 over 0.10, so the tail decays e-fold every 0.026.
    impostor_tail: float = 0.026
    single_floor: float = 0.363
    # Measured with `facefile bench quality`: 0.55 / 0.25 raised masked BCubed F from 0.61 to 0.71
    # (pairwise F 0.60 to 0.71) and left LFW, low resolution, JPEG 15 and group photos as they
    # were; on the sunglasses variant, where average linkage already forms groups of different
    # people that share the dark band, it joins some of them (BCubed F -0.005, pairwise F
    # 0.42 to 0.23). 0.45 gave masked 0.75 at the price of sunglasses BCubed F -0.04.
    centroid_similarity: float = 0.55
    centroid_floor: float = 0.25
    centroid_min_size: int = 3
    # Measured with `facefile bench quality`: masked BCubed F 0.709 to 0.800 (pairwise 0.708 to
    # 0.803); LFW, JPEG 15 and group photos unchanged (within 0.0003), sunglasses -0.002. A share
    # or ratio of 0.5 gave masked 0.836 but cost LFW 0.0025 and sunglasses 0.012.
    fragment_size: int = 10
    neighbour_share: float = 0.6
    cohesion_ratio: float = 0.6
    impostor_mean: float = 0.09  # SFace, LFW development pairs of different people (200,000 drawn)

    def __post_init__(self) -> None:
        for name in ("link_similarity", "evidence_gain", "quality_margin", "impostor_tail", "single_floor",
                     "centroid_similarity", "centroid_floor", "neighbour_share", "cohesion_ratio", "impostor_mean"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not -1.0 < self.link_similarity < 1.0:
            raise ValueError(f"link_similarity must lie in (-1, 1), got {self.link_similarity}")
        if not 0.0 <= self.evidence_gain < 1.0:
            raise ValueError(f"evidence_gain must lie in [0, 1), got {self.evidence_gain}")
        if not 0.0 <= self.quality_margin <= 1.0:
            raise ValueError(f"quality_margin must lie in [0, 1], got {self.quality_margin}")
        if self.impostor_tail < 0:
            raise ValueError(f"impostor_tail must be >= 0, got {self.impostor_tail}")
        if not -1.0 < self.centroid_similarity <= 1.0:
            raise ValueError(f"centroid_similarity must lie in (-1, 1], got {self.centroid_similarity}")
        for name in ("neighbors", "min_person_size", "reference_faces", "centroid_min_size", "fragment_size"):
            value = getattr(self, name)
            lowest = 0 if name == "fragment_size" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < lowest:
                raise ValueError(f"{name} must be an int >= {lowest}, got {value!r}")
        if not 0.0 < self.neighbour_share <= 1.0:
            raise ValueError(f"neighbour_share must lie in (0, 1], got {self.neighbour_share}")
        if not -1.0 < self.impostor_mean < 1.0:
            raise ValueError(f"impostor_mean must lie in (-1, 1), got {self.impostor_mean}")

    @classmethod
    def for_model(cls, model_id: str) -> ClusterParams:
        """Good parameters for an embedder, by the ``model_id`` stored with its embeddings."""
        if model_id == SFACE_MODEL_ID or model_id == "sface":
            return cls()
        if model_id == DLIB_MODEL_ID or model_id == "dlib":
            # dlib (normalised): P(impostor > 0.92) = 2.3e-3, P(> 0.94) = 1.2e-4: e-fold every 0.0067.
            # dlib's documented 0.6 Euclidean radius on its raw vectors (norm ~1.42) is cosine ~0.91.
            return replace(
                cls(), link_similarity=0.94, evidence_gain=0.01, quality_margin=0.005, impostor_tail=0.0067,
                single_floor=0.91, impostor_mean=0.83,  # normalised dlib vectors, the same pairs
                centroid_similarity=1.0, fragment_size=0,  # neither phase was measured for dlib: off
            )
        raise ValueError(f"no clustering parameters for model {model_id!r}")

    def at_size(self, faces: int) -> ClusterParams:
        """These parameters for a clustering of ``faces`` faces (see ``impostor_tail``)."""
        if self.impostor_tail == 0 or faces >= self.reference_faces or faces < 2:
            return self
        floor = self.link_similarity - self.evidence_gain
        single = max(floor, self.single_floor, self.link_similarity + self.impostor_tail * math.log(faces / self.reference_faces))
        single = min(single, self.link_similarity)
        # The floor for large groups stays where it was: only chance look-alikes scale with N.
        return replace(self, link_similarity=single, evidence_gain=single - floor)
