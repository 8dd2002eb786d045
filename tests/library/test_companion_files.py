"""A RAW beside its camera JPEG and a Live Photo's clip beside its still are one photo (issue 16):
scanned once, filed together, re-filed when the shot changes, and a re-scan of an unchanged
folder does nothing. Models are replaced by a fake that reads each file's bytes as its content."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from facefile.library import ImageResult, Library
from facefile.media.shots import Shot, shots
from facefile.pipeline import scan as scan_module
from tests.support.database import sql

from .conftest import MODEL, face_of, identity_centres

READ: list[str] = []  # the files the fake workers were asked to read for faces


def fake_results(tasks, backend_name, known_hashes, workers, max_side, config, progress):  # noqa: ANN001, ANN201
    """One face per file; a file whose bytes start with ``broken`` fails; ``live:ID`` in the bytes
    is the file's Live Photo identifier (a still, or a clip when the name is a video's)."""
    rng = np.random.default_rng(len(READ))
    centre = identity_centres(1)[0]
    for task in tasks:
        READ.append(Path(task.path).name)
        data = Path(task.path).read_bytes()
        result = ImageResult(path=task.stored_path, size=task.size, mtime_ns=task.mtime_ns,
                             content_hash=hashlib.sha256(data).hexdigest())
        if data.startswith(b"broken"):
            result.error = "truncated or corrupt image data"
        elif result.content_hash in known_hashes:
            result.known_image = True
        else:
            result.faces = [face_of(centre, rng)]
            result.width, result.height, result.taken_at, result.model_id = 640, 480, "2024-05-01T10:00:00", MODEL
            if b"live:" in data:
                result.live_id = data.split(b"live:")[1].split()[0].decode()
                result.live_role = "clip" if task.path.lower().endswith(".mov") else "still"
        yield result


@pytest.fixture(autouse=True)
def fake_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    READ.clear()
    monkeypatch.setattr(scan_module, "results", fake_results)


def files(lib: Library) -> dict[str, tuple[int, int]]:
    """path -> (image id, companion) of every file the library holds."""
    return {Path(p).name: (i, c) for p, i, c in sql(lib).execute("SELECT path, image_id, companion FROM files")}


def write(folder: Path, name: str, content: str) -> Path:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(content)
    return folder / name


# ---------------------------------------------------------------------- pairing names


def test_shots_pair_a_still_with_its_raws_and_clips_in_one_folder() -> None:
    found = shots(["a/IMG_1.JPG", "a/img_1.cr2", "a/IMG_1.MOV", "a/IMG_1.png", "a/IMG_2.CR2", "b/IMG_1.NEF",
                   "a/IMG_3.MOV", "a/IMG_4.HEIC", "a/IMG_4.JPG", "a/IMG_4.DNG"])
    assert found == [
        Shot("a/IMG_1.JPG", ("a/IMG_1.MOV", "a/img_1.cr2")),  # the PNG is an edit: a photo of its own
        Shot("a/IMG_4.JPG", ("a/IMG_4.DNG",)),  # two stills of a stem: the JPEG joins, the HEIC is its own
    ]


def test_a_raw_filed_before_its_jpeg_stays_the_photo() -> None:
    assert shots(["IMG_1.JPG", "IMG_1.CR2"], stored_primaries={"IMG_1.CR2"}) == [Shot("IMG_1.CR2", ("IMG_1.JPG",))]
    # ...unless the JPEG is filed too (a library from before pairing): the JPEG, as for a new shot.
    assert shots(["IMG_1.JPG", "IMG_1.CR2"], stored_primaries={"IMG_1.CR2", "IMG_1.JPG"}) == [
        Shot("IMG_1.JPG", ("IMG_1.CR2",))]


# ---------------------------------------------------------------------- scans


def test_raw_and_jpeg_of_one_shot_are_one_photo(lib: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write(photos, "DSC_0042.JPG", "jpeg 42")
    write(photos, "DSC_0042.NEF", "raw 42")
    write(photos, "DSC_0043.NEF", "raw 43")  # no JPEG: a photo of its own
    report = lib.scan(photos)
    assert sorted(READ) == ["DSC_0042.JPG", "DSC_0043.NEF"]  # the paired RAW is never read for faces
    assert report.files_paired == 1 and report.files_new == 2
    held = files(lib)
    assert held["DSC_0042.NEF"] == (held["DSC_0042.JPG"][0], 1)
    assert lib.stats()["photos"] == 2 and lib.stats()["faces"] == 2
    image = held["DSC_0042.JPG"][0]
    assert [Path(p).name for p in lib._store.photos.paths_of(image)] == ["DSC_0042.JPG", "DSC_0042.NEF"]

    READ.clear()
    again = lib.scan(photos)
    assert READ == [] and again.files_unchanged == 3 and again.files_paired == 0


def test_deleting_the_jpeg_makes_the_raw_a_photo_of_its_own(lib: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    jpeg = write(photos, "IMG_1.JPG", "jpeg 1")
    write(photos, "IMG_1.CR2", "raw 1")
    lib.scan(photos)
    jpeg.unlink()
    READ.clear()
    report = lib.scan(photos)
    assert READ == ["IMG_1.CR2"] and report.files_gone == 1
    assert files(lib) == {"IMG_1.CR2": (files(lib)["IMG_1.CR2"][0], 0)}
    assert lib.stats()["photos"] == 1 and lib.stats()["faces"] == 1


def test_a_jpeg_arriving_after_its_raw_is_filed_with_the_raw(lib: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write(photos, "IMG_1.CR2", "raw 1")
    lib.scan(photos)
    faces_before = [r[0] for r in sql(lib).execute("SELECT id FROM faces")]
    write(photos, "IMG_1.JPG", "jpeg 1")
    READ.clear()
    report = lib.scan(photos)
    assert READ == [] and report.files_paired == 1
    held = files(lib)
    assert held["IMG_1.JPG"] == (held["IMG_1.CR2"][0], 1)
    assert [r[0] for r in sql(lib).execute("SELECT id FROM faces")] == faces_before  # the RAW's faces stay


def test_a_changed_jpeg_takes_its_raw_along(lib: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    jpeg = write(photos, "IMG_1.JPG", "jpeg 1")
    write(photos, "IMG_1.CR2", "raw 1")
    lib.scan(photos)
    jpeg.write_text("jpeg 1, edited")
    lib.scan(photos)
    held = files(lib)
    assert held["IMG_1.CR2"] == (held["IMG_1.JPG"][0], 1)
    assert lib.stats()["photos"] == 1  # the old content left: no photo is held by the RAW alone


def test_a_raw_whose_jpeg_is_broken_is_read_itself(lib: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write(photos, "IMG_1.JPG", "broken jpeg")
    write(photos, "IMG_1.CR2", "raw 1")
    report = lib.scan(photos)
    assert sorted(READ) == ["IMG_1.CR2", "IMG_1.JPG"] and report.errors == 1
    assert files(lib)["IMG_1.CR2"][1] == 0 and lib.stats()["faces"] == 1
    READ.clear()
    again = lib.scan(photos)
    assert again.files_new == 0 and lib.stats()["faces"] == 1


def test_a_live_photo_clip_is_filed_with_its_still(lib: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write(photos, "IMG_7.HEIC", "still 7")
    write(photos, "IMG_7.MOV", "clip 7")  # not a readable video here: no identifier, no length
    lib.scan(photos)
    assert READ == ["IMG_7.HEIC"]
    held = files(lib)
    assert held["IMG_7.MOV"] == (held["IMG_7.HEIC"][0], 1)
    assert lib.stats()["photos"] == 1


def test_a_clip_renamed_apart_joins_its_still_by_identifier(lib: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write(photos, "clips/motion.mov", "clip live:ABC-1")  # scanned before its still is there
    write(photos, "clips/other.mov", "clip live:XYZ-9")
    lib.scan(photos)
    assert lib.stats()["photos"] == 2
    write(photos, "stills/IMG_8.HEIC", "still live:ABC-1")
    report = lib.scan(photos)
    held = files(lib)
    assert held["motion.mov"] == (held["IMG_8.HEIC"][0], 1) and held["other.mov"][1] == 0
    assert report.files_paired == 1
    assert lib.stats()["photos"] == 2 and lib.stats()["faces"] == 2  # the clip's own face left with it


def test_exports_list_a_shot_once_under_the_file_it_is_read_from(lib: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    write(photos, "IMG_1.JPG", "jpeg 1")
    write(photos, "IMG_1.ARW", "raw 1")  # sorts before the JPEG
    lib.scan(photos)
    rows = lib._store.regions.export_rows()
    assert [Path(r[0]).name for r in rows] == ["IMG_1.JPG"]
