"""A person's birth date, set on the Person page (the form is templates/person_birthday.html,
included in the page's header): no face from a photo taken before it is filed into the person."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facefile.ui.web.web_state import web


async def set_birthday(request: Request) -> Response:
    state = web(request)
    pid = request.path_params["pid"]
    form = await state.form(request)
    clear = form.get("action") == "clear"

    def act() -> str:
        change = state.lib.birthdays.set(pid, None if clear else str(form.get("birth_date", ""))[:20])
        if change.birth_date is None:
            return f"Birth date of {change.person.label} cleared"
        left = (f"; {len(change.released)} face{'s' if len(change.released) != 1 else ''} from earlier photos "
                f"left them and will be grouped again") if change.released else ""
        return f"{change.person.label} was born on {change.birth_date}{left}"

    return await state.act(f"/person/{pid}", act)


routes = [Route("/person/{pid:int}/birthday", set_birthday, methods=["POST"])]
