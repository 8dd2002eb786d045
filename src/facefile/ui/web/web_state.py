"""What every page of the People UI shares: the ``WebState`` (the library, used under a lock; the
thumbnail cache; the review session; one-shot messages) and the small request helpers.

A write's message (a ``Flash``) says whether it worked: a success of an action the history recorded
carries the id its Undo button takes back; an error (``role="alert"``, its own style) carries what
the user typed in the form that failed, so the page fills it in again, and for a person name that
names nobody the nearest names, as buttons that put one in the box. Pages get this by posting
through ``form`` and ``act``; nothing else is needed of them."""
from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from facefile.library import Library, LibraryError, PersonNotFound
from facefile.ui.web.security import CSRF_FIELD, Guard
from facefile.ui.web.thumbnails import ThumbnailCache

T = TypeVar("T")
FLASHES_KEPT = 64
KEPT_CHARS = 200  # of each typed field kept after an error
# The form posted in this request (its path and fields), for ``act`` to keep after an error:
# ``form`` and ``act`` run in one request's task, so a context variable carries it between them.
_POSTED: ContextVar[tuple[str, FormData] | None] = ContextVar("facefile_posted_form", default=None)
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Flash:
    """A one-shot message after a write. ``undo``: the history entry its Undo button takes back;
    ``form_action``/``kept``: the form that failed and what was typed in it (filled in again);
    ``suggestions``: values for its ``suggest_field`` ("Ma Tianyu (#27)")."""

    text: str
    error: bool = False
    undo: int | None = None
    form_action: str = ""
    kept: dict[str, str] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)
    suggest_field: str = ""


class WebState:
    """What the pages share: the library (one connection, used under a lock), the thumbnail cache,
    the review session (skipped questions live in memory only) and one-shot messages."""

    def __init__(self, lib: Library, guard: Guard) -> None:
        self.lib = lib
        self.guard = guard
        self.lock = threading.Lock()
        self.thumbs = ThumbnailCache(lib.folder)
        self.skipped_faces: set[int] = set()
        self.skipped_groups: set[int] = set()
        self.skipped_merges: set[tuple[int, int]] = set()
        self._flashes: OrderedDict[str, Flash] = OrderedDict()
        package = resources.files("facefile.ui.web")
        self.templates = Environment(
            loader=FileSystemLoader(str(package / "templates")), autoescape=select_autoescape(["html"]),
            trim_blocks=True, lstrip_blocks=True,
        )
        # Static files are read once into memory and served by name from this dict: no path from a
        # request ever reaches the file system.
        self.static = {
            entry.name: (entry.read_bytes(), _STATIC_TYPES[Path(entry.name).suffix])
            for entry in (package / "static").iterdir()
            if Path(entry.name).suffix in _STATIC_TYPES
        }

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a library call in a worker thread, one at a time (one SQLite connection)."""

        def locked() -> T:
            with self.lock:
                return fn(*args, **kwargs)

        return await run_in_threadpool(locked)

    async def form(self, request: Request) -> FormData:
        """The posted form, after the CSRF check (the origin was checked by the middleware)."""
        form = await request.form()
        if not self.guard.csrf_matches(form.get(CSRF_FIELD)):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")
        _POSTED.set((request.url.path, form))
        return form

    async def act(self, back: str, fn: Callable[[], str | tuple[str, str]]) -> RedirectResponse:
        """Run a write (``fn`` returns the message, or the message and the page to go to) and
        redirect; a ``LibraryError`` (unknown person, ...) is shown as an error on the page it came
        from, with what was typed. A success that the history recorded offers its Undo."""
        history = self.lib.history

        def run() -> tuple[str | tuple[str, str], int | None]:
            before = history.last_id()
            result = fn()
            recorded = history.recorded_since(before)
            return result, None if recorded is None else recorded.id

        try:
            result, entry = await self.call(run)
        except LibraryError as exc:
            return self.done(back, self.error(exc))
        message, target = (result, back) if isinstance(result, str) else result
        return self.done(target, Flash(message, undo=entry))

    def error(self, exc: LibraryError) -> Flash:
        """The message of a failed write, keeping what was typed in the form this request posted."""
        posted = _POSTED.get()
        action, kept = "", {}
        if posted is not None:
            action = posted[0]
            kept = {
                name: value[:KEPT_CHARS] for name, value in posted[1].multi_items()
                if isinstance(value, str) and name != CSRF_FIELD and len(posted[1].getlist(name)) == 1
            }
        suggestions, target = [], ""
        if isinstance(exc, PersonNotFound):
            suggestions = exc.suggestion_texts()
            typed = exc.typed.casefold()
            target = next((n for n, v in kept.items() if v.strip().casefold() in (typed, f"#{typed}") or
                           _ref(v).casefold() == typed), "")
        return Flash(f"Not done: {exc}", error=True, form_action=action, kept=kept,
                     suggestions=suggestions, suggest_field=target)

    def flash(self, message: str | Flash) -> str:
        key = secrets.token_urlsafe(8)
        self._flashes[key] = message if isinstance(message, Flash) else Flash(message)
        while len(self._flashes) > FLASHES_KEPT:
            self._flashes.popitem(last=False)
        return key

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        flash = self._flashes.pop(request.query_params.get("msg", ""), None)
        html = self.templates.get_template(template).render(
            request=request, csrf=self.guard.csrf_token, csrf_field=CSRF_FIELD, flash=flash,
            message=flash.text if flash else None, here=safe_back(str(request.url.path) + (
                f"?{request.url.query}" if request.url.query else "")), **context
        )
        return HTMLResponse(html, status_code=status_code)

    def done(self, back: str, message: str | Flash) -> RedirectResponse:
        """After a write: back to a page of this app, which shows ``message`` once."""
        target = safe_back(back)
        joiner = "&" if "?" in target else "?"
        return RedirectResponse(f"{target}{joiner}msg={self.flash(message)}", status_code=303)


# Query strings of this app: letters, digits and URL punctuation ("+" is a space in a query).
_LOCAL_PATH = re.compile(r"^/(?![/\\])[A-Za-z0-9/_\-.?=&%#+,]*$")


def safe_back(back: str | None) -> str:
    """A redirect target taken from a form: a path of this server, or the People page."""
    back = re.sub(r"([?&])msg=[^&]*&?", r"\1", back or "").rstrip("?&")
    return back if back and _LOCAL_PATH.match(back) else "/"


def web(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


def person_ref(text: object) -> str:
    """What a person box holds, as ``lib.persons.resolve`` takes it: "Anna Smith (#12)" -> "12"."""
    value = _ref(str(text or ""))
    if not value:
        raise LibraryError("choose a person")
    return value


def _ref(value: str) -> str:
    value = value.strip()
    match = re.search(r"#(\d+)\)?$", value)
    return match[1] if match else value


def int_list(values: list[Any]) -> list[int]:
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise HTTPException(400, "face ids must be numbers") from exc


