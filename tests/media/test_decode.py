"""decode(): upright RGB pixels at a working size, and the numbers that map boxes back to the original."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image, JpegImagePlugin

from facefile.media import DecodedImage, decode, decode_region, load_original

RED, GREEN, BLUE = (220, 20, 20), (20, 200, 20), (20, 20, 220)


def quadrant_image(width: int = 300, height: int = 200) -> Image.Image:
    """Top-left red, top-right green, bottom half blue: every orientation looks different."""
    img = Image.new("RGB", (width, height), BLUE)
    img.paste(RED, (0, 0, width // 2, height // 2))
    img.paste(GREEN, (width // 2, 0, width, height // 2))
    return img


def save_jpeg(img: Image.Image, path: Path, **exif_tags: object) -> Path:
    exif = Image.Exif()
    for name, value in exif_tags.items():
        exif[ExifTags.Base[name]] = value
    img.save(path, "JPEG", quality=95, exif=exif)
    return path


def colour_at(image: DecodedImage, fx: float, fy: float) -> tuple[int, ...]:
    h, w, _ = image.pixels.shape
    return tuple(int(v) for v in image.pixels[int(fy * h), int(fx * w)])


def near(actual: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 30) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# Where the stored top-left (red) and top-right (green) quadrants end up once upright.
TL, TR, BL, BR = (0.2, 0.2), (0.8, 0.2), (0.2, 0.8), (0.8, 0.8)
UPRIGHT_CORNERS = {
    1: (TL, TR), 2: (TR, TL), 3: (BR, BL), 4: (BL, BR),
    5: (TL, BL), 6: (TR, BR), 7: (BR, TR), 8: (BL, TL),
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_with_sizes_in_upright_original_pixels(tmp_path, orientation) -> None:
    path = save_jpeg(quadrant_image(300, 200), tmp_path / "o.jpg", Orientation=orientation)
    # max_side 100 forces draft (1/2) and a resize, so size bookkeeping and turning meet.
    image = decode(path, max_side=100)
    swapped = orientation >= 5
    assert (image.width, image.height) == ((200, 300) if swapped else (300, 200))
    assert image.pixels.shape == ((100, 67, 3) if swapped else (67, 100, 3))
    assert image.scale == pytest.approx(3.0)
    red_at, green_at = UPRIGHT_CORNERS[orientation]
    assert near(colour_at(image, *red_at), RED)
    assert near(colour_at(image, *green_at), GREEN)


@pytest.mark.parametrize("bogus", [0, 9, 65535])
def test_a_bogus_orientation_is_ignored(tmp_path, bogus) -> None:
    path = save_jpeg(quadrant_image(), tmp_path / "bogus.jpg", Orientation=bogus)
    image = decode(path)
    assert (image.width, image.height) == (300, 200)
    assert near(colour_at(image, *TL), RED) and near(colour_at(image, *TR), GREEN)


def test_a_large_jpeg_is_decoded_small_via_draft_with_a_scale_that_maps_boxes(tmp_path, monkeypatch) -> None:
    original = Image.new("RGB", (4000, 3000), (200, 200, 200))
    original.paste((0, 0, 0), (2000, 1000, 2400, 1400))  # a dark "face" box in original pixels
    path = tmp_path / "big.jpg"
    original.save(path, "JPEG", quality=85)
    drafts: list[tuple] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        drafts.append(size)
        return real_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    image = decode(path, max_side=1920)
    assert drafts, "JPEG was decoded at full size"
    assert image.pixels.shape == (1440, 1920, 3)
    assert image.pixels.dtype == np.uint8 and image.pixels.flags.c_contiguous and image.pixels.flags.writeable
    assert (image.width, image.height, image.format) == (4000, 3000, "JPEG")
    assert image.scale == pytest.approx(4000 / 1920)
    x, y = (2200 / image.scale, 1200 / image.scale)  # the box centre, in working pixels
    assert image.pixels[int(y), int(x)].max() < 30
    assert image.pixels[10, 10].min() > 170


def test_a_small_image_keeps_its_size(tmp_path) -> None:
    path = save_jpeg(quadrant_image(300, 200), tmp_path / "small.jpg")
    image = decode(path)
    assert image.pixels.shape == (200, 300, 3) and image.scale == 1.0


def test_exif_dates(tmp_path) -> None:
    img = quadrant_image(30, 20)
    exif = Image.Exif()
    exif[ExifTags.Base.DateTime] = "2022:01:01 00:00:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2021:06:05 14:30:07"
    img.save(tmp_path / "both.jpg", exif=exif)
    assert decode(tmp_path / "both.jpg").taken_at == datetime(2021, 6, 5, 14, 30, 7)

    save_jpeg(img, tmp_path / "fallback.jpg", DateTime="2020:02:29 23:59:59\x00")
    assert decode(tmp_path / "fallback.jpg").taken_at == datetime(2020, 2, 29, 23, 59, 59)

    save_jpeg(img, tmp_path / "zeros.jpg", DateTime="0000:00:00 00:00:00")
    save_jpeg(img, tmp_path / "junk.jpg", DateTime="yesterday")
    img.save(tmp_path / "none.jpg")
    for name in ["zeros.jpg", "junk.jpg", "none.jpg"]:
        assert decode(tmp_path / name).taken_at is None


def test_a_non_utf8_file_name_decodes(tmp_path) -> None:
    path = tmp_path / os.fsdecode(b"caf\xe9.jpg")
    save_jpeg(quadrant_image(), path)
    assert decode(path).width == 300


def test_load_original_is_full_size_upright_rgb(tmp_path) -> None:
    path = save_jpeg(quadrant_image(300, 200), tmp_path / "o.jpg", Orientation=6)
    img = load_original(path)
    assert (img.mode, img.size) == ("RGB", (200, 300))
    assert near(img.getpixel((150, 50)), RED) and near(img.getpixel((150, 250)), GREEN)


def test_decode_region_crops_in_upright_original_coordinates(tmp_path) -> None:
    path = save_jpeg(quadrant_image(3000, 2000), tmp_path / "big.jpg", Orientation=6)
    # Upright (2000 wide, 3000 tall): red is the top-right quarter, green the bottom-right.
    crop = decode_region(path, (1200, 200, 1800, 1300))
    assert crop.shape == (1100, 600, 3)
    assert near(tuple(crop[550, 300]), RED)
    small = decode_region(path, (900, 1600, 2100, 2100), max_side=100)  # clamped to 1100 x 500
    assert small.shape == (45, 100, 3)
    assert near(tuple(small[22, 60]), GREEN) and near(tuple(small[22, 3]), BLUE)
