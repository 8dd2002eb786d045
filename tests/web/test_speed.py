"""Server time of the People page and of the next review question on 5,000 persons (the numbers of
`facefile bench ui`). Bounds are generous, several times the targets (1 s and 100 ms), so a busy
machine passes while a query that scans per person, or a ranking redone per question, fails."""
from __future__ import annotations

from pathlib import Path

from facefile_bench.ui_bench import logged_in_client, measure, synthetic_library

from facefile.ui.web.app import create_app
from facefile.ui.web.security import library_token


def test_people_page_and_next_question_on_5000_persons(tmp_path: Path) -> None:
    folder = tmp_path / ".facefile"
    synthetic_library(folder, persons=5000).close()
    app = create_app(folder)
    try:
        times = measure(logged_in_client(app, library_token(folder)), answers=5)
    finally:
        app.state.web.lib.close()
    print("\n" + " ".join(f"{k}={v:.3f}" for k, v in times.items()))
    assert times["people_page_s"] < 1.0
    assert times["next_suggestion_s"] < 0.5
