"""Birth dates (``lib.birthdays``): entered by the user, never inferred. facefile estimates no age
from a face; a birth date only says what cannot be: a face in a photo taken before it is not that
person.

The rule is a constraint like a rejection. The store hands every barred (face, person) pair to the
engine beside the user's rejections (re-clusters, incremental updates, review and merge suggestions);
this module holds the rule for user actions: setting a date releases the person's automatic faces
from earlier photos and refuses while confirmed ones exist (the user decides), and a confirmation,
move, merge or hand-drawn face that would break it is refused.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from facefile.store import LibraryError, PersonSummary, Store

__all__ = ["BirthdayChange", "Birthdays", "parse_birth_date", "refuse_barred", "release_barred", "settle_merge"]

LISTED = 12  # face ids named in an error; the rest are counted


@dataclass(frozen=True)
class BirthdayChange:
    person: PersonSummary
    birth_date: str | None
    released: list[int]  # automatic faces from earlier photos that left the person


def parse_birth_date(text: str) -> str:
    """'YYYY-MM-DD' -> the same, checked: a real day, not in the future."""
    value = (text or "").strip()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise LibraryError(f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2015-06-02") from None
    if len(value) != 10:
        raise LibraryError(f"write the date as YYYY-MM-DD, e.g. 2015-06-02 (not {value!r})")
    if day > dt.date.today():
        raise LibraryError(f"{value} is in the future: a birth date is a day that has been")
    return day.isoformat()


def _label(store: Store, person_id: int) -> str:
    name = store.persons.name_of(person_id)
    return f"{name} (#{person_id})" if name else f"person {person_id}"


def _faces_text(faces: list[int]) -> str:
    shown = ", ".join(map(str, faces[:LISTED]))
    return shown + (f" and {len(faces) - LISTED} more" if len(faces) > LISTED else "")


def refuse_barred(store: Store, face_ids: Iterable[int], person_id: int) -> None:
    """Raise ``LibraryError`` if any of ``face_ids`` is in a photo taken before the person's birth date."""
    barred = store.birth_dates.barred_faces(face_ids, person_id)
    if barred:
        raise LibraryError(
            f"{_label(store, person_id)} was born on {store.birth_dates.of(person_id)}; "
            f"face{'s' if len(barred) > 1 else ''} {_faces_text(barred)} "
            f"{'are' if len(barred) > 1 else 'is'} in photos taken before that, so cannot be them"
        )


def release_barred(store: Store, person_id: int) -> list[int]:
    """In the caller's transaction: the person's automatic faces from photos before their birth
    date leave them (unassigned, re-grouped by the next re-cluster); confirmed ones are an error
    that lists them, as only the user can say which is wrong, the date or the confirmation."""
    members = store.birth_dates.barred_members(person_id)
    confirmed = [f for f, how in members if how == "confirmed"]
    if confirmed:
        raise LibraryError(
            f"{_label(store, person_id)} has confirmed face{'s' if len(confirmed) > 1 else ''} "
            f"{_faces_text(confirmed)} in photos taken before {store.birth_dates.of(person_id)}: "
            f"move them to someone else (or check the date) first"
        )
    released = [f for f, _ in members]
    if released:
        store.decisions.unassign(released)
        store.meta.mark_dirty(True)  # the released faces wait for the next grouping
    return released


def settle_merge(store: Store, target: int, sources: list[int]) -> str | None:
    """Before a merge (caller's transaction): the birth date the merged person keeps (the target's,
    else a source's, which the target takes); persons born on different days are never one. Call
    ``release_barred(store, target)`` after the merge."""
    dates = {d for d in (store.birth_dates.of(p) for p in [target, *sources]) if d}
    if len(dates) > 1:
        raise LibraryError(f"these persons have different birth dates ({', '.join(sorted(dates))}): they are not one")
    date = next(iter(dates), None)
    if date is not None and store.birth_dates.of(target) is None:
        store.birth_dates.set_date(target, date)
    return date


class Birthdays:
    """``lib.birthdays``: set or clear a person's birth date."""

    def __init__(self, store: Store, resolve: Callable[[str | int], int]) -> None:
        self._store = store
        self._resolve = resolve

    def of(self, person: str | int) -> str | None:
        return self._store.birth_dates.of(self._resolve(person))

    def set(self, person: str | int, birth_date: str | None) -> BirthdayChange:
        """Set the birth date ('YYYY-MM-DD'; None clears it), one action of the history. The
        person's automatic faces from earlier photos leave them; confirmed ones make it an error."""
        pid = self._resolve(person)
        date = None if birth_date is None else parse_birth_date(birth_date)
        store = self._store
        summary = (f"Birth date of {_label(store, pid)} set to {date}" if date
                   else f"Birth date of {_label(store, pid)} cleared")
        with store.transaction(), store.history.recording("birthday", summary):
            store.birth_dates.set_date(pid, date)
            released = release_barred(store, pid) if date else []
        return BirthdayChange(store.persons.summary(pid), date, released)
