"""Faces and photos: thumbnails, photo previews, the Photo page (faces boxed and named), the
Unassigned page, and the actions on selected faces (move, split, "not this person", cover).

Images are reached by numeric ids only; the library says which files belong to a face or photo.
"""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facefile.library import LibraryError
from facefile.library.review import PersonTile, PhotoWith
from facefile.media import MediaError
from facefile.ui.web.pages_people import page_number
from facefile.ui.web.thumbnails import PLACEHOLDER_SVG, face_thumbnail, photo_preview
from facefile.ui.web.web_state import int_list, person_ref, web

UNASSIGNED_PER_PAGE = 120
PHOTOS_PER_PAGE = 60


async def face_image(request: Request) -> Response:
    state = web(request)
    source = await state.call(state.lib.review.face_source, request.path_params["fid"])
    # Cut outside the library lock: decoding a photo takes a moment and reads no SQLite.
    try:
        try:
            data = await run_in_threadpool(state.thumbs.jpeg, source)
        except OSError:  # the cache folder cannot be written: serve the crop uncached
            data = await run_in_threadpool(face_thumbnail, source)
    except MediaError:  # no file of the photo can be read any more
        return Response(PLACEHOLDER_SVG, status_code=404, media_type="image/svg+xml")
    return Response(data, media_type="image/jpeg")


async def photo_image(request: Request) -> Response:
    state = web(request)
    iid = request.path_params["iid"]
    view = await state.call(state.lib.review.photo, iid)  # a 404 for an unknown photo
    if view.is_video:  # no single picture: the Photo page shows each face track's own crop
        return Response(PLACEHOLDER_SVG, status_code=404, media_type="image/svg+xml")
    files = await state.call(state.lib.review.photo_files, view.id)
    try:
        data = await run_in_threadpool(photo_preview, files)
    except MediaError:
        return Response(PLACEHOLDER_SVG, status_code=404, media_type="image/svg+xml")
    return Response(data, media_type="image/jpeg")


async def photo(request: Request) -> Response:
    state = web(request)
    view = await state.call(state.lib.review.photo, request.path_params["iid"])
    return state.render(request, "photo.html", title="Photo", nav="", photo=view)


async def add_face(request: Request) -> Response:
    """A face drawn on the photo (or its corners typed in): ``x1 y1 x2 y2`` in the photo's pixels,
    and who it is (``action`` = move: the person box; new: a new person, named ``name``)."""
    state = web(request)
    iid = request.path_params["iid"]
    form = await state.form(request)
    back = f"/photo/{iid}"
    try:
        box = tuple(float(str(form.get(k, ""))) for k in ("x1", "y1", "x2", "y2"))
    except ValueError:
        return state.done(back, "Not done: draw a box around the face first (or give its four corners).")

    def act() -> str:
        if form.get("action") == "new":
            drawn = state.lib.drawn_faces.add(iid, box, None, name=str(form.get("name", ""))[:200])
        else:
            drawn = state.lib.drawn_faces.add(iid, box, person_ref(form.get("person")))
        how = "" if drawn.embedded else " (no face could be aligned in the box: it is filed, not used for grouping)"
        return f"Face added: {state.lib.person(drawn.person_id).label}{how}"

    return await state.act(back, act)


async def photos_with(request: Request) -> Response:
    """Photos showing every chosen person (``with``, repeated: ids or "Name (#id)"), ``only=1``:
    nobody else filed in them."""
    state = web(request)
    chosen = [str(v).strip() for v in request.query_params.getlist("with") if str(v).strip()][:10]
    only = request.query_params.get("only") == "1"
    page = page_number(request)

    def load() -> tuple[list[PersonTile], list[PhotoWith], int, str | None]:
        try:
            ids = list(dict.fromkeys(state.lib.persons.resolve(person_ref(v)) for v in chosen))
        except LibraryError as exc:
            return [], [], 0, str(exc)
        tiles = state.lib.review.person_tiles(ids)
        if not ids:
            return [], [], 0, None
        found, total = state.lib.review.photos_with(
            ids, only=only, limit=PHOTOS_PER_PAGE, offset=(page - 1) * PHOTOS_PER_PAGE)
        return [tiles[i] for i in ids if i in tiles], found, total, None

    persons, found, total, error = await state.call(load)
    return state.render(
        request, "photos_with.html", title="Photos of several people", nav="photos", persons=persons,
        photos=found, total=total, only=only, error=error, page_no=page,
        pages=max(1, -(-total // PHOTOS_PER_PAGE)),
    )


async def unassigned(request: Request) -> Response:
    state = web(request)
    page = page_number(request)
    faces, total = await state.call(
        state.lib.review.unassigned_page, limit=UNASSIGNED_PER_PAGE, offset=(page - 1) * UNASSIGNED_PER_PAGE
    )
    return state.render(
        request, "unassigned.html", title="Unassigned faces", nav="unassigned", faces=faces, total=total,
        page_no=page, pages=max(1, -(-total // UNASSIGNED_PER_PAGE)),
    )


async def act_on_faces(request: Request) -> Response:
    """One form for every action on selected faces: ``action`` = move | new | reject | cover."""
    state = web(request)
    form = await state.form(request)
    faces = int_list(form.getlist("face"))
    action = form.get("action")
    back = str(form.get("back", "/"))
    if not faces:
        return state.done(back, "Select one or more faces first.")
    lib = state.lib

    def act() -> str:
        n = f"{len(faces)} face{'s' if len(faces) != 1 else ''}"
        if action == "move":
            pid = lib.persons.move_faces(faces, person_ref(form.get("person")))
            return f"{n} moved to {lib.person(pid).label}"
        if action == "new":
            pid = lib.persons.move_faces(faces, None, name=str(form.get("name", ""))[:200])
            return f"{n} moved to a new person: {lib.person(pid).label}"
        if action == "reject":
            pid = lib.persons.resolve(str(form.get("from_person", "")))
            lib.persons.reject_faces(faces, pid)
            return f"{n} marked as not {lib.person(pid).label}"
        if action == "cover":
            pid = lib.persons.resolve(str(form.get("from_person", "")))
            lib.persons.set_cover(pid, faces[0])
            return f"Face {faces[0]} is now the cover of {lib.person(pid).label}"
        raise LibraryError(f"unknown action {action!r}")

    return await state.act(back, act)


routes = [
    Route("/face/{fid:int}/thumb.jpg", face_image),
    Route("/photo/{iid:int}/image.jpg", photo_image),
    Route("/photo/{iid:int}", photo),
    Route("/photo/{iid:int}/faces", add_face, methods=["POST"]),
    Route("/photos", photos_with),
    Route("/unassigned", unassigned),
    Route("/faces/act", act_on_faces, methods=["POST"]),
]
