"""Review: one question at a time ("is this Anna?"), groups of look-alike unassigned faces, and
"are these the same person?". Yes and No are stored as constraints (confirm / reject / merge /
dismiss); Skip only passes the question over for this session of the server."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facefile.library import LibraryError
from facefile.ui.web.web_state import int_list, person_ref, web

SAMPLE_FACES = 8  # faces shown of a suggested person, so "is this Anna?" shows who Anna is


async def review(request: Request) -> Response:
    state = web(request)
    lib = state.lib

    def load() -> dict:  # type: ignore[type-arg]
        suggestion = lib.review.next_suggestion(state.skipped_faces)
        if suggestion is None:
            return {"suggestion": None}
        tiles = lib.review.person_tiles(m.person_id for m in suggestion.matches)
        best = suggestion.matches[0].person_id
        return {
            "suggestion": suggestion, "tiles": tiles, "image_id": lib.review.face_source(suggestion.face_id).image_id,
            "samples": lib.review.person_faces(best, limit=SAMPLE_FACES)[0],
        }

    context = await state.call(load)
    return state.render(request, "review.html", title="Review", nav="review", tab="faces", **context)


async def answer(request: Request) -> Response:
    state = web(request)
    form = await state.form(request)
    face, person, reply = int_list([form.get("face")])[0], str(form.get("person", "")), form.get("answer")
    lib = state.lib

    def act() -> str:
        pid = lib.persons.resolve(person)
        label = lib.person(pid).label
        if reply == "yes":
            lib.persons.confirm(face, pid)
            return f"Face {face} is {label}"
        if reply == "no":
            lib.persons.reject(face, pid)
            return f"Face {face} is not {label}"
        if reply == "skip":
            state.skipped_faces.add(face)
            return f"Skipped face {face}"
        raise LibraryError(f"unknown answer {reply!r}")

    return await state.act("/review", act)


async def groups(request: Request) -> Response:
    state = web(request)
    lib = state.lib

    def load() -> dict:  # type: ignore[type-arg]
        group = lib.review.next_face_group(state.skipped_groups)
        if group is None:
            return {"group": None}
        return {"group": group, "tiles": lib.review.person_tiles(m.person_id for m in group.matches)}

    context = await state.call(load)
    return state.render(request, "review_groups.html", title="Review groups", nav="review", tab="groups", **context)


async def answer_group(request: Request) -> Response:
    state = web(request)
    form = await state.form(request)
    chosen, everyone = int_list(form.getlist("face")), int_list(form.getlist("all"))
    action = form.get("action")
    lib = state.lib

    def act() -> str:
        if action == "skip":
            state.skipped_groups.update(everyone)
            return f"Skipped {len(everyone)} faces"
        if not chosen:
            return "Select one or more faces first."
        n = f"{len(chosen)} face{'s' if len(chosen) != 1 else ''}"
        if action == "yes":
            pid = lib.persons.move_faces(chosen, str(form.get("person", "")))
        elif action == "other":
            pid = lib.persons.move_faces(chosen, person_ref(form.get("other")))
        elif action == "new":
            pid = lib.persons.move_faces(chosen, None, name=str(form.get("name", ""))[:200])
        elif action == "no":
            pid = lib.persons.resolve(str(form.get("person", "")))
            lib.persons.reject_faces(chosen, pid)
            state.skipped_groups.update(set(everyone) - set(chosen))
            return f"{n} marked as not {lib.person(pid).label}"
        else:
            raise LibraryError(f"unknown action {action!r}")
        # Faces left unticked were judged "not with these": pass them over in this session.
        state.skipped_groups.update(set(everyone) - set(chosen))
        return f"{n} filed as {lib.person(pid).label}"

    return await state.act("/review/groups", act)


async def merges(request: Request) -> Response:
    state = web(request)
    lib = state.lib

    def load() -> dict:  # type: ignore[type-arg]
        match = lib.review.next_merge_suggestion(state.skipped_merges)
        if match is None:
            return {"match": None}
        return {
            "match": match, "tiles": lib.review.person_tiles([match.keep, match.other]),
            "samples": {pid: lib.review.person_faces(pid, limit=SAMPLE_FACES)[0] for pid in (match.keep, match.other)},
        }

    context = await state.call(load)
    return state.render(request, "review_merges.html", title="Same person?", nav="review", tab="merges", **context)


async def answer_merge(request: Request) -> Response:
    state = web(request)
    form = await state.form(request)
    keep, other = int_list([form.get("keep"), form.get("other")])
    reply = form.get("answer")
    lib = state.lib

    def act() -> str:
        if reply == "yes":
            gone = lib.person(other).label
            merged = lib.persons.merge(keep, other)
            return f"Merged {gone} into {merged.label}"
        if reply == "no":
            lib.review.dismiss_merge(keep, other)
            return f"{lib.person(keep).label} and {lib.person(other).label} are two people"
        if reply == "skip":
            state.skipped_merges.add((min(keep, other), max(keep, other)))
            return "Skipped"
        raise LibraryError(f"unknown answer {reply!r}")

    return await state.act("/review/merges", act)


routes = [
    Route("/review", review),
    Route("/review/answer", answer, methods=["POST"]),
    Route("/review/groups", groups),
    Route("/review/groups/answer", answer_group, methods=["POST"]),
    Route("/review/merges", merges),
    Route("/review/merges/answer", answer_merge, methods=["POST"]),
]
