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
