"""The person page, the People page's live search and the status page in a real browser (Debian's
Chromium through Playwright), at 1280x800 and at 390x844: a dense grid under one heading per month,
loaded page by page as one scrolls; shift-click ranges, select all / none and the keyboard; a move of
the selection checked in the database, after a reload and after a re-cluster; no page wider than
the screen. Screenshots go to test-artifacts/ (same library and fixtures as tests/web/test_browser.py).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from facefile.ui.web import pages_people
from facefile.ui.web.security import library_token
from facefile.ui.web.thumbnails import THUMB_SIDE
from tests.support.database import sql
from tests.web.test_browser import (
    Served,
    assignments,
    browser,
    expect,
    person_ids_on_people_page,
    recluster,
    served,
    shot,
)

pytestmark = [pytest.mark.data, pytest.mark.slow]
__all__ = ["browser", "served"]  # the fixtures, shared with test_browser.py

VIEWPORTS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}
FACES = "#faces-form input[name=face]"


@pytest.fixture(params=list(VIEWPORTS))
def tab(request, browser, served: Served) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORTS[request.param], device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{served.url}/?token={library_token(served.folder)}")
    page.width = VIEWPORTS[request.param]["width"]
    yield page
    context.close()
    assert errors == [], errors


def fits_the_screen(tab) -> None:  # type: ignore[no-untyped-def]
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= tab.width, f"{tab.url} is {width} px wide on a {tab.width} px screen"


def face_ids(tab, selector: str = FACES) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(v) for v in tab.locator(selector).evaluate_all("els => els.map(e => e.value)")]


def focused_face(tab) -> int:  # type: ignore[no-untyped-def]
    return int(tab.evaluate("document.activeElement.value"))


def tile_box(tab, face: int) -> dict:  # type: ignore[no-untyped-def]
    return tab.locator(f'label[data-face="{face}"]').bounding_box()


def dated_person(served: Served) -> tuple[int, int, dict[str, int]]:
    """The largest person, made larger by a merge, with 8 faces dated March 2014 and the rest May
    2014; and another person to move faces to."""
    with served.library() as lib:
        persons = sorted(lib.people(), key=lambda p: -p.faces)
        person, other, target = persons[0].id, persons[1].id, persons[2].id
        lib.persons.merge(person, other)
        faces = lib.review.person_faces(person)[0]
        for k, face in enumerate(faces):
            taken = f"2014-03-{1 + k:02d}T10:00:00" if k < 8 else f"2014-05-{k:02d}T10:00:00"
            sql(lib).execute("UPDATE images SET taken_at = ? WHERE id = ?", (taken, face.image_id))
        return person, target, {"March 2014": 8, "May 2014": len(faces) - 8}


def test_person_page_grid_selection_keys_and_move(tab, served: Served, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    person, target, months = dated_person(served)
    total = sum(months.values())
    monkeypatch.setattr(pages_people, "FACES_PER_PAGE", 6)  # in this process: the server's thread reads it
    first = tab.goto(f"{served.url}/person/{person}").text()
    assert first.count('name="face"') == 6 and 'rel="next"' in first
    tab.click("[data-select-all]")  # every face of the person, also of pages not loaded yet
    expect(tab.locator("[data-selected-count]")).to_have_text(f"{total} selected")
    tab.click("[data-select-none]")
    assert tab.inner_text("[data-selected-count]") == "0 selected"
    # The next page arrives as the end of the grid nears; March, split by the page break, keeps one heading.
    tab.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(tab.locator(FACES)).to_have_count(total)
    heads = tab.locator("h2.month-head").all_inner_texts()
    assert heads == [f"{m} · {n} faces" for m, n in months.items()]
    fits_the_screen(tab)

    # Dense: a whole row of March at 1280 (8 faces, one row), 3 a row at 390.
    march = tab.locator('section[data-month="2014-03"] label.select')
    tops = [round(b["y"]) for b in march.evaluate_all("els => els.map(e => e.getBoundingClientRect())")]
    per_row = tops.count(tops[0])
    assert per_row == (8 if tab.width == 1280 else 3), tops
    # Sharp on this 2x screen: no face image is shown wider than half the pixels a thumbnail has.
    shown = tab.locator("img.face").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    assert max(shown) * 2 <= THUMB_SIDE, shown
    shot(tab, f"person-grid-{tab.width}.png")

    # Shift-click a range, then Select all and Select none
    tab.evaluate("window.scrollTo(0, 0)")
    tiles = tab.locator("#faces-form label.select")
    tiles.nth(1).click()
    tiles.nth(4).click(modifiers=["Shift"])
    assert tab.inner_text("[data-selected-count]") == "4 selected"
    assert face_ids(tab, FACES + ":checked") == face_ids(tab)[1:5]
    tab.click("[data-select-all]")
    assert tab.inner_text("[data-selected-count]") == f"{total} selected"
    tab.click("[data-select-none]")
    assert tab.inner_text("[data-selected-count]") == "0 selected"

    # Keyboard: arrows move the focus, down to the nearest face of the row below; space ticks,
    # shift+arrow extends; Enter opens the photo.
    ids = face_ids(tab)
    tab.locator(FACES).nth(1).focus()
    tab.keyboard.press("ArrowRight")
    assert focused_face(tab) == ids[2]
    tab.keyboard.press("ArrowDown")
    below = focused_face(tab)
    start, now = tile_box(tab, ids[2]), tile_box(tab, below)
    assert now["y"] > start["y"] + start["height"] / 2 and abs(now["x"] - start["x"]) < 2
    tab.keyboard.press("ArrowUp")
    assert focused_face(tab) == ids[2]
    tab.keyboard.press(" ")
    tab.keyboard.press("Shift+ArrowRight")
    assert face_ids(tab, FACES + ":checked") == ids[2:4]
    assert tab.inner_text("[data-selected-count]") == "2 selected"
    with tab.expect_navigation():
        tab.keyboard.press("Enter")
    assert f"#face-{ids[3]}" in tab.url and "/photo/" in tab.url
    tab.go_back()

    # Move a range to another person
    tab.goto(f"{served.url}/person/{person}")
    tiles = tab.locator("#faces-form label.select")
    tiles.nth(0).click()
    tiles.nth(2).click(modifiers=["Shift"])
    moved = face_ids(tab, FACES + ":checked")
    assert len(moved) == 3
    tab.fill("#faces-form input[name=person]", f"#{target}")
    tab.click("#faces-form button[value=move]")
    assert tab.inner_text("#flash").startswith("3 faces moved to")

    def check() -> None:
        held = assignments(served.folder)
        assert all(held[f] == (target, "confirmed") for f in moved)
        tab.goto(f"{served.url}/person/{target}")
        assert set(moved) <= set(face_ids(tab))
        tab.goto(f"{served.url}/person/{person}")
        assert not set(moved) & set(face_ids(tab))

    check()
    tab.reload()
    check()
    recluster(served.folder)
    check()


def test_live_search_and_sort(tab, served: Served) -> None:  # type: ignore[no-untyped-def]
    with served.library() as lib:
        unnamed = [p for p in lib.people() if not p.name]
        wanted = unnamed[-1].id
    tab.goto(served.url + "/")
    assert tab.locator("form[data-live-search] button").is_hidden()  # no Apply: it applies at once
    tab.evaluate("window.beforeSearch = true")  # gone if the page were reloaded
    box = tab.locator("input[name=q]")
    box.press_sequentially(f"person {wanted}", delay=30)
    expect(tab.locator("li.tile.person")).to_have_count(1)
    assert tab.locator("li.tile.person").get_attribute("data-person") == str(wanted)
    assert tab.evaluate("window.beforeSearch") is True
    assert tab.evaluate("document.activeElement.name") == "q"  # still typing in the box
    assert "q=person" in tab.url
    shot(tab, f"people-search-{tab.width}.png")
    for text in [f"#{wanted}", str(wanted)]:
        box.fill(text)
        expect(tab.locator(f'li.tile.person[data-person="{wanted}"]')).to_have_count(1)
    with served.library() as lib:
        lib.persons.name(lib.review.people_page(limit=1000).persons[-1].id, "Aaa Smallest")  # first by name
        everyone = lib.review.people_page(limit=1000)
        by_name = [p.id for p in lib.review.people_page(sort="name", limit=1000).persons]
    box.fill("")
    expect(tab.locator("li.tile.person")).to_have_count(everyone.total)
    tab.select_option("select[name=sort]", "name")  # applies at once
    tab.wait_for_url("**/?sort=name")
    expect(tab.locator("li.tile.person").first).to_have_attribute("data-person", str(by_name[0]))
    assert person_ids_on_people_page(tab) == by_name != [p.id for p in everyone.persons]
    assert tab.evaluate("window.beforeSearch") is True
    fits_the_screen(tab)
    tab.reload()
    assert tab.locator("select[name=sort]").input_value() == "name" and person_ids_on_people_page(tab) == by_name


def test_pages_fit_the_screen(tab, served: Served) -> None:  # type: ignore[no-untyped-def]
    with served.library() as lib:
        person = lib.people()[0].id
    for path, name in [("/status", "status"), ("/", "people"), (f"/person/{person}", "person"),
                       ("/unassigned", "unassigned")]:
        tab.goto(served.url + path)
        fits_the_screen(tab)
        shot(tab, f"{name}-{tab.width}.png")
    tab.goto(served.url + "/status")
    assert tab.locator("#scans tbody tr").count() >= 1
    scroller = tab.locator(".table-scroll")
    assert scroller.evaluate("e => e.scrollWidth") >= scroller.evaluate("e => e.clientWidth")
