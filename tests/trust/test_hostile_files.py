"""A folder of hostile and odd files, scanned end to end: each file is scanned correctly or gets one
clear error in `facefile errors`, the scan completes with exit code 3, memory stays bounded.

Every file is generated here in tmp_path; none is committed. The face photos are an LFW photo turned
by each EXIF orientation (derived copies in the test's temporary folder, deleted with it).
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from facefile_bench.lfw import identities, link_sample
from PIL import ExifTags, Image

from facefile.library import Library
from facefile.media import hashing
from facefile.ui.cli.main import EXIT_FILES_FAILED
from tests.media.test_decode_formats import png_declaring
from tests.support.database import sql
from tests.trust.conftest import facefile

pytestmark = pytest.mark.data

IS_ROOT = os.geteuid() == 0
# Peak RSS of any one process of the scan (parent or worker). A worker with the models loaded
# needs ~250 MB; decoding the 50000 x 50000 bomb would need 7.5 GB, the panorama at full size 180 MB.
RSS_LIMIT_MB = 700
CAFE, BROKEN = os.fsdecode(b"caf\xe9.jpg"), os.fsdecode(b"br\xf6ken.jpg")  # Latin-1 names, not UTF-8
# The inverse of each EXIF orientation's transpose: a photo stored this way is upright once turned.
STORED_AS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}

# Files that must fail, with the start of their reason.
FAILING = {
    "truncated.jpg": "truncated or corrupt image data",
    "empty.jpg": "empty file",
    "random.jpg": "not an image or unsupported format",
    "bomb.png": "image too large: 50000×50000",
    "br\\xf6ken.jpg": "not an image or unsupported format",  # stored with its byte escaped
}
SCANNED = [
    "cmyk.jpg", "grey16.png", "palette.png", "grey.jpg", "anim.webp", "anim.gif", "panorama.jpg", "phone.heic",
    *(f"orient-{o}.jpg" for o in range(1, 9)), "orient-bogus.jpg", "caf\\xe9.jpg", "album.jpg/inside.png",
]
NOT_LISTED = ["pipe.jpg"]  # a FIFO is not a file


def save_oriented(upright: Image.Image, path: Path, orientation: int, exif_value: int | None = None) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = exif_value if exif_value is not None else orientation
    stored = upright.transpose(STORED_AS[orientation]) if orientation in STORED_AS else upright
    stored.save(path, "JPEG", quality=95, exif=exif)


def make_hostile_folder(folder: Path, face_photo: Path) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    upright = Image.open(face_photo).convert("RGB").crop((0, 0, 250, 200))  # not square: turns show
    for o in range(1, 9):
        save_oriented(upright, folder / f"orient-{o}.jpg", o)
    save_oriented(upright, folder / "orient-bogus.jpg", 1, exif_value=9)
    upright.save(folder / CAFE, "JPEG", quality=95)

    noise = Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))
    noise.save(folder / "full.tmp", "JPEG", quality=90)
    data = (folder / "full.tmp").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (folder / "full.tmp").unlink()
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "random.jpg").write_bytes(rng.bytes(8192))
    (folder / BROKEN).write_bytes(rng.bytes(2048))
    (folder / "bomb.png").write_bytes(png_declaring(50000, 50000))

    Image.new("CMYK", (120, 90), (0, 200, 200, 0)).save(folder / "cmyk.jpg")
    Image.fromarray(np.full((90, 120), 40000, dtype=np.uint16)).save(folder / "grey16.png")
    palette = Image.new("P", (120, 90), 0)
    palette.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    palette.save(folder / "palette.png", transparency=0)
    Image.new("L", (120, 90), 80).save(folder / "grey.jpg")
    frames = [Image.new("RGB", (64, 64), c) for c in [(200, 0, 0), (0, 0, 200)]]
    frames[0].save(folder / "anim.webp", save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    ramp = np.linspace(0, 255, 20000, dtype=np.uint8)
    Image.fromarray(np.broadcast_to(ramp, (3000, 20000))).convert("RGB").save(folder / "panorama.jpg", quality=70)
    pillow_heif.register_heif_opener()
    Image.new("RGB", (64, 48), (0, 0, 230)).save(folder / "phone.heic", quality=80)

    (folder / "loop").symlink_to(folder, target_is_directory=True)  # a folder that contains itself
    (folder / "album.jpg").mkdir()  # a folder named like a photo
    Image.new("RGB", (50, 40), (10, 120, 10)).save(folder / "album.jpg" / "inside.png")
    os.mkfifo(folder / "pipe.jpg")  # would block a reader forever
    upright.save(folder / "locked.jpg", "JPEG")
    os.chmod(folder / "locked.jpg", 0)  # unreadable, except to root


def peak_rss_run(cmd: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``cmd`` under a small parent that reports the peak RSS of its descendants (MB)."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    done = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, timeout=600)
    return done, int(done.stdout.strip().splitlines()[-1]) / 1024


@pytest.fixture(scope="module")
def face_photo(shared_data: Path) -> Path:
    return next(photos[0] for photos in identities(shared_data / "lfw_dev").values())


def test_a_folder_of_hostile_files_scans_to_the_end_with_one_clear_error_each(face_photo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "hostile"
    make_hostile_folder(folder, face_photo)
    library = tmp_path / "library"
    cmd = [sys.executable, "-m", "facefile", "scan", str(folder), "--library", str(library), "--quiet",
           "--workers", "2"]
    done, peak_mb = peak_rss_run(cmd)
    print(f"\npeak RSS of one scan process: {peak_mb:.0f} MB; {done.stderr.strip()}")
    assert done.returncode == EXIT_FILES_FAILED, done.stderr
    assert peak_mb < RSS_LIMIT_MB

    errors = json.loads(facefile("errors", "--library", str(library), "--json").stdout)
    failing = dict(FAILING)
    if not IS_ROOT:
        failing["locked.jpg"] = "permission denied"
    assert sorted(e["path"] for e in errors) == sorted(failing)  # one error per bad file, no other
    for e in errors:
        assert e["reason"].startswith(failing[e["path"]]), e
    text = facefile("errors", "--library", str(library))
    assert text.returncode == 0 and "br\\xf6ken.jpg: not an image" in text.stdout

    with Library.open(library) as lib:
        stored = {r[0]: (r[1], r[2]) for r in sql(lib).execute(
            "SELECT f.path, i.width, i.height FROM files f JOIN images i ON i.id = f.image_id")}
        assert sorted(stored) == sorted(SCANNED + ([] if not IS_ROOT else ["locked.jpg"]))
        assert not any(p.startswith("loop/") for p in stored)  # the loop was walked once
        assert stored["panorama.jpg"] == (20000, 3000)
        # Every orientation ends upright, at the upright size, with the face where it is upright.
        faces = {f.path: f for f in lib.faces()}
        reference = faces["orient-1.jpg"].box
        for name in [*(f"orient-{o}.jpg" for o in range(1, 9)), "orient-bogus.jpg", "caf\\xe9.jpg"]:
            assert stored[name] == (250, 200), name
            assert np.allclose(faces[name].box, reference, atol=6), (name, faces[name].box, reference)
        person = faces["caf\\xe9.jpg"].person_id
        assert person is not None  # the ten copies of one face are one person

    exported = json.loads(facefile("export", "--library", str(library)).stdout)
    assert "caf\\xe9.jpg" in {row["path"] for row in exported}
    zip_path = tmp_path / "subject.zip"
    assert facefile("export-person", str(person), str(zip_path), "--library", str(library)).returncode == 0
    with zipfile.ZipFile(zip_path) as archive:
        record = json.loads(archive.read("person.json"))
        cafe = next(f for f in record["faces"] if f["paths"] == ["caf\\xe9.jpg"])
        assert cafe["crop"] in archive.namelist()  # cut from the file with the non-UTF-8 name

    # The name survives storage: an unchanged re-scan finds every file as it was (no new, none gone),
    # and exits 0: the unreadable files failed in the first scan, none in this one.
    again = facefile(*cmd[3:])
    assert again.returncode == 0 and " 0 new," in again.stderr and " 0 gone," in again.stderr


class _DeleteOnceDiscovered:
    """Scan progress that deletes a file when discovery is over and decoding is about to start."""

    def __init__(self, victim: Path) -> None:
        self.victim = victim

    def stage(self, name: str, total: int | None = None) -> None:
        if name == "Finding faces":
            self.victim.unlink()

    def advance(self, n: int = 1) -> None:
        pass


def test_a_file_deleted_after_discovery_and_an_unreadable_file_are_one_error_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ["kept.jpg", "vanishing.jpg", "locked.jpg"]:
        Image.new("RGB", (60, 40), (90, 90, 90)).save(folder / name)
    # We run as root, which reads a chmod 000 file: the file system's answer is simulated instead.
    real_open = open

    def refusing_open(path: object, *args: object, **kwargs: object) -> object:
        if Path(str(path)).name == "locked.jpg":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(hashing, "open", refusing_open, raising=False)
    with Library.open(folder / ".facefile") as lib:
        report = lib.scan(folder, workers=1, progress=_DeleteOnceDiscovered(folder / "vanishing.jpg"))
        assert (report.files_seen, report.files_new, report.errors) == (3, 1, 2)
        assert {e.path: e.reason for e in lib.errors()} == {
            "locked.jpg": "permission denied",
            "vanishing.jpg": "file not found (deleted during scan?)",
        }
        lib.scan(folder, workers=1)  # the deleted file is gone now: its error goes with it
        assert [e.path for e in lib.errors()] == ["locked.jpg"]


def test_names_with_rich_markup_print_verbatim(shared_data: Path, tmp_path: Path) -> None:
    """A file or person name is data, never markup: `[/i]` in a name must not break the output."""
    folder = tmp_path / "photos"
    name, photos = next((n, p) for n, p in identities(shared_data / "lfw_dev").items() if len(p) >= 2)
    link_sample([(p, "odd[") for p in photos[:2]], folder)  # photos under odd[/..., as "odd[/<file>"
    (folder / "odd[" / "i] name.jpg").write_bytes(b"not a photo")  # stored as "odd[/i] name.jpg"
    library = str(folder / ".facefile")
    assert facefile("scan", str(folder), "--quiet", "--workers", "1").returncode == EXIT_FILES_FAILED
    errors = facefile("errors", "--library", library)
    assert errors.returncode == 0 and "odd[/i] name.jpg: not an image" in errors.stdout, errors.stderr
    person = json.loads(facefile("people", "--json", "--library", library).stdout)[0]["id"]
    assert facefile("name", str(person), "[/b] Anna", "--library", library).returncode == 0
    people = facefile("people", "--library", library)
    assert people.returncode == 0 and "[/b] Anna" in people.stdout, people.stderr
    shown = facefile("show", str(person), "--library", library)
    assert shown.returncode == 0 and "odd[/" in shown.stdout, shown.stderr
