"""The People UI's service: pages of persons, photos with their faces, review suggestions, scan status.

Reads come from the store's views (``store.views``); the one write here, "these are two people"
(``dismiss_merge``), is one transaction. The other answers of review (yes, no, move, merge) are the
person actions of ``lib.persons``, each a constraint the clustering engine honours.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from pathlib import Path

from facefile.cluster import MergeMatch
from facefile.library.person_actions import PersonActions
from facefile.library.person_lookup import who
from facefile.library.review_queue import FaceGroup, FaceSuggestion, ReviewQueue
from facefile.library.scan_status import ScanStatus, scan_status
from facefile.store import LibraryError, Store
from facefile.store.people_views import (
    PEOPLE_SORTS,
    FaceSource,
    FaceTile,
    PeoplePage,
    PersonTile,
    PhotoFace,
    PhotoView,
)
from facefile.store.photos_with import PhotoWith

__all__ = [
    "DISMISSED_MERGES_KEY", "PEOPLE_SORTS", "FaceGroup", "FaceSource", "FaceSuggestion", "FaceTile", "PeoplePage",
    "PersonTile", "PhotoFace", "PhotoView", "PhotoWith", "ReviewService",
]

DISMISSED_MERGES_KEY = "review_dismissed_merges"  # meta: [[a, b], ...] pairs the user said are two people


class ReviewService:
    """What the People UI shows and asks (``lib.review``)."""

    def __init__(self, store: Store, persons: PersonActions, folder: Path) -> None:
        self._store = store
        self._persons = persons
        self._folder = folder
        # The queue lives as long as this object (the web app keeps one Library open).
        self._queue: ReviewQueue | None = None
        self._queue_version: int | None = None

    # ------------------------------------------------------------------ persons

    def people_page(
        self, *, sort: str = "faces", query: str = "", include_hidden: bool = False, limit: int = 60, offset: int = 0
    ) -> PeoplePage:
        """One page of persons with at least one face, with their representative face."""
        if sort not in PEOPLE_SORTS:
            raise LibraryError(f"unknown sort {sort!r}; use one of {', '.join(PEOPLE_SORTS)}")
        return self._store.views.people_page(
            sort=sort, query=query, include_hidden=include_hidden, limit=limit, offset=offset
        )

    def person_tiles(self, ids: Iterable[int]) -> dict[int, PersonTile]:
        """Tiles of these persons (those that exist), by id."""
        return self._store.views.person_tiles(ids)

    def search_persons(self, text: str, limit: int = 10) -> list[PersonTile]:
        """Persons whose name contains ``text`` (or whose id it is), named and larger first; for the
        search boxes of merge and move. Named persons without faces are found too."""
        return self._store.views.search_persons(text, limit)

    # ------------------------------------------------------------------ faces

    def person_faces(self, person: str | int, *, limit: int = 10_000, offset: int = 0) -> tuple[list[FaceTile], int]:
        """A page of one person's faces, oldest photo first, and how many they have."""
        return self._store.views.person_faces(self._persons.resolve(person), limit=limit, offset=offset)

    def person_months(self, person: str | int) -> list[tuple[str, int]]:
        """How many faces of one person each month holds ("2014-03", "" when undated), in the order
        of ``person_faces``."""
        return self._store.views.person_months(self._persons.resolve(person))

    def unassigned_page(self, *, limit: int = 120, offset: int = 0) -> tuple[list[FaceTile], int]:
        """A page of the faces no person holds, sharpest first, and how many there are."""
        return self._store.views.unassigned_faces(limit=limit, offset=offset)

    def face_source(self, face_id: int) -> FaceSource:
        source = self._store.views.face_source(face_id)
        if source is None:
            raise LibraryError(f"no face with id {face_id}")
        return source

    # ------------------------------------------------------------------ photos

    def photo_files(self, image_id: int) -> list[Path]:
        """The files on disk of one photo (an exact duplicate has several), as absolute paths."""
        return self._store.views.photo_files(image_id)

    def photo(self, image_id: int) -> PhotoView:
        """One photo with every face in it and the person each belongs to."""
        view = self._store.views.photo(image_id)
        if view is None:
            raise LibraryError(f"no photo with id {image_id}")
        return view

    def photos_with(
        self, persons: Iterable[str | int], *, only: bool = False, limit: int = 60, offset: int = 0
    ) -> tuple[list[PhotoWith], int]:
        """A page of the photos showing every one of ``persons`` (ids or names), oldest first, and
        how many there are. With ``only``, photos where no other (shown) person is filed: faces
        nobody holds and hidden persons' faces do not count (``store.photos_with``)."""
        ids = list(dict.fromkeys(self._persons.resolve(p) for p in persons))
        if not ids:
            raise LibraryError("choose at least one person")
        return self._store.photos_with.find(ids, only=only, limit=limit, offset=offset)

    # ------------------------------------------------------------------ review

    def next_suggestion(self, skip: Collection[int] = ()) -> FaceSuggestion | None:
        """The next "is this <person>?" question: an unassigned face and its likeliest persons.
        Answer with ``lib.persons.confirm`` (yes) or ``reject`` (no); ``skip`` holds faces to pass over."""
        queue = self._review_queue()
        return queue.next_face(skip) if queue else None

    def next_face_group(self, skip: Collection[int] = ()) -> FaceGroup | None:
        """Look-alike unassigned faces to file together (``lib.persons.move_faces``), with likely persons."""
        queue = self._review_queue()
        return queue.next_group(skip) if queue else None

    def next_merge_suggestion(self, skip: Collection[tuple[int, int]] = ()) -> MergeMatch | None:
        """Two persons that are probably one: answer with ``lib.persons.merge`` or ``dismiss_merge``."""
        queue = self._review_queue()
        return queue.next_merge(skip, self.dismissed_merges()) if queue else None

    def dismiss_merge(self, a: str | int, b: str | int) -> None:
        """"These are two people": never suggest merging them again."""
        pair = sorted((self._persons.resolve(a), self._persons.resolve(b)))
        summary = f"These are two people: {who(self._store, pair[0])} and {who(self._store, pair[1])}"
        with self._store.transaction(), self._store.history.recording("dismiss-merge", summary):
            pairs = self.dismissed_merges() | {(pair[0], pair[1])}
            alive = self._store.persons.ids()
            kept = sorted(p for p in pairs if p[0] in alive and p[1] in alive)
            self._store.meta.set(DISMISSED_MERGES_KEY, json.dumps(kept))

    def dismissed_merges(self) -> set[tuple[int, int]]:
        value = self._store.meta.get(DISMISSED_MERGES_KEY)
        try:
            return {(int(a), int(b)) for a, b in json.loads(value)} if value else set()
        except (ValueError, TypeError):
            return set()  # a hand-edited value: suggestions come back, nothing else is lost

    def _review_queue(self) -> ReviewQueue | None:
        # The model only changes with a scan, which commits from another connection and so moves
        # data_version.
        version = self._store.data_version()
        queue = self._queue
        if queue is not None and self._queue_version == version:
            return queue
        # The library's model, as ``Library.model_id`` chooses it: the latest scan's, else the commonest.
        model_id = self._store.scans.latest_model() or self._store.faces.most_common_model()
        if model_id is None:
            return None
        if queue is None or queue.model_id != model_id:
            queue = self._queue = ReviewQueue(self._store, model_id)
        self._queue_version = version
        return queue

    # ------------------------------------------------------------------ scans

    def scan_status(self, recent: int = 10) -> ScanStatus:
        """The last scans (newest first) and, while one runs (maybe in another process), its progress."""
        return scan_status(self._store.scans.recent(recent), self._folder)
