"""Every long step of a scan shows progress with counts (issue 15): grouping reports its phases with
counts, and a stage that counts nothing ("Loading models" in-process) shows no bogus 0/0."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from facefile.cluster import cluster_faces
from facefile.library import Library
from facefile.ui.cli.progress_bars import RichProgress
from tests.cluster.synthetic import people

from .test_issue15_bugs import fake_scan  # noqa: F401 - the fixture: a scan without models


class Recorder:
    """A ``ScanProgress`` that keeps every stage with its total and the count it reached."""

    def __init__(self) -> None:
        self.stages: list[list] = []

    def stage(self, name: str, total: int | None = None) -> None:
        self.stages.append([name, total, 0])

    def advance(self, n: int = 1) -> None:
        self.stages[-1][2] += n

    def named(self, prefix: str) -> list[list]:
        return [s for s in self.stages if s[0].startswith(prefix)]


def test_grouping_reports_its_phases_with_counts(lib: Library, tmp_path: Path, fake_scan: None) -> None:  # noqa: F811
    photos = tmp_path / "photos"
    for k in range(40):
        (photos / f"p{k}.jpg").write_bytes(f"photo {k}".encode())
    recorder = Recorder()
    lib.scan(photos, progress=recorder)
    faces = lib.stats()["faces"]
    assert [s[1:] for s in recorder.named("Grouping faces: comparing")] == [[faces, faces]]
    linking = recorder.named("Grouping faces: linking")
    assert len(linking) == 1 and linking[0][2] > 0  # the 40 faces of one person: links were made


def test_the_engine_is_told_its_progress_and_gives_the_same_answer() -> None:
    X, _truth = people([12] * 30, seed=4)
    photos = np.arange(len(X))
    told: list[tuple[str, int, int | None]] = []
    quiet = cluster_faces(X, photos)
    loud = cluster_faces(X, photos, progress=lambda *call: told.append(call))
    assert np.array_equal(quiet.labels, loud.labels) and quiet.person_of_cluster == loud.person_of_cluster
    assert told[0] == ("Comparing faces", 0, len(X)) and ("Comparing faces", len(X), len(X)) in told
    links = [done for phase, done, _ in told if phase == "Linking faces"]
    assert links == sorted(links) and links[-1] >= len(X) - 30


@pytest.mark.parametrize("counted", [False, True])
def test_a_stage_without_counts_shows_no_zero_of_zero(counted: bool) -> None:
    text = io.StringIO()
    with RichProgress(Console(file=text, width=100, force_terminal=False)) as progress:
        progress.stage("Loading models", total=2 if counted else None)
        if counted:
            progress.advance(2)
        progress.stage("Finding faces", total=3)
        progress.advance(3)
    shown = text.getvalue()
    assert "0/0" not in shown and "0/?" not in shown and "3/3" in shown
    assert ("2/2" in shown) == counted
