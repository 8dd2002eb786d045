"""Extended XMP in JPEG (XMP spec part 3, 1.1.3.1): hundreds of named faces and big packets from
other tools, split over APP1 segments on write, reassembled on read; exiftool agrees both ways."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from facefile.interop import jpeg, photo_regions, read_regions
from facefile.interop.xmp import WrittenRegion
from facefile.interop.xmp_extended import extended_guid, guid_of, split_packet
from facefile.interop.xmp_write import packet_with_regions

from .conftest import exif, exif_json, mwg_struct
from .test_xmp_write import library_of

SIZE = (1200, 900)


def grid_faces(count: int) -> list[tuple[tuple[float, float, float, float], str]]:
    """``count`` small face boxes on a grid, named "Person 0001" ..."""
    per_row = 40
    return [((20.0 + 28 * (i % per_row), 20.0 + 28 * (i // per_row), 40.0 + 28 * (i % per_row),
              40.0 + 28 * (i // per_row)), f"Person {i:04d}") for i in range(count)]


def jpeg_photo(path: Path) -> None:
    pixels = np.random.default_rng(1).integers(0, 255, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    block = Image.Exif()
    block[0x010F] = "TestCam"
    Image.fromarray(pixels).save(path, quality=85, exif=block)


def test_hundreds_of_names_are_split_into_extended_xmp_and_exiftool_reads_them_all(exiftool: str, tmp_path: Path) -> None:
    photo = tmp_path / "crowd.jpg"
    jpeg_photo(photo)
    exif(exiftool, "-q", "-overwrite_original", "-XMP-dc:Subject=crowd", photo)
    faces = grid_faces(700)
    lib = library_of(tmp_path, {"crowd.jpg": (SIZE, faces)})
    scan_before = photo.read_bytes()[jpeg.segments(photo.read_bytes())[-1][1]:]

    report = lib.interop.write_xmp(embed=True)
    assert (report.embedded, report.errors) == (1, [])
    data = photo.read_bytes()
    standard = jpeg.read_xmp(data)
    assert standard is not None and len(standard) <= jpeg.MAX_XMP_PAYLOAD
    guid = extended_guid(standard)
    extended = jpeg.read_extended(data, guid)
    assert extended is not None and len(extended) > 65_000 and guid == guid_of(extended)  # GUID = MD5
    assert data[jpeg.segments(data)[-1][1]:] == scan_before  # pixels not re-encoded
    names = exif_json(exiftool, photo, "-XMP-mwg-rs:RegionName")["RegionName"]
    assert names == [name for _, name in faces]
    data_tags = exif_json(exiftool, photo, "-Subject", "-HasExtendedXMP", "-Make")
    assert (data_tags["Subject"], data_tags["HasExtendedXMP"], data_tags["Make"]) == ("crowd", guid, "TestCam")
    assert [r.name for r in photo_regions(photo)] == [name for _, name in faces]
    # Written again: one standard and one set of extended segments, not two.
    lib.interop.write_xmp(embed=True)
    again = photo.read_bytes()
    assert len(again) == len(data)
    assert sum(again[s + 4:s + 4 + len(jpeg.EXTENDED_HEADER)] == jpeg.EXTENDED_HEADER for _, s, _ in jpeg.segments(again)) == \
        -(-len(extended) // jpeg.MAX_EXTENDED_CHUNK)


def test_extended_xmp_written_by_exiftool_is_read(exiftool: str, tmp_path: Path) -> None:
    photo = tmp_path / "big.jpg"
    jpeg_photo(photo)
    regions = [(name, (x1 / SIZE[0], y1 / SIZE[1], x2 / SIZE[0], y2 / SIZE[1])) for (x1, y1, x2, y2), name in grid_faces(600)]
    exif(exiftool, "-q", "-overwrite_original", f"-XMP-mwg-rs:RegionInfo={mwg_struct(SIZE, regions)}", photo)
    data = photo.read_bytes()
    assert b"HasExtendedXMP" in jpeg.read_xmp(data)  # exiftool split it
    assert len(read_regions(jpeg.read_xmp(data))) < 600  # the standard packet alone has not all of them
    found = photo_regions(photo)
    assert [r.name for r in found] == [name for name, _ in regions]
    assert found[5].rect == __import__("pytest").approx(regions[5][1], abs=1e-5)


def test_a_big_lightroom_like_packet_keeps_its_other_properties(exiftool: str, tmp_path: Path) -> None:
    photo = tmp_path / "lr.jpg"
    jpeg_photo(photo)
    history = "; ".join(f"step {i}: exposure +0.{i % 10}" for i in range(5000))  # ~120 KB of edit history
    exif(exiftool, "-q", "-overwrite_original", f"-XMP-dc:Description={history}", "-XMP-xmp:Rating=5",
         "-XMP-dc:Subject=travel", photo)
    lib = library_of(tmp_path, {"lr.jpg": (SIZE, grid_faces(3))})
    assert lib.interop.write_xmp(embed=True).embedded == 1
    data = exif_json(exiftool, photo, "-Description", "-Rating", "-Subject", "-RegionName")
    assert (data["Description"], data["Rating"], data["Subject"]) == (history, 5, "travel")
    assert data["RegionName"] == ["Person 0000", "Person 0001", "Person 0002"]


def test_a_stale_or_incomplete_extended_part_is_ignored() -> None:
    regions = [WrittenRegion(f"P{i}", (i / 2000, 0.1, i / 2000 + 0.0004, 0.2)) for i in range(1500)]
    standard, extended = split_packet(packet_with_regions(None, regions, (100, 100)), jpeg.MAX_XMP_PAYLOAD)
    assert extended is not None and read_regions(standard) == []  # the regions moved out
    import io
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG")
    data = jpeg.with_xmp(buffer.getvalue(), packet_with_regions(None, regions, (100, 100)))
    assert len(read_regions(jpeg.read_full_xmp(data))) == 1500
    segments = jpeg.segments(data)
    last_extended = [s for _, s, _ in segments if data[s + 4:s + 4 + len(jpeg.EXTENDED_HEADER)] == jpeg.EXTENDED_HEADER][-1]
    end = next(e for _, s, e in segments if s == last_extended)
    cut = data[:last_extended] + data[end:]  # one chunk lost: the part is incomplete
    assert jpeg.read_full_xmp(cut) == jpeg.read_xmp(cut)
