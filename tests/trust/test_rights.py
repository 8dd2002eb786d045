"""The rights of the people in the photos, one command each: forget, export-person, opt-out, audit."""
from __future__ import annotations

import io
import json
import shutil
import sqlite3
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from facefile_bench.lfw import identities, link_sample
from PIL import Image

from facefile.library import FaceInfo, Library
from facefile.library.subject_files import THUMBS_DIRNAME, face_crop_jpeg
from tests.support.database import sql
from tests.trust.conftest import facefile

pytestmark = pytest.mark.data

# Three people with several photos each (persons form), one with many (photos to add later), and
# two people seen once.
PEOPLE = {"Ariel_Sharon": (0, 4), "Andre_Agassi": (0, 4), "Angelina_Jolie": (0, 4), "Bill_Gates": (0, 1),
          "Anna_Kournikova": (0, 1)}


@pytest.fixture(scope="module")
def lfw(shared_data: Path) -> dict[str, list[Path]]:
    return identities(shared_data / "lfw_dev")


@pytest.fixture(scope="module")
def scanned(lfw: dict[str, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A photo folder scanned once; tests work on copies (see ``photos``)."""
    folder = tmp_path_factory.mktemp("rights") / "photos"
    link_sample([(p, name) for name, (a, b) in PEOPLE.items() for p in lfw[name][a:b]], folder)
    with Library.open(folder / ".facefile") as lib:
        lib.scan(folder, workers=1)
        sql(lib).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return folder


@pytest.fixture
def photos(scanned: Path, tmp_path: Path) -> Path:
    """A copy of the scanned folder (links and library) that a test may change."""
    folder = tmp_path / "photos"
    shutil.copytree(scanned, folder, symlinks=True)
    with sqlite3.connect(folder / ".facefile" / "library.db") as conn:  # the root moves with the copy
        conn.execute("UPDATE meta SET value = ? WHERE key = 'root'", (str(folder),))
    return folder


def person_of(lib: Library, identity: str) -> int:
    """The person most faces in ``identity``'s photos belong to."""
    votes = [f.person_id for f in lib.faces() if f.path.startswith(identity + "/") and f.person_id]
    return max(set(votes), key=votes.count)


def centre_face(lib: Library, path: str) -> FaceInfo | None:
    """The face over the centre of a 250 x 250 LFW photo, if one was stored."""
    for f in lib.faces():
        if f.path == path and f.box[0] < 125 < f.box[2] and f.box[1] < 125 < f.box[3]:
            return f
    return None


def thumb_path(library: Path, face_id: int) -> Path:
    """Where the web UI caches a face's crop: ``thumbs/<id // 1000>/<id>-<key>.jpg``."""
    return library / THUMBS_DIRNAME / f"{face_id // 1000:03d}" / f"{face_id}-0123456789ab.jpg"


def library_bytes(folder: Path) -> bytes:
    """Every byte of every file under the library folder (database, WAL, shm, caches).

    Read by another process: closing a file descriptor of the database in this process would drop
    the POSIX locks of the SQLite connections this process holds on it (a reader is open below)."""
    read_all = ("import sys, pathlib; sys.stdout.buffer.write(b''.join(p.read_bytes() for p in "
                "sorted(pathlib.Path(sys.argv[1]).rglob('*')) if p.is_file()))")
    return subprocess.run([sys.executable, "-c", read_all, str(folder)], capture_output=True, check=True).stdout


def secrets_of(lib: Library, face_ids: list[int], name: str) -> dict[str, bytes]:
    """Byte strings that identify the erased faces, as SQLite and the caches hold them."""
    found = {"name": name.encode()}
    for fid in face_ids:
        row = sql(lib).execute("SELECT x1, y1, x2, y2, landmarks, embedding FROM faces WHERE id = ?", (fid,)).fetchone()
        found[f"embedding {fid}"] = row["embedding"]
        for offset in (0, 200, 480):  # slices too: a row split over pages would still show
            found[f"embedding {fid}[{offset}:+32]"] = row["embedding"][offset:offset + 32]
        found[f"landmarks {fid}"] = row["landmarks"]
        for i, v in enumerate(row[:4]):
            if v != int(v):  # SQLite stores a REAL as an 8-byte big-endian double (integers differently)
                found[f"box {fid}[{i}]"] = struct.pack(">d", v)
        thumb = thumb_path(lib.folder, fid).read_bytes()
        found[f"thumbnail {fid}"] = thumb[len(thumb) // 2:len(thumb) // 2 + 64]
    return found


def test_forget_leaves_no_recoverable_bytes_and_is_not_undone_by_scans(photos: Path, tmp_path: Path) -> None:
    library = photos / ".facefile"
    with Library.open(library) as lib:
        pid, other = person_of(lib, "Ariel_Sharon"), person_of(lib, "Andre_Agassi")
        lib.persons.name(pid, "Erase Me Smith")
        faces = [f.id for f in lib.faces(pid)]
        lib.persons.confirm(faces[0], pid)
        lib.persons.reject(lib.faces(other)[0].id, pid)  # a constraint that names the person
        # The web UI's cached crops, named as facefile.web.thumbnails names them; the other
        # person's must stay.
        for f in lib.faces(pid) + lib.faces(other)[:1]:
            thumb = thumb_path(library, f.id)
            thumb.parent.mkdir(parents=True, exist_ok=True)
            thumb.write_bytes(face_crop_jpeg(lib.abs_path(f.path), f.box))
        secrets = secrets_of(lib, faces, "Erase Me Smith")
        kept_thumb = thumb_path(library, lib.faces(other)[0].id)
        total = lib.stats()["faces"]
    everything = library_bytes(library)
    assert all(s in everything for s in secrets.values())  # the search can find them

    # Another program (the web UI, say) keeps the library open: the WAL is not deleted at the
    # command's exit, so what is in it must have been truncated by the erasure itself.
    with Library.open(library) as reader:
        reader.people()
        done = facefile("forget", "Erase Me Smith", "--yes", "--library", str(library))
        assert done.returncode == 0, done.stderr
        assert f"{len(faces)} faces" in done.stdout and "could not be emptied" not in done.stderr
        everything = library_bytes(library)
        left = [what for what, data in secrets.items() if data in everything]
        print(f"\nsearched {len(everything)} bytes under the library for {len(secrets)} erased byte strings: {left}")
        assert left == []
        assert (library / "library.db-wal").stat().st_size == 0  # emptied, though a reader is open
        assert reader.people()  # the other program reads on
    assert [p for p in (library / THUMBS_DIRNAME).rglob("*") if p.is_file()] == [kept_thumb]
    with Library.open(library) as lib:
        assert sql(lib).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert lib.stats()["faces"] == total - len(faces)
        assert "Erase Me Smith" not in {p.name for p in lib.people(include_hidden=True)}
        assert sql(lib).execute("SELECT COUNT(*) FROM rejections").fetchone()[0] == 0
        assert [(e.action, e.person_id, e.faces) for e in lib.rights.audit_log()] == [("forget", pid, len(faces))]

        # Scans do not file the person again: not the unchanged folder, nor a photo that leaves the
        # folder and comes back (processed anew, its face withheld by its marker).
        link = photos / "Ariel_Sharon" / sorted((photos / "Ariel_Sharon").iterdir())[0].name
        target = link.readlink()
        link.unlink()
        lib.scan(photos, workers=1)
        link.symlink_to(target)
        report = lib.scan(photos, workers=1)
        assert report.files_new == 1 and report.faces_added == 0
        assert centre_face(lib, f"Ariel_Sharon/{link.name}") is None
        # ... unless the user asks.
        cleared = facefile("forget", "--clear-markers", "--yes", "--library", str(library))
        assert "markers cleared" in cleared.stdout
        link.unlink()
        lib.scan(photos, workers=1)
        link.symlink_to(target)
        lib.scan(photos, workers=1)
        assert centre_face(lib, f"Ariel_Sharon/{link.name}") is not None


def test_export_person_holds_everything_the_library_knows_about_them(photos: Path, tmp_path: Path) -> None:
    library = photos / ".facefile"
    with Library.open(library) as lib:
        pid, other = person_of(lib, "Andre_Agassi"), person_of(lib, "Angelina_Jolie")
        lib.persons.name(pid, "Subject Person")
        confirmed = lib.faces(pid)[0].id
        lib.persons.confirm(confirmed, pid)
        rejected = lib.faces(other)[0].id
        lib.persons.reject(rejected, pid)
        faces = {f.id: f for f in lib.faces(pid)}
        vectors = dict(zip(faces, lib.embeddings(list(faces)), strict=True))
    out = tmp_path / "subject.zip"
    done = facefile("export-person", "Subject Person", str(out), "--library", str(library))
    assert done.returncode == 0, done.stderr

    with zipfile.ZipFile(out) as archive:
        record = json.loads(archive.read("person.json"))
        assert record["person"]["id"] == pid and record["person"]["name"] == "Subject Person"
        assert record["person"]["faces"] == len(faces) >= 3
        assert {f["face_id"] for f in record["faces"]} == set(faces)
        for f in record["faces"]:
            mine = faces[f["face_id"]]
            assert f["paths"] == [mine.path] and f["box"] == list(mine.box) and f["taken_at"] == mine.taken_at
            assert np.allclose(f["embedding"]["vector"], vectors[f["face_id"]], atol=1e-6)
            crop = Image.open(io.BytesIO(archive.read(f["crop"])))
            assert crop.format == "JPEG" and 40 <= max(crop.size) <= 512
        assert [c["face_id"] for c in record["corrections"]["confirmations"]] == [confirmed]
        assert [r["face_id"] for r in record["corrections"]["rejections"]] == [rejected]
        assert [(e["action"], e["person_id"]) for e in record["audit"]] == [("export-person", pid)]


def test_opt_out_keeps_one_template_and_the_person_is_never_filed_again(
    photos: Path, lfw: dict[str, list[Path]]
) -> None:
    library = photos / ".facefile"
    with Library.open(library) as lib:
        pid = person_of(lib, "Ariel_Sharon")
        lib.persons.name(pid, "Do Not File")
        erased = len(lib.faces(pid))
    done = facefile("opt-out", "Do Not File", "--yes", "--library", str(library))
    assert done.returncode == 0, done.stderr
    templates = json.loads(facefile("opt-out", "--list", "--json", "--library", str(library)).stdout)
    assert [(t["id"], t["threshold"]) for t in templates] == [(1, 0.45)]
    assert b"Do Not File" not in library_bytes(library)

    with Library.open(library) as lib:
        # The template is one vector and nothing else.
        row = sql(lib).execute("SELECT * FROM opt_out_templates").fetchone()
        assert set(row.keys()) == {"id", "model_id", "embedding", "threshold", "created_at"}
        assert len(row["embedding"]) == 128 * 4
        assert lib.rights.audit_log()[-1].action == "opt-out" and lib.rights.audit_log()[-1].faces >= erased
        # New photos of them are scanned, and their face is not stored.
        link_sample([(p, "Ariel_Sharon") for p in lfw["Ariel_Sharon"][4:8]], photos)
        report = lib.scan(photos, workers=1)
        assert report.files_new == 4
        new = [f"Ariel_Sharon/{p.name}" for p in lfw["Ariel_Sharon"][4:8]]
        assert [centre_face(lib, path) for path in new] == [None] * 4
        assert len(lib.people()) == 2  # the other two persons only

    # Removed, the template stops applying: a new photo of them is filed again.
    assert facefile("opt-out", "--remove", "1", "--library", str(library)).returncode == 0
    with Library.open(library) as lib:
        assert lib.rights.opt_outs() == [] and sql(lib).execute("SELECT COUNT(*) FROM opt_out_templates").fetchone()[0] == 0
        link_sample([(lfw["Ariel_Sharon"][8], "Ariel_Sharon")], photos)
        lib.scan(photos, workers=1)
        assert centre_face(lib, f"Ariel_Sharon/{lfw['Ariel_Sharon'][8].name}") is not None


def test_the_audit_log_is_append_only_and_holds_no_erased_data(photos: Path, tmp_path: Path) -> None:
    library = photos / ".facefile"
    with Library.open(library) as lib:
        first, second = person_of(lib, "Angelina_Jolie"), person_of(lib, "Andre_Agassi")
        lib.persons.name(first, "Secret Name")
        lib.rights.export_person(first, tmp_path / "a.zip")
        lib.rights.forget(first)
        lib.rights.opt_out(second)
        lib.rights.remove_opt_out(1)
    logged = json.loads(facefile("audit", "--json", "--library", str(library)).stdout)
    assert [(e["action"], e["person_id"], e["template_id"]) for e in logged] == [
        ("export-person", first, None), ("forget", first, None), ("opt-out", second, 1), ("opt-out-remove", None, 1)]
    assert all(e["faces"] >= 1 for e in logged[:3])
    assert "Secret Name" not in json.dumps(logged) and "Angelina" not in json.dumps(logged)
    assert "forget" in facefile("audit", "--library", str(library)).stdout

    with sqlite3.connect(library / "library.db") as conn:
        for sql in ["UPDATE rights_audit SET faces = 0", "DELETE FROM rights_audit",
                    "UPDATE rights_audit SET action = 'forget' WHERE id = 1"]:
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(sql)
        assert conn.execute("SELECT COUNT(*) FROM rights_audit").fetchone()[0] == 4
