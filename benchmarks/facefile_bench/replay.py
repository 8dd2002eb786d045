"""Two benchmarks of a library over time, on an embedded face set (see quality.py):

- ``replay``: the photos arrive in 10 batches; persons are re-clustered after each, continuing the
  previous persons. The faces are dealt onto photos of 1-4 different people (``deal_into_photos``)
  so that the library has different-person pairs to learn from. BCubed F after every batch with
  fixed thresholds (the model's prior), size-aware ones (``ClusterParams.at_size``) and calibrated
  ones (``cluster.calibrate``, learned from the faces seen so far; no confirmations are simulated,
  so only different-person pairs are learned from); the final result must match a one-batch scan.
- ``corrections``: a simulated user, driven by ground truth, names 20% of persons (confirming some
  of their faces), rejects 50 wrong faces, makes 20 merges and 20 splits; after a full re-cluster,
  every confirmation and rejection must hold and F must be higher than before.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from facefile.cluster import Calibration, ClusterParams, Constraints, calibrate, cluster_faces
from facefile_bench.metrics import bcubed_prf, noise_as_singletons
from facefile_bench.quality_sets import FaceSet


class PersonIds:
    """Turns engine assignments into stable person ids, as the library does."""

    def __init__(self) -> None:
        self.next_id = 1

    def assign(self, result) -> np.ndarray:  # noqa: ANN001 - cluster.Assignment
        ids = []
        for existing in result.person_of_cluster:
            if existing is None:
                existing, self.next_id = self.next_id, self.next_id + 1
            ids.append(existing)
        return np.array([ids[c] if c >= 0 else -1 for c in result.labels], np.int64)


def bcubed_f(truth: np.ndarray, persons: np.ndarray) -> float:
    return bcubed_prf(truth, noise_as_singletons(persons))[2]


def deal_into_photos(truth: np.ndarray, seed: int = 3) -> np.ndarray:
    """Photo ids that put the faces, in their order, on photos of 1-4 different people.

    LFW photos hold one labelled face each, so a library made of them has no faces sharing a photo
    and nothing to learn different-person pairs from. Dealt like this (as ``groups`` composes
    group photos, but without re-embedding), most faces share a photo; a photo's faces are
    consecutive, so a batch of the replay holds whole photos.
    """
    rng = np.random.default_rng(seed)
    photo = np.empty(len(truth), np.int64)
    current: list[int] = []
    names: set[str] = set()
    size, next_photo = int(rng.integers(1, 5)), 0
    for i in range(len(truth)):
        if truth[i] in names or len(current) >= size:
            photo[current] = next_photo
            next_photo += 1
            current, names, size = [], set(), int(rng.integers(1, 5))
        current.append(i)
        names.add(truth[i])
    photo[current] = next_photo
    return photo


def replay(faces: FaceSet, model_id: str, batches: int = 10) -> tuple[str, list[str]]:
    """BCubed F after each batch with fixed, size-aware and calibrated (learned) thresholds."""
    prior = ClusterParams.for_model(model_id)
    modes = {"fixed": replace(prior, impostor_tail=0.0), "size-aware": prior}
    photo = deal_into_photos(faces.truth)

    def learned(n: int) -> Calibration:
        # As the library does it (persons.py): the impostor tail from same-photo pairs.
        return calibrate(prior, faces.X[:n], photo[:n], model_id=model_id, base_rate=False)

    full = learned(len(faces.X))
    one_batch = bcubed_f(faces.truth, cluster_faces(faces.X, photo, quality=faces.quality, params=full.params).labels)
    curves: dict[str, list[float]] = {}
    seen: list[Calibration] = []
    for mode in ("fixed", "size-aware", "calibrated"):
        ids, previous, curve = PersonIds(), {}, []
        for k in range(1, batches + 1):
            n = len(faces.X) * k // batches
            if mode == "calibrated":
                seen.append(learned(n))
                params = seen[-1].params
            else:
                params = modes[mode]
            result = cluster_faces(faces.X[:n], photo[:n], quality=faces.quality[:n], previous=previous, params=params)
            persons = ids.assign(result)
            previous = {i: int(p) for i, p in enumerate(persons) if p >= 0}
            curve.append(bcubed_f(faces.truth[:n], persons))
        curves[mode] = curve
    lines = ["| batch | faces | negatives | F fixed | F size-aware | F calibrated | calibrated threshold |",
             "|---|---|---|---|---|---|---|"]
    for k in range(batches):
        lines.append(f"| {k + 1} | {len(faces.X) * (k + 1) // batches} | {seen[k].negatives} | {curves['fixed'][k]:.4f} "
                     f"| {curves['size-aware'][k]:.4f} | {curves['calibrated'][k]:.4f} | {seen[k].threshold:.4f} |")
    c = curves["calibrated"]
    max_drop = max([0.0] + [c[k - 1] - c[k] for k in range(1, len(c))])
    fields = ["set=replay", f"one_batch_f={one_batch:.4f}", f"final_f={c[-1]:.4f}",
              f"final_delta={abs(c[-1] - one_batch):.4f}", f"max_drop={max_drop:.4f}",
              f"final_f_fixed={curves['fixed'][-1]:.4f}", f"final_f_size_aware={curves['size-aware'][-1]:.4f}",
              f"mean_f_calibrated={np.mean(c):.4f}", f"mean_f_fixed={np.mean(curves['fixed']):.4f}",
              f"calibrated_threshold={full.threshold:.4f}", f"prior_threshold={full.prior_threshold:.4f}",
              f"negatives={full.negatives}", f"positives={full.positives}"]
    return "\n".join(lines), fields


def corrections(faces: FaceSet, model_id: str, seed: int = 5) -> tuple[str, list[str]]:
    params = ClusterParams.for_model(model_id)
    rng = np.random.default_rng(seed)
    ids = PersonIds()
    before = ids.assign(cluster_faces(faces.X, faces.photo, quality=faces.quality, params=params))
    f_before = bcubed_f(faces.truth, before)
    members: dict[int, list[int]] = {}
    for i, p in enumerate(before.tolist()):
        if p >= 0:
            members.setdefault(p, []).append(i)
    majority = {p: Counter(faces.truth[m].tolist()).most_common(1)[0][0] for p, m in members.items()}
    confirmed: dict[int, int] = {}
    rejected: list[tuple[int, int]] = []
    persons = sorted(members)

    # Names 20% of persons: the user confirms up to 5 faces of the person's main identity.
    for p in rng.choice(persons, size=len(persons) // 5, replace=False).tolist():
        for f in [f for f in members[p] if faces.truth[f] == majority[p]][:5]:
            confirmed[f] = p
    # Rejects 50 wrong faces: faces whose identity is not their person's main one.
    wrong = [(f, p) for p in persons for f in members[p] if faces.truth[f] != majority[p]]
    for k in rng.permutation(len(wrong))[:50].tolist():
        rejected.append(wrong[k])
    # 20 merges: two persons with the same main identity become one.
    by_identity: dict[str, list[int]] = {}
    for p in persons:
        by_identity.setdefault(majority[p], []).append(p)
    split_ids = [ps for ps in by_identity.values() if len(ps) >= 2]
    merges = 0
    for k in rng.permutation(len(split_ids)).tolist()[:20]:
        keep, other = split_ids[k][0], split_ids[k][1]
        for p in (keep, other):
            for f in members[p]:
                if faces.truth[f] == majority[p]:
                    confirmed[f] = keep
        merges += 1
    # 20 splits: a person holding two identities; the second one moves to a new person.
    mixed = [p for p in persons if len({faces.truth[f] for f in members[p]}) >= 2]
    splits = 0
    for p in [mixed[k] for k in rng.permutation(len(mixed)).tolist()[:20]]:
        second = Counter(faces.truth[members[p]].tolist()).most_common(2)[1][0]
        new_person = ids.next_id
        ids.next_id += 1
        for f in members[p]:
            if faces.truth[f] == second:
                confirmed[f] = new_person
                rejected.append((f, p))
        splits += 1
    # A face confirmed to a person cannot also be rejected from it (a later action wins).
    rejected = [(f, p) for f, p in rejected if confirmed.get(f) != p]

    previous = {i: int(p) for i, p in enumerate(before) if p >= 0}
    result = cluster_faces(faces.X, faces.photo, quality=faces.quality, params=params,
                           constraints=Constraints(confirmed=confirmed, rejected=rejected), previous=previous)
    after = ids.assign(result)
    kept = sum(after[f] == p for f, p in confirmed.items()) + sum(after[f] != p for f, p in rejected)
    total = len(confirmed) + len(rejected)
    f_after = bcubed_f(faces.truth, after)
    text = (f"{len(confirmed)} confirmations ({len(persons) // 5} persons named, {merges} merges, {splits} splits), "
            f"{len(rejected)} rejections; kept {kept}/{total}")
    fields = ["set=corrections", f"retention={kept / max(1, total):.4f}", f"f_before={f_before:.4f}",
              f"f_after={f_after:.4f}", f"confirmations={len(confirmed)}", f"rejections={len(rejected)}"]
    return text, fields
