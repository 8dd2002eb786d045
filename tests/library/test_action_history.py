"""Undo of every user action through ``lib.history``: the rows of persons, assignments, rejections,
dismissed merges and redirects are exactly as before the action, also across re-clusters; merges
keep what was known about each face; merged ids lead to the survivor; mistyped names get suggestions."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from facefile.library import Library, LibraryError, PersonNotFound
from tests.support.database import sql

from .conftest import MODEL


def rows(lib: Library) -> tuple[list[tuple], ...]:
    """Every row of user work, exactly (timestamps included)."""
    conn = sql(lib)
    return tuple(
        [tuple(r) for r in conn.execute(query)]
        for query in (
            "SELECT * FROM persons ORDER BY id",
            "SELECT * FROM assignments ORDER BY face_id",
            "SELECT * FROM rejections ORDER BY face_id, person_id",
            "SELECT * FROM meta WHERE key = 'review_dismissed_merges'",
            "SELECT * FROM person_redirects ORDER BY old_id",
        )
    )


def constraints(lib: Library) -> tuple[set, set]:
    """What every re-cluster honours: confirmed assignments and rejections."""
    conn = sql(lib)
    return (
        set(conn.execute("SELECT face_id, person_id FROM assignments WHERE provenance = 'confirmed'")),
        set(conn.execute("SELECT face_id, person_id FROM rejections")),
    )


@pytest.fixture
def clustered(lib: Library, people_photos) -> Library:
    lib.writer(MODEL).store(people_photos)
    assert lib.recluster() == 5
    return lib


def largest(lib: Library, k: int = 0) -> int:
    return lib.people()[k].id


ACTIONS: dict[str, Callable[[Library], object]] = {
    "name": lambda lib: lib.persons.name(largest(lib), "Anna"),
    "hide": lambda lib: lib.persons.hide(largest(lib)),
    "merge": lambda lib: lib.persons.merge(largest(lib), largest(lib, 1)),
    "move": lambda lib: lib.persons.move_faces([f.id for f in lib.faces(largest(lib, 1))[:3]], largest(lib)),
    "split": lambda lib: lib.persons.move_faces([f.id for f in lib.faces(largest(lib))[:4]], None, name="Kid"),
    "confirm": lambda lib: lib.persons.confirm(lib.faces(largest(lib, 1))[0].id, largest(lib)),
    "reject": lambda lib: lib.persons.reject_faces([f.id for f in lib.faces(largest(lib))[:2]], largest(lib)),
    "cover": lambda lib: lib.persons.set_cover(largest(lib), lib.faces(largest(lib))[-1].id),
    "dismiss-merge": lambda lib: lib.review.dismiss_merge(largest(lib), largest(lib, 1)),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_undo_restores_exactly_the_rows_before_each_action(clustered: Library, action: str) -> None:
    lib = clustered
    lib.persons.name(largest(lib, 2), "Someone")  # an earlier action, which must stay
    before = rows(lib)
    ACTIONS[action](lib)
    assert rows(lib) != before
    entry = lib.history.latest_undoable()
    assert entry is not None and entry.action == action and "#" in entry.summary
    assert entry.changes == lib.history.recent(1)[0].changes > 0  # entry() counts its own changes
    result = lib.history.undo()
    assert rows(lib) == before
    assert [e.id for e in result.undone] == [entry.id] and result.message == f"Undone: {entry.summary}"
    assert lib.history.latest_undoable().summary.startswith("Named #")  # the earlier action
    with pytest.raises(LibraryError, match="undone already"):
        lib.history.undo(entry.id)


@pytest.mark.parametrize("action", ["merge", "move", "split", "reject", "confirm"])
def test_undo_survives_a_recluster(clustered: Library, action: str) -> None:
    lib = clustered
    before = constraints(lib)
    ACTIONS[action](lib)
    after_action = constraints(lib)
    lib.recluster()
    assert constraints(lib) == after_action  # the re-cluster honoured the action
    lib.history.undo()
    assert constraints(lib) == before
    lib.recluster()
    assert constraints(lib) == before
    # Back to the planted persons: five, each of one identity.
    assert len(lib.people()) == 5


def test_undoing_an_older_action_undoes_the_later_ones_too(clustered: Library) -> None:
    lib = clustered
    before = rows(lib)
    lib.persons.name(largest(lib), "Anna")
    first = lib.history.latest_undoable()
    lib.persons.hide(largest(lib, 1))
    lib.persons.merge(largest(lib), largest(lib, 2))
    assert [e.id for e in lib.history.later_than(first.id)] == [first.id + 2, first.id + 1]
    result = lib.history.undo(first.id)
    assert len(result.undone) == 3 and result.entry.id == first.id
    assert "and 2 later actions" in result.message
    assert rows(lib) == before
    with pytest.raises(LibraryError, match="nothing to undo"):
        lib.history.undo()


def test_summaries_say_what_was_done(clustered: Library) -> None:
    lib = clustered
    a, b = largest(lib), largest(lib, 1)
    lib.persons.name(a, "Anna")
    lib.persons.merge(a, b)
    faces = [f.id for f in lib.faces(a)][:4]
    new = lib.persons.move_faces(faces, None)
    lib.persons.move_faces(faces[:3], a)
    lib.persons.reject_faces(faces[:2], a)
    lib.persons.hide(a)
    summaries = [e.summary for e in reversed(lib.history.recent(10))]
    assert summaries == [
        f"Named #{a} 'Anna'", f"Merged #{b} into Anna (#{a})", f"Split 4 faces into a new person #{new}",
        f"Moved 3 faces to Anna (#{a})", f"Not Anna (#{a}): 2 faces", f"Hid Anna (#{a})",
    ]


def test_a_failed_action_records_nothing(clustered: Library) -> None:
    with pytest.raises(LibraryError):
        clustered.persons.merge(largest(clustered), largest(clustered))
    with pytest.raises(LibraryError):
        clustered.persons.move_faces([10**6], largest(clustered))
    assert clustered.history.recent() == []


def test_merge_keeps_automatic_faces_automatic(clustered: Library) -> None:
    lib = clustered
    a, b = largest(lib), largest(lib, 1)
    confirmed = lib.faces(b)[2].id
    lib.persons.confirm(confirmed, b)  # the user's word on one face of b
    faces = {f.id for f in lib.faces(a)} | {f.id for f in lib.faces(b)}
    lib.persons.merge(a, b)
    provenance = dict(sql(lib).execute("SELECT face_id, provenance FROM assignments WHERE person_id = ?", (a,)))
    assert set(provenance) == faces
    shown_of_a = lib.review.person_tiles([a])[a].face_id
    # b had a confirmed face: it stays the only one of b's; a had none: its shown face anchors it.
    assert {f for f, p in provenance.items() if p == "confirmed"} == {confirmed, shown_of_a}
    lib.recluster()
    assert {f.id for f in lib.faces(a)} == faces  # still one person after a re-cluster


def test_a_merged_id_leads_to_the_survivor_until_the_merge_is_undone(clustered: Library) -> None:
    lib = clustered
    a, b, c = largest(lib), largest(lib, 1), largest(lib, 2)
    lib.persons.name(a, "Anna")
    lib.persons.merge(b, c)
    lib.persons.merge(a, b)  # a chain: c -> b -> a
    assert lib.persons.merged_into(c) == a and lib.persons.merged_into(b) == a
    assert lib.persons.merged_into(a) is None
    with pytest.raises(PersonNotFound, match=f"#{b} was merged into Anna \\(#{a}\\)") as caught:
        lib.persons.resolve(str(b))
    assert caught.value.merged_into == a
    lib.history.undo()
    assert lib.persons.merged_into(b) is None and lib.persons.resolve(f"#{b}") == b
    assert lib.persons.merged_into(c) == b
    lib.history.undo()
    assert sql(lib).execute("SELECT COUNT(*) FROM person_redirects").fetchone()[0] == 0


def test_a_mistyped_name_offers_the_nearest_names(clustered: Library) -> None:
    lib = clustered
    lib.persons.name(largest(lib), "Ma Tianyu")
    lib.persons.name(largest(lib, 1), "Anna Smith")
    with pytest.raises(PersonNotFound) as caught:
        lib.persons.resolve("Ma Tianyo")
    assert str(caught.value) == f"no person named 'Ma Tianyo'; did you mean Ma Tianyu (#{largest(lib)})?"
    assert caught.value.typed == "Ma Tianyo" and caught.value.suggestion_texts() == [f"Ma Tianyu (#{largest(lib)})"]
    with pytest.raises(PersonNotFound, match="did you mean Anna Smith"):
        lib.persons.resolve("anna")
    with pytest.raises(PersonNotFound, match="^no person named 'Zebedee'$"):
        lib.persons.resolve("Zebedee")


def test_the_review_queue_sees_an_undo_on_the_same_connection(clustered: Library) -> None:
    lib = clustered
    face = lib.faces(largest(lib))[1].id
    sql(lib).execute("DELETE FROM assignments WHERE face_id = ?", (face,))  # unassigned: a question
    asked = lib.review.next_suggestion()
    assert asked is not None and asked.face_id == face
    lib.persons.confirm(face, asked.matches[0].person_id)
    assert lib.review.next_suggestion() is None
    lib.history.undo()
    again = lib.review.next_suggestion()
    assert again is not None and again.face_id == face
