"""Undo in a real browser (Debian's Chromium through Playwright), at 1280x800 and 390x844: a
mistyped name is an alert that keeps the text and offers the nearest name; a merge is undone from
the banner and a move (with a later rename) from the History page; each checked in the database,
after a reload and after a re-cluster. Same library and fixtures as tests/web/test_browser.py;
screenshots in test-artifacts/."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from facefile.library import Library
from facefile.ui.web.security import library_token
from tests.support.database import sql
from tests.web.test_browser import Served, browser, expect, recluster, served, shot

pytestmark = [pytest.mark.data, pytest.mark.slow]
__all__ = ["browser", "served"]  # the fixtures, shared with test_browser.py

VIEWPORTS = {"1280": {"width": 1280, "height": 800}, "390": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def tab(request, browser, served: Served) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{served.url}/?token={library_token(served.folder)}")
    page.size = request.param
    yield page
    context.close()
    assert errors == [], errors


def rows(folder: Path) -> tuple[list[tuple], ...]:
    """The rows of user work, exactly."""
    with Library.open(folder) as lib:
        conn = sql(lib)
        return tuple([tuple(r) for r in conn.execute(q)] for q in (
            "SELECT * FROM persons ORDER BY id", "SELECT * FROM assignments ORDER BY face_id",
            "SELECT * FROM rejections ORDER BY face_id, person_id", "SELECT * FROM person_redirects ORDER BY old_id",
        ))


def constraints(folder: Path) -> tuple[set, set]:
    """What every re-cluster honours: confirmations and rejections."""
    with Library.open(folder) as lib:
        conn = sql(lib)
        return (set(conn.execute("SELECT face_id, person_id FROM assignments WHERE provenance = 'confirmed'")),
                set(conn.execute("SELECT face_id, person_id FROM rejections")))


def test_undo_from_the_banner_and_the_history_page(tab, served: Served) -> None:  # type: ignore[no-untyped-def]
    size = tab.size
    with served.library() as lib:
        persons = sorted(lib.people(), key=lambda p: (-p.faces, p.id))
        anna, bert, carl = persons[0].id, persons[1].id, persons[2].id
        lib.persons.name(anna, "Ma Tianyu")
    before, decided = rows(served.folder), constraints(served.folder)

    # A typo: an alert, the typed text kept, the nearest name offered; the suggestion fills the box.
    tab.goto(f"{served.url}/person/{bert}")
    box = "#merge-form input[name=into]"
    tab.fill(box, "Ma Tianyo")
    tab.click("#merge-form button")
    alert = tab.locator("#flash-bar[role=alert]")
    expect(alert).to_contain_text(f"no person named 'Ma Tianyo'; did you mean Ma Tianyu (#{anna})?")
    assert tab.input_value(box) == "Ma Tianyo"
    shot(tab, f"undo-typo-{size}.png")
    tab.click("#flash-bar button.suggestion")
    assert tab.input_value(box) == f"Ma Tianyu (#{anna})"
    assert rows(served.folder) == before  # nothing was merged

    # The merge, then Undo in its banner.
    tab.click("#merge-form button")
    expect(tab.locator("#flash-bar[role=status]")).to_contain_text("into Ma Tianyu")
    assert tab.url.startswith(f"{served.url}/person/{anna}")
    with served.library() as lib:
        assert lib.persons.merged_into(bert) == anna
    old_page = tab.context.request.get(f"{served.url}/person/{bert}", max_redirects=0)
    assert old_page.status == 303 and old_page.headers["location"] == f"/person/{anna}"  # leads to the survivor
    shot(tab, f"undo-merged-{size}.png")
    tab.click("#flash-bar button.undo")
    expect(tab.locator("#flash-bar[role=status] #flash")).to_have_text(f"Undone: Merged #{bert} into Ma Tianyu (#{anna})")
    assert rows(served.folder) == before
    tab.reload()
    expect(tab.locator("#flash-bar")).to_have_count(0)
    tab.goto(f"{served.url}/person/{bert}")
    assert tab.url.startswith(f"{served.url}/person/{bert}")
    recluster(served.folder)
    assert constraints(served.folder) == decided

    # A move of two faces to Carl and a rename of Carl, then Undo of the move on the History page:
    # it takes the rename with it, after asking.
    before = rows(served.folder)
    tab.goto(f"{served.url}/person/{anna}")
    tiles = tab.locator("#faces-form label.select")
    tiles.nth(0).click()
    tiles.nth(1).click()
    moved = [int(v) for v in tab.locator("input[name=face]:checked").evaluate_all("els => els.map(e => e.value)")]
    tab.fill("#faces-form input[name=person]", f"#{carl}")
    tab.click("#faces-form button[value=move]")
    expect(tab.locator("#flash-bar[role=status] button.undo")).to_be_visible()
    tab.goto(f"{served.url}/person/{carl}")
    tab.fill("#rename-form input[name=name]", "Carl Test")
    tab.click("#rename-form button")
    with served.library() as lib:
        held = dict(sql(lib).execute("SELECT face_id, person_id FROM assignments WHERE provenance = 'confirmed'"))
        assert all(held[f] == carl for f in moved) and lib.person(carl).name == "Carl Test"
    tab.goto(f"{served.url}/history")
    expect(tab.locator("table.history")).to_contain_text(f"Moved 2 faces to #{carl}")
    shot(tab, f"undo-history-{size}.png")
    move_row = tab.locator("tr.done", has_text=f"Moved 2 faces to #{carl}")
    expect(move_row.locator("button")).to_have_text("Undo, with 1 later")
    tab.once("dialog", lambda dialog: dialog.accept())
    move_row.locator("button").click()
    expect(tab.locator("#flash-bar[role=status]")).to_contain_text(f"Undone: Moved 2 faces to #{carl} (and 1 later action")
    assert rows(served.folder) == before
    tab.reload()
    assert tab.locator("tr.undone", has_text=f"Moved 2 faces to #{carl}").count() >= 1
    assert tab.locator("tr.done", has_text=f"Moved 2 faces to #{carl}").count() == 0
    recluster(served.folder)
    assert constraints(served.folder) == decided

    with served.library() as lib:  # leave the library as it was for the next screen size
        lib.history.undo()
