"""Names written in place into every container (JPEG, PNG, TIFF both byte orders, WebP simple and
extended, HEIC), read back by exiftool and by facefile, with the pixels and other metadata kept."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image, ImageCms

from facefile.interop import photo_regions
from facefile.interop.embedded_xmp import image_data
from facefile.interop.files import read_header
from facefile.media import hash_file

from .conftest import exif, exif_json
from .test_xmp_write import library_of

pillow_heif.register_heif_opener()
SIZE = (96, 64)
FACES = [((10, 8, 40, 40), "Anna Smith"), ((50, 10, 80, 44), "Björn Ölund")]
# (file name, Pillow format, save options, Pillow mode)
CONTAINERS = {
    "png": ("a.png", "PNG", {}, "RGB"),
    "tiff-le": ("a.tif", "TIFF", {"compression": "tiff_lzw"}, "RGB"),
    "tiff-be": ("a.tiff", "TIFF", {}, "I;16B"),
    "webp-lossy": ("a.webp", "WEBP", {"quality": 80}, "RGB"),
    "webp-lossless-alpha": ("a.webp", "WEBP", {"lossless": True}, "RGBA"),
    "heic": ("a.heic", "HEIF", {"quality": 90}, "RGB"),
    "jpeg": ("a.jpg", "JPEG", {"quality": 90}, "RGB"),
}


def make_image(path: Path, fmt: str, options: dict, mode: str, metadata: bool = True) -> None:
    """A noisy image; ``metadata``: with EXIF (Make) and an sRGB ICC profile."""
    rng = np.random.default_rng(7)
    if mode == "I;16B":
        pixels = rng.integers(0, 65535, SIZE[::-1]).astype(">u2")
        img = Image.frombytes("I;16B", SIZE, pixels.tobytes())
    else:
        img = Image.fromarray(rng.integers(0, 255, (SIZE[1], SIZE[0], len(mode)), dtype=np.uint8), mode)
    extra = dict(options)
    if metadata:
        extra["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    if metadata and mode != "I;16B":
        block = Image.Exif()
        block[0x010F] = "TestCam"
        extra["exif"] = block.tobytes() if fmt in ("WEBP", "HEIF") else block
    img.save(path, fmt, **extra)


def decoded(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img)


@pytest.mark.parametrize("container", CONTAINERS)
def test_names_are_written_in_place_and_everything_else_is_kept(container: str, exiftool: str, tmp_path: Path) -> None:
    name, fmt, options, mode = CONTAINERS[container]
    photo = tmp_path / name
    make_image(photo, fmt, options, mode)
    # Metadata before us: EXIF and an ICC profile (Pillow), XMP properties (exiftool).
    exif(exiftool, "-q", "-overwrite_original", "-XMP-dc:Subject=holiday", "-XMP-xmp:Rating=4", photo)
    everything = ["-a", "-G1", "-all", "--File:all", "--System:all", "--XMP-mwg-rs:all", "--ExifTool:all",
                  "--XMP-x:all", "--Composite:all", "--QuickTime:MediaDataSize", "--QuickTime:MediaDataOffset"]
    before, pixels, data = exif_json(exiftool, photo, *everything), decoded(photo), photo.read_bytes()
    warnings = exif_json(exiftool, photo, "-validate", "-warning", "-a")
    lib = library_of(tmp_path, {name: (SIZE, [(box, person) for box, person in FACES])})

    report = lib.interop.write_xmp(embed=True)
    assert (report.embedded, report.sidecars, report.errors, report.not_in_place) == (1, 0, [], [])
    assert not list(tmp_path.glob("*.xmp"))
    names = exif_json(exiftool, photo, "-XMP-mwg-rs:RegionName")["RegionName"]
    assert names == ["Anna Smith", "Björn Ölund"]
    assert exif_json(exiftool, photo, *everything) == before  # EXIF, the other XMP properties ...
    assert np.array_equal(decoded(photo), pixels)
    assert image_data(photo.read_bytes(), read_header(photo).format) == image_data(data, fmt)
    assert [r.name for r in photo_regions(photo)] == ["Anna Smith", "Björn Ölund"]
    # Writing again replaces the names; the file does not keep growing.
    size = photo.stat().st_size
    lib.interop.write_xmp(embed=True)
    assert photo.stat().st_size == size
    assert exif_json(exiftool, photo, "-validate", "-warning", "-a") == warnings  # no new structural warning
    lib.close()


def test_a_simple_webp_becomes_extended_with_the_right_canvas(tmp_path: Path) -> None:
    photo = tmp_path / "a.webp"
    make_image(photo, "WEBP", {"quality": 80}, "RGB", metadata=False)
    assert photo.read_bytes()[12:16] == b"VP8 "  # simple format: no VP8X, no room for metadata yet
    lib = library_of(tmp_path, {"a.webp": (SIZE, [(FACES[0][0], "Anna Smith")])})
    lib.interop.write_xmp(embed=True)
    data = photo.read_bytes()
    assert data[12:16] == b"VP8X" and data[20] & 0x04  # XMP flag
    assert (int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1) == SIZE
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    with Image.open(photo) as img:
        assert img.size == SIZE and b"Anna Smith" in img.info["xmp"]


def test_heic_xmp_written_by_exiftool_is_replaced_and_image_items_keep_their_bytes(exiftool: str, tmp_path: Path) -> None:
    from facefile.interop import heif_xmp

    photo = tmp_path / "a.heic"
    make_image(photo, "HEIF", {"quality": 90}, "RGB")
    exif(exiftool, "-q", "-overwrite_original", "-XMP-dc:Subject=holiday", photo)
    original = photo.read_bytes()
    lib = library_of(tmp_path, {"a.heic": (SIZE, [(FACES[0][0], "Anna Smith")])})
    assert lib.interop.write_xmp(embed=True).embedded == 1
    new = photo.read_bytes()
    old_items, new_items = heif_xmp.item_bytes(original), heif_xmp.item_bytes(new)
    xmp_ids = {heif_xmp.xmp_item_id(d) for d in (original, new)}
    assert len(xmp_ids) == 1  # the same XMP item, pointed at new bytes
    assert {k: v for k, v in old_items.items() if k not in xmp_ids} == {k: v for k, v in new_items.items() if k not in xmp_ids}
    assert exif_json(exiftool, photo, "-Subject", "-RegionName") | {"SourceFile": ""} == {
        "SourceFile": "", "Subject": "holiday", "RegionName": "Anna Smith"}


def test_a_corrupt_file_gets_one_clear_error_and_the_others_are_written(tmp_path: Path) -> None:
    make_image(tmp_path / "good.png", "PNG", {}, "RGB")
    make_image(tmp_path / "cut.png", "PNG", {}, "RGB", metadata=False)
    data = (tmp_path / "cut.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[:-30])  # IEND and the end of the last IDAT gone
    lib = library_of(tmp_path, {"good.png": (SIZE, [(FACES[0][0], "Anna Smith")]),
                                "cut.png": (SIZE, [(FACES[0][0], "Anna Smith")])})
    before = hash_file(tmp_path / "cut.png")
    report = lib.interop.write_xmp(embed=True)
    assert report.embedded == 1 and [p for p, _ in report.errors] == ["cut.png"]
    # Pillow notices it first (it reads past IDAT for EXIF) or our chunk walk does: either says why.
    assert report.errors[0][1] in ("image file is truncated", "PNG chunk at byte 79 runs past the end of the file")
    assert hash_file(tmp_path / "cut.png") == before


def test_bigtiff_goes_to_a_sidecar_with_the_reason(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((SIZE[1], SIZE[0], 3), np.uint8)).save(tmp_path / "big.tif", big_tiff=True)
    lib = library_of(tmp_path, {"big.tif": (SIZE, [(FACES[0][0], "Anna Smith")])})
    before = hash_file(tmp_path / "big.tif")
    report = lib.interop.write_xmp(embed=True)
    assert report.not_in_place == [("big.tif", "BigTIFF: only classic TIFF is rewritten in place")]
    assert hash_file(tmp_path / "big.tif") == before and (tmp_path / "big.tif.xmp").is_file()


def test_raw_files_get_a_sidecar_sized_by_media_raw(exiftool: str, tmp_path: Path) -> None:
    pytest.importorskip("facefile.media.raw")
    from facefile_bench.xmp_bench import write_dng

    photo = tmp_path / "shot.dng"
    write_dng(photo, (64, 96))
    (tmp_path / "broken.nef").write_bytes(b"not a RAW at all")
    lib = library_of(tmp_path, {"shot.dng": ((64, 96), [((6, 10, 30, 40), "Anna Smith")]),
                                "broken.nef": ((64, 96), [((6, 10, 30, 40), "Bob")])})
    before = hash_file(photo)
    report = lib.interop.write_xmp(embed=True)
    assert report.not_in_place == [("shot.dng", "camera RAW: names go to a sidecar, the RAW is never rewritten")]
    assert [p for p, _ in report.errors] == ["broken.nef"] and "RAW" in report.errors[0][1]
    assert hash_file(photo) == before
    data = exif_json(exiftool, tmp_path / "shot.dng.xmp", "-XMP-mwg-rs:all")
    assert data["RegionName"] == "Anna Smith"
    assert (data["RegionAppliedToDimensionsW"], data["RegionAppliedToDimensionsH"]) == (64, 96)
    assert data["RegionAreaX"] == pytest.approx(18 / 64, abs=1e-5)
    assert [r.name for r in photo_regions(photo)] == ["Anna Smith"]


def test_pillow_sees_what_each_writer_wrote(tmp_path: Path) -> None:
    from facefile.interop.embedded_xmp import with_xmp

    packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>'
    for name, fmt, options, mode in CONTAINERS.values():
        buffer = io.BytesIO()
        make_image(tmp_path / name, fmt, options, mode)
        buffer.write(with_xmp((tmp_path / name).read_bytes(), fmt, packet))
        with Image.open(io.BytesIO(buffer.getvalue())) as img:
            assert packet in img.info["xmp"], fmt
