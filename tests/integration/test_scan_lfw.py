"""Scan real LFW development photos end to end with the default backend.

The sample (about 60 identities with up to 6 photos, plus 40 single-photo identities) is a folder
of links to ../shared/data: the research photos are read in place, never copied.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from facefile_bench.lfw import centre_faces, integration_sample, link_sample
from facefile_bench.scan_bench import score_library

from facefile.library import Library

pytestmark = [pytest.mark.data, pytest.mark.slow]


@pytest.fixture(scope="module")
def scanned(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Library, dict[str, str], Path]:
    photos = tmp_path_factory.mktemp("lfw-sample")
    truth = link_sample(integration_sample(shared_data / "lfw_dev"), photos)
    lib = Library.open(photos / ".facefile")
    report = lib.scan(photos, workers=2)
    assert report.files_new == len(truth) and report.errors == 0
    yield lib, truth, photos
    lib.close()


def test_persons_beat_the_best_baseline_on_the_same_faces(scanned) -> None:
    lib, truth, _ = scanned
    scores = score_library(lib, truth)
    facefile, baselines = scores[0], scores[1:]
    best = max(baselines, key=lambda s: s.bcubed[2])
    print(f"\nfacefile BCubed F {facefile.bcubed[2]:.4f}; best baseline {best.method} {best.bcubed[2]:.4f}")
    assert facefile.bcubed[2] >= best.bcubed[2]
    assert len(centre_faces(lib)) == len(truth)  # every labelled face was found


def test_two_faces_of_one_photo_never_share_a_person(scanned) -> None:
    lib, _, _ = scanned
    by_photo: dict[str, list[int]] = {}
    for face in lib.faces():
        if face.person_id is not None:
            by_photo.setdefault(face.path, []).append(face.person_id)
    assert all(len(ids) == len(set(ids)) for ids in by_photo.values())


def test_rescan_of_an_unchanged_folder_changes_nothing(scanned) -> None:
    lib, _, photos = scanned
    before = lib.interop.export_faces()
    report = lib.scan(photos)
    assert (report.files_new, report.files_moved, report.files_gone, report.faces_added) == (0, 0, 0, 0)
    assert not report.reclustered
    assert lib.interop.export_faces() == before


def test_added_photos_keep_existing_persons(shared_data: Path, tmp_path: Path) -> None:
    sample = integration_sample(shared_data / "lfw_dev", repeated=20, per_identity=5, singles=10)
    first, later = sample[::2], sample[1::2]
    photos = tmp_path / "photos"
    link_sample(first, photos)
    lib = Library.open(photos / ".facefile")
    lib.scan(photos, workers=1)
    lib.persons.name(lib.people()[0].id, "First Person")
    persons_before = {p.id: p.name for p in lib.people()}
    person_of_face = {f.id: f.person_id for f in lib.faces() if f.person_id is not None}

    link_sample(later, photos)
    report = lib.scan(photos, workers=1)
    assert report.files_new == len(later) and report.reclustered
    now = {f.id: f.person_id for f in lib.faces()}
    kept = sum(now[f] == p for f, p in person_of_face.items())
    assert kept == len(person_of_face), f"{len(person_of_face) - kept} faces changed person"
    assert {p.id: p.name for p in lib.people() if p.id in persons_before} == persons_before

    # A moved file keeps its faces; a deleted file's faces leave.
    moved_from = photos / first[0][1] / first[0][0].name
    moved_to = photos / "moved" / "renamed.jpg"
    moved_to.parent.mkdir()
    shutil.move(moved_from, moved_to)
    faces_before = {f.id for f in lib.faces() if f.path == f"{first[0][1]}/{first[0][0].name}"}
    deleted = photos / first[1][1] / first[1][0].name
    deleted_faces = {f.id for f in lib.faces() if f.path == f"{first[1][1]}/{first[1][0].name}"}
    deleted.unlink()
    report = lib.scan(photos, workers=1)
    assert report.files_moved == 1 and report.files_gone == 2 and report.faces_added == 0
    assert {f.id for f in lib.faces() if f.path == "moved/renamed.jpg"} == faces_before
    assert not deleted_faces & {f.id for f in lib.faces()}
    lib.close()
