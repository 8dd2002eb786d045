"""`facefile history` and `facefile undo`, and what person commands say about mistyped names and
merged ids (CliRunner on a synthetic library: no photos, no models)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from facefile.library import Library
from facefile.ui.cli import main
from tests.library.conftest import MODEL, people_photos  # noqa: F401 (a fixture)
from tests.support.database import sql


@pytest.fixture
def folder(tmp_path: Path, people_photos) -> Path:  # noqa: F811
    folder = tmp_path / "photos" / ".facefile"
    with Library.open(folder) as lib:
        lib.set_root_if_unset(tmp_path / "photos")
        lib.writer(MODEL).store(people_photos)
        lib.recluster()
    return folder


def cli(folder: Path, *args: str, code: int = 0, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, [*args, "--library", str(folder)], input=stdin, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def ids(folder: Path) -> list[int]:
    return [p["id"] for p in json.loads(cli(folder, "people", "--json").stdout)]


def test_history_lists_actions_and_undo_takes_back_the_newest(folder: Path) -> None:
    a, b = ids(folder)[:2]
    assert "No actions yet" in cli(folder, "history").output
    cli(folder, "name", str(a), "Anna")
    cli(folder, "merge", "Anna", str(b))
    entries = json.loads(cli(folder, "history", "--json").stdout)
    assert [e["summary"] for e in entries] == [f"Merged #{b} into Anna (#{a})", f"Named #{a} 'Anna'"]
    assert [e["undone"] for e in entries] == [False, False] and entries[0]["changes"] > 0
    table = cli(folder, "history", "--limit", "1").output
    assert "Merged" in table and "Named" not in table
    assert cli(folder, "undo").stdout.strip() == f"Undone: Merged #{b} into Anna (#{a})"
    assert b in ids(folder)
    assert json.loads(cli(folder, "history", "--json").stdout)[0]["undone"] is True


def test_undo_of_an_older_action_asks_unless_yes(folder: Path) -> None:
    a = ids(folder)[0]
    cli(folder, "name", str(a), "Anna")
    cli(folder, "hide", "Anna")
    first = json.loads(cli(folder, "history", "--json").stdout)[-1]["id"]
    refused = cli(folder, "undo", str(first), code=1, stdin="n\n")
    assert "also undoes the 1 later action" in refused.output and f"Hid Anna (#{a})" in refused.output
    assert sql(folder).execute("SELECT name, hidden FROM persons WHERE id = ?", (a,)).fetchone()[:] == ("Anna", 1)
    done = cli(folder, "undo", str(first), "--yes").stdout
    assert done.strip() == f"Undone: Named #{a} 'Anna' (and 1 later action: Hid Anna (#{a}))"
    assert sql(folder).execute("SELECT name, hidden FROM persons WHERE id = ?", (a,)).fetchone()[:] == (None, 0)
    assert "nothing to undo" in cli(folder, "undo", code=1).output
    assert "undone already" in cli(folder, "undo", str(first), code=1).output


def test_a_mistyped_name_and_a_merged_id_say_what_to_use(folder: Path) -> None:
    a, b = ids(folder)[:2]
    cli(folder, "name", str(a), "Ma Tianyu")
    typo = cli(folder, "show", "Ma Tianyo", code=1).output
    assert f"no person named 'Ma Tianyo'; did you mean Ma Tianyu (#{a})?" in typo
    assert f"a person can also be given by id: {a}" in typo
    cli(folder, "merge", str(a), str(b))
    merged = cli(folder, "show", str(b), code=1).output
    assert f"#{b} was merged into Ma Tianyu (#{a}); use {a}" in merged
