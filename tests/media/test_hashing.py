"""hash_file(): the content identity that survives a rename and finds exact copies."""
from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from facefile.media import MediaError, hash_file


def test_same_content_same_hash_across_names_and_renames(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000  # over one read chunk
    a = tmp_path / "a.jpg"
    a.write_bytes(data)
    (tmp_path / "copy.jpg").write_bytes(data)
    before = hash_file(a)
    moved = tmp_path / "sub" / "renamed.jpg"
    moved.parent.mkdir()
    a.rename(moved)
    assert before == hash_file(moved) == hash_file(tmp_path / "copy.jpg")
    assert before == hashlib.blake2b(data, digest_size=16).hexdigest()
    assert len(before) == 32


def test_one_changed_byte_changes_the_hash(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"\x00" * 1000)
    (tmp_path / "b").write_bytes(b"\x00" * 999 + b"\x01")
    assert hash_file(tmp_path / "a") != hash_file(tmp_path / "b")


def test_missing_file_is_a_media_error_that_pickles(tmp_path: Path) -> None:
    with pytest.raises(MediaError) as info:
        hash_file(tmp_path / "gone.jpg")
    assert info.value.reason == "file not found (deleted during scan?)"
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.path, copy.reason) == (info.value.path, info.value.reason)
