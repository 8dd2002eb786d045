"""Suggestions for the review UI: which person an unassigned face probably is, which unassigned faces
look alike, and which two persons are probably one. Pure and deterministic: arrays in, ranked
matches out; no I/O.

>>> import numpy as np
>>> members = np.array([[1, 0], [0.96, 0.28], [0, 1]], dtype=np.float32)
>>> index = PersonIndex(members, persons=np.array([7, 7, 9]))
>>> index.rank(np.array([0.8, 0.6], dtype=np.float32), min_similarity=0.0)[0]
PersonMatch(person_id=7, similarity=0.868)

Scores are cosine similarities between L2-normalised embeddings, compared on the same scale as the
clustering engine's thresholds (``ClusterParams``), so a suggestion means "close to, but not over,
what the engine would have linked on its own".
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from facefile.cluster.cohesion import cohesion_ratio, mean_pair_similarity
from facefile.cluster.params import ClusterParams
from facefile.cluster.segments import segment_sums

__all__ = ["MergeMatch", "PersonIndex", "PersonMatch", "SuggestParams", "similar_faces"]

# Similarity matrices are computed in row blocks of at most this many cells (8 MB of float32), so
# memory stays flat however many faces and persons a library holds.
_BLOCK_CELLS = 2_000_000
_MASKED = -4.0  # below any cosine similarity
# A face's runner-up person does not count against the margin when it is linked to the best person
# by at least this cohesion ratio: stricter than a merge suggestion (``min_cohesion``), as a margin
# waived for two look-alikes turns straight into a wrong question (on dlib, 0.75 halved precision).
_NO_RIVAL = 0.9


@dataclass(frozen=True)
class SuggestParams:
    """How strong the evidence must be to ask the user.

    ``min_similarity``: a face is suggested for a person when the mean similarity to that person's
    ``nearest`` most similar faces reaches this. ``merge_similarity``: two persons are candidates
    for one when their average-link similarity (the mean over all their cross pairs) reaches this.
    ``group_similarity``: faces offered together for batch review are at least this similar to the
    group's first face (the user unticks the odd ones out).

    Similarity alone is weak evidence for the cases the review queue sees: the engine has already
    linked everything that was clearly one person, so what is left just below its thresholds is
    mostly look-alikes (siblings, strangers with the same haircut), not the person itself. Two
    further tests decide what is actually shown:

    ``margin``: a face is asked about only when its best person beats the second best by this
    much. An unassigned face of someone with no person of their own (most unassigned faces: a
    library is full of bystanders) still has a best match, a chance look-alike among many persons;
    the gap between the best and second-best chance match is about one ``impostor_tail`` of the
    embedder (the spacing of the top draws from an exponential tail), so three of them leave ~5% of
    strangers while the face's own person, a real match, usually clears it.

    ``min_cohesion``: the *cohesion ratio*, ``(link - baseline) / (cohesion - baseline)``, compares
    how alike two things are with how alike a person's own faces are (``cohesion``: the mean
    similarity of a person's face pairs; for two persons their geometric mean), on a scale where
    ``baseline`` (the embedder's mean similarity of unrelated faces) is 0. The two parts of a split
    person look like each other about as much as each part looks like itself (ratio near 1);
    look-alikes are kept apart by the engine precisely because each is far more alike within
    itself than across (ratio well below 1). Merges are shown and ranked by this ratio. 0.75 asks
    for the link to cover three quarters of the way from strangers to self.

    ``face_cohesion``: the same test for one face against its best person (its score as a share of
    the person's cohesion), off by default. It removes most chance matches of strangers (LFW
    development: 61 questions, 6 right, become 4, 2 right), but it also silences every blurred or
    masked face of a *tight* person (a burst of near-identical photos: cohesion 0.9), the very
    faces review is for; the margin alone does not depend on how tight a person happens to be.
    """

    min_similarity: float = 0.313
    merge_similarity: float = 0.30
    group_similarity: float = 0.313
    nearest: int = 3
    margin: float = 0.078
    min_cohesion: float = 0.75
    face_cohesion: float = 0.0
    baseline: float = ClusterParams.impostor_mean

    def __post_init__(self) -> None:
        for name in ("min_similarity", "merge_similarity", "group_similarity", "baseline"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not -1.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a number in [-1, 1], got {value!r}")
        for name in ("margin", "min_cohesion", "face_cohesion"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 2.0:
                raise ValueError(f"{name} must be a number in [0, 2], got {value!r}")
        if not isinstance(self.nearest, int) or isinstance(self.nearest, bool) or self.nearest < 1:
            raise ValueError(f"nearest must be a positive int, got {self.nearest!r}")

    @classmethod
    def for_model(cls, model_id: str) -> SuggestParams:
        """Thresholds derived from the engine's: half an ``evidence_gain`` below what it links alone.

        The engine links two single faces at ``single_floor`` at the lowest (SFace 0.363) and two
        large groups at ``link_similarity - evidence_gain`` (SFace 0.35). Asking the user about
        matches just below those finds the faces the engine was too careful with, while a margin of
        half a gain (SFace 0.05, dlib 0.005: dlib's scale is ten times finer) keeps the questions
        mostly answerable with "yes". ``margin`` is three ``impostor_tail`` of the embedder (SFace
        0.078, dlib 0.02); ``baseline`` is the embedder's mean similarity of two different people's
        faces (LFW development pairs: SFace 0.09, dlib normalised 0.83).
        """
        engine = ClusterParams.for_model(model_id)
        margin = engine.evidence_gain / 2
        single = round(engine.single_floor - margin, 4)  # rounded: 0.925 reads better than 0.92499999
        return cls(
            min_similarity=single,
            merge_similarity=round(engine.link_similarity - engine.evidence_gain - margin, 4),
            group_similarity=single,
            margin=round(3 * engine.impostor_tail, 4),
            baseline=engine.impostor_mean,
        )


@dataclass(frozen=True)
class PersonMatch:
    person_id: int
    similarity: float


@dataclass(frozen=True)
class MergeMatch:
    """Two persons that are probably one. ``keep`` is the larger (the lower id on a tie).
    ``similarity``: their average link; ``cohesion``: the cohesion ratio (see ``SuggestParams``),
    the evidence the suggestion is ranked by."""

    keep: int
    other: int
    similarity: float
    cohesion: float = 1.0


class PersonIndex:
    """The faces of every person, grouped for fast "which person is this face?" questions.

    ``vectors``: (N, d) L2-normalised embeddings of the faces assigned to persons; ``persons``: (N,)
    the person id of each; ``photos``: optional (N,) photo ids, to leave out merges of two persons
    seen in one photo (they cannot be one person). ``nearest``: how many of a person's most similar
    faces a face is compared with (the mean of their similarities is the score: robust to one odd
    face, and fair to a person of two faces against a person of two hundred).
    """

    def __init__(
        self, vectors: np.ndarray, persons: np.ndarray, *, photos: np.ndarray | None = None, nearest: int = 3
    ) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        persons = np.asarray(persons, dtype=np.int64)
        if vectors.ndim != 2 or persons.shape != (len(vectors),):
            raise ValueError(f"vectors must be (N, d) and persons (N,), got {vectors.shape} and {persons.shape}")
        if photos is not None and np.shape(photos) != persons.shape:
            raise ValueError(f"photos must be (N,), got {np.shape(photos)}")
        if nearest < 1:
            raise ValueError(f"nearest must be positive, got {nearest}")
        # Members sorted by person (then by input position: stable), so each person is one segment.
        # Input sorted already (the review queue gathers it so) is taken as it is: no 50 MB copy
        # per question on a library of 100,000 faces.
        if np.all(persons[1:] >= persons[:-1]):
            self.vectors, self.member_persons = vectors, persons
            self.member_photos = None if photos is None else np.asarray(photos, dtype=np.int64)
        else:
            order = np.argsort(persons, kind="stable")
            self.vectors = vectors[order]
            self.member_persons = persons[order]
            self.member_photos = None if photos is None else np.asarray(photos, dtype=np.int64)[order]
        first = np.ones(len(persons), dtype=bool)
        first[1:] = self.member_persons[1:] != self.member_persons[:-1]
        self.starts = np.flatnonzero(first)
        self.sizes = np.diff(np.append(self.starts, len(persons)))
        self.person_ids = self.member_persons[self.starts]
        self.nearest = nearest
        self._position = {int(p): i for i, p in enumerate(self.person_ids.tolist())}
        self._means: np.ndarray | None = None
        self._cohesion: np.ndarray | None = None

    @property
    def means(self) -> np.ndarray:
        """(P, d) unnormalised mean face of each person: the dot product of two means is exactly the
        average-link similarity of the two persons. Computed on first use (only merges need it)."""
        if self._means is None:
            sums = segment_sums(self.vectors, self.starts)
            self._means = (sums / np.maximum(self.sizes, 1)[:, None]).astype(np.float32)
        return self._means

    @property
    def cohesion(self) -> np.ndarray:
        """(P,) the mean similarity of each person's pairs of faces. A person of one face has none:
        it gets the median of the others (1.0 when no person has two faces: the strictest)."""
        if self._cohesion is None:
            norms = np.einsum("ij,ij->i", self.vectors, self.vectors)
            own = np.add.reduceat(norms, self.starts) if len(self) else norms[:0]
            out = mean_pair_similarity(self.means * self.sizes[:, None], self.sizes, own)
            known = ~np.isnan(out)
            out[~known] = float(np.median(out[known])) if known.any() else 1.0
            self._cohesion = out
        return self._cohesion

    def cohesion_ratio(self, link: np.ndarray, i: np.ndarray, j: np.ndarray | None = None, *,
                       baseline: float = SuggestParams.baseline) -> np.ndarray:
        """``(link - baseline) / (cohesion - baseline)`` for persons at positions ``i`` (and the
        geometric mean of both persons' cohesions with ``j``): 1 when the link is as strong as the
        persons' own faces are alike, 0 at the similarity of strangers."""
        return cohesion_ratio(link, self.cohesion[i], baseline, None if j is None else self.cohesion[j])

    def __len__(self) -> int:
        return len(self.person_ids)

    # ------------------------------------------------------------------ face -> person

    def scores(self, queries: np.ndarray) -> np.ndarray:
        """(Q, P): for each query face and person (in ``person_ids`` order), the mean similarity to
        the person's ``nearest`` most similar faces."""
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        out = np.zeros((len(queries), len(self)), dtype=np.float32)
        if not len(self) or not len(queries):
            return out
        step = max(1, _BLOCK_CELLS // len(self.vectors))
        for start in range(0, len(queries), step):
            out[start:start + step] = self._block_scores(queries[start:start + step])
        return out

    def _block_scores(self, queries: np.ndarray) -> np.ndarray:
        sims = queries @ self.vectors.T
        total = np.zeros((len(queries), len(self)), dtype=np.float32)
        taken = np.minimum(self.sizes, self.nearest)
        previous = None
        for step in range(int(taken.max())):
            best = np.maximum.reduceat(sims, self.starts, axis=1)
            if previous is not None:
                # Exact ties were masked together in the step before: they count as that value again.
                best = np.where(best <= _MASKED, previous, best)
            total += np.where(step < taken, best, 0.0)
            if step + 1 < taken.max():
                sims = np.where(sims >= np.repeat(best, self.sizes, axis=1), _MASKED, sims)
            previous = best
        return total / taken

    def best(
        self, queries: np.ndarray, *, exclude: Sequence[Collection[int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best person of each query: (person ids, scores); person -1 and score -inf where every
        person is excluded. ``exclude[i]``: person ids query i must not be matched with."""
        scores = self.scores(queries)
        if exclude is not None:
            self._mask(scores, exclude)
        if not len(self):
            return np.full(len(scores), -1, np.int64), np.full(len(scores), -np.inf, np.float32)
        where = np.argmax(scores, axis=1)  # the first maximum: the lowest person id on a tie
        value = scores[np.arange(len(scores)), where]
        persons = np.where(np.isfinite(value), self.person_ids[where], -1)
        return persons, value

    def suggest(
        self,
        queries: np.ndarray,
        *,
        exclude: Sequence[Collection[int]] | None = None,
        params: SuggestParams | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The person to ask about for each query ("is this Anna?"): (person ids, scores), person -1
        and score -inf where the evidence is too weak to ask. A face is asked about when its best
        person (after ``exclude``) scores at least ``params.min_similarity``, beats the second best
        by ``params.margin`` (unless the two are almost surely one person themselves) and, when
        ``params.face_cohesion`` is set, reaches that share of the person's own cohesion (see
        ``SuggestParams``): most unassigned faces are of people with no person, and each of them
        has a best match too."""
        params = params or SuggestParams()
        scores = self.scores(queries)
        if exclude is not None:
            self._mask(scores, exclude)
        none = np.full(len(scores), -1, np.int64), np.full(len(scores), -np.inf, np.float32)
        if not len(self):
            return none
        where = np.argmax(scores, axis=1)
        rows = np.arange(len(scores))
        value = scores[rows, where]
        clear = np.ones(len(scores), dtype=bool)
        if len(self) > 1:
            rest = scores.copy()
            rest[rows, where] = -np.inf
            runner = np.argmax(rest, axis=1)
            with np.errstate(invalid="ignore"):  # -inf - -inf where every person is excluded
                clear = value - rest[rows, runner] >= params.margin
            # The margin guards against choosing between two different people. A runner-up that is
            # almost surely the same person as the best is no rival (two parts of one split person).
            link = np.einsum("ij,ij->i", self.means[where], self.means[runner])
            same = (link >= params.merge_similarity) & (
                self.cohesion_ratio(link, where, runner, baseline=params.baseline) >= _NO_RIVAL
            )
            clear |= same
        ok = np.isfinite(value) & (value >= params.min_similarity) & clear
        if params.face_cohesion > 0:
            ok &= self.cohesion_ratio(value, where, baseline=params.baseline) >= params.face_cohesion
        return np.where(ok, self.person_ids[where], none[0]), np.where(ok, value, none[1])

    def rank(
        self,
        query: np.ndarray,
        *,
        exclude: Collection[int] = (),
        top: int = 3,
        min_similarity: float = SuggestParams.min_similarity,
    ) -> list[PersonMatch]:
        """The ``top`` persons most like one face (or a group's mean face), best first, at least
        ``min_similarity``."""
        scores = self.scores(query)
        self._mask(scores, [exclude])
        row = scores[0]
        order = np.lexsort((self.person_ids, -row))[:top]
        return [
            PersonMatch(int(self.person_ids[i]), round(float(row[i]), 3))
            for i in order
            if np.isfinite(row[i]) and row[i] >= min_similarity
        ]

    def _mask(self, scores: np.ndarray, exclude: Sequence[Collection[int]]) -> None:
        if len(exclude) != len(scores):
            raise ValueError(f"exclude needs one entry per query: {len(exclude)} for {len(scores)}")
        for i, persons in enumerate(exclude):
            for pid in persons:
                at = self._position.get(int(pid))
                if at is not None:
                    scores[i, at] = -np.inf

    # ------------------------------------------------------------------ person + person

    def merges(
        self,
        *,
        min_similarity: float = SuggestParams.merge_similarity,
        min_cohesion: float = SuggestParams.min_cohesion,
        baseline: float = SuggestParams.baseline,
        dismissed: Collection[tuple[int, int]] = (),
        limit: int = 20,
    ) -> list[MergeMatch]:
        """Pairs of persons that are probably one, strongest evidence first: average-link similarity
        at least ``min_similarity`` and cohesion ratio (see ``SuggestParams``) at least
        ``min_cohesion``, ranked by that ratio. Pairs in ``dismissed`` (either order) and pairs seen
        together in one photo are left out.

        Ranked by raw similarity, the top pairs are almost all look-alikes: the engine links two
        groups whose average link clears its (size-dependent) threshold, so what stays apart just
        below it is mostly two tight persons of two people who look alike, whose faces are much more
        alike within each person than across. A person the engine split (masked and unmasked
        photos, a change of age) is instead two loose parts about as alike across as within."""
        gone = {(min(a, b), max(a, b)) for a, b in dismissed}
        rows_all: list[np.ndarray] = []
        cols_all: list[np.ndarray] = []
        links: list[np.ndarray] = []
        step = max(1, _BLOCK_CELLS // max(1, len(self)))
        for start in range(0, len(self), step):
            sims = self.means[start:start + step] @ self.means.T
            rows, cols = np.nonzero(sims >= min_similarity)
            keep = cols > rows + start  # each pair once, never a person with itself
            rows_all.append(rows[keep] + start)
            cols_all.append(cols[keep])
            links.append(sims[rows[keep], cols[keep]])
        if not rows_all:
            return []
        i, j, link = np.concatenate(rows_all), np.concatenate(cols_all), np.concatenate(links)
        ratio = self.cohesion_ratio(link, i, j, baseline=baseline)
        strong = ratio >= min_cohesion
        i, j, link, ratio = i[strong], j[strong], link[strong], ratio[strong]
        order = np.lexsort((self.person_ids[j], self.person_ids[i], -np.round(ratio, 6)))
        matches: list[MergeMatch] = []
        for k in order.tolist():
            a, b = int(self.person_ids[i[k]]), int(self.person_ids[j[k]])
            if (min(a, b), max(a, b)) in gone or self._share_a_photo(int(i[k]), int(j[k])):
                continue
            big, small = (i[k], j[k]) if (self.sizes[i[k]], -a) >= (self.sizes[j[k]], -b) else (j[k], i[k])
            matches.append(MergeMatch(int(self.person_ids[big]), int(self.person_ids[small]),
                                      round(float(link[k]), 3), round(float(ratio[k]), 3)))
            if len(matches) >= limit:
                break
        return matches

    def _share_a_photo(self, i: int, j: int) -> bool:
        if self.member_photos is None:
            return False
        a = self.member_photos[self.starts[i]:self.starts[i] + self.sizes[i]]
        b = self.member_photos[self.starts[j]:self.starts[j] + self.sizes[j]]
        return bool(np.intersect1d(a, b).size)


def similar_faces(
    seed: int,
    vectors: np.ndarray,
    *,
    photos: np.ndarray | None = None,
    min_similarity: float = SuggestParams.group_similarity,
    limit: int = 48,
) -> list[int]:
    """Indices of the faces at least ``min_similarity`` like face ``seed`` (itself first, then most
    similar first; at most one face per photo, as one person is only once in a photo), for batch
    review of a group of look-alike unassigned faces."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if not 0 <= seed < len(vectors):
        raise IndexError(f"seed {seed} outside 0..{len(vectors) - 1}")
    sims = vectors @ vectors[seed]
    sims[seed] = np.inf
    candidates = np.nonzero(sims >= min_similarity)[0]
    order = candidates[np.lexsort((candidates, -sims[candidates]))]
    chosen: list[int] = []
    seen_photos: set[int] = set()
    for i in order:
        photo = None if photos is None else int(photos[i])
        if photo is not None and photo in seen_photos:
            continue
        chosen.append(int(i))
        if photo is not None:
            seen_photos.add(photo)
        if len(chosen) >= limit:
            break
    return chosen
