"""``facefile bench ui``: server time of the People UI on a large synthetic library.

The library is built through the real store (the scan's writer, then a re-cluster by the engine),
from planted identities instead of photos: 5,000 persons and 100,000 faces, one person holding
2,000 of them (a family's most photographed child), the others sharing the rest, plus faces the
engine leaves unassigned because they resemble their person only faintly (cosine ~0.37 to its
centre: below what the engine links, above what review asks about). Times are of whole requests
through Starlette's test client: routing, security checks, SQL, templates.

Targets (issue 15): the People page ≤ 0.3 s, the 2,000-face person's page (its first screen) ≤ 0.3 s,
the next review question ≤ 100 ms, undo of a merge ≤ 100 ms.
"""
from __future__ import annotations

import re
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette asks for `httpx2` in its test client; `httpx` still works
    from starlette.testclient import TestClient

from facefile.library import FaceRecord, ImageResult, Library

MODEL = "opencv-sface-2021dec"
BASE_URL = "http://127.0.0.1:8765"


def synthetic_library(
    folder: Path, *, persons: int = 5000, faces: int | None = None, largest: int = 3, faint: int = 300, seed: int = 0
) -> Library:
    """A library in ``folder`` (no photos on disk: thumbnails there are placeholders): ``persons``
    planted identities, the first with ``largest`` faces, the others sharing ``faces`` (3 each when
    None), plus ``faint`` faces the engine leaves unassigned."""
    rng = np.random.default_rng(seed)
    dim = 128
    centres = rng.normal(size=(persons, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def face(centre: np.ndarray, spread: float) -> FaceRecord:
        v = centre + rng.normal(scale=spread / np.sqrt(dim), size=dim).astype(np.float32)
        return FaceRecord(
            box=(10.0, 20.0, 110.0, 140.0), landmarks=np.zeros((5, 2), np.float32), det_score=0.9,
            quality=float(rng.uniform(0.6, 1.0)), embedding=(v / np.linalg.norm(v)).astype(np.float32),
        )

    def photo(path: str, found: list[FaceRecord], day: int) -> ImageResult:
        return ImageResult(
            path=path, size=1000, mtime_ns=1, content_hash=f"synthetic-{path}", width=640, height=480,
            taken_at=f"20{10 + day % 15:02d}-{1 + day % 12:02d}-{1 + day % 28:02d}T10:00:00", model_id=MODEL,
            faces=found,
        )

    others = 3 * (persons - 1) if faces is None else max(2 * (persons - 1), faces - faint - largest)
    each, extra = divmod(others, max(1, persons - 1))
    counts = [largest] + [each + (p < extra) for p in range(persons - 1)]
    results = [
        photo(f"p{p:05d}/{k}.jpg", [face(centres[p], 0.25)], p * 7 + k)
        for p in range(persons) for k in range(counts[p])
    ]
    # Spread 2.5: cosine ~0.37 to the centre (1 / sqrt(1 + 2.5^2)).
    results += [photo(f"faint/{j:05d}.jpg", [face(centres[j % persons], 2.5)], j) for j in range(faint)]
    lib = Library.open(folder)
    lib.set_root_if_unset(folder.parent)
    writer = lib.writer(MODEL)
    for start in range(0, len(results), 1000):
        writer.store(results[start:start + 1000])
    lib.recluster(MODEL)
    return lib


def logged_in_client(app: object, token: str) -> TestClient:
    """A test client with the session cookie of ``token`` (as after opening the printed link)."""
    client = TestClient(app, base_url=BASE_URL)  # type: ignore[arg-type]
    response = client.get(f"/?token={token}", follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


def timed_get(client: TestClient, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - started
    response.raise_for_status()
    return seconds


def measure(client: TestClient, answers: int = 10, largest_person: int | None = None) -> dict[str, float]:
    """Seconds: first People page per sort (the slowest), the page of ``largest_person`` (its first
    screen: the page as served, before thumbnails), first review question (ranks every unassigned
    face), next question after a Yes (median of ``answers``)."""
    people = max(timed_get(client, f"/?sort={sort}") for sort in ("faces", "name", "recent"))
    person_page = float("nan") if largest_person is None else min(
        timed_get(client, f"/person/{largest_person}") for _ in range(3))
    first = timed_get(client, "/review")
    nexts = []
    for _ in range(answers):
        page = client.get("/review").text
        face, person = _hidden(page, "face"), _hidden(page, "person")
        csrf = _hidden(page, "csrf")
        if face is None or person is None:
            break
        client.post("/review/answer", data={"face": face, "person": person, "answer": "yes", "csrf": csrf},
                    headers={"origin": BASE_URL}, follow_redirects=False)
        nexts.append(timed_get(client, "/review"))
    undo = float("nan") if largest_person is None else _timed_undo_of_merge(client, largest_person)
    return {
        "people_page_s": people,
        "person_page_s": person_page,
        "first_suggestion_s": first,
        "next_suggestion_s": statistics.median(nexts) if nexts else float("nan"),
        "undo_s": undo,
    }


def _timed_undo_of_merge(client: TestClient, person: int, tries: int = 3) -> float:
    """Seconds of the Undo of a merge into ``person`` (the largest: the most rows to write back),
    as the banner's Undo button sends it; the median of ``tries``. The other person of each merge is
    the next on the People page."""
    times = []
    for _ in range(tries):
        people = client.get("/?sort=faces").text
        others = [int(p) for p in re.findall(r'href="/person/(\d+)"', people) if int(p) != person]
        csrf = _hidden(client.get(f"/person/{others[0]}").text, "csrf")
        done = client.post(f"/person/{others[0]}/merge", data={"into": str(person), "csrf": csrf},
                           headers={"origin": BASE_URL}, follow_redirects=False)
        page = client.get(done.headers["location"]).text
        entry = _hidden(page, "entry")
        if entry is None:
            raise RuntimeError("the merge offered no Undo")
        started = time.perf_counter()
        undone = client.post("/undo", data={"entry": entry, "csrf": csrf}, headers={"origin": BASE_URL},
                             follow_redirects=False)
        times.append(time.perf_counter() - started)
        if undone.status_code != 303:
            raise RuntimeError(f"undo answered {undone.status_code}")
    return statistics.median(times)


def _hidden(html: str, name: str) -> str | None:
    marker = f'name="{name}" value="'
    at = html.find(marker)
    return None if at < 0 else html[at + len(marker):html.index('"', at + len(marker))]


def run(persons: int = 5000, faces: int = 100_000, largest: int = 2000) -> str:
    """Build the library, measure, and return a ``key=value`` line."""
    from facefile.ui.web.app import create_app
    from facefile.ui.web.security import library_token

    with tempfile.TemporaryDirectory(prefix="facefile-ui-bench-") as tmp:
        folder = Path(tmp) / ".facefile"
        built = time.perf_counter()
        lib = synthetic_library(folder, persons=persons, faces=faces, largest=largest)
        biggest = lib.people()[0]
        total = lib.stats()["faces"]
        lib.close()
        build_s = time.perf_counter() - built
        app = create_app(folder)
        try:
            times = measure(logged_in_client(app, library_token(folder)), largest_person=biggest.id)
        finally:
            app.state.web.lib.close()
    return (
        f"persons={persons} faces={total} largest_person_faces={biggest.faces} build_s={build_s:.1f} "
        + " ".join(f"{key}={value:.3f}" for key, value in times.items())
    )


if __name__ == "__main__":
    print(run())
