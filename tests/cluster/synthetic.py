"""Planted persons on the unit sphere: each face is its person's direction plus Gaussian noise."""
from __future__ import annotations

import numpy as np

DIM = 128
# Per-dimension noise 0.07 puts faces of one person at cosine ~0.6 of each other and unrelated
# faces near 0: the regime of a good face embedder (SFace: same-person median 0.68 on LFW).
NOISE = 0.07


def people(sizes: list[int], seed: int = 0, noise: float = NOISE) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm float32 embeddings and the planted person of each face (0..len(sizes)-1)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(sizes), DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    truth = np.repeat(np.arange(len(sizes)), sizes)
    X = centres[truth] + noise * rng.standard_normal((len(truth), DIM))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), truth


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Do two labelings group the faces identically (unassigned faces count as alone)?"""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    a = np.where(a < 0, -1 - np.arange(len(a)), a)
    b = np.where(b < 0, -1 - np.arange(len(b)), b)
    return bool(((a[:, None] == a[None, :]) == (b[:, None] == b[None, :])).all())
