"""`facefile write-xmp` / `import-xmp` from the shell, and the CSV export (no models needed)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from facefile.library.export import CSV_COLUMNS
from facefile.ui.cli.main import main
from tests.support.database import sql

from .test_xmp_write import library_of, make_photo


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_write_and_import_xmp_commands(tmp_path: Path) -> None:
    make_photo(tmp_path / "a.jpg", (400, 300))
    make_photo(tmp_path / "b.gif", (400, 300), fmt="GIF")
    library_of(tmp_path, {"a.jpg": ((400, 300), [((40, 30, 120, 130), "Anna Smith")]),
                          "b.gif": ((400, 300), [((40, 30, 120, 130), "Bob")])}).close()
    lib = str(tmp_path / ".facefile")
    report = json.loads(run("write-xmp", "--library", lib, "--json"))
    assert (report["files"], report["sidecars"], report["regions"]) == (2, 2, 2)
    assert (tmp_path / "a.jpg.xmp").exists() and (tmp_path / "b.gif.xmp").exists()
    text = run("write-xmp", "--embed", "--library", lib, "--quiet")
    assert "1 written in place" in text and "1 photos written to sidecars instead: GIF has no in-place" in text
    assert "photos with named regions" in run("import-xmp", "--library", lib)


def test_csv_export_has_one_row_per_face_with_the_json_units(tmp_path: Path) -> None:
    make_photo(tmp_path / "a.jpg", (400, 300))
    lib = library_of(tmp_path, {"a.jpg": ((400, 300), [((40, 30, 120, 130), "Anna Smith"), ((200, 50, 260, 120), None)])})
    sql(lib).execute("UPDATE faces SET video_start_s = 1.5, video_end_s = 4.0 WHERE id = 2")  # as a video face
    buffer = io.StringIO()
    assert lib.interop.export_csv(buffer) == 2
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert list(rows[0]) == CSV_COLUMNS
    as_json = lib.interop.export_faces()
    for row, expected in zip(rows, as_json, strict=True):
        assert row["path"] == expected["path"] == "a.jpg"
        assert [float(row[k]) for k in ("x1", "y1", "x2", "y2")] == expected["box"]
        assert row["person_name"] == (expected["person_name"] or "")
    assert (rows[1]["video_start_s"], rows[1]["video_end_s"], rows[0]["video_start_s"]) == ("1.5", "4.0", "")
