"""The People UI: a Starlette app over one ``Library``, rendered server-side with Jinja templates.

    app = create_app(Path("photos/.facefile"))          # uvicorn.run(app, port=8765)

Pages are thin: parse the request, call ``Library``, render. Every write is a POST that the
library stores (one transaction) before the answer redirects to a page saying it is done.
Security (token, cookie, CSRF, host and origin checks, headers) is ``security.py``.
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from facefile.library import Library, LibraryError
from facefile.ui.web import (
    pages_birthdays,
    pages_history,
    pages_people,
    pages_photos,
    pages_review,
    pages_status,
)
from facefile.ui.web.security import Guard, GuardMiddleware, library_token
from facefile.ui.web.web_state import WebState, web


async def static_file(request: Request) -> Response:
    found = web(request).static.get(request.path_params["name"])
    if found is None:
        raise HTTPException(404, "no such file")
    return Response(found[0], media_type=found[1])


async def _library_error(request: Request, exc: Exception) -> Response:
    return web(request).render(request, "error.html", status_code=404, error=str(exc), title="Not found")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return PlainTextResponse(f"{exc.status_code}: {exc.detail}\n", status_code=exc.status_code)


def create_app(
    library_folder: Path, *, host: str = "127.0.0.1", port: int = 8765, allow_any_host: bool = False,
    token: str | None = None,
) -> Starlette:
    """The web app for the library in ``library_folder`` (which must exist), as served on
    ``host:port`` (the Host header is checked against it unless ``allow_any_host``)."""
    lib = Library.open(library_folder)
    guard = Guard.for_server(token or library_token(lib.folder), host, port, allow_any_host=allow_any_host)
    routes = [
        *pages_people.routes, *pages_review.routes, *pages_photos.routes, *pages_status.routes,
        *pages_birthdays.routes, *pages_history.routes,
        Route("/static/{name}", static_file),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        lib.close()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(GuardMiddleware, guard=guard)],
        exception_handlers={LibraryError: _library_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.web = WebState(lib, guard)
    return app
