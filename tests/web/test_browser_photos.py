"""In a real browser (Debian's Chromium through Playwright), on a laptop and a phone screen: draw a
missed face on a photo and give it a person, find the photos of two people, set a birth date. Each
action is checked in the database, after a reload, after a re-cluster and after undo.

The library is scanned from LFW development photos (250 x 250 px), as in test_browser.py, whose
fixtures this module uses; screenshots go to test-artifacts/.
"""
from __future__ import annotations

import pytest

from facefile.ui.web.security import library_token
from tests.support.database import sql
from tests.web.test_browser import Served, browser, expect, recluster, served, shot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.data, pytest.mark.slow]

VIEWPORTS = {"laptop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(params=list(VIEWPORTS))
def tab(request, browser, served: Served):  # type: ignore[no-untyped-def]  # noqa: F811
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{served.url}/?token={library_token(served.folder)}")
    page.screen = request.param  # type: ignore[attr-defined]
    yield page
    context.close()
    assert errors == [], errors


def two_persons(served: Served) -> tuple[int, int, int, int]:  # noqa: F811
    """(anna, bert, a photo of Bert's without Anna, the natural width of that photo)."""
    with served.library() as lib:
        people = [p.id for p in lib.people() if p.faces >= 2]
        anna, bert = people[0], people[1]
        anna_photos = {lib.review.face_source(f.id).image_id for f in lib.faces(anna)}
        photo = next(i for i in (lib.review.face_source(f.id).image_id for f in lib.faces(bert)) if i not in anna_photos)
        return anna, bert, photo, lib.review.photo(photo).width


def test_draw_a_face_find_photos_of_two_and_set_a_birthday(tab, served: Served) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    anna, bert, photo, natural = two_persons(served)
    tab.goto(f"{served.url}/photo/{photo}")
    svg = tab.locator("svg[data-draw-photo]")
    shown = svg.bounding_box()
    # Natural size or the screen's, whichever is smaller: a 250 px photo is never blown up.
    assert shown["width"] <= natural + 0.5 and shown["width"] >= min(natural, 390 - 60) - 0.5

    # Draw: the toggle, then a drag over the top-left corner of the photo (away from the found face).
    tab.click("[data-draw-toggle]")
    scale = shown["width"] / natural
    tab.mouse.move(shown["x"] + 6 * scale, shown["y"] + 8 * scale)
    tab.mouse.down()
    tab.mouse.move(shown["x"] + 40 * scale, shown["y"] + 40 * scale, steps=4)
    tab.mouse.move(shown["x"] + 66 * scale, shown["y"] + 70 * scale, steps=4)
    tab.mouse.up()
    corners = [float(tab.input_value(f"#draw-face-form [name={k}]")) for k in ("x1", "y1", "x2", "y2")]
    assert corners == pytest.approx([6, 8, 66, 70], abs=1.5)
    expect(tab.locator("rect.drawn-box")).to_have_count(1)
    shot(tab, f"photo-draw-{tab.screen}.png")
    tab.fill("#draw-face-form [data-person-search]", f"#{anna}")
    tab.click("#draw-face-form button[value=move]")
    assert tab.inner_text("#flash").startswith(f"Face added: person {anna}")

    def drawn() -> list[tuple[int, int, str]]:
        with served.library() as lib:
            return [tuple(r) for r in sql(lib).execute(
                "SELECT f.id, a.person_id, a.provenance FROM faces f JOIN assignments a ON a.face_id = f.id "
                "WHERE f.source = 'manual' AND f.image_id = ?", (photo,))]

    (face_id, person, how), = drawn()
    assert (person, how) == (anna, "confirmed")
    tab.reload()
    expect(tab.locator(f'[data-face-box="{face_id}"]')).to_have_count(1)
    recluster(served.folder)
    assert drawn() == [(face_id, anna, "confirmed")]

    # Photos of two people: the form's person boxes, then the list.
    tab.click("header nav a[href='/photos']")
    boxes = tab.locator("#photos-with-form input[name=with]")
    boxes.nth(0).fill(f"#{anna}")
    boxes.nth(1).fill(f"#{bert}")
    tab.click("#photos-with-form button")
    expect(tab.locator(f'li.photo-with[data-photo="{photo}"]')).to_have_count(1)
    assert tab.inner_text("#photos-with-count").startswith("1 photo with")
    shot(tab, f"photos-with-{tab.screen}.png")

    # A birth date on Anna's page, before every photo of the library (nothing leaves her).
    tab.goto(f"{served.url}/person/{anna}")
    tab.fill("#birthday-form input[name=birth_date]", "2001-02-03")
    tab.click("#birthday-form button[value=set]")
    assert "was born on 2001-02-03" in tab.inner_text("#flash")
    tab.reload()
    assert tab.input_value("#birthday-form input[name=birth_date]") == "2001-02-03"
    shot(tab, f"person-birthday-{tab.screen}.png")

    # Undo both, newest first: the birth date, then the drawn face.
    with served.library() as lib:
        assert lib.birthdays.of(anna) == "2001-02-03"
        actions = [e for e in lib.history.recent(10) if not e.undone][:2]
        assert [e.action for e in actions] == ["birthday", "add-face"]
        lib.history.undo(actions[1].id)
        assert lib.birthdays.of(anna) is None
    assert drawn() == []
    recluster(served.folder)
    assert drawn() == []
    tab.goto(f"{served.url}/photo/{photo}")
    expect(tab.locator(f'[data-face-box="{face_id}"]')).to_have_count(0)
