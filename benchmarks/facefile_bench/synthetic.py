"""Synthetic face embeddings shaped like real ones, for libraries far larger than any labelled set.

``FaceModel.fit`` estimates, from real labelled embeddings (``../shared/data/embeddings``), where
persons sit and how their photos spread: the mean and covariance of the persons' centres (unit
means of their faces), the covariance of a face around its person's centre, and how much that
spread varies from person to person. ``FaceModel.sample`` then draws any number of persons
(centre = a draw from the centres' Gaussian, normalised) and faces (centre + that person's spread
times a draw from the within-person Gaussian, normalised). Identity sizes follow Zipf's law, and
faces are packed into photos of one to four different persons, so same-photo cannot-links exist
as in a real library. Everything is seeded: the same arguments give the same library.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["FaceModel", "SyntheticFaces", "zipf_sizes", "pack_photos"]

# How many faces a photo holds: most photos show one person, some a few (measured shares in family
# libraries vary; these keep a quarter of faces in group photos).
PHOTO_SIZES = np.array([1, 2, 3, 4])
PHOTO_SIZE_SHARE = np.array([0.75, 0.15, 0.07, 0.03])


@dataclass(frozen=True)
class SyntheticFaces:
    embeddings: np.ndarray  # (N, d) float32, unit rows
    identity: np.ndarray  # (N,) int64, person index (ground truth)
    photo: np.ndarray  # (N,) int64, photo index; faces of one photo are different persons


@dataclass(frozen=True)
class FaceModel:
    centre_mean: np.ndarray  # (d,)
    centre_chol: np.ndarray  # (d, d) Cholesky factor of the centres' covariance
    within_chol: np.ndarray  # (d, d) Cholesky factor of a face's offset from its centre, unit spread
    spread_log_mean: float  # log of a person's spread (RMS offset norm): mean and sd over persons
    spread_log_sd: float
    face_ratio: np.ndarray  # real offset lengths relative to their person's spread (drawn from)

    @classmethod
    def fit(cls, embeddings: np.ndarray, identities: np.ndarray, min_faces: int = 2) -> FaceModel:
        """Estimate the model from real embeddings of persons with at least ``min_faces`` faces."""
        X = embeddings.astype(np.float64)
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        names, inverse, counts = np.unique(identities, return_inverse=True, return_counts=True)
        keep = counts[inverse] >= min_faces
        X, inverse = X[keep], inverse[keep]
        _, inverse = np.unique(inverse, return_inverse=True)
        k = int(inverse.max()) + 1
        sums = np.zeros((k, X.shape[1]))
        np.add.at(sums, inverse, X)
        centres = sums / np.linalg.norm(sums, axis=1, keepdims=True)
        # A face sits at angle theta from its person's centre. Drawn faces are normalise(centre +
        # offset) with the offset (nearly) orthogonal to the centre, at angle atan(|offset|): so the
        # real tan(theta) is the offset length to reproduce. The estimated centre is the mean of the
        # same faces, closer to them than the true one: tan^2 is scaled by n / (n - 1).
        n_of = np.bincount(inverse)
        cos = np.clip((X * centres[inverse]).sum(axis=1), 1e-3, 1.0)
        tan2 = (1.0 / cos**2 - 1.0) * (n_of / np.maximum(n_of - 1, 1))[inverse]
        spread = np.sqrt(np.bincount(inverse, weights=tan2) / n_of)  # a person's RMS offset
        # Offsets within a person are heavier-tailed than one Gaussian (a few odd photos per
        # person): each face's length relative to its person's spread is drawn from the real ratios.
        ratio = np.sqrt(tan2) / spread[inverse]
        offsets = X - cos[:, None] * centres[inverse]  # the part orthogonal to the centre
        directions = offsets / np.linalg.norm(offsets, axis=1, keepdims=True).clip(1e-9)
        d = X.shape[1]
        ridge = 1e-6 * np.eye(d)
        return cls(
            centre_mean=centres.mean(axis=0),
            centre_chol=np.linalg.cholesky(np.cov(centres, rowvar=False) + ridge),
            within_chol=np.linalg.cholesky(np.cov(directions, rowvar=False) * d + ridge),
            spread_log_mean=float(np.log(spread).mean()),
            spread_log_sd=float(np.log(spread).std()),
            face_ratio=np.sort(ratio),
        )

    @classmethod
    def from_npz(cls, path: Path) -> FaceModel:
        """Fit on the LFW part of a ``<model>_dev.npz`` file (see ``../shared/data/README.md``)."""
        data = np.load(path, allow_pickle=False)
        lfw = data["dataset"] == "lfw_dev"
        return cls.fit(data["emb"][lfw], data["identity"][lfw])

    def sample(self, sizes: np.ndarray, seed: int = 0, chunk: int = 100_000) -> SyntheticFaces:
        """Persons with ``sizes[i]`` faces each, packed into photos; float32 throughout."""
        rng = np.random.default_rng(seed)
        d = len(self.centre_mean)
        k = len(sizes)
        centres = self.centre_mean + rng.standard_normal((k, d)) @ self.centre_chol.T
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        spreads = np.exp(self.spread_log_mean + self.spread_log_sd * rng.standard_normal(k))
        identity = np.repeat(np.arange(k, dtype=np.int64), sizes)
        n = len(identity)
        out = np.empty((n, d), dtype=np.float32)
        for start in range(0, n, chunk):
            ids = identity[start : start + chunk]
            noise = rng.standard_normal((len(ids), d)) @ self.within_chol.T
            noise -= (noise * centres[ids]).sum(axis=1, keepdims=True) * centres[ids]  # orthogonal
            noise /= np.linalg.norm(noise, axis=1, keepdims=True)
            length = spreads[ids] * rng.choice(self.face_ratio, size=len(ids))
            rows = centres[ids] + noise * length[:, None]
            out[start : start + chunk] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return SyntheticFaces(out, identity, pack_photos(identity, rng))


def zipf_sizes(faces: int, persons: int, exponent: float = 1.0) -> np.ndarray:
    """Faces per person: proportional to rank^-exponent, at least 1 each, summing to ``faces``."""
    if faces < persons:
        raise ValueError("need at least one face per person")
    weights = np.arange(1, persons + 1, dtype=np.float64) ** -exponent
    extra = faces - persons  # everyone has one; the rest is shared by Zipf weight
    sizes = 1 + np.floor(extra * weights / weights.sum()).astype(np.int64)
    sizes[: faces - int(sizes.sum())] += 1  # rounding remainder to the largest persons
    return sizes


def pack_photos(identity: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Photo index per face: faces in random order fill photos of 1-4 faces of different persons."""
    n = len(identity)
    order = rng.permutation(n)
    counts = rng.choice(PHOTO_SIZES, size=n, p=PHOTO_SIZE_SHARE)
    photo = np.empty(n, dtype=np.int64)
    next_photo, i = 0, 0
    while i < n:
        members = order[i : i + int(counts[next_photo])]
        take = _distinct_prefix(identity[members])  # a repeated person ends the photo early
        photo[order[i : i + take]] = next_photo
        i += take
        next_photo += 1
    return photo


def _distinct_prefix(ids: np.ndarray) -> int:
    seen: set[int] = set()
    for j, x in enumerate(ids.tolist()):
        if x in seen:
            return j
        seen.add(x)
    return len(ids)
