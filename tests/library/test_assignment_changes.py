"""The review queue keeps every assignment in memory and catches up from the faces this connection
touched (store.decisions.track_changes / take_changes), instead of re-reading them per question."""
from __future__ import annotations

from facefile.library import Library
from tests.library.conftest import MODEL


def test_changes_of_this_connection_are_noted_once_upserts_included(lib: Library, people_photos: list) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster(MODEL)
    store = lib._store
    store.decisions.track_changes()
    store.decisions.take_changes(limit=0)
    face, other = lib.faces()[0].id, lib.faces()[-1].id
    pid = store.decisions.person_of(other)
    with store.transaction():
        store.decisions.confirm(face, pid)
        store.decisions.assign_auto([(face, pid)])  # an upsert of a face noted already
        store.decisions.unassign([other])
    assert sorted(store.decisions.take_changes(limit=10)) == sorted([(face, pid), (other, None)])
    assert store.decisions.take_changes(limit=10) == []
    with store.transaction():  # a re-cluster that moved every face: too many to catch up with
        store.decisions.assign_auto([(f.id, pid) for f in lib.faces()])
    assert store.decisions.take_changes(limit=10) is None


def test_review_questions_follow_answers_without_rereading(lib: Library, people_photos: list) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster(MODEL)
    faces = lib.faces()
    lib.review.next_suggestion()  # builds the queue's state
    moved, target = faces[0].id, faces[-1].person_id
    lib.persons.move(moved, target)
    queue = lib.review._review_queue()
    assert queue is not None
    snap, decisions, index = queue._current()
    assert decisions.persons[list(decisions.rows).index(snap.row_of[moved])] == target
    fresh = type(queue)(lib._store, MODEL)
    _, again, _ = fresh._current()
    assert (again.persons == decisions.persons).all() and (again.rows == decisions.rows).all()
