"""A scan imports the face names other tools stored: every name on the right face, as a confirmation.

Photos are LFW development photos, linked in place; the ones that must carry an embedded packet or
an EXIF rotation are derived copies in tmp_path (never in the repository). Regions are drawn the
way other tools draw them: larger or smaller than our detector's boxes and shifted.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from facefile_bench.lfw import integration_sample
from PIL import Image

from facefile.interop.regions import iou, to_stored
from facefile.library import Library
from facefile.media import decode
from tests.support.database import sql

from .conftest import exif, write_mwg

pytestmark = [pytest.mark.data, pytest.mark.slow]


def drift(box: tuple[float, ...], rng: np.random.Generator) -> tuple[float, float, float, float]:
    """How another tool might have drawn the same face: 0.85-1.35 times as large, shifted 8 %."""
    x1, y1, x2, y2 = box
    w, h = (x2 - x1) * rng.uniform(0.85, 1.35), (y2 - y1) * rng.uniform(0.85, 1.35)
    cx = (x1 + x2) / 2 + (x2 - x1) * rng.uniform(-0.08, 0.08)
    cy = (y1 + y2) / 2 + (y2 - y1) * rng.uniform(-0.08, 0.08)
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


@pytest.fixture(scope="module")
def named(shared_data: Path, exiftool: str, tmp_path_factory: pytest.TempPathFactory):
    from facefile.vision import load_backend

    backend = load_backend()
    folder = tmp_path_factory.mktemp("named")
    blank = folder / ".blank.jpg"
    Image.new("RGB", (8, 8)).save(blank)
    rng = np.random.default_rng(7)
    sample = integration_sample(shared_data / "lfw_dev", repeated=6, per_identity=3, singles=6, seed=3)
    intended: list[tuple[str, str, tuple[float, ...]]] = []  # (stored path, name, detected box)
    for i, (source, identity) in enumerate(sample):
        name = f"{identity}_{i}.jpg"
        photo = folder / name
        orientation = 6 if i % 5 == 4 else 1
        if orientation != 1:  # stored turned on its side, shown upright through EXIF
            exif_block = Image.Exif()
            exif_block[0x0112] = orientation
            Image.open(source).transpose(Image.Transpose.ROTATE_90).save(photo, exif=exif_block, quality=95)
        elif i % 3 == 0:
            photo.write_bytes(source.read_bytes())  # will carry an embedded packet
        else:
            photo.symlink_to(source)
        image = decode(photo)
        faces = backend.detector.detect(image.pixels)
        centre = min(faces, key=lambda f: ((f.box[0] + f.box[2] - image.width) ** 2 + (f.box[1] + f.box[3] - image.height) ** 2))
        regions = []
        for k, face in enumerate(faces):
            person = identity.replace("_", " ") if face is centre else f"Bystander {i}-{k}"
            x1, y1, x2, y2 = drift(face.box, rng)
            upright = (x1 / image.width, y1 / image.height, x2 / image.width, y2 / image.height)
            regions.append((person, to_stored(upright, orientation)))
            intended.append((name, person, face.box))
        if i == 1:  # a name on a poster no detector finds a face in: kept as a manual face
            regions.append(("Poster Person", (0.0, 0.0, 0.12, 0.12)))
        stored_size = Image.open(photo).size
        if i % 3 == 0 and orientation == 1:
            write_mwg(exiftool, photo, stored_size, regions)
        elif i % 3 == 1 and i != 7:
            write_mwg(exiftool, folder / f"{name}.xmp", stored_size, regions, source=blank)
        elif i == 7:  # Windows Photo Gallery: Microsoft People Tags only, top-left x, y, w, h
            tags = ",".join(f"{{PersonDisplayName={p},Rectangle={r[0]:.4f}|, {r[1]:.4f}|, {r[2] - r[0]:.4f}|, "
                            f"{r[3] - r[1]:.4f}}}" for p, r in regions)
            exif(exiftool, "-q", "-o", folder / f"{Path(name).stem}.xmp", f"-XMP-MP:RegionInfoMP={{Regions=[{tags}]}}",
                 blank)
        else:
            write_mwg(exiftool, folder / f"{Path(name).stem}.xmp", stored_size, regions, source=blank)
    lib = Library.open(folder / ".facefile")
    report = lib.scan(folder, workers=1)
    assert report.errors == 0
    yield lib, folder, intended
    lib.close()


def test_every_name_lands_on_its_face(named) -> None:
    lib, _, intended = named
    by_face = {f.id: f for f in lib.faces()}
    names = {(r["face_id"]): r["name"] for r in sql(lib).execute(
        "SELECT face_id, name FROM xmp_names WHERE status = 'confirmed'")}
    right = 0
    for path, person, box in intended:
        holders = [by_face[fid] for fid, n in names.items() if n == person and by_face[fid].path == path]
        right += len(holders) == 1 and iou(holders[0].box, box) > 0.7 and holders[0].provenance == "confirmed"
        assert lib.person(holders[0].person_id).name == person
    print(f"\nnames imported on the right face: {right}/{len(intended)}")
    assert right == len(intended)


def test_a_region_without_a_face_is_a_manual_face_outside_clustering(named) -> None:
    lib, _, _ = named
    [(face_id,)] = sql(lib).execute("SELECT id FROM faces WHERE source = 'manual'").fetchall()
    [face] = [f for f in lib.faces() if f.id == face_id]
    assert lib.person(face.person_id).name == "Poster Person" and face.provenance == "confirmed"
    assert sql(lib).execute("SELECT model_id, length(embedding) FROM faces WHERE id = ?", (face.id,)).fetchone()[:] \
        == ("none", 0)
    assert lib.recluster() > 0  # the engine never sees it, and keeps working


def test_rescan_and_reimport_change_nothing_and_corrections_stand(named, exiftool: str) -> None:
    lib, folder, intended = named
    before = lib.interop.export_faces()
    report = lib.scan(folder, workers=1)
    assert (report.files_new, report.faces_added) == (0, 0)
    again = lib.interop.import_xmp()
    assert (again.names_queued, again.manual_faces) == (0, 0)
    assert lib.interop.export_faces() == before

    # The user corrects a named face in facefile; importing the XMP again does not undo it.
    path, person, box = intended[0]
    [face] = [f for f in lib.faces() if f.path == path and iou(f.box, box) > 0.7]
    mine = lib.persons.move(face.id, None)
    lib.persons.name(mine, "Corrected In Facefile")
    lib.interop.import_xmp()
    assert lib.person(next(f for f in lib.faces() if f.id == face.id).person_id).name == "Corrected In Facefile"


def test_a_named_region_the_detector_missed_is_found_in_its_crop(shared_data: Path, exiftool: str,
                                                                   tmp_path: Path) -> None:
    from facefile.pipeline.xmp_faces import named_faces
    from facefile.vision import load_backend

    backend = load_backend()
    source, identity = integration_sample(shared_data / "lfw_dev", repeated=1, per_identity=1, singles=0)[0]
    photo = tmp_path / "a.jpg"
    photo.symlink_to(source)
    image = decode(photo)
    [face, *_] = backend.detector.detect(image.pixels)
    whole = backend.embedder.embed(image.pixels, [face])[0]
    x1, y1, x2, y2 = drift(face.box, np.random.default_rng(1))
    blank = tmp_path / ".blank.jpg"
    Image.new("RGB", (8, 8)).save(blank)
    write_mwg(exiftool, tmp_path / "a.jpg.xmp", (image.width, image.height),
              [(identity, (x1 / image.width, y1 / image.height, x2 / image.width, y2 / image.height))], source=blank)
    # As if the detector had missed it on the whole photo: the region's crop is searched.
    [found] = named_faces(photo, image, [], backend)
    assert (found.source, found.imported_name.name, found.imported_name.origin) == ("xmp", identity, "sidecar")
    assert iou(found.box, face.box) > 0.7 and found.quality > 0
    assert float(found.embedding @ whole) > 0.8  # the same face, embedded from the crop
