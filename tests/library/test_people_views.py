"""The People UI's read queries (store/people_views.py, through ``lib.review``): searching persons by
the label the UI shows, and a person's faces counted by month."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from facefile_bench.ui_bench import synthetic_library

from facefile.library import Library
from tests.support.database import sql


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    """30 unnamed persons of 3 faces, ids 1 to 30."""
    library = synthetic_library(tmp_path / "photos" / ".facefile", persons=30, faint=0)
    yield library
    library.close()


def people_ids(lib: Library, query: str) -> list[int]:
    return [p.id for p in lib.review.people_page(query=query, limit=100).persons]


def search_ids(lib: Library, query: str) -> list[int]:
    return [p.id for p in lib.review.search_persons(query, 12)]


@pytest.mark.parametrize("query", ["person 5", "Person 5", "person5", " person #5 ", "#5", "5"])
def test_the_label_an_unnamed_person_shows_finds_them(lib: Library, query: str) -> None:
    assert people_ids(lib, query) == [5]
    assert search_ids(lib, query)[0] == 5


def test_an_id_comes_first_among_names_holding_its_digits(lib: Library) -> None:
    for pid, name in [(1, "Room 5 kids"), (2, "Anna 15"), (3, "Person 5 lookalike")]:
        lib.persons.name(pid, name)
    assert search_ids(lib, "5")[0] == 5 and set(search_ids(lib, "5")) == {1, 2, 3, 5}
    assert set(people_ids(lib, "person 5")) == {3, 5}  # the id, and the name that holds the text
    assert people_ids(lib, "person 50") == []  # no such person, and nobody's name holds it


def test_person_alone_lists_the_unnamed(lib: Library) -> None:
    lib.persons.name(7, "Zoe")
    found = people_ids(lib, "person")
    assert 7 not in found and len(found) == 29
    assert people_ids(lib, "Zoe") == [7] and people_ids(lib, "zo") == [7]
    assert people_ids(lib, "person 5x") == [] and people_ids(lib, "50%") == []


def test_person_months_count_every_face_in_page_order(lib: Library) -> None:
    faces = lib.review.person_faces(4)[0]
    dates = ["2014-03-02T10:00:00", "2014-03-28T09:00:00", None]
    for face, taken in zip(faces, dates, strict=False):
        sql(lib).execute("UPDATE images SET taken_at = ? WHERE id = ?", (taken, face.image_id))
    assert lib.review.person_months(4) == [("", 1), ("2014-03", 2)]
    ordered = [(f.taken_at or "")[:7] for f in lib.review.person_faces(4)[0]]
    assert ordered == ["", "2014-03", "2014-03"]  # the order person_faces pages them in
