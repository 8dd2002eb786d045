"""``facefile bench quality``: facefile's persons against every baseline, on the same embeddings.

Data sets (``--set``), all made from a folder laid out like ``../shared/data`` and embedded here
with the chosen backend (cached by content hash, variant and model):

- ``lfw``: LFW development identities, at most 50 photos each; ``lfw-all``: uncapped;
- ``masked``: the real masked-face development set (masked and unmasked photos of the same people);
- ``lowres24``, ``lowres32``, ``eyes``, ``jpeg15``: hard variants of an LFW subset (see variants.py);
- ``groups``: group photos composed of 2-4 different people (faces of one photo are cannot-links);
- ``replay`` and ``corrections``: see replay.py.

Faces the detector missed are left out of scoring (as in REFERENCE.md); unassigned faces count as
one-face persons.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facefile.cluster import ClusterParams, SuggestParams, cluster_faces
from facefile_bench.baselines import baselines
from facefile_bench.ceiling import CEILING_LABEL, average_link_ceiling
from facefile_bench.embed_cache import EmbeddingCache, embed_items
from facefile_bench.lfw import identities
from facefile_bench.metrics import merge_precision, suggestion_precision
from facefile_bench.scan_bench import TABLE_HEAD, MethodScore, baseline_family, score

ALL_SETS = ("lfw", "lfw-all", "masked", "lowres24", "lowres32", "eyes", "jpeg15", "groups", "replay", "corrections")
VARIANT_SETS = {"lowres24", "lowres32", "eyes", "jpeg15"}


@dataclass
class FaceSet:
    """Embedded labelled faces, ready for clustering."""

    name: str
    X: np.ndarray
    truth: np.ndarray
    photo: np.ndarray
    quality: np.ndarray
    items: int  # photos tried (detected or not)


def lfw_items(folder: Path, cap: int | None) -> list[tuple[Path, str]]:
    return [(p, name) for name, photos in identities(folder).items() for p in photos[:cap]]


def hard_subset(folder: Path, *, repeated: int = 600, per_identity: int = 8, singles: int = 400) -> list[tuple[Path, str]]:
    """A fixed LFW subset for the costly variants: identities seen several times plus strangers."""
    ids = identities(folder)
    rng = np.random.default_rng(7)
    multi = sorted(n for n, p in ids.items() if len(p) >= 2)
    single = sorted(n for n, p in ids.items() if len(p) == 1)
    chosen = [multi[i] for i in sorted(rng.choice(len(multi), min(repeated, len(multi)), replace=False))]
    lonely = [single[i] for i in sorted(rng.choice(len(single), min(singles, len(single)), replace=False))]
    return [(p, n) for n in chosen for p in ids[n][:per_identity]] + [(ids[n][0], n) for n in lonely]


def group_photos(items: list[tuple[Path, str]], seed: int = 11) -> list[tuple[tuple[Path, ...], tuple[str, ...], int]]:
    """Deal the photos into groups of 2-4 different people; every photo is used once at most."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(items))
    groups, current, names = [], [], set()
    size = int(rng.integers(2, 5))
    for i in order:
        path, name = items[i]
        if name in names:
            continue
        current.append((path, name))
        names.add(name)
        if len(current) == size:
            groups.append((tuple(p for p, _ in current), tuple(n for _, n in current), len(groups)))
            current, names, size = [], set(), int(rng.integers(2, 5))
    return groups


def build_set(name: str, data: Path, cache: EmbeddingCache, backend: str, workers: int,
              progress: Callable[[int], None] | None = None) -> FaceSet:
    lfw = data / "lfw_dev"
    if name in ("lfw", "lfw-all", "replay", "corrections"):
        items = lfw_items(lfw, None if name == "lfw-all" else 50)
        variant = "original"
    elif name == "masked":
        items = lfw_items(data / "masked_dev", None)
        variant = "original"
    elif name in VARIANT_SETS:
        items, variant = hard_subset(lfw), name
    elif name == "groups":
        groups = group_photos(hard_subset(lfw))
        _, faces = embed_items(cache, backend, groups=[(g, s) for g, _, s in groups], workers=workers, progress=progress)
        rows = [(e, n, s) for (_, names, s), embs in zip(groups, faces, strict=True)
                for e, n in zip(embs, names, strict=True)]
        return _face_set(name, [(e, n, s) for e, n, s in rows], sum(len(g) for g, _, _ in groups))
    else:
        raise ValueError(f"unknown set {name!r}; choose from {', '.join(ALL_SETS)}")
    embedded, _ = embed_items(cache, backend, singles=[(p, variant) for p, _ in items], workers=workers, progress=progress)
    return _face_set(name, [(e, n, i) for i, (e, (_, n)) in enumerate(zip(embedded, items, strict=True))], len(items))


def _face_set(name: str, rows: list, items: int) -> FaceSet:
    found = [(e, n, photo) for e, n, photo in rows if e.embedding is not None]
    # A fixed shuffle: Immich's algorithm depends on input order, and folder order is not a user's.
    order = np.random.default_rng(0).permutation(len(found))
    found = [found[i] for i in order]
    X = np.stack([e.embedding for e, _, _ in found]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return FaceSet(name, X, np.array([n for _, n, _ in found]), np.array([p for _, _, p in found], np.int64),
                   np.array([e.quality for e, _, _ in found], np.float32), items)


def facefile_labels(faces: FaceSet, model_id: str) -> np.ndarray:
    return cluster_faces(faces.X, faces.photo, quality=faces.quality, params=ClusterParams.for_model(model_id)).labels


def same_photo_violations(labels: np.ndarray, photo: np.ndarray) -> int:
    """Photos with two faces in one person (the count of broken cannot-links, per photo)."""
    seen: dict[tuple[int, int], int] = {}
    bad = set()
    for label, p in zip(labels.tolist(), photo.tolist(), strict=True):
        if label >= 0:
            if (p, label) in seen:
                bad.add(p)
            seen[(p, label)] = 1
    return len(bad)


def evaluate(faces: FaceSet, model_id: str) -> tuple[list[MethodScore], list[str]]:
    """The table rows and the key=value fields for one set."""
    t = time.perf_counter()
    labels = facefile_labels(faces, model_id)
    scores = [score("facefile", faces.truth, labels, time.perf_counter() - t)]
    violations = {"facefile": same_photo_violations(labels, faces.photo)}
    for label, fn in baselines(baseline_family(model_id)):
        t = time.perf_counter()
        pred = fn(faces.X)
        scores.append(score(label, faces.truth, pred, time.perf_counter() - t))
        violations[label] = same_photo_violations(np.asarray(pred), faces.photo)
    best = max(scores[1:], key=lambda s: s.bcubed[2])
    best_pairwise = max(s.pairwise[2] for s in scores[1:])
    t = time.perf_counter()
    ceiling = average_link_ceiling(faces.X, faces.truth)
    # Printed last and never a baseline: it chose its threshold with the truth (see ceiling.py).
    scores.append(score(f"{CEILING_LABEL}, similarity {ceiling.similarity:.2f}", faces.truth, ceiling.labels,
                        time.perf_counter() - t))

    def error_ratio(f: float) -> float:
        return (1 - f) / max(1e-9, 1 - best.bcubed[2])

    fields = [
        f"set={faces.name}", f"faces={len(faces.X)}", f"detected={len(faces.X)}/{faces.items}",
        f"facefile_bcubed_f={scores[0].bcubed[2]:.4f}", f"best_baseline_bcubed_f={best.bcubed[2]:.4f}",
        f"best_baseline={best.method.replace(' ', '_')}", f"error_ratio={error_ratio(scores[0].bcubed[2]):.3f}",
        f"facefile_pairwise_f={scores[0].pairwise[2]:.4f}", f"best_baseline_pairwise_f={best_pairwise:.4f}",
        f"ceiling_bcubed_f={ceiling.bcubed_f:.4f}", f"ceiling_similarity={ceiling.similarity:.2f}",
        f"ceiling_error_ratio={error_ratio(ceiling.bcubed_f):.3f}",
    ]
    if faces.name in ("lfw", "lfw-all", "masked"):
        fields += suggestion_fields(faces, labels, model_id)
    if faces.name == "groups":
        fields.append(f"same_photo_violations={violations['facefile']}")
        fields.append(f"best_baseline_same_photo_violations={violations[best.method]}")
    return scores, fields


def suggestion_fields(faces: FaceSet, labels: np.ndarray, model_id: str, top: int = 50) -> list[str]:
    """What the review queue would ask, with its parameters (``SuggestParams.for_model``), scored
    against the truth: precision@1 of "is this Anna?" over every face it would ask about
    (``suggest_n``; ``suggest_right`` of them right; ``suggest_eligible`` unassigned faces had a
    person of their own to be offered), and precision of its first ``top`` merge suggestions
    (``merge_n`` shown, ``merge_right`` right, of ``merge_true_pairs`` split pairs). A precision
    of nan means nothing was shown."""
    params = SuggestParams.for_model(model_id)
    p1, shown, right, eligible = suggestion_precision(faces.truth, labels, faces.X, faces.photo, params=params)
    merge_p, merges, merge_right, true_pairs = merge_precision(faces.truth, labels, faces.X, faces.photo,
                                                               params=params, top=top)
    return [f"suggest_p1={p1:.4f}", f"suggest_n={shown}", f"suggest_right={right}", f"suggest_eligible={eligible}",
            f"merge_p={merge_p:.4f}", f"merge_n={merges}", f"merge_right={merge_right}",
            f"merge_true_pairs={true_pairs}"]


def report_set(faces: FaceSet, model_id: str) -> str:
    scores, fields = evaluate(faces, model_id)
    head = f"### {faces.name}: {len(faces.X)} faces of {faces.items} photos, {len(set(faces.truth.tolist()))} identities"
    return "\n".join([head, "", TABLE_HEAD, *(s.row() for s in scores), "", " ".join(fields), ""])
