"""History: the recent user actions, each with its Undo, and the Undo of the message banner.

Undo is a stack: undoing an older action first undoes the later ones (they may build on it), so
its button says how many go with it and asks before."""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facefile.library.action_history import HistoryEntry
from facefile.ui.web.web_state import web

HISTORY_SHOWN = 100


async def history(request: Request) -> Response:
    state = web(request)
    entries: list[HistoryEntry] = await state.call(state.lib.history.recent, HISTORY_SHOWN)
    # For each action not undone: how many later actions an Undo of it takes back too.
    later: dict[int, int] = {}
    for entry in entries:  # newest first
        if not entry.undone:
            later[entry.id] = len(later)
    return state.render(request, "history.html", title="History", nav="history", entries=entries, later=later)


async def undo(request: Request) -> Response:
    state = web(request)
    form = await state.form(request)
    raw = str(form.get("entry", "")).strip()
    if raw and not raw.isdigit():
        raise HTTPException(400, "the action to undo is a number")
    entry = int(raw) if raw else None
    return await state.act(str(form.get("back", "") or "/history"), lambda: state.lib.history.undo(entry).message)


routes = [
    Route("/history", history),
    Route("/undo", undo, methods=["POST"]),
]
