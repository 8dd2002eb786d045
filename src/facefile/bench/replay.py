"""Two benchmarks of a library over time, on an embedded face set (see quality.py):

- ``replay``: the photos arrive in 10 batches; persons are re-clustered after each, continuing the
  previous persons. BCubed F after every batch, with the size-aware (calibrated) thresholds and
  with fixed ones; the final result must match a one-batch scan.
- ``corrections``: a simulated user, driven by ground truth, names 20% of persons (confirming some
  of their faces), rejects 50 wrong faces, makes 20 merges and 20 splits; after a full re-cluster,
  every confirmation and rejection must hold and F must be higher than before.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np

from ..cluster import ClusterParams, Constraints, cluster_faces
from .metrics import bcubed_prf, noise_as_singletons
from .quality import FaceSet


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


def replay(faces: FaceSet, model_id: str, batches: int = 10) -> tuple[str, list[str]]:
    calibrated = ClusterParams.for_model(model_id)
    fixed = replace(calibrated, impostor_tail=0.0)
    one_batch = bcubed_f(faces.truth, cluster_faces(faces.X, faces.photo, quality=faces.quality, params=calibrated).labels)
    curves: dict[str, list[float]] = {}
    for mode, params in (("calibrated", calibrated), ("fixed", fixed)):
        ids, previous, curve = PersonIds(), {}, []
        for k in range(1, batches + 1):
            n = len(faces.X) * k // batches
            result = cluster_faces(faces.X[:n], faces.photo[:n], quality=faces.quality[:n], previous=previous, params=params)
            persons = ids.assign(result)
            previous = {i: int(p) for i, p in enumerate(persons) if p >= 0}
            curve.append(bcubed_f(faces.truth[:n], persons))
        curves[mode] = curve
    lines = ["| batch | faces | BCubed F calibrated | BCubed F fixed |", "|---|---|---|---|"]
    for k in range(batches):
        lines.append(f"| {k + 1} | {len(faces.X) * (k + 1) // batches} | {curves['calibrated'][k]:.4f} | {curves['fixed'][k]:.4f} |")
    c = curves["calibrated"]
    max_drop = max([0.0] + [c[k - 1] - c[k] for k in range(1, len(c))])
    fields = ["set=replay", f"one_batch_f={one_batch:.4f}", f"final_f={c[-1]:.4f}",
              f"final_delta={abs(c[-1] - one_batch):.4f}", f"max_drop={max_drop:.4f}",
              f"final_f_fixed={curves['fixed'][-1]:.4f}"]
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
