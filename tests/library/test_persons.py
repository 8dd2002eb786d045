"""Persons: clustering through the library keeps ids, names and every user decision."""
from __future__ import annotations

import numpy as np

from facefile.library import Library

from .conftest import MODEL, face_of, identity_centres, photo


def person_of_path(lib: Library) -> dict[str, int | None]:
    return {f.path: f.person_id for f in lib.faces() if not f.path.startswith("groups/")}


def test_planted_identities_become_persons(lib: Library, people_photos) -> None:
    lib.writer(MODEL).store(people_photos)
    assert lib.recluster() == 5
    by_path = person_of_path(lib)
    for k in range(5):
        assert len({by_path[f"id{k}/p{j}.jpg"] for j in range(6)}) == 1
    assert len(set(by_path.values())) == 5
    assert not lib.needs_recluster()


def test_two_faces_of_one_photo_are_two_people(lib: Library, people_photos) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    for g in range(3):
        ids = [f.person_id for f in lib.faces() if f.path == f"groups/g{g}.jpg"]
        assert len(ids) == 2 and (ids[0] != ids[1] or ids[0] is None)


def test_new_photos_join_existing_persons_without_renumbering(lib: Library, people_photos) -> None:
    writer = lib.writer(MODEL)
    writer.store(people_photos[:24])  # identities 0-3
    lib.recluster()
    lib.persons.name(lib.people()[0].id, "Anna")
    before = person_of_path(lib)
    names = {p.id: p.name for p in lib.people()}
    writer.store(people_photos[24:])  # identity 4 and the group photos
    lib.recluster()
    after = person_of_path(lib)
    assert all(after[path] == pid for path, pid in before.items())
    assert {p.id: p.name for p in lib.people() if p.id in names} == names
    assert len({after[f"id4/p{j}.jpg"] for j in range(6)} - set(before.values())) == 1


def test_user_decisions_survive_recluster(lib: Library, people_photos) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    faces = {f.path: f for f in lib.faces()}
    a, b = faces["id0/p0.jpg"].person_id, faces["id1/p0.jpg"].person_id
    # Move one face of identity 0 to identity 1's person: the engine would never do that itself.
    lib.persons.move(faces["id0/p1.jpg"].id, b)
    # Reject one face from its person.
    lib.persons.reject(faces["id2/p0.jpg"].id, faces["id2/p0.jpg"].person_id)
    rejected_from = faces["id2/p0.jpg"].person_id
    lib.recluster()
    now = {f.path: f for f in lib.faces()}
    assert now["id0/p1.jpg"].person_id == b and now["id0/p1.jpg"].provenance == "confirmed"
    assert now["id2/p0.jpg"].person_id != rejected_from
    assert now["id0/p0.jpg"].person_id == a


def test_merge_is_permanent_and_keeps_a_name(lib: Library, people_photos) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    p = lib.people()
    lib.persons.name(p[1].id, "Bea")
    merged = lib.persons.merge(p[0].id, p[1].id)
    assert merged.name == "Bea" and merged.faces == p[0].faces + p[1].faces
    lib.recluster()
    assert lib.person(p[0].id).faces == merged.faces
    assert all(x.id != p[1].id for x in lib.people())


def test_hide_and_move_to_new_person(lib: Library, people_photos) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    p = lib.people()[0]
    lib.persons.hide(p.id)
    assert all(x.id != p.id for x in lib.people())
    assert any(x.id == p.id for x in lib.people(include_hidden=True))
    face = lib.faces(p.id)[0]
    new_id = lib.persons.move(face.id, None)
    assert new_id != p.id and lib.person(new_id).faces == 1


def test_resolve_person_by_name_is_case_insensitive(lib: Library, people_photos) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    pid = lib.people()[0].id
    lib.persons.name(pid, "Anna Smith")
    assert lib.persons.resolve("anna smith") == pid == lib.persons.resolve(str(pid))


def test_other_models_faces_are_not_clustered_together(lib: Library) -> None:
    rng = np.random.default_rng(3)
    centre = identity_centres(1)[0]
    lib.writer(MODEL).store([photo(f"a{j}.jpg", [face_of(centre, rng)]) for j in range(4)])
    other = [photo(f"b{j}.jpg", [face_of(centre, rng)]) for j in range(4)]
    for r in other:
        r.model_id = "dlib-resnet-v1"
    lib.writer("dlib-resnet-v1").store(other)
    lib.recluster(MODEL)
    assigned = {f.path for f in lib.faces() if f.person_id is not None}
    assert assigned == {f"a{j}.jpg" for j in range(4)}
