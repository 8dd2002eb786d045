"""decode() of every colour mode and container a photo folder holds, and of files that are not photos."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from facefile.media import MediaError, decode

WHITE = (255, 255, 255)


def pixel(path: Path, x: int = 0, y: int = 0) -> tuple[int, ...]:
    image = decode(path)
    assert image.pixels.dtype == np.uint8 and image.pixels.shape[2] == 3
    return tuple(int(v) for v in image.pixels[y, x])


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def test_cmyk_jpeg(tmp_path) -> None:
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    assert near(pixel(tmp_path / "cmyk.jpg", 20, 15), (255, 0, 0), 20)


def test_16_bit_grey_png_keeps_its_tone(tmp_path) -> None:
    Image.fromarray(np.full((20, 30), 40000, dtype=np.uint16)).save(tmp_path / "deep.png")
    assert pixel(tmp_path / "deep.png") == (156, 156, 156)  # 40000 >> 8, not clipped to white


def test_palette_with_transparency_is_composited_on_white(tmp_path) -> None:
    img = Image.new("P", (20, 10), 0)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    img.paste(1, (10, 0, 20, 10))
    img.save(tmp_path / "pal.png", transparency=0)
    assert pixel(tmp_path / "pal.png", 2, 5) == WHITE
    assert pixel(tmp_path / "pal.png", 15, 5) == (255, 0, 0)


@pytest.mark.parametrize("mode,clear,solid", [("RGBA", (9, 9, 9, 0), (0, 0, 255, 255)), ("LA", (9, 0), (50, 255))])
def test_alpha_is_composited_on_white(tmp_path, mode, clear, solid) -> None:
    img = Image.new(mode, (20, 10), clear)
    img.paste(solid, (10, 0, 20, 10))
    img.save(tmp_path / "alpha.png")
    assert pixel(tmp_path / "alpha.png", 2, 5) == WHITE
    assert pixel(tmp_path / "alpha.png", 15, 5) == ((0, 0, 255) if mode == "RGBA" else (50, 50, 50))


@pytest.mark.parametrize("mode,value,expected", [("L", 77, (77, 77, 77)), ("1", 1, WHITE)])
def test_grey_and_bilevel(tmp_path, mode, value, expected) -> None:
    Image.new(mode, (16, 8), value).save(tmp_path / "g.png")
    assert pixel(tmp_path / "g.png") == expected


def test_animated_gif_and_webp_give_the_first_frame(tmp_path) -> None:
    frames = [Image.new("RGB", (16, 16), c) for c in [(255, 0, 0), (0, 0, 255)]]
    for name in ["anim.gif", "anim.webp"]:
        frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:], duration=100, loop=0,
                       **({"lossless": True} if name.endswith("webp") else {}))
        assert near(pixel(tmp_path / name, 8, 8), (255, 0, 0)), name


def test_multipage_tiff_gives_the_first_page(tmp_path) -> None:
    pages = [Image.new("RGB", (16, 16), c) for c in [(0, 255, 0), (255, 0, 0)]]
    pages[0].save(tmp_path / "pages.tif", save_all=True, append_images=pages[1:])
    assert pixel(tmp_path / "pages.tif") == (0, 255, 0)


def test_bmp(tmp_path) -> None:
    Image.new("RGB", (12, 6), (1, 2, 3)).save(tmp_path / "x.bmp")
    assert pixel(tmp_path / "x.bmp") == (1, 2, 3)


def test_heic_round_trip(tmp_path) -> None:
    img = Image.new("RGB", (64, 48), (0, 0, 230))
    img.paste((230, 0, 0), (0, 0, 32, 24))
    pillow_heif.register_heif_opener()  # for saving; decode() registers it for reading by itself
    img.save(tmp_path / "phone.heic", quality=90)
    image = decode(tmp_path / "phone.heic")
    assert (image.width, image.height, image.format) == (64, 48, "HEIF")
    assert near(tuple(image.pixels[10, 10]), (230, 0, 0), 30)
    assert near(tuple(image.pixels[40, 50]), (0, 0, 230), 30)


# ----------------------------------------------------------------------------- files that fail


def reason(path: Path) -> str:
    with pytest.raises(MediaError) as info:
        decode(path)
    assert info.value.path == path
    return info.value.reason


def test_truncated_jpeg_raises_instead_of_returning_grey(tmp_path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    assert reason(tmp_path / "cut.jpg").startswith("truncated or corrupt image data: ")


def test_truncated_png_raises(tmp_path) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (100, 100, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    assert reason(tmp_path / "cut.png").startswith("truncated or corrupt image data: ")


def test_files_that_are_not_images(tmp_path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "noise.jpg").write_bytes(np.random.default_rng(2).bytes(4096))
    (tmp_path / "folder.jpg").mkdir()
    assert reason(tmp_path / "empty.jpg") == "empty file"
    assert reason(tmp_path / "noise.jpg") == "not an image or unsupported format"
    assert reason(tmp_path / "folder.jpg") == "is a directory"
    assert reason(tmp_path / "missing.jpg") == "file not found (deleted during scan?)"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height``, with one row's worth of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path) -> None:
    (tmp_path / "bomb.png").write_bytes(png_declaring(50000, 50000))
    assert reason(tmp_path / "bomb.png") == "image too large: 50000×50000 (2500 MP) exceeds the 250 MP limit"


def test_the_pixel_limit_is_a_parameter(tmp_path) -> None:
    Image.new("RGB", (2000, 1000)).save(tmp_path / "two_mp.png")
    with pytest.raises(MediaError, match=r"2000×1000 \(2 MP\) exceeds the 1.5 MP limit"):
        decode(tmp_path / "two_mp.png", max_pixels=1_500_000)
    assert decode(tmp_path / "two_mp.png", max_pixels=2_000_000).width == 2000
