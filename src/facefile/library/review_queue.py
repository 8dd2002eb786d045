"""The review queues behind the People UI: "is this Anna?", groups of look-alike unassigned faces,
"are these two persons one?". The store holds every answer; this module only decides what to ask next.

Asking must be fast (the next question in well under 100 ms on a library of thousands of persons),
so the expensive part, ranking every unassigned face against every person, is done once and kept
as an order of faces to ask about. Each question is then re-checked exactly against the library as
it is now (one face against every person, a millisecond), so an answer given a moment ago, or a
scan committed by another process, is never contradicted by a stale ranking.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from facefile.cluster import MergeMatch, PersonIndex, PersonMatch, SuggestParams, similar_faces
from facefile.store import Store

# Seeds tried per request when looking for a group of look-alike unassigned faces: bounds the time of
# one request on a library of mostly lone faces (each try compares one face with all unassigned).
GROUP_SEEDS_PER_REQUEST = 64
MERGE_CANDIDATES = 200


@dataclass(frozen=True)
class FaceSuggestion:
    """One unassigned face and the persons it most resembles (best first)."""

    face_id: int
    matches: list[PersonMatch]
    remaining: int  # faces with a suggestion still waiting, this one included (an estimate)


@dataclass(frozen=True)
class FaceGroup:
    """Look-alike unassigned faces (the first is the seed) and the persons the group resembles."""

    face_ids: list[int]
    matches: list[PersonMatch]


@dataclass
class _Snapshot:
    """Faces of one model as loaded (they change only when a scan or an erasure commits)."""

    key: tuple[int, ...]
    ids: np.ndarray
    images: np.ndarray
    quality: np.ndarray
    vectors: np.ndarray
    row_of: dict[int, int] = field(default_factory=dict)


@dataclass
class _Decisions:
    """Assignments and rejections as they are now, as arrays over the snapshot's rows (a library of
    100,000 faces is read in milliseconds this way; Python objects per face would take 10x longer)."""

    assigned: np.ndarray  # bool per snapshot row: the face belongs to a person (hidden or not)
    rows: np.ndarray  # snapshot rows of the assigned faces
    persons: np.ndarray  # their persons
    hidden: set[int]
    rejected: dict[int, set[int]]  # face -> persons it is not

    def is_assigned(self, snap: _Snapshot, face_id: int) -> bool:
        row = snap.row_of.get(face_id)
        return row is None or bool(self.assigned[row])

    def persons_in_photo(self, snap: _Snapshot, image_id: int) -> set[int]:
        return {int(p) for p in self.persons[snap.images[self.rows] == image_id]}


class ReviewQueue:
    """What to ask next, for one library store and one face model."""

    def __init__(self, store: Store, model_id: str) -> None:
        self._store = store
        self.model_id = model_id
        self.params = SuggestParams.for_model(model_id)
        self._snapshot: _Snapshot | None = None
        self._face_order: list[int] | None = None
        self._merge_order: list[MergeMatch] | None = None
        self._changes_at_build: dict[str, int] = {}
        self._no_group_seeds: set[int] = set()
        self._person_of_row: np.ndarray | None = None
        self._person_of_row_key: tuple[int, ...] | None = None

    # ------------------------------------------------------------------ questions

    def next_face(self, skip: Collection[int] = ()) -> FaceSuggestion | None:
        """The next unassigned face worth asking about, with its best matching persons."""
        snap, decisions, index = self._current()
        if self._face_order is None:
            self._rank(snap, decisions, index)
        found = self._first_match(snap, decisions, index, skip)
        if found is None and self._changed_since("faces"):
            self._rank(snap, decisions, index)  # answers changed the persons since the ranking: once more
            found = self._first_match(snap, decisions, index, skip)
        return found

    def _rank(self, snap: _Snapshot, decisions: _Decisions, index: PersonIndex) -> None:
        self._face_order = self._rank_unassigned(snap, decisions, index)
        self._built("faces")

    def _first_match(
        self, snap: _Snapshot, decisions: _Decisions, index: PersonIndex, skip: Collection[int]
    ) -> FaceSuggestion | None:
        assert self._face_order is not None
        self._face_order = [f for f in self._face_order if not decisions.is_assigned(snap, f)]
        waiting = [f for f in self._face_order if f not in skip]
        for position, face_id in enumerate(waiting):
            vector, excluded = snap.vectors[snap.row_of[face_id]], self._excluded(snap, decisions, face_id)
            persons, _ = index.suggest(vector[None], exclude=[excluded], params=self.params)
            if persons[0] < 0:
                continue  # too weak to ask now (answers since the ranking changed the persons)
            matches = index.rank(vector, exclude=excluded, min_similarity=self.params.min_similarity)
            if matches:
                return FaceSuggestion(face_id, matches, len(waiting) - position)
        return None

    def next_group(self, skip: Collection[int] = (), limit: int = 48) -> FaceGroup | None:
        """A group of at least two look-alike unassigned faces (one per photo), best face first."""
        snap, decisions, index = self._current()
        if self._changed_since("groups"):
            self._no_group_seeds.clear()  # rejections made new unassigned faces: old seeds may group now
            self._built("groups")
        rows = np.nonzero(~decisions.assigned)[0]
        if skip:
            rows = rows[~np.isin(snap.ids[rows], np.fromiter(skip, np.int64))]
        if len(rows) < 2:
            return None
        # Sharpest faces first: they make the clearest seeds.
        rows = rows[np.lexsort((snap.ids[rows], -snap.quality[rows]))]
        vectors, photos = snap.vectors[rows], snap.images[rows]
        tried = 0
        for seed, row in enumerate(rows):
            face_id = int(snap.ids[row])
            if face_id in self._no_group_seeds:
                continue
            if tried >= GROUP_SEEDS_PER_REQUEST:
                break
            tried += 1
            members = similar_faces(
                seed, vectors, photos=photos, min_similarity=self.params.group_similarity, limit=limit
            )
            if len(members) < 2:
                self._no_group_seeds.add(face_id)
                continue
            face_ids = [int(snap.ids[rows[m]]) for m in members]
            mean = vectors[members].mean(axis=0)
            excluded = set().union(*(self._excluded(snap, decisions, f) for f in face_ids))
            mean = mean / np.linalg.norm(mean)
            # Persons are offered for the group only on the evidence a single face would need;
            # otherwise the group is offered for naming alone.
            persons, _ = index.suggest(mean[None], exclude=[excluded], params=self.params)
            matches = (
                index.rank(mean, exclude=excluded, min_similarity=self.params.min_similarity) if persons[0] >= 0 else []
            )
            return FaceGroup(face_ids, matches)
        return None

    def next_merge(
        self, skip: Collection[tuple[int, int]] = (), dismissed: Collection[tuple[int, int]] = ()
    ) -> MergeMatch | None:
        """Two persons that are probably one, strongest evidence first (``PersonIndex.merges``)."""
        _, decisions, index = self._current()
        # Persons a birth date keeps apart (one has a face from before the other was born) are two.
        dismissed = {*dismissed, *self._store.birth_dates.incompatible_pairs()}
        unwanted = {(min(a, b), max(a, b)) for a, b in [*skip, *dismissed]}
        visible = {int(p) for p in index.person_ids}
        for attempt in range(2):
            if self._merge_order is None:
                self._merge_order = index.merges(
                    min_similarity=self.params.merge_similarity, min_cohesion=self.params.min_cohesion,
                    baseline=self.params.baseline, dismissed=dismissed, limit=MERGE_CANDIDATES,
                )
                self._built("merges")
            for match in self._merge_order:
                pair = (min(match.keep, match.other), max(match.keep, match.other))
                if match.keep in visible and match.other in visible and pair not in unwanted:
                    return match
            if attempt == 1 or not self._changed_since("merges"):
                return None
            self._merge_order = None  # merges made new persons since the ranking: rank again once
        return None

    # ------------------------------------------------------------------ state

    def _current(self) -> tuple[_Snapshot, _Decisions, PersonIndex]:
        snap = self._load_snapshot()
        decisions = self._decisions(snap)
        visible = ~np.isin(decisions.persons, np.fromiter(decisions.hidden, np.int64))
        rows, persons = decisions.rows[visible], decisions.persons[visible]
        # Faces grouped by person, in face id order within each (deterministic), gathered once:
        # the index takes sorted input as it is.
        order = np.lexsort((rows, persons))
        taken = rows[order]
        index = PersonIndex(
            snap.vectors[taken], persons[order], photos=snap.images[taken],
            nearest=self.params.nearest,
        )
        return snap, decisions, index

    def _load_snapshot(self) -> _Snapshot:
        # Faces are never edited in place; they come and go with scans and erasures. data_version
        # moves when another connection commits (a scan, the CLI); the count and the largest id
        # catch this connection's own deletions. Reloading costs ~30 ms per 10,000 faces.
        version = self._store.data_version()
        count, largest = self._store.faces.extent(self.model_id)
        key = (version, count, largest)
        if self._snapshot is None or self._snapshot.key != key:
            faces = self._store.faces.load_model(self.model_id)
            self._snapshot = _Snapshot(
                key, faces.ids, faces.photos, faces.quality, faces.vectors, {int(f): i for i, f in enumerate(faces.ids)}
            )
            self._face_order = self._merge_order = None
            self._no_group_seeds.clear()
        return self._snapshot

    def _decisions(self, snap: _Snapshot) -> _Decisions:
        person_of_row = self._person_of_rows(snap)
        assigned = person_of_row >= 0
        rows = np.flatnonzero(assigned)
        rejected: dict[int, set[int]] = {}
        # A birth date bars the faces of earlier photos from its person, like a rejection.
        barred = self._store.birth_dates.exclusions(self.model_id)
        for face_id, person_id in chain(self._store.decisions.rejections(), barred):
            rejected.setdefault(face_id, set()).add(person_id)
        hidden = self._store.persons.hidden_ids()
        return _Decisions(assigned, rows, person_of_row[rows], hidden, rejected)

    def _person_of_rows(self, snap: _Snapshot) -> np.ndarray:
        """The person of each snapshot row (-1: unassigned). Read whole once per snapshot, then kept
        up to date from the faces this connection's own writes touched (an answer touches a few):
        reading 100,000 assignments per question would take half the time a question may."""
        cached = self._person_of_row
        if cached is not None and self._person_of_row_key == snap.key:
            changes = self._store.decisions.take_changes(limit=len(snap.ids) // 20 + 100)
            if changes is not None:
                for face_id, person_id in changes:
                    row = snap.row_of.get(face_id)
                    if row is not None:
                        cached[row] = -1 if person_id is None else person_id
                return cached
        self._store.decisions.track_changes()
        self._store.decisions.take_changes(limit=0)  # what was noted before is in the read below
        pairs = np.fromiter(chain.from_iterable(self._store.decisions.assignment_pairs()), np.int64).reshape(-1, 2)
        rows = np.searchsorted(snap.ids, pairs[:, 0])
        ours = rows < len(snap.ids)
        ours[ours] = snap.ids[rows[ours]] == pairs[ours, 0]  # faces of this model only
        person_of_row = np.full(len(snap.ids), -1, dtype=np.int64)
        person_of_row[rows[ours]] = pairs[ours, 1]
        self._person_of_row, self._person_of_row_key = person_of_row, snap.key
        return person_of_row

    @staticmethod
    def _excluded(snap: _Snapshot, decisions: _Decisions, face_id: int) -> set[int]:
        """Persons a face cannot be: those it was rejected from, and those already in its photo."""
        photo = int(snap.images[snap.row_of[face_id]])
        return decisions.rejected.get(face_id, set()) | decisions.persons_in_photo(snap, photo)

    def _rank_unassigned(self, snap: _Snapshot, decisions: _Decisions, index: PersonIndex) -> list[int]:
        """Unassigned faces with a match strong enough to ask about (``PersonIndex.suggest``), most
        similar first."""
        rows = np.nonzero(~decisions.assigned)[0]
        if not len(rows) or not len(index):
            return []
        waiting = [int(f) for f in snap.ids[rows]]
        in_photo: dict[int, set[int]] = {}
        for image, person in zip(snap.images[decisions.rows].tolist(), decisions.persons.tolist(), strict=True):
            in_photo.setdefault(image, set()).add(person)
        excluded = [
            decisions.rejected.get(f, set()) | in_photo.get(int(snap.images[r]), set())
            for f, r in zip(waiting, rows, strict=True)
        ]
        persons, scores = index.suggest(snap.vectors[rows], exclude=excluded, params=self.params)
        keep = np.nonzero(persons >= 0)[0]
        order = keep[np.lexsort((np.array(waiting)[keep], -scores[keep]))]
        return [waiting[i] for i in order]

    def _built(self, what: str) -> None:
        self._changes_at_build[what] = self._store.total_changes()

    def _changed_since(self, what: str) -> bool:
        return self._changes_at_build.get(what) != self._store.total_changes()
