"""The photo page (natural size, drawing a missed face), photos of several people, and the birth date
form of the person page (test client over a synthetic library, no browser)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from facefile.library import Library
from tests.support.database import sql

from .conftest import TestClient, post


def flash(html: str) -> str:
    found = re.search(r'class="flash"[^>]*>([^<]*)<', html)
    return found[1].strip() if found else ""


@pytest.fixture
def on_disk(small_library: Path, lib: Library) -> dict[int, int]:
    """Grey 640 x 480 JPEGs where the synthetic photos say they are (no face for the detector);
    person id -> the photo of their first face."""
    for (image_id,) in sql(lib).execute("SELECT id FROM images").fetchall():
        for file in lib.review.photo_files(image_id):
            file.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (640, 480), "grey").save(file)
    first: dict[int, int] = {}
    for person_id, image_id in sql(lib).execute(
            "SELECT a.person_id, f.image_id FROM assignments a JOIN faces f ON f.id = a.face_id ORDER BY a.face_id"):
        first.setdefault(person_id, image_id)
    return first


def test_photo_page_shows_the_photo_at_its_own_size_with_a_draw_form(client: TestClient) -> None:
    html = client.get("/photo/1").text
    svg = re.search(r"<svg [^>]*>", html)[0]  # type: ignore[index]
    assert 'viewBox="0 0 640 480"' in svg and 'width="640"' in svg and 'height="480"' in svg
    assert 'action="/photo/1/faces"' in html and 'name="x1"' in html
    css = client.get("/static/app.css").text
    rule = re.search(r"\.photo-svg \{[^}]*\}", css)[0]  # type: ignore[index]
    assert "max-width: 100%" in rule and "width: 100%" not in rule.replace("max-width: 100%", "")
    assert "1100px" not in css


def test_drawing_a_face_files_it_and_errors_say_why(client: TestClient, lib: Library, on_disk: dict[int, int]) -> None:
    anna, ben = sorted(on_disk)[:2]
    photo = on_disk[anna]
    corners = {"x1": "300", "y1": "200", "x2": "420", "y2": "330"}
    page = post(client, f"/photo/{photo}/faces", {**corners, "person": f"person {ben} (#{ben})", "action": "move"})
    assert page.url.path == f"/photo/{photo}"
    assert flash(page.text).startswith(f"Face added: person {ben}")
    face_id, person, how, source = sql(lib).execute(
        "SELECT f.id, a.person_id, a.provenance, f.source FROM faces f JOIN assignments a ON a.face_id = f.id "
        "WHERE f.source = 'manual'").fetchone()
    assert (person, how, source) == (ben, "confirmed", "manual")
    assert f'data-face-box="{face_id}"' in page.text  # boxed on the photo like the others
    # Both are in that photo now.
    listing = client.get(f"/photos?with={anna}&with=person+{ben}+%28%23{ben}%29")
    assert f'data-photo="{photo}"' in listing.text and "1 photo with" in listing.text
    assert "1 photo with" in client.get(f"/photos?with={anna}&with={ben}&only=1").text

    for data, message in [
        ({"x1": "600", "y1": "200", "x2": "700", "y2": "330", "person": str(ben), "action": "move"}, "not inside the photo"),
        ({"x1": "300", "y1": "200", "x2": "305", "y2": "330", "person": str(ben), "action": "move"}, "too small"),
        ({"x1": "", "y1": "", "x2": "", "y2": "", "person": str(ben), "action": "move"}, "draw a box"),
        ({**corners, "person": "", "action": "move"}, "choose a person"),
    ]:
        assert message in flash(post(client, f"/photo/{photo}/faces", data).text), data
    page = post(client, f"/photo/{on_disk[ben]}/faces", {**corners, "name": "Drawn Dora", "action": "new"})
    assert flash(page.text).startswith("Face added: Drawn Dora")
    assert sql(lib).execute("SELECT COUNT(*) FROM faces WHERE source = 'manual'").fetchone()[0] == 2
    assert client.post(f"/photo/{photo}/faces", data=corners).status_code == 403  # no CSRF token


def test_photos_with_page(client: TestClient, lib: Library) -> None:
    chooser = client.get("/photos")
    assert chooser.status_code == 200 and 'name="with"' in chooser.text and 'href="/photos"' in chooser.text
    person = sql(lib).execute("SELECT person_id FROM assignments LIMIT 1").fetchone()[0]
    page = client.get(f"/photos?with={person}").text
    assert "3 photos with" in page and page.count('class="photo-with"') == 3
    assert 'role="alert"' in client.get("/photos?with=Nobody+Here").text
    assert "No photo shows them all" in client.get(f"/photos?with={person}&with={person + 1}").text


def test_birth_date_form_on_the_person_page(client: TestClient, lib: Library) -> None:
    person = sql(lib).execute("SELECT person_id FROM assignments LIMIT 1").fetchone()[0]
    page = post(client, f"/person/{person}/birthday", {"birth_date": "2001-02-03", "action": "set"})
    assert page.url.path == f"/person/{person}" and "was born on 2001-02-03" in flash(page.text)
    assert lib.birthdays.of(person) == "2001-02-03"
    assert 'value="2001-02-03"' in page.text and 'id="birthday-form"' in page.text
    assert "Not done" in flash(post(client, f"/person/{person}/birthday", {"birth_date": "3001-01-01"}).text)
    assert lib.birthdays.of(person) == "2001-02-03"
    page = post(client, f"/person/{person}/birthday", {"birth_date": "2001-02-03", "action": "clear"})
    assert "cleared" in flash(page.text) and lib.birthdays.of(person) is None
