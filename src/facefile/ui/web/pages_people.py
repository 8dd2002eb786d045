"""People and Person pages: the grid of persons, one person's faces by date, and the person's actions
(rename, hide, merge into another, cover face)."""
from __future__ import annotations

from itertools import groupby
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from facefile.library import LibraryError
from facefile.library.review import PEOPLE_SORTS, FaceTile, PersonTile
from facefile.ui.web.web_state import person_ref, web

PERSONS_PER_PAGE = 60
FACES_PER_PAGE = 240


def page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


async def people(request: Request) -> Response:
    state = web(request)
    params = request.query_params
    sort = params.get("sort", "faces") if params.get("sort") in PEOPLE_SORTS else "faces"
    query = params.get("q", "").strip()[:100]
    hidden = params.get("hidden") == "1"
    page = page_number(request)
    found = await state.call(
        state.lib.review.people_page, sort=sort, query=query, include_hidden=hidden,
        limit=PERSONS_PER_PAGE, offset=(page - 1) * PERSONS_PER_PAGE,
    )
    pages = max(1, -(-found.total // PERSONS_PER_PAGE))
    return state.render(
        request, "people.html", title="People", nav="people", page=found, sort=sort, sorts=PEOPLE_SORTS,
        query=query, hidden=hidden, page_no=page, pages=pages,
    )


async def person(request: Request) -> Response:
    state = web(request)
    pid = request.path_params["pid"]
    page = page_number(request)

    def load() -> tuple[PersonTile | None, list[FaceTile], int]:
        tile = state.lib.review.person_tiles([pid]).get(pid)
        if tile is None:
            return None, [], 0
        faces, total = state.lib.review.person_faces(pid, limit=FACES_PER_PAGE, offset=(page - 1) * FACES_PER_PAGE)
        return tile, faces, total

    tile, faces, total = await state.call(load)
    if tile is None:
        if "msg" in request.query_params:  # the action just done emptied this person: say so on People
            return RedirectResponse("/?" + urlencode({"msg": request.query_params["msg"]}), status_code=303)
        raise LibraryError(f"no person with id {pid}")
    # Photos by date: one heading per day, the faces of each photo side by side under it.
    by_date = [
        (day, [(photo, list(in_photo)) for photo, in_photo in groupby(list(on_day), key=lambda f: f.image_id)])
        for day, on_day in groupby(faces, key=lambda f: (f.taken_at or "")[:10] or "date unknown")
    ]
    return state.render(
        request, "person.html", title=tile.label, nav="people", person=tile, by_date=by_date, total=total,
        page_no=page, pages=max(1, -(-total // FACES_PER_PAGE)),
    )


async def rename(request: Request) -> Response:
    state = web(request)
    pid = request.path_params["pid"]
    form = await state.form(request)
    return await state.act(
        f"/person/{pid}", lambda: f"Renamed: {state.lib.persons.name(pid, str(form.get('name', ''))[:200]).label}"
    )


async def hide(request: Request) -> Response:
    state = web(request)
    pid = request.path_params["pid"]
    form = await state.form(request)

    def act() -> str:
        tile = state.lib.persons.hide(pid, form.get("hidden") == "1")
        return f"{tile.label} is {'hidden' if tile.hidden else 'shown again'}"

    return await state.act(f"/person/{pid}", act)


async def merge(request: Request) -> Response:
    state = web(request)
    pid = request.path_params["pid"]
    form = await state.form(request)

    def act() -> tuple[str, str]:
        target = state.lib.persons.resolve(person_ref(form.get("into")))
        before = state.lib.person(pid).label
        merged = state.lib.persons.merge(target, pid)
        return f"Merged {before} into {merged.label}: {merged.faces} faces", f"/person/{target}"

    return await state.act(f"/person/{pid}", act)


async def search(request: Request) -> Response:
    """Person suggestions for the search boxes (merge into, move to)."""
    state = web(request)
    found = await state.call(state.lib.review.search_persons, request.query_params.get("q", "")[:100], 12)
    return JSONResponse([
        {"id": p.id, "label": p.label, "faces": p.faces, "hidden": p.hidden, "value": f"{p.label} (#{p.id})"}
        for p in found
    ])


routes = [
    Route("/", people),
    Route("/person/{pid:int}", person),
    Route("/person/{pid:int}/name", rename, methods=["POST"]),
    Route("/person/{pid:int}/hide", hide, methods=["POST"]),
    Route("/person/{pid:int}/merge", merge, methods=["POST"]),
    Route("/api/persons", search),
]
