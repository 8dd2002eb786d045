"""`facefile bench quality`: the hard variants, the group photos, replay and corrections."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from facefile_bench.lfw import identities, link_sample
from facefile_bench.quality_sets import FaceSet, group_photos, same_photo_violations
from facefile_bench.replay import corrections, replay
from facefile_bench.variants import VARIANTS, apply_variant, compose_group

from ..cluster.synthetic import people


def fields(line: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.split())


def test_variants_are_deterministic_and_change_the_image() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (250, 250, 3), dtype=np.uint8)
    for variant in VARIANTS:
        a, b = apply_variant(image, variant), apply_variant(image, variant)
        assert np.array_equal(a, b) and a.dtype == np.uint8
        assert variant == "original" or a.shape != image.shape or not np.array_equal(a, image)
    assert apply_variant(image, "lowres24").shape[1] < 60  # the face is ~24 px across


def test_group_photos_hold_different_people_once_each() -> None:
    items = [(Path(f"/x/{n}/{k}.jpg"), n) for n in "abcdefgh" for k in range(3)]
    groups = group_photos(items)
    used = [p for paths, _, _ in groups for p in paths]
    assert len(used) == len(set(used))
    assert all(2 <= len(names) <= 4 and len(set(names)) == len(names) for _, names, _ in groups)
    canvas, boxes = compose_group([np.zeros((250, 250, 3), np.uint8)] * 3, seed=1)
    assert len(boxes) == 3 and canvas.shape[1] > 750


def test_same_photo_violations_counts_photos() -> None:
    labels = np.array([0, 0, 1, 2, 2, -1, -1])
    photo = np.array([1, 1, 1, 2, 3, 4, 4])
    assert same_photo_violations(labels, photo) == 1


def synthetic_set(name: str) -> FaceSet:
    X, truth = people([12, 9, 7, 5, 5, 3, 2, 2, 1, 1] * 3, seed=2, noise=0.075)
    order = np.random.default_rng(0).permutation(len(X))
    return FaceSet(name, X[order], truth[order].astype(str), np.arange(len(X)), np.ones(len(X), np.float32), len(X))


def test_replay_ends_where_one_batch_ends() -> None:
    table, out = replay(synthetic_set("replay"), "opencv-sface-2021dec")
    values = fields(" ".join(out))
    assert float(values["final_delta"]) <= 0.01
    assert table.count("\n") == 11


def test_simulated_corrections_are_all_kept() -> None:
    _, out = corrections(synthetic_set("corrections"), "opencv-sface-2021dec")
    values = fields(" ".join(out))
    assert float(values["retention"]) == 1.0
    assert float(values["f_after"]) >= float(values["f_before"])


@pytest.mark.data
@pytest.mark.slow
def test_small_bench_quality_beats_the_best_baseline(shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    from facefile_bench.quality_run import run

    monkeypatch.setenv("FACEFILE_BENCH_CACHE", str(tmp_path / "cache"))
    ids = identities(shared_data / "lfw_dev")
    # Big enough that a single chance pair does not decide (on tiny sets every method ties near 1.0).
    names = [n for n, p in ids.items() if len(p) >= 3][:200] + [n for n, p in ids.items() if len(p) == 1][:100]
    link_sample([(p, n) for n in names for p in ids[n][:4]], tmp_path / "data" / "lfw_dev")
    blocks = list(run(tmp_path / "data", ["lfw", "groups"], workers=2))
    for block in blocks:
        values = fields(block.strip().splitlines()[-1])
        assert float(values["facefile_bcubed_f"]) >= float(values["best_baseline_bcubed_f"]), block
    assert fields(blocks[1].strip().splitlines()[-1])["same_photo_violations"] == "0"


def test_ceiling_is_the_best_cut_of_average_linkage() -> None:
    from facefile_bench.ceiling import SIMILARITIES, average_link_ceiling
    from facefile_bench.metrics import bcubed_prf
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    faces = synthetic_set("ceiling")
    ceiling = average_link_ceiling(faces.X, faces.truth)
    assert len(ceiling.labels) == len(faces.X) and ceiling.similarity in SIMILARITIES
    assert bcubed_prf(faces.truth, ceiling.labels)[2] == ceiling.bcubed_f
    tree = linkage(pdist(faces.X.astype(np.float64), "cosine"), "average")
    cuts = [bcubed_prf(faces.truth, fcluster(tree, 1 - s, "distance"))[2] for s in SIMILARITIES[::3]]
    assert max(cuts) <= ceiling.bcubed_f + 1e-9 and min(cuts) < ceiling.bcubed_f
    # Told the truth of a single grouping, it finds it exactly.
    one = average_link_ceiling(faces.X, np.zeros(len(faces.X), int))
    assert one.bcubed_f == 1.0 and len(set(one.labels.tolist())) == 1
