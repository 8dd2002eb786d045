"""discover(): which files a scan sees, in which order, and what it survives."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from facefile.media import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, MediaError, discover, is_image_name


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def found(root: Path, **kwargs) -> list[str]:
    return [p.path.relative_to(root).as_posix() for p in discover(root, **kwargs)]


def test_finds_images_recursively_by_extension_any_case(tmp_path: Path) -> None:
    for name in ["a.jpg", "b.JPEG", "c.png", "d.WebP", "e.heic", "f.HEIF", "g.tif", "h.tiff", "i.bmp",
                 "sub/deeper/j.Jpg", "notes.txt", "clip.mp4", "raw.cr2", "noext"]:
        touch(tmp_path / name)
    assert found(tmp_path) == [
        "a.jpg", "b.JPEG", "c.png", "d.WebP", "e.heic", "f.HEIF", "g.tif", "h.tiff", "i.bmp",
        "raw.cr2", "sub/deeper/j.Jpg",  # camera RAW too (media/raw.py)
    ]


def test_order_is_sorted_paths_and_repeatable(tmp_path: Path) -> None:
    for name in ["b/1.jpg", "a.jpg", "a b/x.jpg", "a/z.jpg", "a/b/c.jpg", "a-b.jpg", "B.jpg", "c.jpg"]:
        touch(tmp_path / name)
    paths = [p.path for p in discover(tmp_path)]
    assert paths == sorted(paths)
    assert paths == [p.path for p in discover(tmp_path)]
    assert len(paths) == 8


def test_reports_size_and_mtime_from_the_listing(tmp_path: Path) -> None:
    photo = touch(tmp_path / "a.jpg", b"12345")
    os.utime(photo, ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    (item,) = discover(tmp_path)
    assert (item.path, item.size, item.mtime_ns) == (photo, 5, 1_600_000_000_123_456_789)


def test_skips_hidden_files_and_folders_and_the_skip_folder(tmp_path: Path) -> None:
    touch(tmp_path / ".hidden.jpg")
    touch(tmp_path / ".thumbnails" / "t.jpg")
    touch(tmp_path / ".facefile" / "crops" / "face.jpg")
    touch(tmp_path / "library" / "thumb.jpg")
    touch(tmp_path / "keep.jpg")
    assert found(tmp_path, skip=[tmp_path / "library"]) == ["keep.jpg"]


def test_skip_matches_through_symlinks_and_a_missing_skip_folder_is_fine(tmp_path: Path) -> None:
    touch(tmp_path / "lib" / "thumb.jpg")
    touch(tmp_path / "keep.jpg")
    (tmp_path / "lib-link").symlink_to(tmp_path / "lib")
    assert found(tmp_path, skip=[tmp_path / "lib-link", tmp_path / "not-there"]) == ["keep.jpg"]


def test_a_folder_named_like_an_image_is_walked_not_listed(tmp_path: Path) -> None:
    touch(tmp_path / "album.jpg" / "inside.png")
    assert found(tmp_path) == ["album.jpg/inside.png"]


def test_symlink_loops_end_and_each_real_folder_is_listed_once(tmp_path: Path) -> None:
    touch(tmp_path / "a" / "photo.jpg")
    (tmp_path / "a" / "loop").symlink_to(tmp_path)  # a/loop -> root
    (tmp_path / "a" / "self").symlink_to(".")  # a/self -> a
    (tmp_path / "z-alias").symlink_to(tmp_path / "a")  # a second way into a/
    assert found(tmp_path) == ["a/photo.jpg"]


def test_follows_a_symlink_to_a_folder_outside_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    touch(outside / "o.jpg")
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(outside)
    assert found(root) == ["linked/o.jpg"]


def test_broken_symlinks_are_skipped_and_file_symlinks_are_listed(tmp_path: Path) -> None:
    (tmp_path / "broken.jpg").symlink_to(tmp_path / "missing.jpg")
    (tmp_path / "broken-dir").symlink_to(tmp_path / "missing-dir")
    target = touch(tmp_path / "real" / "r.png", b"abc")
    (tmp_path / "alias.png").symlink_to(target)
    items = list(discover(tmp_path))
    assert [p.path.name for p in items] == ["alias.png", "r.png"]
    assert items[0].size == 3  # the target's size, not the link's


def test_a_fifo_named_like_a_photo_is_not_listed(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jpg")
    assert found(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_folder_is_reported_and_discovery_goes_on(tmp_path: Path) -> None:
    touch(tmp_path / "a.jpg")
    locked = tmp_path / "locked"
    touch(locked / "secret.jpg")
    touch(tmp_path / "z" / "later.jpg")
    errors: list[tuple[Path, str]] = []
    locked.chmod(0)
    try:
        result = found(tmp_path, on_error=lambda p, r: errors.append((p, r)))
    finally:
        locked.chmod(0o755)
    assert result == ["a.jpg", "z/later.jpg"]
    assert errors == [(locked, "permission denied")]


def test_an_unreadable_folder_is_logged_without_a_callback(tmp_path: Path, caplog, monkeypatch) -> None:
    touch(tmp_path / "sub" / "a.jpg")
    real_scandir = os.scandir

    def failing_scandir(path):
        if str(path).endswith("sub"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", failing_scandir)
    assert found(tmp_path) == []
    assert "permission denied" in caplog.text


def test_non_utf8_names_are_listed(tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.jpg")
    touch(tmp_path / name)
    assert found(tmp_path) == [name]


def test_a_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="folder not found"):
        list(discover(tmp_path / "nope"))


def test_extension_constants_and_name_check() -> None:
    assert ".jpg" in IMAGE_EXTENSIONS and ".mov" in VIDEO_EXTENSIONS
    assert not IMAGE_EXTENSIONS & VIDEO_EXTENSIONS
    assert is_image_name("IMG_1.HEIC") and not is_image_name(".IMG_1.jpg") and not is_image_name("a.mp4")


def test_nas_thumbnail_folders_are_skipped(tmp_path: Path) -> None:
    touch(tmp_path / "2020" / "a.jpg")
    touch(tmp_path / "2020" / "@eaDir" / "a.jpg" / "SYNOPHOTO_THUMB_XL.jpg")
    assert found(tmp_path) == ["2020/a.jpg"]
