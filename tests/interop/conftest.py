"""Fixtures for the XMP tests: exiftool (tests only; facefile never runs it) and region writers."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def exiftool() -> str:
    found = shutil.which("exiftool")
    if found is None:
        pytest.skip("exiftool not installed (Debian: libimage-exiftool-perl; `make system-deps`)")
    return found


def exif(exiftool: str, *args: str | Path) -> str:
    done = subprocess.run([exiftool, *map(str, args)], capture_output=True, text=True, check=True)
    return done.stdout


def exif_json(exiftool: str, path: Path, *tags: str) -> dict:
    return json.loads(exif(exiftool, "-j", "-n", *tags, path))[0]


def mwg_struct(size: tuple[int, int], regions: list[tuple[str, tuple[float, float, float, float]]]) -> str:
    """exiftool's struct syntax for MWG RegionInfo, as digiKam lays it out: ``regions`` are
    ``(name, (x1, y1, x2, y2))`` normalised to the stored image."""
    items = []
    for name, (x1, y1, x2, y2) in regions:
        area = f"X={(x1 + x2) / 2:.6f},Y={(y1 + y2) / 2:.6f},W={x2 - x1:.6f},H={y2 - y1:.6f},Unit=normalized"
        items.append(f"{{Area={{{area}}},Name={name},Type=Face}}")
    return f"{{AppliedToDimensions={{W={size[0]},H={size[1]},Unit=pixel}},RegionList=[{','.join(items)}]}}"


def write_mwg(exiftool: str, target: Path, size: tuple[int, int],
              regions: list[tuple[str, tuple[float, float, float, float]]], *, source: Path | None = None) -> None:
    """MWG regions into ``target`` (a photo, or a new ``.xmp`` sidecar when ``source`` is given:
    exiftool then writes a sidecar from scratch)."""
    args: list[str | Path] = ["-q", "-overwrite_original", f"-XMP-mwg-rs:RegionInfo={mwg_struct(size, regions)}"]
    if source is not None:
        args += ["-o", target, source]
    else:
        args.append(target)
    exif(exiftool, *args)
