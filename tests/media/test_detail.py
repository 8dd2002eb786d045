"""decode_with_detail(): a working image reduced by a whole factor, and a finer copy for face crops."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image, JpegImagePlugin

from facefile.media import decode, decode_with_detail
from facefile.media.detail import stored_box


def noisy_jpeg(path: Path, size: tuple[int, int], orientation: int = 1) -> Path:
    """Noise, so that any misplaced pixel shows; stored as given, shown turned by ``orientation``."""
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    Image.fromarray(pixels).save(path, "JPEG", quality=95, exif=exif)
    return path


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_crop_of_the_finer_copy_is_those_pixels_of_the_upright_photo(tmp_path: Path, orientation: int) -> None:
    path = noisy_jpeg(tmp_path / "o.jpg", (400, 300), orientation)
    image, fine = decode_with_detail(path, max_side=100)
    swapped = orientation >= 5
    assert (image.width, image.height) == ((300, 400) if swapped else (400, 300))
    assert image.pixels.shape == ((100, 75, 3) if swapped else (75, 100, 3))
    assert image.scale == 4.0
    assert fine is not None and fine.scale == 2.0  # a 1/2 JPEG draft: twice the working size
    # The same 1/2 draft, turned upright whole: the crop must be exactly its pixels.
    upright = decode(path, max_side=200).pixels
    box = (61.0, 103.3, 155.9, 181.0)  # original upright pixels
    crop, (x0, y0) = fine.region(box)
    assert (x0, y0) == (30.0, 51.0)  # floor(box / 2)
    assert crop.shape == (91 - 51, 78 - 30, 3)  # up to ceil(box / 2)
    np.testing.assert_array_equal(crop, upright[51:91, 30:78])


def test_the_working_image_is_the_finer_copy_reduced(tmp_path: Path) -> None:
    path = noisy_jpeg(tmp_path / "o.jpg", (400, 300))
    image, fine = decode_with_detail(path, max_side=100)
    assert fine is not None
    expected = np.asarray(fine.stored.reduce(2))
    np.testing.assert_array_equal(image.pixels, expected)


def test_a_12_megapixel_jpeg_is_decoded_once_at_half_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.jpg"
    Image.new("RGB", (4032, 3024), (90, 120, 150)).save(path, quality=80)
    drafts: list[tuple[int, int]] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):  # noqa: ANN001, ANN202
        drafts.append(size)
        return real_draft(self, mode, size)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    image, fine = decode_with_detail(path, max_side=1024)
    assert drafts == [(2016, 1512)]
    assert image.pixels.shape == (756, 1008, 3) and image.scale == 4.0
    assert fine is not None and fine.stored.size == (2016, 1512)
    assert image.pixels.flags.c_contiguous and image.pixels.flags.writeable


def test_a_photo_within_the_working_size_has_no_finer_copy(tmp_path: Path) -> None:
    path = noisy_jpeg(tmp_path / "small.jpg", (250, 250))
    image, fine = decode_with_detail(path, max_side=1024)
    assert image.pixels.shape == (250, 250, 3) and image.scale == 1.0 and fine is None
    np.testing.assert_array_equal(image.pixels, decode(path).pixels)


def test_a_png_keeps_its_full_size_pixels_as_the_finer_copy(tmp_path: Path) -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "p.png")
    image, fine = decode_with_detail(tmp_path / "p.png", max_side=200)
    assert image.pixels.shape == (150, 200, 3) and fine is not None and fine.scale == 1.0
    crop, corner = fine.region((10, 20, 30, 40))
    assert corner == (10.0, 20.0)
    np.testing.assert_array_equal(crop, pixels[20:40, 10:30])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_stored_box_is_the_inverse_of_the_exif_turn(orientation: int) -> None:
    from facefile.media.decode import SWAPS_SIDES, UPRIGHT

    stored = np.arange(5 * 7).reshape(5, 7)  # 7 wide, 5 tall, every value unique
    turn = UPRIGHT.get(orientation)
    upright = stored if turn is None else np.asarray(Image.fromarray(stored.astype(np.int32)).transpose(turn))
    height, width = upright.shape
    assert (width, height) == ((5, 7) if orientation in SWAPS_SIDES else (7, 5))
    x0, y0, x1, y1 = 1, 2, 3, 5 if orientation in SWAPS_SIDES else 4
    sx0, sy0, sx1, sy1 = stored_box((x0, y0, x1, y1), orientation, width, height)
    assert sorted(upright[y0:y1, x0:x1].ravel()) == sorted(stored[sy0:sy1, sx0:sx1].ravel())
