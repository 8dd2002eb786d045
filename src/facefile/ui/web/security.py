"""Who may use the web UI: the per-library secret, the session cookie, CSRF and host checks, headers.

A library is biometric data, so every request, reads included, needs the library's secret:

- ``<library>/web-token`` holds a random token (created 0600). ``facefile serve`` prints
  ``http://127.0.0.1:PORT/?token=...``; a request carrying the right token gets an HttpOnly,
  SameSite=Strict session cookie and is redirected to the same page without the token (so it stays
  out of the history and of any Referer). The cookie holds an HMAC of the token, not the token.
- Writes are POST only, and a POST must come with the session cookie, a form field ``csrf`` equal to
  the per-library CSRF token, and, when the browser sends them, ``Origin`` equal to this server and
  ``Sec-Fetch-Site`` same-origin. Cross-site requests carry no cookie anyway (SameSite=Strict).
- The ``Host`` header must name this server (loopback names and the port) unless remote access was
  allowed: a DNS-rebinding page then gets no answer even before the missing cookie stops it.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_FILENAME = "web-token"
TOKEN_PARAM = "token"
CSRF_FIELD = "csrf"

# Images come from this server only, scripts and styles from its /static/ files only (no inline code),
# nothing may frame the UI, and forms post back here only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Faces are personal data: nothing is kept in the browser's or any proxy's cache.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not "no-referrer": with it, browsers send "Origin: null" on form posts, and the origin check
    # below could not tell this UI from a sandboxed page. Same-origin still sends nothing elsewhere.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def library_token(folder: Path) -> str:
    """The library's web secret, created on first use (owner read/write only)."""
    path = Path(folder) / TOKEN_FILENAME
    Path(folder).mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o600)  # someone widened it: the secret may have leaked, but stop the leak
        token = path.read_text(encoding="ascii", errors="replace").strip()
        if len(token) >= 32 and token.isalnum():
            return token
        path.unlink()  # empty or mangled: make a new one
        return library_token(folder)
    token = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
    return token


@dataclass(frozen=True)
class Guard:
    """The checks every request passes, for one library's token and one listening address."""

    token: str
    allowed_hosts: frozenset[str]  # Host header values accepted; empty = any (remote access allowed)

    @classmethod
    def for_server(cls, token: str, host: str, port: int, *, allow_any_host: bool = False) -> Guard:
        names = {"127.0.0.1", "localhost", "[::1]"}
        if host not in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):
            names.add(f"[{host}]" if ":" in host else host)
        allowed = set() if allow_any_host else {f"{name}:{port}" for name in names}
        if not allow_any_host and port == 80:
            allowed |= names
        return cls(token, frozenset(allowed))

    def _mac(self, purpose: str) -> str:
        return hmac.new(self.token.encode(), purpose.encode(), hashlib.sha256).hexdigest()

    @property
    def cookie_name(self) -> str:
        # Cookies are per host, not per port: two libraries served side by side keep separate sessions.
        return "facefile_" + self._mac("cookie-name")[:12]

    @property
    def session_value(self) -> str:
        return self._mac("session-v1")

    @property
    def csrf_token(self) -> str:
        return self._mac("csrf-v1")

    def token_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    def has_session(self, request: Request) -> bool:
        return hmac.compare_digest(request.cookies.get(self.cookie_name, "").encode(), self.session_value.encode())

    def csrf_matches(self, candidate: object) -> bool:
        return isinstance(candidate, str) and hmac.compare_digest(candidate.encode(), self.csrf_token.encode())

    def host_allowed(self, request: Request) -> bool:
        return not self.allowed_hosts or request.headers.get("host", "") in self.allowed_hosts

    def same_origin(self, request: Request) -> bool:
        """A write comes from this UI: Origin (when sent) is this server, Sec-Fetch-Site (when sent)
        says same-origin. Browsers send both with every POST."""
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
            return False
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


class GuardMiddleware:
    """Host check, token login, session check, origin check for writes, security headers."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            await _with_headers(refusal)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in _LOWER_HEADERS]
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, request: Request) -> Response | None:
        guard = self.guard
        if not guard.host_allowed(request):
            return PlainTextResponse("unknown host\n", status_code=400)
        token = request.query_params.get(TOKEN_PARAM)
        if token is not None:
            if not guard.token_matches(token):
                return _denied("This link's token is not this library's. Use the link `facefile serve` printed.")
            return self._login(request)
        if not guard.has_session(request):
            return _denied("Open the link `facefile serve` printed (it carries this library's secret).")
        if request.method not in ("GET", "HEAD") and not guard.same_origin(request):
            return PlainTextResponse("cross-origin request refused\n", status_code=403)
        return None

    def _login(self, request: Request) -> Response:
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != TOKEN_PARAM]
        path = request.url.path
        if not path.startswith("/") or path.startswith(("//", "/\\")):
            path = "/"  # "//host/..." in a Location header would leave this server
        target = URL(path=path, query=urlencode(rest))
        response = RedirectResponse(str(target), status_code=303)
        response.set_cookie(
            self.guard.cookie_name, self.guard.session_value, httponly=True, samesite="strict", path="/",
            secure=request.url.scheme == "https",
        )
        return response


_LOWER_HEADERS = {k.lower() for k in SECURITY_HEADERS}


def _denied(message: str) -> Response:
    return PlainTextResponse(f"403 forbidden: {message}\n", status_code=403)


def _with_headers(response: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        response.headers[key] = value
    return response

