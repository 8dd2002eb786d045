"""The UI guards biometric data: token login, cookie, CSRF, origin and host checks, no paths from
requests, headers. Every refused write is checked against the database too."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from facefile.library import Library
from facefile.ui.cli.main import main
from facefile.ui.web.app import create_app
from facefile.ui.web.security import CONTENT_SECURITY_POLICY, TOKEN_FILENAME, library_token
from facefile.ui.web.web_state import safe_back
from tests.support.database import sql

from .conftest import BASE_URL, TestClient, csrf_of, post


def anonymous(folder: Path) -> TestClient:
    return TestClient(create_app(folder), base_url=BASE_URL)


def names(lib: Library) -> set[str]:
    return {r[0] for r in sql(lib).execute("SELECT name FROM persons WHERE name IS NOT NULL")}


def test_token_file_is_private_and_stable(tmp_path: Path) -> None:
    token = library_token(tmp_path)
    path = tmp_path / TOKEN_FILENAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(token) == 64
    path.chmod(0o644)
    assert library_token(tmp_path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("short")
    assert library_token(tmp_path) not in (token, "short")


@pytest.mark.parametrize("url", ["/", "/person/1", "/face/1/thumb.jpg", "/photo/1/image.jpg", "/api/persons?q=",
                                 "/api/status", "/static/app.js"])
def test_every_read_needs_the_session(small_library: Path, url: str) -> None:
    response = anonymous(small_library).get(url)
    assert response.status_code == 403 and "facefile serve" in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_token_login_sets_a_strict_http_only_cookie_and_drops_the_token(small_library: Path) -> None:
    client = anonymous(small_library)
    assert client.get("/?token=" + "0" * 64).status_code == 403
    response = client.get(f"/person/1?token={library_token(small_library)}&page=2", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/person/1?page=2"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and library_token(small_library) not in cookie
    assert client.get("/").status_code == 200
    escape = client.get(f"{BASE_URL}//evil.example/x?token={library_token(small_library)}", follow_redirects=False)
    assert escape.headers["location"] == "/"


def test_writes_without_session_or_csrf_or_from_another_origin_are_refused(client: TestClient, lib: Library) -> None:
    csrf = csrf_of(client)
    attempts = [
        # no CSRF field, a wrong one
        client.post("/person/1/name", data={"name": "Eve"}, headers={"origin": BASE_URL}),
        client.post("/person/1/name", data={"name": "Eve", "csrf": "x" * 64}, headers={"origin": BASE_URL}),
        # right CSRF, but posted by another site
        client.post("/person/1/name", data={"name": "Eve", "csrf": csrf}, headers={"origin": "http://evil.example"}),
        client.post("/person/1/name", data={"name": "Eve", "csrf": csrf},
                    headers={"origin": BASE_URL, "sec-fetch-site": "cross-site"}),
        # a GET never writes
        client.get("/person/1/name?name=Eve&csrf=" + csrf),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403, 403, 405]
    # no session cookie at all
    stranger = TestClient(client.app, base_url=BASE_URL)
    assert stranger.post("/person/1/name", data={"name": "Eve", "csrf": csrf}).status_code == 403
    assert "Eve" not in names(lib)
    assert post(client, "/person/1/name", {"name": "Anna"}).status_code == 200
    assert "Anna" in names(lib)


def test_a_foreign_host_header_is_refused(client: TestClient) -> None:
    # DNS rebinding: a page at evil.example resolving to 127.0.0.1 sends Host: evil.example.
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


@pytest.mark.parametrize("url", [
    "/face/..%2F..%2F..%2Fetc%2Fpasswd/thumb.jpg",
    "/face/1/../../etc/passwd",
    "/photo/%2Fetc%2Fpasswd/image.jpg",
    "/photo/1%2F..%2F..%2Flibrary.db/image.jpg",
    "/static/..%2Fsecurity.py",
    "/static/../app.py",
    "/static/%2E%2E/web-token",
    "/static/app.js%00.py",
    "/..%2F..%2F..%2Fetc%2Fpasswd",
    "/library.db",
    "/web-token",
    "/thumbs/000/1-abc.jpg",
])
def test_no_path_from_a_request_reaches_the_file_system(client: TestClient, small_library: Path, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    token = library_token(small_library)
    assert b"root:" not in response.content and token.encode() not in response.content
    assert b"SQLite format" not in response.content and b"import" not in response.content


def test_unknown_ids_are_404s(client: TestClient) -> None:
    assert client.get("/face/999999/thumb.jpg").status_code == 404
    assert client.get("/photo/999999/image.jpg").status_code == 404
    assert client.get("/person/999999").status_code == 404


def test_redirects_after_writes_stay_on_this_server(client: TestClient) -> None:
    for back in ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"]:
        assert safe_back(back) == "/"
        response = post(client, "/faces/act", {"face": "1", "action": "new", "back": back}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/?msg=")
    assert safe_back("/person/3?page=2&msg=abc") == "/person/3?page=2"


def test_pages_and_images_are_not_cached_and_have_a_strict_policy(client: TestClient) -> None:
    for url in ["/", "/review", "/face/1/thumb.jpg", "/api/status", "/static/app.css"]:
        headers = client.get(url).headers
        assert headers["cache-control"] == "no-store"
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY


def test_serve_stays_on_loopback_unless_told(small_library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[dict] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: started.append(kwargs))
    runner = CliRunner()
    refused = runner.invoke(main, ["serve", "--library", str(small_library), "--host", "0.0.0.0"])
    assert refused.exit_code == 1 and "--allow-remote" in refused.output and not started

    local = runner.invoke(main, ["serve", "--library", str(small_library), "--port", "8799"])
    assert local.exit_code == 0, local.output
    assert f"http://127.0.0.1:8799/?token={library_token(small_library)}" in local.output
    assert started[-1]["host"] == "127.0.0.1" and "Warning" not in local.output

    remote = runner.invoke(main, ["serve", "--library", str(small_library), "--host", "0.0.0.0", "--allow-remote"])
    assert remote.exit_code == 0 and "Warning" in remote.output and started[-1]["host"] == "0.0.0.0"


def test_serve_needs_an_existing_library(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--library", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no library" in result.output
