"""The ported baselines reproduce REFERENCE.md, and the engine beats the best of them.

These read the precomputed development embeddings in ../shared/data and skip without them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from facefile_bench.baselines import baselines, dbscan, immich, load_reference_set
from facefile_bench.metrics import bcubed_prf, noise_as_singletons, pairwise_prf

from facefile.cluster import ClusterParams, cluster_faces

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def embeddings(shared_data: Path) -> Path:
    if not (shared_data / "embeddings" / "sface_dev.npz").is_file():
        pytest.skip(f"precomputed embeddings not found in {shared_data / 'embeddings'}")
    return shared_data


# (set, baseline, BCubed F and pairwise F in REFERENCE.md)
REFERENCE = [
    ("lfw_dev_cap50", "immich", 0.955, 0.976),
    ("masked_dev", "immich", 0.443, 0.430),
    ("masked_dev", "photoprism", 0.277, 0.121),
    ("lfw_dev_cap50", "photoprism", 0.924, 0.896),
]


@pytest.mark.parametrize(("name", "method", "bcubed_f", "pairwise_f"), REFERENCE)
def test_port_reproduces_reference_numbers(
    embeddings: Path, name: str, method: str, bcubed_f: float, pairwise_f: float
) -> None:
    pytest.importorskip("faiss")
    pytest.importorskip("sklearn")
    X, truth = load_reference_set(embeddings, "sface", name)
    labels = immich(X, 1.0, 3) if method == "immich" else dbscan(X, 1.0, 4)
    pred = noise_as_singletons(labels)
    assert bcubed_prf(truth, pred)[2] == pytest.approx(bcubed_f, abs=0.005)
    assert pairwise_prf(truth, pred)[2] == pytest.approx(pairwise_f, abs=0.005)


def test_reference_sets_load_as_reference_py_does(embeddings: Path) -> None:
    X, truth = load_reference_set(embeddings, "sface", "lfw_dev_cap50")
    assert X.shape == (9861, 128) and len(set(truth.tolist())) == 4595
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert max(np.unique(truth, return_counts=True)[1]) == 50
    X, truth = load_reference_set(embeddings, "dlib", "masked_dev")
    assert X.shape == (3243, 128) and len(set(truth.tolist())) == 17


def test_engine_beats_every_baseline_on_a_lfw_subset(embeddings: Path) -> None:
    for module in ("faiss", "sklearn", "hdbscan", "dlib"):
        pytest.importorskip(module)
    X, truth = load_reference_set(embeddings, "sface", "lfw_dev_cap50")
    X, truth = X[:2000], truth[:2000]  # the set is shuffled: a random sample of its faces
    scores = {label: bcubed_prf(truth, noise_as_singletons(fn(X)))[2] for label, fn in baselines("sface")}
    result = cluster_faces(X, np.arange(len(X)), params=ClusterParams.for_model("opencv-sface-2021dec"))
    ours = bcubed_prf(truth, noise_as_singletons(result.labels))[2]
    best = max(scores, key=scores.__getitem__)
    assert ours > scores[best], f"engine {ours:.3f} vs {best} {scores[best]:.3f}"
