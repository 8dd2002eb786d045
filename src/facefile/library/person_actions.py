"""What a user does to persons: name, hide, merge, move a face, "not this person".

Every action is one transaction and becomes a constraint the clustering engine honours on every
later re-cluster: a move is a confirmation, "not this person" a rejection, a merge confirms the
merged faces. ``resolve`` turns what a user types (an id or a name) into a person id.
"""
from __future__ import annotations

from collections.abc import Iterable

from facefile.store import LibraryError, PersonSummary, Store


class PersonActions:
    """The person-editing service of a ``Library`` (``lib.persons``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def resolve(self, ref: str | int) -> int:
        """A person by id, or by name (case-insensitive, must be unambiguous)."""
        text = str(ref).strip()
        if text.isdigit():
            if self._store.persons.exists(int(text)):
                return int(text)
            raise LibraryError(f"no person with id {text}")
        ids = self._store.persons.ids_named(text)
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise LibraryError(f"no person named {text!r}")
        raise LibraryError(f"{len(ids)} persons are named {text!r}; use an id: {', '.join(map(str, ids))}")

    def summary(self, ref: str | int) -> PersonSummary:
        return self._store.persons.summary(self.resolve(ref))

    def name(self, person: str | int, name: str | None) -> PersonSummary:
        """Give a person a name (``None`` or blank removes it)."""
        pid = self.resolve(person)
        with self._store.transaction():
            self._store.persons.set_name(pid, (name or "").strip() or None)
        return self._store.persons.summary(pid)

    def hide(self, person: str | int, hidden: bool = True) -> PersonSummary:
        pid = self.resolve(person)
        with self._store.transaction():
            self._store.persons.set_hidden(pid, hidden)
        return self._store.persons.summary(pid)

    def merge(self, keep: str | int, *others: str | int) -> PersonSummary:
        """The persons are one: every face of ``others`` and ``keep`` is confirmed to ``keep``, so no
        re-cluster splits them again. ``keep`` takes the first name among them if it has none."""
        target = self.resolve(keep)
        sources = [self.resolve(o) for o in others]
        if target in sources:
            raise LibraryError("cannot merge a person into itself")
        persons = self._store.persons
        with self._store.transaction():
            if persons.name_of(target) is None:
                name = next((n for n in map(persons.name_of, sources) if n), None)
                if name:
                    persons.set_name(target, name)
            self._store.decisions.merge_persons(target, sources)
        return persons.summary(target)

    def move(self, face_id: int, person: str | int | None) -> int:
        """Confirm a face as ``person`` (``None``: a new person of its own). Returns the person id."""
        return self.move_faces([face_id], person)

    def confirm(self, face_id: int, person: str | int) -> None:
        """"Yes, this is them": the face is confirmed to the person."""
        self.move(face_id, person)

    def move_faces(self, face_ids: Iterable[int], person: str | int | None, *, name: str | None = None) -> int:
        """Confirm these faces as ``person``, or as one new person (named ``name``) when ``person`` is
        None: a split. One transaction. Returns the person id."""
        faces = face_list(face_ids)
        self._store.faces.require(faces)
        with self._store.transaction():
            if person is None:
                pid = self._store.persons.new()
                if name and name.strip():
                    self._store.persons.set_name(pid, name.strip())
            else:
                pid = self.resolve(person)
            for face_id in faces:
                self._store.decisions.confirm(face_id, pid)
            self._store.persons.drop_empty()
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
        with self._store.transaction():
            for face_id in faces:
                self._store.decisions.reject(face_id, pid)
            self._store.persons.drop_empty()

    def set_cover(self, person: str | int, face_id: int) -> None:
        """Show this face for the person (it must be one of theirs)."""
        pid = self.resolve(person)
        if self._store.decisions.person_of(int(face_id)) != pid:
            raise LibraryError(f"face {face_id} is not a face of person {pid}")
        with self._store.transaction():
            self._store.persons.set_cover(pid, int(face_id))


def face_list(face_ids: Iterable[int]) -> list[int]:
    """Face ids, unique, in the order given; at least one."""
    faces = list(dict.fromkeys(int(f) for f in face_ids))
    if not faces:
        raise LibraryError("no faces given")
    return faces
