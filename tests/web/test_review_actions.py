"""The review service behind the People UI (``lib.review``, ``library/review.py``), on synthetic libraries."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from facefile_bench.ui_bench import MODEL

from facefile.library import FaceRecord, ImageResult, Library, LibraryError
from facefile.library.scan_status import ScanProgressRecorder
from facefile.store.db import now, transaction
from tests.support.database import sql


def faces_by_person(lib: Library) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for face_id, person_id in sql(lib).execute("SELECT face_id, person_id FROM assignments ORDER BY face_id"):
        found.setdefault(person_id, []).append(face_id)
    return found


def leave_unassigned(lib: Library, face_ids: list[int]) -> None:
    """The state the engine leaves a face in when no person is close enough: no assignment row (and,
    unlike a rejection, no decision either)."""
    with transaction(sql(lib)):
        sql(lib).executemany("DELETE FROM assignments WHERE face_id = ?", [(f,) for f in face_ids])


def test_people_page_sorts_searches_hides_and_pages(lib: Library) -> None:
    everyone = lib.review.people_page(limit=1000).persons
    assert len(everyone) == 30 and [p.faces for p in everyone] == sorted((p.faces for p in everyone), reverse=True)
    zoe, anna, ghost = everyone[3].id, everyone[7].id, everyone[9].id
    lib.persons.name(zoe, "Zoe")
    lib.persons.name(anna, "anna")
    lib.persons.hide(ghost)
    by_name = lib.review.people_page(sort="name", limit=3).persons
    assert [p.name for p in by_name[:2]] == ["anna", "Zoe"] and by_name[2].name is None
    assert [p.id for p in lib.review.people_page(query="zo").persons] == [zoe]
    assert [p.id for p in lib.review.people_page(query=f"#{anna}").persons] == [anna]
    assert lib.review.people_page(query="100%_").total == 0  # LIKE wildcards are literal
    assert ghost not in {p.id for p in lib.review.people_page(limit=1000).persons}
    assert lib.review.people_page(include_hidden=True, limit=1000).total == 30
    pages = [p.id for offset in range(0, 30, 7) for p in lib.review.people_page(limit=7, offset=offset).persons]
    assert pages == [p.id for p in lib.review.people_page(limit=1000).persons] and len(pages) == 29
    with pytest.raises(LibraryError, match="unknown sort"):
        lib.review.people_page(sort="age")


def test_the_representative_face_is_the_cover_while_it_stays(lib: Library) -> None:
    person = lib.people()[0].id
    faces = lib.review.person_faces(person)[0]
    best = max(faces, key=lambda f: (f.quality, -f.id))
    assert lib.review.person_tiles([person])[person].face_id == best.id
    other = next(f for f in faces if f.id != best.id)
    lib.persons.set_cover(person, other.id)
    assert lib.review.person_tiles([person])[person].face_id == other.id
    with pytest.raises(LibraryError, match="not a face of"):
        lib.persons.set_cover(person, faces_by_person(lib)[lib.people()[1].id][0])
    lib.persons.move_faces([other.id], None)  # the cover leaves: the best face stands for them again
    assert lib.review.person_tiles([person])[person].face_id == best.id


def test_split_move_and_reject_are_decisions_a_recluster_keeps(lib: Library) -> None:
    groups = faces_by_person(lib)
    p, q = sorted(groups, key=lambda k: (-len(groups[k]), k))[:2]
    split = groups[p][:2]
    carl = lib.persons.move_faces(split, None, name="Carl")
    lib.persons.move_faces([groups[q][0]], carl)
    lib.persons.reject_faces([groups[p][2]], p)
    assert lib.person(carl).name == "Carl" and lib.person(carl).faces == 3
    lib.recluster()
    after = faces_by_person(lib)
    assert {*split, groups[q][0]} <= set(after[carl])
    assert groups[p][2] not in after.get(p, [])  # (it may join Carl, who now holds p's look-alikes)
    confirmed = {r[0] for r in sql(lib).execute("SELECT face_id FROM assignments WHERE provenance = 'confirmed'")}
    assert {*split, groups[q][0]} <= confirmed
    with pytest.raises(LibraryError, match="no faces"):
        lib.persons.move_faces([], carl)
    with pytest.raises(LibraryError, match="no face with id"):
        lib.persons.reject_faces([999999], carl)


def test_suggestions_ask_about_unassigned_faces_and_follow_the_answers(lib: Library) -> None:
    groups = faces_by_person(lib)
    persons = sorted(groups)[:3]
    asked = {groups[p][0]: p for p in persons}
    leave_unassigned(lib, list(asked))
    first = lib.review.next_suggestion()
    assert first is not None and first.face_id in asked and first.matches[0].person_id == asked[first.face_id]
    assert first.matches[0].similarity > 0.8  # a face of the same planted identity
    skipped = lib.review.next_suggestion(skip={first.face_id})
    assert skipped is not None and skipped.face_id != first.face_id
    lib.persons.reject(first.face_id, asked[first.face_id])  # "No"
    again = lib.review.next_suggestion(skip={skipped.face_id})
    assert again is None or again.face_id != first.face_id or asked[first.face_id] not in {
        m.person_id for m in again.matches
    }
    lib.persons.confirm(skipped.face_id, skipped.matches[0].person_id)  # "Yes"
    remaining = {f for f in asked if f not in (first.face_id, skipped.face_id)}
    last = lib.review.next_suggestion(skip={first.face_id})
    assert last is not None and last.face_id in remaining
    lib.persons.confirm(last.face_id, last.matches[0].person_id)
    assert lib.review.next_suggestion(skip={first.face_id}) is None
    assert {f: p for f, p in sql(lib).execute("SELECT face_id, person_id FROM assignments")}[skipped.face_id] == asked[
        skipped.face_id
    ]


def test_a_person_already_in_the_photo_is_never_suggested(lib: Library) -> None:
    groups = faces_by_person(lib)
    p = sorted(groups)[0]
    # A new photo with two faces that both look like p: p can be only one of them.
    twins = lib.embeddings(groups[p][:2])
    face = lambda v: FaceRecord((10.0, 20.0, 110.0, 140.0), np.zeros((5, 2), np.float32), 0.9, 0.9, v)  # noqa: E731
    lib.writer(MODEL).store([ImageResult(
        path="twins.jpg", size=1, mtime_ns=1, content_hash="twins", width=640, height=480, model_id=MODEL,
        faces=[face(twins[0]), face(twins[1])],
    )])
    lib.recluster()
    new = [r[0] for r in sql(lib).execute(
        "SELECT f.id FROM faces f JOIN files ON files.image_id = f.image_id WHERE files.path = 'twins.jpg'"
    )]
    assigned = faces_by_person(lib)
    assert sum(f in assigned.get(p, []) for f in new) == 1
    lonely = next(f for f in new if f not in assigned.get(p, []))
    suggestion = lib.review.next_suggestion()
    assert suggestion is None or suggestion.face_id != lonely or p not in {m.person_id for m in suggestion.matches}
    leave_unassigned(lib, [groups[p][0]])  # a face of p elsewhere is still asked about, for p
    assert lib.review.next_suggestion(skip={lonely}).matches[0].person_id == p


def test_answers_from_another_connection_are_seen_at_once(lib: Library, small_library: Path) -> None:
    groups = faces_by_person(lib)
    face = groups[sorted(groups)[0]][0]
    leave_unassigned(lib, [face])
    assert lib.review.next_suggestion().face_id == face
    with Library.open(small_library) as other:  # e.g. `facefile move` while the UI runs
        other.persons.move(face, None)
    assert lib.review.next_suggestion() is None


def test_look_alike_unassigned_faces_come_as_a_group(lib: Library) -> None:
    groups = faces_by_person(lib)
    p = sorted(groups)[4]
    leave_unassigned(lib, groups[p])
    group = lib.review.next_face_group()
    assert group is not None and sorted(group.face_ids) == sorted(groups[p])
    assert lib.review.next_face_group(skip=set(groups[p])) is None  # no other look-alikes are unassigned
    dana = lib.persons.move_faces(group.face_ids, None, name="Dana")
    assert sorted(faces_by_person(lib)[dana]) == sorted(groups[p])
    assert lib.review.next_face_group() is None


def test_merge_suggestions_find_a_split_person_and_remember_a_no(lib: Library, small_library: Path) -> None:
    groups = faces_by_person(lib)
    p = sorted(groups)[2]
    part = lib.persons.move_faces(groups[p][:1], None)
    match = lib.review.next_merge_suggestion()
    assert match is not None and (match.keep, match.other) == (p, part) and match.similarity > 0.8
    assert lib.review.next_merge_suggestion(skip={(part, p)}) != match
    lib.review.dismiss_merge(p, part)
    with Library.open(small_library) as reopened:
        assert reopened.review.dismissed_merges() == {(min(p, part), max(p, part))}
        assert reopened.review.next_merge_suggestion() != match
    lib.persons.merge(p, part)
    assert sorted(faces_by_person(lib)[p]) == sorted(groups[p])


def test_photo_view_names_every_face_and_finds_its_files(lib: Library) -> None:
    person = lib.people()[0]
    lib.persons.name(person.id, "Eva")
    face = lib.review.person_faces(person.id)[0][0]
    view = lib.review.photo(face.image_id)
    assert [(f.id, f.person_label) for f in view.faces] == [(face.id, "Eva")]
    assert (view.width, view.height) == (640, 480) and len(view.paths) == 1
    source = lib.review.face_source(face.id)
    assert source.files == [lib.root / view.paths[0]] and source.image_id == face.image_id
    with pytest.raises(LibraryError):
        lib.review.photo(999999)


def test_scan_status_shows_the_progress_of_a_scan_in_another_process(lib: Library) -> None:
    assert lib.review.scan_status().running is False
    with transaction(sql(lib)):
        scan = sql(lib).execute(
            "INSERT INTO scans(folder, model_id, started_at, status) VALUES ('/photos', 'm', ?, 'running')", (now(),)
        ).lastrowid
    assert lib.review.scan_status().stage is None  # running, but no progress recorded yet
    progress = ScanProgressRecorder(lib.folder, interval=0.0)
    progress.stage("Finding faces", total=40)
    progress.advance(7)
    status = lib.review.scan_status()
    assert (status.running, status.stage, status.done, status.total) == (True, "Finding faces", 7, 40)
    assert status.process_gone is False and status.as_dict()["scans"][0]["id"] == scan
    with transaction(sql(lib)):
        sql(lib).execute("UPDATE scans SET status = 'done', finished_at = ? WHERE id = ?", (now(), scan))
    assert lib.review.scan_status().running is False and lib.review.scan_status().scans[0].status == "done"


def test_the_progress_recorder_forwards_and_survives_an_unwritable_folder(tmp_path: Path) -> None:
    seen = []

    class Bars:
        def stage(self, name: str, total: int | None = None) -> None:
            seen.append((name, total))

        def advance(self, n: int = 1) -> None:
            seen.append(n)

    folder = tmp_path / "gone"  # does not exist: records cannot be written
    recorder = ScanProgressRecorder(folder, Bars())
    recorder.stage("Looking for photos")
    recorder.advance(3)
    assert seen == [("Looking for photos", None), 3] and not folder.exists()
