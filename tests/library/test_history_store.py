"""The store's history of user actions (store/history.py): what a recorded action changed is written
back exactly by undo, through cascades, re-clusters in between and later schema columns."""
from __future__ import annotations

from pathlib import Path

import pytest

from facefile.store import LibraryError, Store
from facefile.store.history import KEPT_ENTRIES
from tests.support.database import sql


def _state(folder: Path) -> tuple[list[tuple], ...]:
    conn = sql(folder)
    return tuple(
        [tuple(r) for r in conn.execute(query)]
        for query in (
            "SELECT id, name, hidden, cover_face_id, created_at FROM persons ORDER BY id",
            "SELECT face_id, person_id, provenance, updated_at FROM assignments ORDER BY face_id",
            "SELECT face_id, person_id, created_at FROM rejections ORDER BY face_id, person_id",
            "SELECT key, value FROM meta WHERE key = 'review_dismissed_merges'",
            "SELECT id FROM faces ORDER BY id",
        )
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "library.db")
    conn = sql(tmp_path)
    conn.execute("INSERT INTO images(id, content_hash, width, height, model_id, processed_at) "
                 "VALUES (1, 'h', 10, 10, 'm', 't')")
    for face in range(1, 9):
        conn.execute("INSERT INTO faces(id, image_id, x1, y1, x2, y2, landmarks, det_score, quality, model_id, "
                     "embedding) VALUES (?, 1, 0, 0, 1, 1, x'00', 1, 1, 'm', x'00')", (face,))
    with s.transaction():
        a, b = s.persons.new(), s.persons.new()
        s.decisions.assign_auto([(1, a), (2, a), (3, b), (4, b)])
        s.decisions.confirm(5, b)
    yield s
    s.close()


def test_undo_restores_every_row_a_merge_touched(store: Store, tmp_path: Path) -> None:
    before = _state(tmp_path)
    with store.transaction(), store.history.recording("merge", "Merged #2 into #1") as entry:
        store.persons.set_name(2, "Ben")
        store.decisions.merge_persons(1, [2])
        store.decisions.reject(6, 1)
        store.meta.set("review_dismissed_merges", "[[1, 2]]")
    assert _state(tmp_path) != before
    assert store.history.entry(entry).changes > 0
    with store.transaction():
        assert store.history.undo(entry) == [entry]
    assert _state(tmp_path) == before
    assert store.history.entry(entry).undone


def test_undo_of_a_split_removes_the_new_person_and_restores_the_old_assignments(store: Store, tmp_path: Path) -> None:
    before = _state(tmp_path)
    with store.transaction(), store.history.recording("move", "Split") as entry:
        pid = store.persons.new()
        for face in (3, 4, 5):
            store.decisions.confirm(face, pid)
        store.persons.drop_empty()  # person 2 has no face left: deleted (a cascade-free delete)
    assert not store.persons.exists(2)
    with store.transaction():
        store.history.undo(entry)
    assert _state(tmp_path) == before
    assert not store.persons.exists(pid)


def test_undo_after_a_recluster_restores_the_users_word(store: Store, tmp_path: Path) -> None:
    with store.transaction(), store.history.recording("reject", "Not #1") as entry:
        store.decisions.reject(1, 1)
        store.decisions.confirm(2, 1)
    # A re-cluster in between: automatic assignments change, a person the action made vanishes.
    with store.transaction():
        store.decisions.assign_auto([(1, 2), (6, 2)])
    with store.transaction():
        store.history.undo(entry)
    conn = sql(tmp_path)
    assert conn.execute("SELECT COUNT(*) FROM rejections WHERE face_id = 1").fetchone()[0] == 0
    assert tuple(conn.execute("SELECT person_id, provenance FROM assignments WHERE face_id = 1").fetchone()) == (1, "auto")
    assert tuple(conn.execute("SELECT person_id, provenance FROM assignments WHERE face_id = 2").fetchone()) == (1, "auto")
    # The face the re-cluster filed, which the action never touched, keeps its new person.
    assert tuple(conn.execute("SELECT person_id FROM assignments WHERE face_id = 6").fetchone()) == (2,)


def test_undo_recreates_a_person_dropped_since(store: Store, tmp_path: Path) -> None:
    with store.transaction(), store.history.recording("move", "Move") as entry:
        store.decisions.confirm(1, 2)
    with store.transaction():  # face 2 leaves person 1 in a re-cluster: person 1 goes
        store.decisions.assign_auto([(2, 2)])
        store.persons.drop_empty()
    assert not store.persons.exists(1)
    with store.transaction():
        store.history.undo(entry)
    assert sql(tmp_path).execute("SELECT person_id FROM assignments WHERE face_id = 1").fetchone()[0] == 1


def test_undo_is_a_stack_and_refuses_twice(store: Store) -> None:
    entries = []
    for name in ("A", "B", "C"):
        with store.transaction(), store.history.recording("name", f"Named {name}") as entry:
            store.persons.set_name(1, name)
        entries.append(entry)
    with store.transaction():
        assert store.history.undo(entries[1]) == [entries[2], entries[1]]
    assert store.persons.name_of(1) == "A"
    assert store.history.latest_undoable() == entries[0]
    with pytest.raises(LibraryError, match="undone already"), store.transaction():
        store.history.undo(entries[2])
    with pytest.raises(LibraryError, match="no action"), store.transaction():
        store.history.undo(999)


def test_an_action_that_changed_nothing_leaves_no_entry_and_nothing_else_is_recorded(store: Store) -> None:
    with store.transaction(), store.history.recording("name", "Named #1 nothing"):
        pass
    with store.transaction():  # not a recorded action: a scan, a re-cluster
        store.decisions.assign_auto([(7, 1)])
        store.meta.mark_dirty()
    assert store.history.recent() == []


def test_recording_needs_a_transaction_and_leaves_no_triggers(store: Store, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), store.history.recording("name"):
        pass
    with store.transaction(), store.history.recording("name", "x"):
        store.persons.set_name(1, "x")
    with store.transaction():
        store.persons.set_name(1, "y")
    assert [e.summary for e in store.history.recent()] == ["x"]


def test_forget_erases_the_history_of_faces_and_persons(store: Store, tmp_path: Path) -> None:
    with store.transaction(), store.history.recording("merge", "m"):
        store.persons.set_name(2, "Ben")
        store.decisions.merge_persons(1, [2])
    with store.transaction():
        store.history.forget(face_ids=[3, 4, 5], person_ids=[2])
    rows = [r[0] for r in sql(tmp_path).execute("SELECT data FROM history_changes")]
    assert rows and not any('"person_id":2' in r or '"face_id":3' in r or "Ben" in r for r in rows)


def test_history_keeps_a_bounded_number_of_actions(store: Store) -> None:
    for k in range(KEPT_ENTRIES + 5):
        with store.transaction(), store.history.recording("name", f"n{k}"):
            store.persons.set_name(1, f"n{k}")
    assert len(store.history.recent(limit=KEPT_ENTRIES + 100)) == KEPT_ENTRIES
