"""What a user does to persons: name, hide, merge, move a face, "not this person".

Every action is one transaction, recorded in the history (``lib.history`` can undo it) with a
summary naming persons as ``Anna (#12)``, and becomes a constraint the clustering engine honours on
every later re-cluster: a move is a confirmation, "not this person" a rejection; a merge moves the
faces as they are (automatic ones stay automatic). ``resolve`` turns what a user types (an id or a
name) into a person id, offering the nearest names when it names nobody (``person_lookup``).
"""
from __future__ import annotations

from collections.abc import Iterable

from facefile.library.birthdays import refuse_barred, release_barred, settle_merge
from facefile.library.person_lookup import resolve_person, who
from facefile.store import LibraryError, PersonSummary, Store


class PersonActions:
    """The person-editing service of a ``Library`` (``lib.persons``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def resolve(self, ref: str | int) -> int:
        """A person by id, or by name (case-insensitive, must be unambiguous). A miss raises
        ``PersonNotFound`` with the nearest names, or with the person a merged id went to: an
        action never follows a merge silently, the user is told and picks the survivor."""
        return resolve_person(self._store, ref)

    def merged_into(self, person_id: int) -> int | None:
        """The person a merged id now is (old links lead there), or None."""
        return self._store.redirects.survivor(int(person_id))

    def summary(self, ref: str | int) -> PersonSummary:
        return self._store.persons.summary(self.resolve(ref))

    def name(self, person: str | int, name: str | None) -> PersonSummary:
        """Give a person a name (``None`` or blank removes it)."""
        pid = self.resolve(person)
        new, old = (name or "").strip() or None, self._store.persons.name_of(pid)
        if new is None:
            summary = f"Removed the name {old!r} of #{pid}" if old else f"Left #{pid} unnamed"
        else:
            summary = f"Renamed {old!r} (#{pid}) to {new!r}" if old else f"Named #{pid} {new!r}"
        with self._store.transaction(), self._store.history.recording("name", summary):
            self._store.persons.set_name(pid, new)
        return self._store.persons.summary(pid)

    def hide(self, person: str | int, hidden: bool = True) -> PersonSummary:
        pid = self.resolve(person)
        summary = f"Hid {who(self._store, pid)}" if hidden else f"Showed {who(self._store, pid)} again"
        with self._store.transaction(), self._store.history.recording("hide", summary):
            self._store.persons.set_hidden(pid, hidden)
        return self._store.persons.summary(pid)

    def merge(self, keep: str | int, *others: str | int) -> PersonSummary:
        """The persons are one: the faces of ``others`` join ``keep`` as they are (automatic faces
        stay automatic, so a later re-cluster may still take a wrong one out; confirmed ones stay
        confirmed), and the face shown for a person none of whose faces was confirmed is confirmed,
        so no re-cluster splits them again (``DecisionRepository.merge_persons``). ``keep`` takes the
        first name among them if it has none; the ids of ``others`` lead to ``keep`` from now on."""
        target = self.resolve(keep)
        sources = [self.resolve(o) for o in others]
        if target in sources:
            raise LibraryError("cannot merge a person into itself")
        persons = self._store.persons
        gone = ", ".join(who(self._store, s) for s in sources)
        with self._store.transaction(), self._store.history.recording("merge") as entry:
            if persons.name_of(target) is None:
                name = next((n for n in map(persons.name_of, sources) if n), None)
                if name:
                    persons.set_name(target, name)
            settle_merge(self._store, target, sources)  # one birth date, or none
            self._store.decisions.merge_persons(target, sources)
            release_barred(self._store, target)  # auto faces from before it leave; confirmed: refused
            self._store.history.set_summary(entry, f"Merged {gone} into {who(self._store, target)}")
        return persons.summary(target)

    def move(self, face_id: int, person: str | int | None) -> int:
        """Confirm a face as ``person`` (``None``: a new person of its own). Returns the person id."""
        return self.move_faces([face_id], person)

    def confirm(self, face_id: int, person: str | int) -> None:
        """"Yes, this is them": the face is confirmed to the person."""
        self._file([face_id], person, None, "confirm")

    def move_faces(self, face_ids: Iterable[int], person: str | int | None, *, name: str | None = None) -> int:
        """Confirm these faces as ``person``, or as one new person (named ``name``) when ``person`` is
        None: a split. One transaction. Returns the person id."""
        return self._file(face_list(face_ids), person, name, "move" if person is not None else "split")

    def _file(self, faces: list[int], person: str | int | None, name: str | None, action: str) -> int:
        self._store.faces.require(faces)
        with self._store.transaction(), self._store.history.recording(action) as entry:
            if person is None:
                pid = self._store.persons.new()
                if name and name.strip():
                    self._store.persons.set_name(pid, name.strip())
            else:
                pid = self.resolve(person)
                refuse_barred(self._store, faces, pid)  # photos before their birth date: never them
            for face_id in faces:
                self._store.decisions.confirm(face_id, pid)
            self._store.persons.drop_empty()
            self._store.history.set_summary(entry, _filed_summary(action, faces, who(self._store, pid)))
        return pid

    def reject(self, face_id: int, person: str | int) -> None:
        """"Not this person": remembered forever; the face leaves the person and stays unassigned
        until the next re-cluster finds it another one."""
        self.reject_faces([face_id], person)

    def reject_faces(self, face_ids: Iterable[int], person: str | int) -> None:
        """"Not this person" for each face, in one transaction."""
        faces = face_list(face_ids)
        self._store.faces.require(faces)
        pid = self.resolve(person)
        summary = f"Not {who(self._store, pid)}: {_faces_text(faces)}"
        with self._store.transaction(), self._store.history.recording("reject", summary):
            for face_id in faces:
                self._store.decisions.reject(face_id, pid)
            self._store.persons.drop_empty()

    def set_cover(self, person: str | int, face_id: int) -> None:
        """Show this face for the person (it must be one of theirs)."""
        pid = self.resolve(person)
        if self._store.decisions.person_of(int(face_id)) != pid:
            raise LibraryError(f"face {face_id} is not a face of person {pid}")
        summary = f"Cover of {who(self._store, pid)}: face {int(face_id)}"
        with self._store.transaction(), self._store.history.recording("cover", summary):
            self._store.persons.set_cover(pid, int(face_id))


def _faces_text(faces: list[int]) -> str:
    return f"face {faces[0]}" if len(faces) == 1 else f"{len(faces)} faces"


def _filed_summary(action: str, faces: list[int], person: str) -> str:
    if action == "split":
        return f"Split {_faces_text(faces)} into a new person {person}"
    if action == "confirm":
        return f"{_faces_text(faces).capitalize()} is {person}"
    return f"Moved {_faces_text(faces)} to {person}"


def face_list(face_ids: Iterable[int]) -> list[int]:
    """Face ids, unique, in the order given; at least one."""
    faces = list(dict.fromkeys(int(f) for f in face_ids))
    if not faces:
        raise LibraryError("no faces given")
    return faces
