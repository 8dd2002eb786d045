"""Web UI fixtures: small synthetic libraries (no photos, no models) and a logged-in test client."""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # Starlette asks for `httpx2` in its test client; `httpx` (the dev dependency) still works.
    warnings.simplefilter("ignore")
    from facefile_bench.ui_bench import BASE_URL, logged_in_client, synthetic_library
    from starlette.testclient import TestClient

from facefile.library import Library
from facefile.ui.web.app import create_app
from facefile.ui.web.security import CSRF_FIELD, library_token

__all__ = ["BASE_URL", "TestClient", "csrf_of", "post"]


@pytest.fixture
def small_library(tmp_path: Path) -> Path:
    """30 persons of 3 faces (photos of one face each), built through the real store."""
    folder = tmp_path / "photos" / ".facefile"
    synthetic_library(folder, persons=30, faint=0).close()
    return folder


@pytest.fixture
def client(small_library: Path) -> Iterator[TestClient]:
    app = create_app(small_library)
    yield logged_in_client(app, library_token(small_library))
    app.state.web.lib.close()


@pytest.fixture
def lib(small_library: Path) -> Iterator[Library]:
    """A second connection to the same library: what the database holds, whatever the app says."""
    with Library.open(small_library) as library:
        yield library


def csrf_of(client: TestClient) -> str:
    return client.app.state.web.guard.csrf_token  # type: ignore[attr-defined,no-any-return]


def post(client: TestClient, url: str, data: dict, **kwargs: object):  # type: ignore[no-untyped-def]
    """A same-origin form POST, as the browser sends it."""
    return client.post(url, data={CSRF_FIELD: csrf_of(client), **data}, headers={"origin": BASE_URL}, **kwargs)
