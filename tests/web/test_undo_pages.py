"""Undo in the web UI (test client): the banner's Undo, the History page, errors that look like
errors and keep what was typed, "did you mean", and a merged person's page leading to the survivor."""
from __future__ import annotations

import html
import json
import re

from facefile.library import Library
from facefile.ui.web.security import CSRF_FIELD
from tests.support.database import sql

from .conftest import BASE_URL, TestClient, post


def banner(page: str) -> re.Match[str]:
    found = re.search(r'<div class="flash-bar" role="(\w+)" id="flash-bar"([^>]*)>\s*<p class="flash" id="flash">([^<]*)<',
                      page)
    assert found, "no message banner"
    return found


def banner_text(page: str) -> str:
    return html.unescape(banner(page)[3])


def undo_entry(page: str) -> int:
    found = re.search(r'action="/undo" class="inline flash-undo">.*?name="entry" value="(\d+)"', page, re.S)
    assert found, "no Undo button in the banner"
    return int(found[1])


def rows(lib: Library) -> tuple[list[tuple], ...]:
    conn = sql(lib)
    return tuple([tuple(r) for r in conn.execute(q)] for q in (
        "SELECT * FROM persons ORDER BY id", "SELECT * FROM assignments ORDER BY face_id",
        "SELECT * FROM rejections ORDER BY face_id, person_id", "SELECT * FROM person_redirects",
    ))


def test_the_banner_of_a_merge_offers_undo_and_undo_restores_every_row(client: TestClient, lib: Library) -> None:
    before = rows(lib)
    page = post(client, "/person/2/merge", {"into": "person 1 (#1)"})
    role, _attrs, text = banner(page.text).groups()
    assert role == "status" and text.startswith("Merged person 2 into")
    entry = undo_entry(page.text)
    assert rows(lib) != before
    undone = post(client, "/undo", {"entry": str(entry), "back": "/person/1"})
    assert undone.url.path == "/person/1"
    assert banner_text(undone.text) == "Undone: Merged #2 into #1"
    assert rows(lib) == before
    assert 'class="inline flash-undo"' not in undone.text  # an undo is not itself undone from the banner
    # A second Undo of the same action says why not, as an error.
    again = post(client, "/undo", {"entry": str(entry), "back": "/"})
    assert banner(again.text)[1] == "alert" and "undone already" in banner(again.text)[3]


def test_undo_needs_the_csrf_token(client: TestClient, lib: Library) -> None:
    lib.persons.name(1, "Anna")
    response = client.post("/undo", data={"entry": "1"}, headers={"origin": BASE_URL})
    assert response.status_code == 403 and lib.person(1).name == "Anna"
    response = client.post("/undo", data={CSRF_FIELD: "wrong", "entry": "1"}, headers={"origin": BASE_URL})
    assert response.status_code == 403 and lib.person(1).name == "Anna"


def test_an_error_is_an_alert_that_keeps_the_typed_text_and_offers_the_nearest_name(
    client: TestClient, lib: Library
) -> None:
    lib.persons.name(7, "Ma Tianyu")
    page = post(client, "/person/3/merge", {"into": "Ma Tianyo"}).text
    role, attrs, _ = banner(page).groups()
    assert role == "alert" and banner_text(page) == "Not done: no person named 'Ma Tianyo'; did you mean Ma Tianyu (#7)?"
    kept = re.search(r'data-kept-form="([^"]*)" data-kept="([^"]*)"', attrs)
    assert kept and kept[1] == "/person/3/merge" and json.loads(html.unescape(kept[2])) == {"into": "Ma Tianyo"}
    assert ('data-fill="Ma Tianyu (#7)" data-fill-form="/person/3/merge"\n'
            '            data-fill-field="into"') in page
    assert 'action="/person/3/merge"' in page  # the form the page fills in again
    assert 'class="inline flash-undo"' not in page
    assert lib.person(3).faces == 3  # nothing merged


def test_the_history_page_lists_actions_and_undoes_an_older_one_with_the_later(
    client: TestClient, lib: Library
) -> None:
    before = rows(lib)
    post(client, "/person/1/name", {"name": "Anna"})
    post(client, "/person/2/merge", {"into": "Anna (#1)"})
    page = client.get("/history").text
    assert "Merged #2 into Anna (#1)" in page and "Named #1 &#39;Anna&#39;" in page
    assert "Undo, with 1 later" in page and 'data-confirm="Undo this and the 1 later action above it?"' in page
    first = min(int(e) for e in re.findall(r'name="entry" value="(\d+)"', page))
    done = post(client, "/undo", {"entry": str(first), "back": "/history"})
    assert banner_text(done.text) == "Undone: Named #1 'Anna' (and 1 later action: Merged #2 into Anna (#1))"
    assert rows(lib) == before
    assert done.text.count('class="undone"') == 2 and "Undo, with" not in done.text


def test_a_merged_persons_page_leads_to_the_survivor(client: TestClient, lib: Library) -> None:
    lib.persons.merge(1, 2)
    response = client.get("/person/2", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/person/1"
    lib.history.undo()
    assert client.get("/person/2", follow_redirects=False).status_code == 200
    assert client.get("/person/999", follow_redirects=False).status_code == 404
