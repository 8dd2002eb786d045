"""Birth dates: a face in a photo taken before a person's birth date is never filed into that person,
by a re-cluster, an incremental update, a suggestion or a user action (synthetic faces)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from facefile.library import Library, LibraryError, cluster_runs
from tests.support.database import sql

from .conftest import MODEL, face_of, identity_centres, photo

BORN = "2015-01-01"


def dated(path: str, faces: list, taken_at: str | None):  # type: ignore[no-untyped-def]
    return dataclasses.replace(photo(path, faces), taken_at=taken_at)


def person_of(lib: Library, path: str) -> int | None:
    return next(f.person_id for f in lib.faces() if f.path == path)


def face_id(lib: Library, path: str) -> int:
    return next(f.id for f in lib.faces() if f.path == path)


@pytest.fixture
def family(lib: Library) -> tuple[Library, int]:
    """Identity 0 (the child): 8 photos from 2016 on; 2 more faces of theirs (the embeddings closest to
    them) in photos of 2010 and 2012, and one undated photo. Identities 1 and 2: 6 photos each."""
    rng = np.random.default_rng(11)
    centres = identity_centres(3, seed=3)
    photos = [dated(f"child/{j}.jpg", [face_of(centres[0], rng, 0.15)], f"2016-0{j + 1}-01T10:00:00") for j in range(8)]
    photos += [dated("old/2010.jpg", [face_of(centres[0], rng, 0.15)], "2010-06-01T10:00:00"),
               dated("old/2012.jpg", [face_of(centres[0], rng, 0.15)], "2012-06-01T10:00:00"),
               dated("old/undated.jpg", [face_of(centres[0], rng, 0.15)], None)]
    photos += [dated(f"id{k}/{j}.jpg", [face_of(centres[k], rng)], "2011-01-01T10:00:00")
               for k in (1, 2) for j in range(6)]
    lib.writer(MODEL).store(photos)
    lib.recluster()
    child = person_of(lib, "child/0.jpg")
    assert child is not None
    # Without a birth date the old faces are the child's: the engine puts them there on its own.
    assert person_of(lib, "old/2010.jpg") == person_of(lib, "old/2012.jpg") == child
    return lib, child


def test_setting_a_birth_date_releases_earlier_auto_faces_and_reclusters_keep_them_out(family) -> None:  # type: ignore[no-untyped-def]
    lib, child = family
    change = lib.birthdays.set(child, BORN)
    assert sorted(change.released) == sorted([face_id(lib, "old/2010.jpg"), face_id(lib, "old/2012.jpg")])
    assert person_of(lib, "old/2010.jpg") is None and person_of(lib, "old/2012.jpg") is None
    assert person_of(lib, "old/undated.jpg") == child  # a photo without date is not constrained
    assert lib.needs_recluster()
    for _ in range(2):
        lib.recluster()
        assert person_of(lib, "old/2010.jpg") != child and person_of(lib, "old/2012.jpg") != child
        assert all(person_of(lib, f"child/{j}.jpg") == child for j in range(8))
    # Cleared again, the engine files them with the child once more: the date was the only reason.
    lib.birthdays.set(child, None)
    lib.recluster()
    assert person_of(lib, "old/2010.jpg") == child


def test_suggestions_never_propose_a_face_from_before_the_birth_date(family) -> None:  # type: ignore[no-untyped-def]
    lib, child = family
    lib.birthdays.set(child, BORN)
    lib.recluster()
    early = {face_id(lib, "old/2010.jpg"), face_id(lib, "old/2012.jpg")}
    # However the engine grouped them, make them loose faces: the review queue's questions.
    sql(lib).execute(f"DELETE FROM assignments WHERE face_id IN ({','.join(map(str, early))})")
    seen = set()
    while (question := lib.review.next_suggestion(skip=seen)) is not None:
        seen.add(question.face_id)
        if question.face_id in early:
            assert child not in [m.person_id for m in question.matches]
    group = lib.review.next_face_group()
    if group is not None and early & set(group.face_ids):
        assert child not in [m.person_id for m in group.matches]
    # The control: without the date, the same loose face is asked about as the child.
    lib.birthdays.set(child, None)
    asked = lib.review.next_suggestion()
    assert asked is not None and asked.face_id in early and asked.matches[0].person_id == child


def test_merge_suggestions_keep_apart_persons_a_birth_date_separates(family) -> None:  # type: ignore[no-untyped-def]
    lib, child = family
    early = [face_id(lib, "old/2010.jpg"), face_id(lib, "old/2012.jpg")]
    lib.birthdays.set(child, BORN)
    # The two early faces as a person of their own (a split of the child, by their looks).
    early_person = lib.persons.move_faces(early, None)
    assert lib.review.next_merge_suggestion() is None
    lib.birthdays.set(child, None)
    match = lib.review.next_merge_suggestion()
    assert match is not None and {match.keep, match.other} == {child, early_person}
    # Merging them by hand once the date is back is refused, naming the faces.
    lib.birthdays.set(child, BORN)
    with pytest.raises(LibraryError, match=f"{early[0]}"):
        lib.persons.merge(child, early_person)


def test_incremental_update_never_joins_a_new_early_face_to_the_person(
    lib: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_runs, "INCREMENTAL_MIN_FACES", 100)
    rng = np.random.default_rng(12)
    centres = identity_centres(12, seed=9)
    lib.writer(MODEL).store([dated(f"id{k}/{j}.jpg", [face_of(centres[k], rng)], "2020-01-01T10:00:00")
                             for k in range(12) for j in range(10)])
    assert lib.update_persons(MODEL).mode == "full"
    child = person_of(lib, "id0/0.jpg")
    lib.birthdays.set(child, BORN)
    lib.writer(MODEL).store([dated("new/early.jpg", [face_of(centres[0], rng)], "2012-01-01T10:00:00"),
                             dated("new/late.jpg", [face_of(centres[0], rng)], "2021-01-01T10:00:00")])
    report = lib.update_persons(MODEL)
    assert report.mode == "incremental"
    assert person_of(lib, "new/late.jpg") == child  # the same face, after the birth date, joins
    assert person_of(lib, "new/early.jpg") != child


def test_user_actions_that_break_the_rule_are_refused(family) -> None:  # type: ignore[no-untyped-def]
    lib, child = family
    early = face_id(lib, "old/2010.jpg")
    lib.persons.move(early, child)  # confirmed while no date is known
    with pytest.raises(LibraryError, match=f"confirmed face {early} in photos taken before {BORN}"):
        lib.birthdays.set(child, BORN)
    assert lib.birthdays.of(child) is None  # nothing changed
    lib.persons.move(early, None)  # the user decides: not the child
    lib.birthdays.set(child, BORN)
    with pytest.raises(LibraryError, match="born on 2015-01-01"):
        lib.persons.move(early, child)
    with pytest.raises(LibraryError, match="born on 2015-01-01"):
        lib.persons.confirm(face_id(lib, "old/2012.jpg"), child)
    assert person_of(lib, "old/2010.jpg") != child


def test_birth_date_is_checked_recorded_and_undone(family) -> None:  # type: ignore[no-untyped-def]
    lib, child = family
    for bad in ("2015-13-01", "1.1.2015", "2015-1-1", "2999-01-01"):
        with pytest.raises(LibraryError):
            lib.birthdays.set(child, bad)
    before = dict(sql(lib).execute("SELECT face_id, person_id FROM assignments").fetchall())
    lib.birthdays.set(child, BORN)
    entry = lib.history.recent(1)[0]
    assert entry.action == "birthday" and BORN in entry.summary
    lib.history.undo(entry.id)
    assert lib.birthdays.of(child) is None
    assert dict(sql(lib).execute("SELECT face_id, person_id FROM assignments").fetchall()) == before
