"""Camera RAW files decoded through LibRaw: DNGs made in the test from pixels (facefile_bench.dng
writes the CFA data and the DNG tags with tifffile), upright by their orientation, from the full-size preview when there is
one, with the same frame at every decode size, and a clear error for a RAW that cannot be read."""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from facefile_bench.dng import write_dng
from PIL import Image

from facefile.media import MediaError, decode, decode_region, load_original
from facefile.media.raw import is_raw, upright_size


def halves(h: int = 600, w: int = 800) -> np.ndarray:
    """Red on the left, blue on the right."""
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, : w // 2] = (200, 40, 40)
    rgb[:, w // 2:] = (40, 40, 200)
    return rgb


def is_red(pixels: np.ndarray) -> bool:
    r, _, b = pixels.reshape(-1, 3).mean(axis=0)
    return r > 2 * b


def is_blue(pixels: np.ndarray) -> bool:
    r, _, b = pixels.reshape(-1, 3).mean(axis=0)
    return b > 2 * r


def test_a_dng_decodes_to_its_pixels(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "IMG_0001.DNG", halves(), taken="2021:06:05 14:30:00")
    assert is_raw(path) and upright_size(path) == (800, 600)
    image = decode(path, max_side=800)
    assert (image.width, image.height, image.scale, image.format) == (800, 600, 1.0, "RAW")
    assert is_red(image.pixels[250:350, 100:300]) and is_blue(image.pixels[250:350, 500:700])
    assert image.taken_at == datetime(2021, 6, 5, 14, 30)


def test_a_half_size_decode_has_the_same_frame_as_a_full_one(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "a.dng", halves())
    small, full = decode(path, max_side=300), decode(path, max_side=2000)
    assert (small.width, small.height) == (full.width, full.height) == (800, 600)
    assert small.pixels.shape == (225, 300, 3) and small.scale == pytest.approx(800 / 300)
    assert load_original(path).size == (800, 600)


def test_a_rotated_raw_comes_out_upright_and_boxes_map_back(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "a.nef.dng", halves(), orientation=6)  # the camera held 90° clockwise
    assert upright_size(path) == (600, 800)
    image = decode(path, max_side=800)
    assert (image.width, image.height) == (600, 800)
    # Turned 90° clockwise, the left (red) half is on top.
    assert is_red(image.pixels[100:300, 200:400]) and is_blue(image.pixels[500:700, 200:400])
    assert is_red(decode_region(path, (200, 100, 400, 300))) and is_blue(decode_region(path, (200, 500, 400, 700)))
    assert is_red(decode_region(path, (200, 100, 400, 300), max_side=32))  # the half-size decode too


def test_a_full_size_preview_is_used_upright(tmp_path: Path) -> None:
    green = np.zeros((600, 800, 3), np.uint8)
    green[..., 1] = 200
    green[:300, :, 0] = 200  # top half yellow, so the turn is visible
    path = write_dng(tmp_path / "a.dng", halves(), orientation=6, preview=green)
    image = decode(path, max_side=800)
    assert (image.width, image.height) == upright_size(path) == (600, 800)
    top_right = image.pixels[100:300, 400:550].reshape(-1, 3).mean(axis=0)  # the preview's top, turned
    left = image.pixels[100:700, 0:100].reshape(-1, 3).mean(axis=0)
    assert top_right[1] > 150 and top_right[2] < 30 and left[0] < 30  # green/yellow: the preview, not red


def test_a_small_preview_is_not_the_photo(tmp_path: Path) -> None:
    thumb = np.zeros((150, 200, 3), np.uint8)
    thumb[..., 1] = 200
    path = write_dng(tmp_path / "a.dng", halves(), preview=thumb)
    image = decode(path, max_side=800)
    assert (image.width, image.height) == (800, 600) and is_red(image.pixels[250:350, 100:300])


@pytest.mark.parametrize("content", [os.urandom(4096), b"II*\x00" + bytes(64), b""])
def test_a_raw_that_cannot_be_read_gets_a_clear_reason(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "DSC_0001.NEF"
    path.write_bytes(content)
    with pytest.raises(MediaError) as caught:
        decode(path)
    assert caught.value.reason in ("empty file",) or caught.value.reason.startswith("not a readable RAW file")


def test_a_truncated_dng_gets_a_clear_reason(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "a.dng", halves())
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(MediaError, match="not a readable RAW file|truncated"):
        decode(path)


def test_a_raw_over_the_pixel_limit_is_refused(tmp_path: Path) -> None:
    path = write_dng(tmp_path / "a.dng", halves())
    with pytest.raises(MediaError, match="too large"):
        decode(path, max_pixels=100_000)


def corners() -> np.ndarray:
    """An upright 320 x 240 grey scene: red top-left, green top-right, blue bottom-right (any turn
    or mirror moves at least one of them)."""
    rgb = np.full((240, 320, 3), 90, np.uint8)
    rgb[:60, :80] = (220, 30, 30)
    rgb[:30, -100:] = (30, 200, 30)
    rgb[-60:, -40:] = (30, 30, 220)
    return rgb


# EXIF orientation -> the transpose that stores an upright image so that orientation turns it back.
STORED_AS = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
             4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90,
             7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


@pytest.mark.parametrize("with_preview", [False, True], ids=["demosaiced", "preview"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_comes_out_upright_at_every_size(tmp_path: Path, orientation: int, with_preview: bool) -> None:
    upright = Image.fromarray(corners())
    transpose = STORED_AS[orientation]
    stored = np.asarray(upright.transpose(transpose) if transpose is not None else upright)
    path = write_dng(tmp_path / "a.dng", stored, orientation=orientation, preview=stored if with_preview else None)
    assert upright_size(path) == (320, 240)
    for max_side in (320, 100):  # full size, and the half-size demosaic / draft preview
        image = decode(path, max_side=max_side)
        assert (image.width, image.height) == (320, 240)
        h, w = image.pixels.shape[:2]
        assert is_red(image.pixels[: h // 10, : w // 10])
        assert image.pixels[: h // 20, -w // 10:, 1].mean() > 120 and image.pixels[: h // 20, -w // 10:, 0].mean() < 80
        assert is_blue(image.pixels[-h // 10:, -w // 20:])


@pytest.mark.parametrize("make", ["missing", "folder", "empty"])
def test_the_scan_path_and_upright_size_name_a_file_that_is_not_there(tmp_path: Path, make: str) -> None:
    from facefile.media import decode_with_detail

    path = tmp_path / "DSC_0001.NEF"
    if make == "folder":
        path.mkdir()
    elif make == "empty":
        path.write_bytes(b"")
    reason = {"missing": "file not found (deleted during scan?)", "folder": "is a directory", "empty": "empty file"}[make]
    for read in (lambda: decode_with_detail(path, max_side=1024), lambda: upright_size(path)):
        with pytest.raises(MediaError) as caught:
            read()
        assert caught.value.reason == reason
