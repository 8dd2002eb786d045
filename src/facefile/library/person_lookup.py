"""From what a user types to a person id: "12", "#12", "Anna" (any case). A miss says why and offers
the nearest names ("did you mean Ma Tianyu (#27)?"); the id of a merged person says where it went.
Also the short ``#12`` / ``Anna (#12)`` form every history summary names persons by."""
from __future__ import annotations

import difflib

from facefile.store import LibraryError, PersonNotFound, Store

SUGGESTIONS = 3
# difflib's ratio above which a name is offered: "Ma Tianyo" -> "Ma Tianyu" is 0.89, "Anna" ->
# "Ben" 0.29; 0.6 is difflib's own default and offers one-letter slips in names of 4 or more letters.
CLOSE_ENOUGH = 0.6


def who(store: Store, person_id: int) -> str:
    """How a summary names a person: "Anna (#12)", or "#12" when unnamed."""
    name = store.persons.name_of(person_id)
    return f"{name} (#{person_id})" if name else f"#{person_id}"


def resolve_person(store: Store, ref: str | int) -> int:
    """A person by id (``12`` or ``#12``) or by name (case-insensitive, must be unambiguous)."""
    text = str(ref).strip()
    digits = text[1:] if text.startswith("#") else text
    if digits.isdigit():
        pid = int(digits)
        if store.persons.exists(pid):
            return pid
        survivor = store.redirects.survivor(pid)
        if survivor is not None:
            label = who(store, survivor)
            raise PersonNotFound(
                f"#{pid} was merged into {label}; use {survivor}", typed=text,
                suggestions=[(survivor, store.persons.name_of(survivor) or f"person {survivor}")],
                merged_into=survivor,
            )
        raise PersonNotFound(f"no person with id {pid}", typed=text)
    if not text:
        raise PersonNotFound("choose a person", typed=text)
    ids = store.persons.ids_named(text)
    if len(ids) == 1:
        return ids[0]
    if ids:
        raise LibraryError(f"{len(ids)} persons are named {text!r}; use an id: {', '.join(map(str, ids))}")
    near = nearest_names(store, text)
    offer = " or ".join(f"{name} (#{pid})" for pid, name in near)
    raise PersonNotFound(
        f"no person named {text!r}" + (f"; did you mean {offer}?" if near else ""), typed=text, suggestions=near
    )


def nearest_names(store: Store, text: str, limit: int = SUGGESTIONS) -> list[tuple[int, str]]:
    """Named persons whose name is closest to ``text``: names it begins a word of first ("Anna" ->
    "Anna Smith"), then by difflib's similarity (case-insensitive), best first."""
    typed = text.casefold()
    scored: list[tuple[float, int, str]] = []
    matcher = difflib.SequenceMatcher(None, "", typed)  # difflib caches its facts about the second text
    for pid, name in store.persons.named():
        folded = name.casefold()
        if any(word.startswith(typed) for word in folded.split()) or folded.startswith(typed):
            scored.append((2.0, pid, name))
            continue
        matcher.set_seq1(folded)
        # The quick upper bounds first: 5,000 names are checked in a few milliseconds.
        if matcher.real_quick_ratio() >= CLOSE_ENOUGH and matcher.quick_ratio() >= CLOSE_ENOUGH:
            ratio = matcher.ratio()
            if ratio >= CLOSE_ENOUGH:
                scored.append((ratio, pid, name))
    scored.sort(key=lambda s: (-s[0], s[2].casefold(), s[1]))
    return [(pid, name) for _score, pid, name in scored[:limit]]
