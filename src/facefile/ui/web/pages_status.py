"""Scan status (live while a scan runs, maybe in another process), the errors list, re-grouping."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from facefile.ui.web.web_state import web


async def status(request: Request) -> Response:
    state = web(request)
    lib = state.lib

    def load() -> dict[str, Any]:
        return {"status": lib.review.scan_status(), "stats": lib.stats(), "needs_recluster": lib.needs_recluster()}

    context = await state.call(load)
    return state.render(request, "status.html", title="Scan status", nav="status", **context)


async def status_json(request: Request) -> Response:
    """Polled by the status page every second while a scan runs."""
    state = web(request)
    current = await state.call(state.lib.review.scan_status)
    return JSONResponse(current.as_dict())


async def errors(request: Request) -> Response:
    state = web(request)
    found = await state.call(state.lib.errors)
    return state.render(request, "errors.html", title="Errors", nav="errors", errors=found)


async def recluster(request: Request) -> Response:
    state = web(request)
    await state.form(request)
    return await state.act("/status", lambda: f"Re-grouped: {state.lib.recluster()} persons (your decisions kept)")


routes = [
    Route("/status", status),
    Route("/api/status", status_json),
    Route("/errors", errors),
    Route("/recluster", recluster, methods=["POST"]),
]
