"""``forget`` leaves nothing of the erased person in the history of user actions: no change row naming
their faces or ids (theirs or of persons merged into them), no summary naming them, no byte of
their name in the library's files; the rest of the history can still be undone."""
from __future__ import annotations

import json

from facefile.library import Library
from tests.library.conftest import MODEL, people_photos  # noqa: F401 (a fixture)
from tests.support.database import sql
from tests.trust.test_rights import library_bytes


def test_forget_erases_the_person_from_the_history(lib: Library, people_photos) -> None:  # noqa: F811
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    erased, merged_in, kept, other = (p.id for p in lib.people()[:4])
    lib.persons.name(merged_in, "Old Alias Quux")
    lib.persons.name(erased, "Erase Me Smith")
    lib.persons.merge(erased, merged_in)
    moved_out = lib.faces(erased)[0].id
    lib.persons.move_faces([moved_out], kept)  # a face of theirs filed elsewhere: its history names them
    lib.review.dismiss_merge(erased, other)
    lib.persons.name(kept, "Kept Person")
    faces = [f.id for f in lib.faces(erased)]
    assert lib.rights.forget(erased).scrubbed

    conn = sql(lib)
    for (data,) in conn.execute("SELECT data FROM history_changes"):
        row = json.loads(data)
        assert row.get("face_id") not in faces and row.get("person_id") not in (erased, merged_in)
        assert "Erase Me" not in data and "Quux" not in data
        if "value" in row and row["value"]:
            assert erased not in {p for pair in json.loads(row["value"]) for p in pair}
    entries = lib.history.recent()
    assert not any("Erase Me" in e.summary or "Quux" in e.summary or f"#{erased}" in e.summary for e in entries)
    # The actions about them can no longer be undone; the one about someone else still can.
    assert [e.summary for e in entries if not e.undone] == [f"Named #{kept} 'Kept Person'"]
    assert lib.history.undo().message == f"Undone: Named #{kept} 'Kept Person'"
    assert lib.person(kept).name is None
    everything = library_bytes(lib.folder)
    assert b"Erase Me Smith" not in everything and b"Old Alias Quux" not in everything
