"""People and Person pages: the grid of persons, one person's faces by month, and the person's actions
(rename, hide, merge into another, cover face)."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from itertools import groupby
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from facefile.library import LibraryError
from facefile.library.review import PEOPLE_SORTS, FaceTile, PersonTile
from facefile.ui.web.web_state import person_ref, web

PERSONS_PER_PAGE = 60
# One page of a person's faces: the first screen (and a few more rows) at any width; the page's script
# loads the next page as the last row comes near (the links work without it). 240 fills 2 to 12 columns.
FACES_PER_PAGE = 240


@dataclass(frozen=True)
class FaceMonth:
    """The faces of one month on a page of the person page, under one heading."""

    key: str  # "2014-03"; "" when the photos have no date
    label: str  # "March 2014"
    count: int  # all the person's faces of this month, on this page or another
    faces: list[FaceTile]


def face_months(faces: list[FaceTile], counts: dict[str, int]) -> list[FaceMonth]:
    """``faces`` (in date order) under one heading per month: a family's photos are spread over
    years, and a heading per day left one or two faces a row."""
    months = []
    for key, in_month in groupby(faces, key=lambda f: (f.taken_at or "")[:7]):
        tiles = list(in_month)
        months.append(FaceMonth(key, month_label(key), counts.get(key, len(tiles)), tiles))
    return months


def month_label(key: str) -> str:
    """ "2014-03" -> "March 2014"; what is no month -> "Date unknown"."""
    year, _, month = key.partition("-")
    if year.isdigit() and month.isdigit() and 1 <= int(month) <= 12:
        return f"{calendar.month_name[int(month)]} {year}"
    return "Date unknown"


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

    def load() -> tuple[PersonTile | None, list[FaceMonth], int]:
        tile = state.lib.review.person_tiles([pid]).get(pid)
        if tile is None:
            return None, [], 0
        faces, total = state.lib.review.person_faces(pid, limit=FACES_PER_PAGE, offset=(page - 1) * FACES_PER_PAGE)
        return tile, face_months(faces, dict(state.lib.review.person_months(pid))), total

    tile, months, total = await state.call(load)
    if tile is None:
        survivor = await state.call(state.lib.persons.merged_into, pid)
        if survivor is not None:  # merged: an old link leads to the person it joined
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/person/{survivor}{query}", status_code=303)
        if "msg" in request.query_params:  # the action just done emptied this person: say so on People
            return RedirectResponse("/?" + urlencode({"msg": request.query_params["msg"]}), status_code=303)
        raise LibraryError(f"no person with id {pid}")
    return state.render(
        request, "person.html", title=tile.label, nav="people", person=tile, months=months, total=total,
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
