"""Labelled photo samples from an LFW-style folder (``<Identity>/<image>``), read in place.

Research photos are never copied: a sample is a folder of symbolic links to the originals, which a
scan reads like any photo folder. Ground truth labels the face nearest the image centre; other
faces (bystanders) are left out of scoring.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from facefile.library import FaceInfo, Library

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def identities(folder: Path) -> dict[str, list[Path]]:
    """Identity -> its photos, both sorted, so every sample is reproducible."""
    found: dict[str, list[Path]] = {}
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir() and not entry.name.startswith("."):
            photos = sorted(p for p in Path(entry.path).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if photos:
                found[entry.name] = photos
    return found


def integration_sample(
    folder: Path, *, repeated: int = 60, per_identity: int = 6, singles: int = 40, seed: int = 0
) -> list[tuple[Path, str]]:
    """``repeated`` identities with 2..``per_identity`` photos each, plus ``singles`` identities with
    one photo: the mix of a family library (a few people often, many people once)."""
    ids = identities(folder)
    rng = np.random.default_rng(seed)
    multi = sorted(name for name, photos in ids.items() if len(photos) >= 2)
    single = sorted(name for name, photos in ids.items() if len(photos) == 1)
    chosen = [multi[i] for i in sorted(rng.choice(len(multi), size=min(repeated, len(multi)), replace=False))]
    lonely = [single[i] for i in sorted(rng.choice(len(single), size=min(singles, len(single)), replace=False))]
    sample = [(p, name) for name in chosen for p in ids[name][:per_identity]]
    return sample + [(ids[name][0], name) for name in lonely]


def photo_sample(folder: Path, n: int, *, cap: int = 50, seed: int = 0) -> list[tuple[Path, str]]:
    """``n`` photos drawn from all identities, at most ``cap`` per identity."""
    everything = [(p, name) for name, photos in identities(folder).items() for p in photos[:cap]]
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(everything), size=min(n, len(everything)), replace=False))
    return [everything[i] for i in picked]


def link_sample(sample: list[tuple[Path, str]], dest: Path) -> dict[str, str]:
    """Lay ``dest/<Identity>/<file>`` links to the originals; returns relative path -> identity."""
    truth = {}
    for path, name in sample:
        rel = f"{name}/{path.name}"
        link = dest / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(path.resolve())
        truth[rel] = name
    return truth


def distance_to(box: tuple[float, float, float, float], point: tuple[float, float]) -> float:
    """Squared distance from a box's centre to ``point``: which face a label is about."""
    x1, y1, x2, y2 = box
    return ((x1 + x2) / 2 - point[0]) ** 2 + ((y1 + y2) / 2 - point[1]) ** 2


def centre_faces(lib: Library) -> dict[str, FaceInfo]:
    """For each photo path, the face nearest the image centre (the labelled one)."""
    best: dict[str, tuple[float, FaceInfo]] = {}
    for face in lib.faces():
        w, h = face.image_size
        d = distance_to(face.box, (w / 2, h / 2))
        if face.path not in best or d < best[face.path][0]:
            best[face.path] = (d, face)
    return {path: face for path, (_, face) in best.items()}
