"""Synthetic embeddings for the scale bench: fitted shapes, Zipf sizes, photos of distinct persons."""
from __future__ import annotations

import numpy as np
from facefile_bench.synthetic import FaceModel, zipf_sizes


def test_zipf_sizes() -> None:
    sizes = zipf_sizes(10_000, 1_000)
    assert sizes.sum() == 10_000 and sizes.min() >= 1 and (np.diff(sizes) <= 0).all()
    assert sizes[0] > 10 * sizes[99]


def test_fit_and_sample_reproduce_the_spread() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(200, 32))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    truth = np.repeat(np.arange(200), 10)
    X = centres[truth] + rng.normal(scale=0.6 / np.sqrt(32), size=(2000, 32))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    model = FaceModel.fit(X, truth)
    drawn = model.sample(np.full(200, 10), seed=1)

    def genuine_mean(V: np.ndarray, ids: np.ndarray) -> float:
        return float(np.mean([V[ids == k][0] @ V[ids == k][1] for k in range(200)]))

    assert abs(genuine_mean(drawn.embeddings, drawn.identity) - genuine_mean(X, truth)) < 0.05
    assert np.allclose(np.linalg.norm(drawn.embeddings, axis=1), 1, atol=1e-5)
    for photo in np.unique(drawn.photo):  # one person at most once per photo
        members = drawn.identity[drawn.photo == photo]
        assert len(members) == len(np.unique(members)) <= 4
    again = model.sample(np.full(200, 10), seed=1)
    assert np.array_equal(again.embeddings, drawn.embeddings) and np.array_equal(again.photo, drawn.photo)
