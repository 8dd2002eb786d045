"""The person page (faces under one heading per month, in pages), the People page's search by the
label it shows, thumbnails sharp on a 2x screen, and the status page's table (test client, no browser)."""
from __future__ import annotations

import io
import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from facefile_bench.ui_bench import MODEL, logged_in_client
from PIL import Image

from facefile.library import FaceRecord, ImageResult, Library
from facefile.library.review import FaceSource
from facefile.ui.web import pages_people, thumbnails
from facefile.ui.web.app import create_app
from facefile.ui.web.security import library_token
from facefile.ui.web.thumbnails import THUMB_CSS_MAX, THUMB_SIDE, ThumbnailCache
from tests.support.database import sql

from .conftest import TestClient

STATIC = Path(pages_people.__file__).parent / "static"


def date_faces(lib: Library, person: int, dates: list[str | None]) -> list[int]:
    faces = lib.review.person_faces(person)[0]
    for face, taken in zip(faces, dates, strict=False):
        sql(lib).execute("UPDATE images SET taken_at = ? WHERE id = ?", (taken, face.image_id))
    return [f.id for f in faces]


def month_heads(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", h)).strip()
            for h in re.findall(r'<h2 class="month-head">(.*?)</h2>', html, re.S)]


def test_person_page_has_one_heading_per_month(client: TestClient, lib: Library) -> None:
    lib.persons.merge(1, 2)  # 6 faces
    date_faces(lib, 1, ["2014-03-02T10:00:00", "2014-03-09T10:00:00", "2014-03-30T10:00:00",
                        "2014-04-01T08:00:00", "2014-04-20T08:00:00", None])
    html = client.get("/person/1").text
    assert month_heads(html) == ["Date unknown · 1 face", "March 2014 · 3 faces", "April 2014 · 2 faces"]
    assert 'class="day"' not in html  # no heading per day any more
    sections = re.findall(r'<section class="month" data-month="([^"]*)">(.*?)</section>', html, re.S)
    assert [(key, body.count('name="face"')) for key, body in sections] == [("", 1), ("2014-03", 3), ("2014-04", 2)]
    assert 'data-face-grid' in html and "data-select-all" in html and "data-select-none" in html


def test_person_page_pages_and_a_month_keeps_its_count(
    client: TestClient, lib: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib.persons.merge(1, 2)
    faces = date_faces(lib, 1, ["2014-03-02T10:00:00"] * 5 + ["2015-01-01T10:00:00"])
    monkeypatch.setattr(pages_people, "FACES_PER_PAGE", 4)
    first, second = client.get("/person/1").text, client.get("/person/1?page=2").text
    assert first.count('name="face"') == 4 and 'rel="next" href="/person/1?page=2"' in first
    assert month_heads(first) == ["March 2014 · 5 faces"]
    assert month_heads(second) == ["March 2014 · 5 faces", "January 2015 · 1 face"]  # the whole month's count
    shown = [int(v) for v in re.findall(r'name="face" value="(\d+)"', first + second)]
    assert sorted(shown) == sorted(faces) and len(shown) == 6
    assert 'rel="next"' not in second and "page 2 of 2" in second


def test_people_page_search_by_the_label_shown(client: TestClient, lib: Library) -> None:
    for query in ["person 5", "#5", "5"]:
        html = client.get("/", params={"q": query}).text
        assert re.findall(r'data-person="(\d+)"', html) == ["5"], query
    html = client.get("/").text
    # Script applies search and sort as they change: Apply is only for pages without script.
    assert '<button class="nojs">Apply</button>' in html and "data-live-search" in html
    assert "data-live-results" in html
    assert ".js .nojs { display: none; }" in (STATIC / "app.css").read_text()


def test_thumbnails_are_sharp_on_a_2x_screen(tmp_path: Path) -> None:
    """A face of a big photo is cut at ``THUMB_SIDE`` px, twice the widest the CSS shows a face
    image, from the original pixels; a small face is never blown up."""
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (1600, 2400, 3), dtype=np.uint8)).save(photos / "big.jpg", quality=95)
    folder = photos / ".facefile"
    v = np.ones(128, np.float32) / np.sqrt(128)
    boxes = [(400.0, 300.0, 1000.0, 900.0), (1500.0, 100.0, 1560.0, 160.0)]
    with Library.open(folder) as lib:
        lib.set_root_if_unset(photos)
        lib.writer(MODEL).store([ImageResult(
            path="big.jpg", size=1, mtime_ns=1, content_hash="big", width=2400, height=1600, model_id=MODEL,
            faces=[FaceRecord(b, np.zeros((5, 2), np.float32), 0.9, 0.9, v) for b in boxes],
        )])
        big, small = [r[0] for r in sql(lib).execute("SELECT id FROM faces ORDER BY x1")]
    app = create_app(folder)
    try:
        client = logged_in_client(app, library_token(folder))
        sizes = [Image.open(io.BytesIO(client.get(f"/face/{f}/thumb.jpg").content)).size for f in (big, small)]
    finally:
        app.state.web.lib.close()
    assert sizes[0] == (THUMB_SIDE, THUMB_SIDE) and THUMB_SIDE >= 2 * 160  # was 224: soft past 112 px
    assert sizes[1] == (90, 90)  # 60 px box and its margins, at the photo's own resolution
    css = (STATIC / "app.css").read_text()
    assert f".grid img.face {{ max-width: {THUMB_CSS_MAX}px; }}" in css and THUMB_CSS_MAX * 2 <= THUMB_SIDE


def test_status_table_scrolls_inside_its_box(client: TestClient) -> None:
    html = client.get("/status").text
    assert re.search(r'<div class="table-scroll"[^>]*>\s*<table class="table" id="scans">', html)
    assert ".table-scroll { max-width: 100%; overflow-x: auto; }" in (STATIC / "app.css").read_text()


def test_two_requests_cutting_one_thumbnail_at_once_both_succeed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person's cover is asked for by two pages at once: each thread writes its own temporary file
    (they shared one name per process, and the second rename failed on a file already moved)."""
    source = FaceSource(7, 1, "hash", (0.0, 0.0, 10.0, 10.0), [tmp_path / "x.jpg"])
    cache = ThumbnailCache(tmp_path)
    monkeypatch.setattr(thumbnails, "face_thumbnail", lambda s: b"jpeg bytes")
    real_replace = os.replace
    calls: list[int] = []

    def replace_after_another_thread(src: str, dst: str) -> None:
        calls.append(1)
        if len(calls) == 1:  # the first writer is about to rename: the second writes meanwhile
            other = threading.Thread(target=lambda: results.append(cache.jpeg(source)))
            other.start()
            other.join()
        real_replace(src, dst)

    results: list[bytes] = []
    monkeypatch.setattr(thumbnails.os, "replace", replace_after_another_thread)
    results.append(cache.jpeg(source))
    assert results == [b"jpeg bytes", b"jpeg bytes"] and cache.path_for(source).read_bytes() == b"jpeg bytes"
    assert [p.name for p in cache.path_for(source).parent.iterdir()] == [cache.path_for(source).name]
