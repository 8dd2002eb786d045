"""`facefile photos --with`, `birthday` and `add-face` on a synthetic library (CliRunner, no models
needed except for `add-face`, which runs the real detector on a photo without a face)."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from facefile.library import Library
from facefile.ui.cli.main import main
from tests.library.conftest import MODEL, face_of, identity_centres, photo
from tests.support.database import sql


@dataclasses.dataclass
class Family:
    folder: Path
    anna: int
    ben: int
    cleo: int
    photos: dict[str, int]  # path -> photo id


@pytest.fixture
def family(tmp_path: Path) -> Family:
    """Anna, Ben and Cleo: 6 portraits each (2019), and group photos (2020): 'ab1', 'ab2' (Anna and
    Ben), 'abx' (Anna, Ben and a stranger nobody is filed as), 'abc' (all three), 'ac' (Anna, Cleo)."""
    rng = np.random.default_rng(7)
    centres = identity_centres(4, seed=8)
    shots = [dataclasses.replace(photo(f"{who}/{j}.jpg", [face_of(centres[k], rng)]), taken_at="2019-03-01T10:00:00")
             for k, who in enumerate("abc") for j in range(6)]
    groups = {"ab1": [0, 1], "ab2": [0, 1], "abx": [0, 1, 3], "abc": [0, 1, 2], "ac": [0, 2]}
    shots += [dataclasses.replace(photo(f"groups/{name}.jpg", [face_of(centres[k], rng) for k in members]),
                                  taken_at=f"2020-0{i + 1}-01T10:00:00")
              for i, (name, members) in enumerate(groups.items())]
    folder = tmp_path / "photos" / ".facefile"
    with Library.open(folder) as lib:
        lib.set_root_if_unset(tmp_path / "photos")
        lib.writer(MODEL).store(shots)
        lib.recluster()
        persons = {f.path: f.person_id for f in lib.faces()}
        ids = {p: i for p, i in sql(lib).execute(
            "SELECT f.path, f.image_id FROM files f").fetchall()}
        anna, ben, cleo = persons["a/0.jpg"], persons["b/0.jpg"], persons["c/0.jpg"]
        lib.persons.name(anna, "Anna")
        lib.persons.name(ben, "Ben")
        lib.persons.name(cleo, "Cleo")
    return Family(folder, anna, ben, cleo, ids)


def run(family: Family, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, [*args, "--library", str(family.folder)], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def listed(family: Family, *args: str) -> set[str]:
    data = json.loads(run(family, "photos", *args, "--json"))
    assert data["total"] == len(data["photos"])
    return {Path(p["path"]).stem for p in data["photos"]}


def test_photos_with_several_people_and_only_them(family: Family) -> None:
    assert listed(family, "--with", "Anna", "--with", "Ben") == {"ab1", "ab2", "abx", "abc"}
    # --only: nobody else filed; the stranger in 'abx' is no one's face, so it stays.
    assert listed(family, "--with", "anna", "--with", str(family.ben), "--only") == {"ab1", "ab2", "abx"}
    assert listed(family, "--with", "Anna", "--with", "Cleo") == {"abc", "ac"}
    assert len(listed(family, "--with", "Cleo", "--only")) == 6  # her portraits
    table = run(family, "photos", "--with", "Anna", "--with", "Ben", "--only")
    assert "groups/ab1.jpg" in table and "3 photos" in table
    data = json.loads(run(family, "photos", "--with", "Anna", "--with", "Ben", "--json"))
    abx = next(p for p in data["photos"] if p["path"].endswith("abx.jpg"))
    assert set(abx["faces"]) == {str(family.anna), str(family.ben)} and abx["unassigned"] == 1
    assert abx["file"].endswith("photos/groups/abx.jpg")


def test_only_ignores_hidden_persons(family: Family) -> None:
    run(family, "hide", "Cleo")
    assert listed(family, "--with", "Anna", "--with", "Ben", "--only") == {"ab1", "ab2", "abx", "abc"}


def test_photos_needs_known_persons(family: Family) -> None:
    assert "no person named 'Nobody'" in run(family, "photos", "--with", "Nobody", code=1)
    assert "Missing option '--with'" in run(family, "photos", code=2)


def test_birthday_set_clear_and_refuse(family: Family) -> None:
    out = run(family, "birthday", "Anna", "2020-02-15")
    assert "Anna (id" in out and "2020-02-15" in out
    # Her automatic faces in the photos before that (2019 portraits, Jan and Feb 2020 groups) left her.
    assert "faces from earlier photos left Anna" in out
    with Library.open(family.folder) as lib:
        assert lib.birthdays.of("Anna") == "2020-02-15"
        early = {f.path for f in lib.faces() if f.person_id == family.anna}
    assert early == {"groups/abx.jpg", "groups/abc.jpg", "groups/ac.jpg"}
    run(family, "recluster")
    assert listed(family, "--with", "Anna", "--with", "Ben") == {"abx", "abc"}
    assert "not a date" in run(family, "birthday", "Anna", "15.02.2020", code=1)
    assert "give a DATE" in run(family, "birthday", "Anna", code=2)
    assert "cleared" in run(family, "birthday", "Anna", "--clear")
    with Library.open(family.folder) as lib:
        assert lib.birthdays.of("Anna") is None


def test_add_face_on_a_photo_file(family: Family, tmp_path: Path) -> None:
    file = tmp_path / "photos" / "a" / "0.jpg"
    file.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (640, 480), "grey").save(file)  # the stored size; no face for the detector here
    out = run(family, "add-face", str(file), "300", "200", "420", "330", "Ben")
    assert "is Ben" in out and "no face could be aligned" in out
    with Library.open(family.folder) as lib:
        face = next(f for f in lib.faces(family.ben) if f.source == "manual")
    assert face.path == "a/0.jpg" and face.box == (300, 200, 420, 330) and face.provenance == "confirmed"
    assert "not inside the photo" in run(family, "add-face", "a/0.jpg", "600", "200", "700", "330", "Ben", code=1)
    assert "no photo with id 9999" in run(family, "add-face", "9999", "1", "1", "50", "50", "Ben", code=1)
    out = run(family, "add-face", "a/0.jpg", "400", "20", "480", "120", "new")
    assert "person" in out and "no face could be aligned" in out
