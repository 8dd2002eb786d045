"""Writing face names: sidecars merged, JPEGs rewritten in place, exiftool reads back what we wrote."""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facefile.interop import jpeg, photo_regions, read_regions
from facefile.interop.regions import to_stored
from facefile.library import FaceRecord, ImageResult, Library
from facefile.media import hash_file
from tests.support.database import sql

from .conftest import exif, exif_json, write_mwg

MODEL = "opencv-sface-2021dec"


def make_photo(path: Path, upright: tuple[int, int], orientation: int = 1, fmt: str = "JPEG") -> None:
    size = upright[::-1] if orientation in (5, 6, 7, 8) else upright
    exif_block = Image.Exif()
    exif_block[0x0112] = orientation
    exif_block[0x010F] = "TestCam"  # Make
    pixels = np.random.default_rng(zlib.crc32(path.name.encode())).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, fmt, exif=exif_block)


def library_of(root: Path, photos: dict[str, tuple[tuple[int, int], list[tuple[tuple[float, ...], str | None]]]]) -> Library:
    """A library over ``root`` whose photos have these faces ``(box, name or None)`` (no models)."""
    lib = Library.open(root / ".facefile")
    lib.set_root_if_unset(root)
    rng = np.random.default_rng(0)
    results = []
    for name, (size, faces) in photos.items():
        st = (root / name).stat()
        records = []
        for box, _ in faces:
            v = rng.normal(size=128).astype(np.float32)
            records.append(FaceRecord(box=box, landmarks=np.zeros((5, 2), np.float32), det_score=0.9, quality=0.9,
                                      embedding=v / np.linalg.norm(v)))
        results.append(ImageResult(path=name, size=st.st_size, mtime_ns=st.st_mtime_ns,
                                   content_hash=hash_file(root / name), width=size[0], height=size[1],
                                   taken_at="2024-01-01T00:00:00", model_id=MODEL, faces=records))
    lib.writer(MODEL).store(results)
    stored = {(f.path, f.box): f.id for f in lib.faces()}
    for name, (_, faces) in photos.items():
        for box, person in faces:
            if person:
                lib.persons.name(lib.persons.move(stored[(name, tuple(map(float, box)))], None), person)
    return lib


def regions_read_by_exiftool(exiftool: str, path: Path) -> list[tuple[str, tuple[float, ...]]]:
    data = exif_json(exiftool, path, "-XMP-mwg-rs:all")
    listify = lambda v: v if isinstance(v, list) else [v]  # noqa: E731 - exiftool flattens one-item lists
    names, xs, ys, ws, hs = (listify(data[k]) for k in
                             ("RegionName", "RegionAreaX", "RegionAreaY", "RegionAreaW", "RegionAreaH"))
    return [(n, (x - w / 2, y - h / 2, x + w / 2, y + h / 2)) for n, x, y, w, h in zip(names, xs, ys, ws, hs, strict=True)]


def test_sidecars_round_trip_through_exiftool_and_leave_photos_untouched(exiftool: str, tmp_path: Path) -> None:
    make_photo(tmp_path / "land.jpg", (400, 300))
    make_photo(tmp_path / "portrait.jpg", (300, 400), orientation=6)  # stored 400 x 300, shown upright
    make_photo(tmp_path / "none.jpg", (400, 300))
    lib = library_of(tmp_path, {
        "land.jpg": ((400, 300), [((40, 30, 120, 130), "Anna Smith"), ((200, 50, 260, 120), "Bob"),
                                  ((300, 200, 340, 250), None)]),
        "portrait.jpg": ((300, 400), [((30, 40, 130, 160), "Anna Smith")]),
        "none.jpg": ((400, 300), [((10, 10, 50, 50), None)]),
    })
    before = {p.name: hash_file(p) for p in tmp_path.glob("*.jpg")}
    report = lib.interop.write_xmp()
    assert (report.files, report.sidecars, report.regions, report.errors) == (2, 2, 3, [])
    assert {p.name: hash_file(p) for p in tmp_path.glob("*.jpg")} == before
    assert not (tmp_path / "none.jpg.xmp").exists()  # nothing named there: no sidecar

    land = regions_read_by_exiftool(exiftool, tmp_path / "land.jpg.xmp")
    assert [n for n, _ in land] == ["Anna Smith", "Bob"]
    assert land[0][1] == pytest.approx((0.1, 0.1, 0.3, 130 / 300), abs=1e-5)
    assert exif_json(exiftool, tmp_path / "land.jpg.xmp", "-XMP-mwg-rs:all")["RegionAppliedToDimensionsW"] == 400
    # The portrait's region is in the stored (landscape) frame, as MWG and digiKam want it.
    [(name, rect)] = regions_read_by_exiftool(exiftool, tmp_path / "portrait.jpg.xmp")
    assert name == "Anna Smith"
    assert rect == pytest.approx(to_stored((0.1, 0.1, 130 / 300, 0.4), 6), abs=1e-5)
    # ... and reads back upright.
    [region] = photo_regions(tmp_path / "portrait.jpg")
    assert region.rect == pytest.approx((0.1, 0.1, 130 / 300, 0.4), abs=1e-5)


def test_an_existing_sidecar_keeps_its_other_fields_and_regions(exiftool: str, tmp_path: Path) -> None:
    make_photo(tmp_path / "a.jpg", (400, 300))
    make_photo(tmp_path / "blank.jpg", (400, 300))
    sidecar = tmp_path / "a.jpg.xmp"
    write_mwg(exiftool, sidecar, (400, 300), [
        ("Old Name", (0.1, 0.1, 0.3, 130 / 300)),  # over the face facefile knows: facefile's to rewrite
        ("Stranger facefile missed", (0.8, 0.1, 0.9, 0.2)),
    ], source=tmp_path / "blank.jpg")
    exif(exiftool, "-q", "-overwrite_original", "-XMP-dc:Subject=holiday", "-XMP-dc:Subject=beach",
         "-XMP-xmp:Rating=4", "-XMP-mwg-rs:RegionType+=Pet", sidecar)
    lib = library_of(tmp_path, {"a.jpg": ((400, 300), [((40, 30, 120, 130), "Anna Smith")]),
                                "blank.jpg": ((400, 300), [])})
    lib.interop.write_xmp()
    data = exif_json(exiftool, sidecar, "-XMP:all")
    assert data["Subject"] == ["holiday", "beach"] and data["Rating"] == 4
    names = sorted(n for n, _ in regions_read_by_exiftool(exiftool, sidecar))
    assert names == ["Anna Smith", "Stranger facefile missed"]


def test_embedding_rewrites_only_the_xmp_segment(exiftool: str, tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    make_photo(photo, (400, 300))
    exif(exiftool, "-q", "-overwrite_original", "-XMP-dc:Subject=holiday", "-IPTC:Keywords=iptc-kw",
         "-EXIF:DateTimeOriginal=2021:06:05 14:30:00", "-ICC_Profile<=/dev/null", photo)
    lib = library_of(tmp_path, {"a.jpg": ((400, 300), [((40, 30, 120, 130), "Anna Smith")])})
    everything = ["-a", "-G1", "-n", "-all", "--File:all", "--System:all", "--XMP-mwg-rs:all", "--ExifTool:all"]
    before, data_before = exif_json(exiftool, photo, *everything), photo.read_bytes()

    report = lib.interop.write_xmp(embed=True)
    assert (report.embedded, report.sidecars, report.errors) == (1, 0, [])
    after, data_after = exif_json(exiftool, photo, *everything), photo.read_bytes()
    assert after == before  # every other field, EXIF, IPTC and the rest of the XMP packet
    assert [n for n, _ in regions_read_by_exiftool(exiftool, photo)] == ["Anna Smith"]
    sos = lambda data: jpeg.segments(data)[-1][1]  # noqa: E731 - where the compressed pixels begin
    assert data_after[sos(data_after):] == data_before[sos(data_before):]  # pixels not re-encoded
    assert [p.name for p in tmp_path.iterdir() if "facefile-tmp" in p.name] == []
    # The library knows the new bytes: the next scan sees an unchanged file.
    st = photo.stat()
    assert lib.writer(MODEL).unchanged_signatures()["a.jpg"] == (st.st_size, st.st_mtime_ns)
    assert lib.writer(MODEL).known_hashes() == {hash_file(photo)}


def test_a_jpeg_without_xmp_gets_a_segment_after_its_exif(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    make_photo(photo, (40, 30))
    data = photo.read_bytes()
    assert jpeg.read_xmp(data) is None
    packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    new = jpeg.with_xmp(data, packet)
    assert jpeg.read_xmp(new) == packet
    markers = [m for m, _, _ in jpeg.segments(new)]
    assert markers[:3] == [0xE0, 0xE1, 0xE1]  # JFIF, EXIF, then XMP
    assert Image.open(photo).getexif()[0x010F] == "TestCam" == Image.open(__import__("io").BytesIO(new)).getexif()[0x010F]
    with pytest.raises(jpeg.JpegError):  # too large for one segment, and not XMP that could be split
        jpeg.with_xmp(data, b" " * 70_000)


def test_formats_without_an_in_place_writer_get_a_sidecar_and_a_reason(tmp_path: Path) -> None:
    make_photo(tmp_path / "a.gif", (40, 30), fmt="GIF")
    lib = library_of(tmp_path, {"a.gif": ((40, 30), [((4, 3, 20, 20), "Anna Smith")])})
    before = hash_file(tmp_path / "a.gif")
    report = lib.interop.write_xmp(embed=True)
    assert (report.embedded, report.sidecars, report.not_in_place) == (0, 1, [("a.gif", "GIF has no in-place XMP writer")])
    assert hash_file(tmp_path / "a.gif") == before
    assert [r.name for r in read_regions((tmp_path / "a.gif.xmp").read_bytes())] == ["Anna Smith"]


def test_names_written_out_come_back_as_no_new_decision_and_renames_do(exiftool: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    anna = rng.normal(size=128)
    photos = {}
    for i in range(4):
        make_photo(tmp_path / f"p{i}.jpg", (400, 300))
        photos[f"p{i}.jpg"] = ((400, 300), [((40, 30, 120, 130), None)])
    lib = library_of(tmp_path, photos)
    # One person by the engine (automatic assignments), named by the user.
    vectors = anna + rng.normal(scale=0.02, size=(4, 128))
    for face, v in zip(lib.faces(), vectors, strict=True):
        sql(lib).execute("UPDATE faces SET embedding = ? WHERE id = ?", ((v / np.linalg.norm(v)).astype(np.float32).tobytes(), face.id))
    lib.recluster()
    [person] = lib.people()
    lib.persons.name(person.id, "Anna Smith")
    assert lib.stats()["faces_confirmed"] == 0

    lib.interop.write_xmp()
    report = lib.interop.import_xmp()
    assert (report.names_queued, report.confirmed) == (4, 0)
    assert lib.stats()["faces_confirmed"] == 0  # our own names are not the user's decisions

    # Renamed in another tool: that is a decision, and it is imported.
    exif(exiftool, "-q", "-overwrite_original", "-XMP-mwg-rs:RegionName=Annabel Smith", tmp_path / "p2.jpg.xmp")
    assert lib.interop.import_xmp().confirmed == 1
    renamed = next(f for f in lib.faces() if f.path == "p2.jpg")
    assert (lib.person(renamed.person_id).name, renamed.provenance) == ("Annabel Smith", "confirmed")
