"""End to end in a real browser: Debian's Chromium driven by Playwright, against `facefile serve`'s
app on a loopback port, over a library scanned from LFW development photos (linked, never copied).

Each test acts through the pages only, then checks what the database holds, re-clusters, and checks
again: every decision made in the UI must survive a re-grouping. Screenshots of every page go to
test-artifacts/ at the repository root.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from facefile_bench.lfw import identities, link_sample

from facefile.library import Library
from facefile.library.scan_status import PROGRESS_FILENAME, ScanProgressRecorder
from facefile.store.db import now, transaction
from facefile.ui.web.app import create_app
from facefile.ui.web.security import library_token
from tests.support.database import sql

pytestmark = [pytest.mark.data, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class Served:
    url: str
    folder: Path
    photos: Path

    def library(self) -> Library:
        return Library.open(self.folder)


def assignments(folder: Path) -> dict[int, tuple[int, str]]:
    with Library.open(folder) as lib:
        return {f: (p, how) for f, p, how in sql(lib).execute("SELECT face_id, person_id, provenance FROM assignments")}


def recluster(folder: Path) -> None:
    with Library.open(folder) as lib:
        lib.recluster()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    import uvicorn

    photos = tmp_path_factory.mktemp("browser-photos")
    chosen = [name for name, files in identities(shared_data / "lfw_dev").items() if len(files) >= 6][:6]
    link_sample([(p, name) for name in chosen for p in identities(shared_data / "lfw_dev")[name][:6]], photos)
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    folder = photos / ".facefile"
    with Library.open(folder) as lib:
        report = lib.scan(photos, workers=1)  # the library records progress for the status page itself
        assert report.files_new == 36 and report.errors == 1

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(folder, port=port), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield Served(f"http://127.0.0.1:{port}", folder, photos)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (make system-deps) for the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, served: Served):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    # A CSP violation, a script error or a missing image shows up here.
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"{served.url}/?token={library_token(served.folder)}")
    yield tab
    context.close()
    assert errors == [], errors


def expect(locator):  # type: ignore[no-untyped-def]
    """Playwright's waiting assertions (they poll without eval, which the page's CSP forbids)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def shot(tab, name: str) -> None:  # type: ignore[no-untyped-def]
    tab.wait_for_load_state("networkidle")  # thumbnails are lazy: let them arrive
    tab.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of a full-page shot
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / name), full_page=True)


def person_ids_on_people_page(tab) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(x) for x in tab.locator("li.tile.person").evaluate_all("els => els.map(e => e.dataset.person)")]


def test_scan_progress_was_recorded(served: Served) -> None:
    record = json.loads((served.folder / PROGRESS_FILENAME).read_text())
    assert record["stage"] and record["done"] >= 0


def test_rename_merge_and_move_through_the_pages(page, served: Served) -> None:  # type: ignore[no-untyped-def]
    tab = page
    assert tab.url == served.url + "/"  # the token left the address bar
    persons = person_ids_on_people_page(tab)
    assert len(persons) >= 5
    shot(tab, "people.png")
    anna, bert, carl = persons[1], persons[2], persons[3]

    # Rename
    tab.click(f'li[data-person="{anna}"] a')
    tab.fill("#rename-form input[name=name]", "Anna Test")
    tab.click("#rename-form button")
    assert tab.inner_text("#flash") == "Renamed: Anna Test"
    assert tab.inner_text("#person-name") == "Anna Test"

    # Merge Bert into Anna, with the search box's suggestion
    tab.goto(f"{served.url}/person/{bert}")
    bert_faces = [int(v) for v in tab.locator("input[name=face]").evaluate_all("els => els.map(e => e.value)")]
    tab.fill("#merge-form input[name=into]", "Anna")
    expect(tab.locator("#person-options option").first).to_have_attribute("value", f"Anna Test (#{anna})")
    tab.fill("#merge-form input[name=into]", f"Anna Test (#{anna})")
    tab.click("#merge-form button")
    assert "into Anna Test" in tab.inner_text("#flash") and tab.url.startswith(f"{served.url}/person/{anna}")

    # Move three faces (click, then shift-click a range) to a new person
    tiles = tab.locator("#faces-form label.select")
    tiles.nth(0).click()
    tiles.nth(2).click(modifiers=["Shift"])
    assert tab.inner_text("[data-selected-count]") == "3 selected"
    moved = [int(v) for v in tab.locator("input[name=face]:checked").evaluate_all("els => els.map(e => e.value)")]
    tab.fill("#faces-form input[name=name]", "Split Person")
    tab.click("#faces-form button[value=new]")
    assert tab.inner_text("#flash") == "3 faces moved to a new person: Split Person"
    shot(tab, "person.png")

    # Photo page: click Carl's box and file it as Split Person
    with served.library() as lib:
        carl_face = lib.faces(carl)[0]
        image_id = lib.review.face_source(carl_face.id).image_id
        split = lib.persons.resolve("Split Person")
    tab.goto(f"{served.url}/photo/{image_id}")
    tab.locator(f'[data-face-box="{carl_face.id}"]').click()
    assert tab.url.endswith(f"#face-{carl_face.id}")
    # The focus moves in the page's hashchange handler, which runs after the click returns.
    focused_li = "document.activeElement && document.activeElement.closest('li')"
    tab.wait_for_function(f"({focused_li}) && ({focused_li}).id === 'face-{carl_face.id}'")
    assert tab.evaluate(f"({focused_li}).id") == f"face-{carl_face.id}"
    shot(tab, "photo.png")
    tab.keyboard.type(f"Split Person (#{split})")
    tab.click(f"#face-{carl_face.id} button[value=move]")
    assert tab.inner_text("#flash") == "1 face moved to Split Person"
    assert "Split Person" in tab.inner_html("svg")

    def check() -> None:
        held = assignments(served.folder)
        with served.library() as lib:
            assert lib.person(anna).name == "Anna Test"
            assert lib.persons.resolve("Split Person") == split
        # Merged faces keep what was known: automatic ones stay automatic, but for the one shown
        # for Bert, confirmed to hold the merge through re-clusters.
        assert all(held[f][0] == anna for f in bert_faces if f not in moved)
        assert sum(held[f][1] == "confirmed" for f in bert_faces if f not in moved) <= 1
        assert bert not in {p for p, _ in held.values()}
        assert all(held[f] == (split, "confirmed") for f in [*moved, carl_face.id])

    check()
    recluster(served.folder)
    check()


def test_review_no_by_click_and_yes_by_keyboard(page, served: Served) -> None:  # type: ignore[no-untyped-def]
    tab = page
    with served.library() as lib:
        # Two faces of the largest person as the engine leaves faces it is unsure of (no assignment,
        # no decision): the review page will ask about them.
        auto = [[f.id for f in lib.faces(p.id) if f.provenance == "auto"] for p in lib.people()]
        unsure = next(faces for faces in auto if len(faces) >= 4)[:2]
        with transaction(sql(lib)):
            sql(lib).executemany("DELETE FROM assignments WHERE face_id = ?", [(f,) for f in unsure])
    tab.goto(f"{served.url}/review")
    question = tab.locator("section[data-review]")
    face, person = int(question.get_attribute("data-face")), int(question.get_attribute("data-person"))
    assert face in unsure
    shot(tab, "review.png")
    tab.click("#answer-form button[value=no]")
    assert tab.inner_text("#flash").startswith(f"Face {face} is not")

    question = tab.locator("section[data-review]")
    face2, person2 = int(question.get_attribute("data-face")), int(question.get_attribute("data-person"))
    assert (face2, person2) != (face, person)
    with tab.expect_navigation():
        tab.keyboard.press("y")
    assert tab.inner_text("#flash").startswith(f"Face {face2} is")

    def check() -> None:
        held = assignments(served.folder)
        with served.library() as lib:
            rejected = {tuple(r) for r in sql(lib).execute("SELECT face_id, person_id FROM rejections")}
        assert (face, person) in rejected and held.get(face, (None,))[0] != person
        assert held[face2] == (person2, "confirmed")

    check()
    recluster(served.folder)
    check()


def test_merge_and_group_reviews(page, served: Served) -> None:  # type: ignore[no-untyped-def]
    tab = page
    with served.library() as lib:
        auto = {p.id: [f.id for f in lib.faces(p.id) if f.provenance == "auto"] for p in lib.people()}
        x, y = [p for p, faces in auto.items() if len(faces) >= 4][:2]
        part = lib.persons.move_faces(auto[x][:2], None)  # a person the engine split in two, as it were
        with transaction(sql(lib)):  # and one whose faces it left unassigned
            sql(lib).executemany("DELETE FROM assignments WHERE face_id = ?", [(f,) for f in auto[y]])

    tab.goto(f"{served.url}/review/merges")
    keep = int(tab.locator("input[name=keep]").get_attribute("value"))
    other = int(tab.locator("input[name=other]").get_attribute("value"))
    assert {keep, other} == {x, part}
    shot(tab, "review-merges.png")
    with tab.expect_navigation():
        tab.keyboard.press("ArrowRight")  # yes
    assert tab.inner_text("#flash").startswith("Merged")

    tab.goto(f"{served.url}/review/groups")
    grouped = [int(v) for v in tab.locator("input[name=face]:checked").evaluate_all("els => els.map(e => e.value)")]
    assert len(grouped) >= 2 and set(grouped) <= set(auto[y])
    shot(tab, "review-groups.png")
    tab.fill("input[name=name]", "Grouped Person")
    tab.click("button[value=new]")
    assert tab.inner_text("#flash") == f"{len(grouped)} faces filed as Grouped Person"

    def check() -> None:
        held = assignments(served.folder)
        with served.library() as lib:
            grouped_id = lib.persons.resolve("Grouped Person")
        # One person again; the merge kept what was known: the two faces moved by hand stay confirmed.
        assert all(held[f][0] == keep for f in auto[x])
        assert all(held[f] == (keep, "confirmed") for f in auto[x][:2])
        assert all(held[f] == (grouped_id, "confirmed") for f in grouped)

    check()
    recluster(served.folder)
    check()


def test_unassigned_errors_and_live_scan_status(page, served: Served) -> None:  # type: ignore[no-untyped-def]
    tab = page
    tab.goto(f"{served.url}/unassigned")
    shot(tab, "unassigned.png")
    tab.goto(f"{served.url}/errors")
    assert "broken.jpg" in tab.inner_text("#errors")
    shot(tab, "errors.png")

    tab.goto(f"{served.url}/status")
    assert "No scan is running" in tab.inner_text("[data-scan-status]")
    # A scan starts in another process: its row says running, its recorder writes progress.
    with served.library() as lib, transaction(sql(lib)):
        scan = sql(lib).execute(
            "INSERT INTO scans(folder, model_id, started_at, status) VALUES (?, 'opencv-sface-2021dec', ?, 'running')",
            (str(served.photos), now()),
        ).lastrowid
    progress = ScanProgressRecorder(served.folder, interval=0.0)
    progress.stage("Finding faces", total=40)
    progress.advance(7)
    # The page polls every 3 s while idle and reloads when a scan starts, then every second.
    expect(tab.locator("[data-progress]")).to_have_text("7 of 40", timeout=10_000)
    progress.advance(13)
    expect(tab.locator("[data-progress]")).to_have_text("20 of 40", timeout=5_000)
    assert tab.inner_text("[data-stage]") == "Finding faces"
    shot(tab, "status.png")
    with served.library() as lib, transaction(sql(lib)):
        sql(lib).execute("UPDATE scans SET status = 'done', finished_at = ? WHERE id = ?", (now(), scan))
    expect(tab.locator("[data-scan-status]")).to_have_attribute("data-running", "0", timeout=10_000)
