"""The command line, end to end on a few real photos (thin over Library: here we check the shell)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from facefile_bench.lfw import identities, link_sample

from facefile.ui.cli.main import EXIT_FILES_FAILED, main

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def photos(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-photos")
    ids = identities(shared_data / "lfw_dev")
    chosen = [name for name, files in ids.items() if len(files) >= 4][:2]
    link_sample([(p, name) for name in chosen for p in ids[name][:4]], folder)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


def run(*args: str, ok: tuple[int, ...] = (0,)) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code in ok, result.output
    return result.output


def test_scan_then_every_command(photos: Path) -> None:
    lib = str(photos / ".facefile")
    output = run("scan", str(photos), "--quiet", ok=(EXIT_FILES_FAILED,))
    assert "9 files" in output and "1 failed" in output

    errors = json.loads(run("errors", "--library", lib, "--json"))
    assert [e["path"] for e in errors] == ["broken.jpg"] and errors[0]["reason"]

    people = json.loads(run("people", "--library", lib, "--json"))
    assert len(people) >= 2 and sum(p["faces"] for p in people) >= 8
    first, second = people[0]["id"], people[1]["id"]

    assert "Anna" in run("name", str(first), "Anna", "--library", lib)
    shown = json.loads(run("show", "anna", "--library", lib, "--json"))
    assert shown["person"]["name"] == "Anna" and shown["faces"]

    face = shown["faces"][0]["id"]
    run("move", str(face), "new", "--library", lib)
    run("merge", "Anna", str(second), "--library", lib)
    assert "hidden" in run("hide", "Anna", "--library", lib)
    assert all(p["name"] != "Anna" for p in json.loads(run("people", "--library", lib, "--json")))

    exported = json.loads(run("export", "--format", "json", "--library", lib))
    assert {"path", "box", "person_id", "person_name", "score"} == set(exported[0])
    assert all(not Path(row["path"]).is_absolute() for row in exported)

    stats = json.loads(run("stats", "--library", lib, "--json"))
    assert stats["errors"] == 1 and stats["faces"] >= 8

    # A re-scan of the unchanged folder does nothing and keeps every decision; the broken file
    # failed in the first scan and is not read again, so this one succeeds (issue 15).
    output = run("scan", str(photos), "--quiet", ok=(0,))
    assert "0 new" in output and "0 failed" in output
    assert json.loads(run("show", "anna", "--library", lib, "--json"))["person"]["hidden"]


def test_unknown_person_is_a_clean_error(photos: Path) -> None:
    run("scan", str(photos), "--quiet", ok=(0, EXIT_FILES_FAILED))  # 0 when an earlier test scanned
    result = CliRunner().invoke(main, ["show", "nobody-by-this-name", "--library", str(photos / ".facefile")])
    assert result.exit_code == 1 and "no person named" in result.output


def test_missing_library_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["people", "--library", str(tmp_path / "nothing")])
    assert result.exit_code == 1 and "no library" in result.output


def test_show_prints_a_video_track_as_its_time_range() -> None:
    from facefile.ui.cli.main import video_time

    assert video_time(12.4, 79.9) == "0:12–1:19"
    assert video_time(None, None) == ""
