"""Apple's Live Photo identifier, read from a real HEIC's maker note and a real QuickTime clip, and
the check that a clip named like a still really is its motion."""
from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pillow_heif
import pytest
from PIL import Image

from facefile.media.live_photo import MAX_MOTION_S, clip_identifier, live_identity, still_identifier
from facefile.pipeline.shot_plan import CompanionTask, companion_result
from facefile.pipeline.workers import FileTask


def apple_maker_note(identifier: str, order: str = ">") -> bytes:
    """An Apple maker note as an iPhone writes it, with the identifier at tag 0x11."""
    value = identifier.encode() + b"\x00"
    mark = b"MM" if order == ">" else b"II"
    ifd = struct.pack(order + "HHHII", 1, 0x11, 2, len(value), 32) + bytes(4)
    return b"Apple iOS\x00\x00\x01" + mark + ifd + value


def still(path: Path, identifier: str | None) -> Path:
    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    if identifier is not None:
        exif.get_ifd(0x8769)[0x927C] = apple_maker_note(identifier)
    Image.new("RGB", (64, 48), "red").save(path, exif=exif.tobytes())
    return path


def clip(path: Path, identifier: str | None, seconds: float = 2.0) -> Path:
    out = av.open(str(path), "w", options={"movflags": "use_metadata_tags"})
    if identifier is not None:
        out.metadata["com.apple.quicktime.content.identifier"] = identifier
    stream = out.add_stream("mpeg4", rate=10)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    for i in range(int(seconds * 10)):
        frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i % 255, np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return path


@pytest.mark.parametrize("suffix", [".heic", ".jpg"])
def test_the_identifier_of_a_still_is_read_from_its_apple_maker_note(tmp_path: Path, suffix: str) -> None:
    assert still_identifier(still(tmp_path / f"IMG_1{suffix}", "5D2A-11")) == "5D2A-11"
    assert live_identity(tmp_path / f"IMG_1{suffix}") == ("5D2A-11", "still")
    assert still_identifier(still(tmp_path / f"IMG_2{suffix}", None)) is None
    assert live_identity(tmp_path / f"IMG_2{suffix}") == (None, None)


def test_a_broken_still_has_no_identifier(tmp_path: Path) -> None:
    (tmp_path / "IMG_1.HEIC").write_bytes(b"not a photo")
    assert still_identifier(tmp_path / "IMG_1.HEIC") is None


def test_the_identifier_and_length_of_a_clip(tmp_path: Path) -> None:
    ident, seconds = clip_identifier(clip(tmp_path / "IMG_1.MOV", "5D2A-11"))
    assert ident == "5D2A-11" and seconds == pytest.approx(2.0, abs=0.3)
    assert live_identity(tmp_path / "IMG_1.MOV") == ("5D2A-11", "clip")
    assert clip_identifier(tmp_path / "missing.mov") == (None, None)


def companion(tmp_path: Path, still_id: str | None, clip_id: str | None, seconds: float = 2.0):  # noqa: ANN201
    primary = still(tmp_path / "IMG_1.HEIC", still_id)
    motion = clip(tmp_path / "IMG_1.MOV", clip_id, seconds)
    task = FileTask(str(motion), "IMG_1.MOV", motion.stat().st_size, motion.stat().st_mtime_ns)
    return companion_result(CompanionTask(task, "IMG_1.HEIC", str(primary), stored_alone=False))


def test_a_clip_with_its_stills_identifier_is_its_motion(tmp_path: Path) -> None:
    result = companion(tmp_path, "5D2A-11", "5D2A-11")
    assert result is not None and result.companion_of == "IMG_1.HEIC" and result.live_id == "5D2A-11"


def test_a_clip_named_like_a_still_but_of_another_moment_is_a_video_of_its_own(tmp_path: Path) -> None:
    assert companion(tmp_path, "5D2A-11", "77EE-02") is None


def test_a_long_clip_is_never_a_stills_motion(tmp_path: Path) -> None:
    assert companion(tmp_path, None, None, seconds=MAX_MOTION_S + 3) is None


def test_the_scans_decode_reads_the_identifier_with_the_photo(tmp_path: Path) -> None:
    from facefile.media import decode_with_detail

    image, _fine = decode_with_detail(still(tmp_path / "IMG_1.HEIC", "5D2A-11"), max_side=32)
    assert image.live_id == "5D2A-11"
    image, _fine = decode_with_detail(still(tmp_path / "IMG_2.jpg", None), max_side=32)
    assert image.live_id is None


def test_a_scanned_still_carries_its_identifier_to_the_library(tmp_path: Path) -> None:
    from facefile.pipeline.workers import init_worker, process_file

    init_worker("opencv", frozenset(), 256, in_pool=False)
    path = still(tmp_path / "IMG_1.HEIC", "5D2A-11")
    result = process_file(FileTask(str(path), "IMG_1.HEIC", path.stat().st_size, path.stat().st_mtime_ns))
    assert result.error is None and (result.live_id, result.live_role) == ("5D2A-11", "still")
