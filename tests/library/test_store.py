"""The SQLite store: schema, ingest, moved files, errors, user decisions, export."""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from click.testing import CliRunner

from facefile.library import Library, LibraryError
from facefile.store.db import schema_version
from facefile.ui.cli.main import main
from tests.support.database import sql

from .conftest import MODEL, face_of, identity_centres, photo


def test_new_library_is_wal_and_at_latest_schema(lib: Library) -> None:
    assert sql(lib).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sql(lib).execute("PRAGMA user_version").fetchone()[0] == schema_version() >= 1


def test_reopening_does_not_migrate_twice(lib: Library) -> None:
    again = Library.open(lib.folder)
    assert sql(again).execute("PRAGMA user_version").fetchone()[0] == schema_version()
    again.close()


def test_newer_schema_is_refused(lib: Library) -> None:
    sql(lib).execute(f"PRAGMA user_version={schema_version() + 1}")
    with pytest.raises(LibraryError, match="newer"):
        Library.open(lib.folder)


def test_store_and_unchanged_signatures(lib: Library, people_photos) -> None:
    writer = lib.writer(MODEL)
    faces, errors = writer.store(people_photos)
    assert (faces, errors) == (36, 0)
    known = writer.unchanged_signatures()
    assert known["id0/p0.jpg"] == (1000, 1)
    assert lib.needs_recluster()
    # The other model knows nothing yet: everything would be processed again with it.
    assert lib.writer("dlib-resnet-v1").unchanged_signatures() == {}


def test_moved_file_keeps_its_faces(lib: Library, people_photos) -> None:
    writer = lib.writer(MODEL)
    writer.store(people_photos)
    lib.recluster()
    before = {f.id: f.person_id for f in lib.faces() if f.path == "id0/p0.jpg"}
    moved = photo("renamed/new-name.jpg", [], content="hash-id0/p0.jpg")
    moved.known_image = True
    writer.store([moved])
    writer.remove_paths(["id0/p0.jpg"])
    after = {f.id: f.person_id for f in lib.faces() if f.path == "renamed/new-name.jpg"}
    assert after == before and after
    assert lib.stats()["faces"] == 36


def test_duplicate_paths_share_one_photo(lib: Library, people_photos) -> None:
    writer = lib.writer(MODEL)
    writer.store(people_photos)
    dup = photo("copies/p0.jpg", [], content="hash-id0/p0.jpg")
    dup.known_image = True
    writer.store([dup])
    stats = lib.stats()
    assert stats["files"] == len(people_photos) + 1 and stats["photos"] == len(people_photos)
    paths = [row["path"] for row in lib.interop.export_faces()]
    assert "copies/p0.jpg" in paths and "id0/p0.jpg" in paths


def test_deleted_files_faces_leave(lib: Library, people_photos) -> None:
    writer = lib.writer(MODEL)
    writer.store(people_photos)
    lib.recluster()
    writer.remove_paths([p.path for p in people_photos if p.path.startswith("id4/")])
    assert lib.stats()["faces"] == 30
    lib.recluster()
    assert sum(p.faces for p in lib.people()) <= 30


def test_errors_are_recorded_and_cleared(lib: Library) -> None:
    writer = lib.writer(MODEL)
    bad = photo("broken.jpg", [])
    bad.error = "truncated or corrupt image data"
    writer.store([bad])
    assert [(e.path, e.reason) for e in lib.errors()] == [("broken.jpg", "truncated or corrupt image data")]
    assert writer.unchanged_signatures()["broken.jpg"] == (1000, 1)  # not retried until it changes
    writer.store([photo("broken.jpg", [])])
    assert lib.errors() == []


def test_failed_batch_rolls_back_whole(lib: Library, people_photos) -> None:
    writer = lib.writer(MODEL)
    broken = photo("x.jpg", [], content="never-seen")
    broken.known_image = True  # claims known content that is not there: the writer refuses
    with pytest.raises(ValueError):
        writer.store([*people_photos[:3], broken])
    assert lib.stats()["files"] == 0


def test_export_json_contract(lib: Library, people_photos) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    rows = lib.interop.export_faces()
    assert len(rows) == 36
    row = rows[0]
    assert set(row) == {"path", "box", "person_id", "person_name", "score"}
    assert isinstance(row["box"], list) and len(row["box"]) == 4
    assert row["person_id"] is None or isinstance(row["person_id"], int)
    json.dumps(rows)


def test_export_folders_links_each_persons_photos(lib: Library, people_photos, tmp_path) -> None:
    lib.writer(MODEL).store(people_photos)
    lib.recluster()
    first = lib.people()[0]
    lib.persons.name(first.id, "Anna/Smith")
    out = tmp_path / "out"
    written = lib.interop.export_folders(out)
    assert written == sum(p.photos for p in lib.people())
    folder = out / f"Anna_Smith ({first.id})"
    assert len(list(folder.iterdir())) == first.photos
    assert all(link.is_symlink() for link in folder.iterdir())
    assert lib.interop.export_folders(out) == written  # idempotent


def test_foreign_keys_are_enforced(lib: Library) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        sql(lib).execute("INSERT INTO files(path, image_id, size, mtime_ns) VALUES ('a', 999, 1, 1)")


def _with_manual_face(lib: Library, people_photos) -> int:
    """The people photos, plus one named region where no face was detected (no embedding)."""
    manual = face_of(identity_centres(1)[0], np.random.default_rng(2))
    manual.embedding, manual.source = np.zeros(0, np.float32), "manual"
    lib.writer(MODEL).store([*people_photos, photo("named/region.jpg", [manual])])
    return next(f.id for f in lib.faces() if f.path == "named/region.jpg")


def test_embeddings_skip_faces_without_embedding(lib: Library, people_photos) -> None:
    manual = _with_manual_face(lib, people_photos)
    detected = [f.id for f in lib.faces() if f.id != manual]
    both = lib.embeddings([detected[0], manual, detected[1]])
    assert both.shape == (2, 128)
    assert np.array_equal(both, lib.embeddings(detected[:2]))
    assert lib.embeddings([manual]).shape == (0, 0)


def test_stats_list_embedding_models_only(lib: Library, people_photos) -> None:
    _with_manual_face(lib, people_photos)
    stats = lib.stats()
    assert stats["models"] == [MODEL]
    assert stats["faces_without_embedding"] == 1 and stats["faces"] == 37

    text = CliRunner().invoke(main, ["stats", "--library", str(lib.folder)], catch_exceptions=False).output
    assert f"models: ['{MODEL}']" in text and "none" not in text
    assert "named regions without a detected face: 1" in text
    shown = json.loads(CliRunner().invoke(main, ["stats", "--library", str(lib.folder), "--json"]).output)
    assert shown["models"] == [MODEL] and shown["faces_without_embedding"] == 1
