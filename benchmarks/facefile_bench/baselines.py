"""The clustering baselines facefile competes with, ported from ``shared/bench/reference.py``.

Each baseline takes an ``(N, d)`` float32 array and returns one int label per face (``-1`` =
unassigned). ``baselines(model)`` lists them with each tool's published defaults, distances
translated to the embedder, exactly as REFERENCE.md was produced. ``load_reference_set`` loads a
precomputed development set the way reference.py does (same filtering, cap and shuffle), so that
numbers computed here are comparable to REFERENCE.md.

Heavy libraries (dlib, faiss, scikit-learn, hdbscan: the ``bench`` extra) are imported inside the
functions that need them, so importing this module costs nothing.
"""
from __future__ import annotations

import collections
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = [
    "OPENCV_SFACE_THRESHOLD",
    "agglomerative",
    "baselines",
    "chinese_whispers",
    "dbscan",
    "hdbscan_recognize",
    "immich",
    "load_reference_set",
]

Baseline = Callable[[np.ndarray], np.ndarray]

# OpenCV's documented SFace cosine-similarity threshold 0.363 as a Euclidean distance between unit
# vectors: |a - b| = sqrt(2 (1 - cos)) = 1.129.
OPENCV_SFACE_THRESHOLD = float(np.sqrt(2 * (1 - 0.363)))


def chinese_whispers(X: np.ndarray, threshold: float) -> np.ndarray:
    """dlib.chinese_whispers_clustering: edges between faces closer than threshold (Euclidean)."""
    import dlib  # type: ignore[import-untyped]

    vectors = [dlib.vector(v.astype(float).tolist()) for v in X]
    return np.array(dlib.chinese_whispers_clustering(vectors, threshold))


def immich(X: np.ndarray, max_distance: float, min_faces: int = 3) -> np.ndarray:
    """Immich's handleRecognizeFaces (server/src/services/person.service.ts), faces in input order.

    For each face: find faces within max_distance (itself included). Only itself: skip. A face with
    >= min_faces matches is 'core'; a non-core face is re-queued once at the back ('deferred'). The
    face takes the person of the nearest match (among the first min_faces) that has one, else of the
    nearest face with a person within max_distance; a core face with none starts a new person; a
    deferred non-core face with none stays unassigned. Distance: Euclidean on the given vectors
    (Immich uses cosine distance on L2-normalised vectors; pass normalised vectors and
    max_distance = sqrt(2 * cosine_distance) for the same rule). Immich's search returns at most
    64 extra neighbours, as here.
    """
    import faiss

    n = len(X)
    person = -np.ones(n, dtype=np.int64)
    if n == 0:
        return person
    vectors = np.ascontiguousarray(X, dtype=np.float32)
    index = faiss.IndexFlatL2(vectors.shape[1])
    index.add(vectors)
    sq_dist, nbrs = index.search(vectors, min(n, min_faces + 64))
    dist = np.sqrt(np.maximum(sq_dist, 0))
    next_person = 0
    queue = collections.deque((i, False) for i in range(n))
    while queue:
        i, deferred = queue.popleft()
        matches = nbrs[i][(dist[i] <= max_distance) & (nbrs[i] >= 0)]
        if len(matches) <= 1:
            continue
        core = min_faces == 1 or len(matches) >= min_faces
        if not core and not deferred:
            queue.append((i, True))
            continue
        near = [j for j in matches[:min_faces] if j != i and person[j] >= 0]
        if not near:
            near = [j for j in matches if j != i and person[j] >= 0]
        if near:
            person[i] = person[near[0]]
        elif core:
            person[i] = next_person
            next_person += 1
    return person


def dbscan(X: np.ndarray, eps: float, min_samples: int = 4) -> np.ndarray:
    """PhotoPrism-style DBSCAN (FACE_CLUSTER_CORE 4), Euclidean."""
    from sklearn.cluster import DBSCAN  # type: ignore[import-untyped]

    return DBSCAN(eps=eps, min_samples=min_samples).fit_predict(X)


def hdbscan_recognize(X: np.ndarray) -> np.ndarray:
    """Nextcloud Recognize-style HDBSCAN (MIN_CLUSTER_SIZE 6, MIN_SAMPLE_SIZE 4)."""
    import hdbscan  # type: ignore[import-untyped]

    return hdbscan.HDBSCAN(min_cluster_size=6, min_samples=4).fit_predict(X)


def agglomerative(X: np.ndarray, threshold: float) -> np.ndarray:
    """Average-link agglomerative clustering cut at a distance threshold (Euclidean)."""
    from sklearn.cluster import AgglomerativeClustering  # type: ignore[import-untyped]

    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, linkage="average")
    return model.fit_predict(X)


def baselines(model: str) -> list[tuple[str, Baseline]]:
    """The baselines with each tool's published defaults, distances translated to the embedder.

    ``model`` is ``"sface"`` or ``"dlib"`` (the names of the precomputed sets). dlib vectors:
    Euclidean, the model's documented same-person radius is 0.6 (0.5 in dlib's clustering
    example). SFace vectors must be L2-normalised first; OpenCV's documented cosine-similarity
    threshold 0.363 is Euclidean 1.129 on unit vectors, Immich's cosine distance 0.5 is 1.0.
    """
    if model == "dlib":
        return [
            ("Chinese Whispers 0.5 (dlib example)", lambda X: chinese_whispers(X, 0.5)),
            ("Immich (maxDistance 0.5, minFaces 3)", lambda X: immich(X, 0.5, 3)),
            ("Immich (maxDistance 0.6, minFaces 3)", lambda X: immich(X, 0.6, 3)),
            ("PhotoPrism DBSCAN (eps 0.5, core 4)", lambda X: dbscan(X, 0.5, 4)),
            ("Recognize HDBSCAN (6, 4)", hdbscan_recognize),
            ("Agglomerative average 0.6", lambda X: agglomerative(X, 0.6)),
        ]
    if model != "sface":
        raise ValueError(f"unknown model {model!r}: expected 'sface' or 'dlib'")
    t = OPENCV_SFACE_THRESHOLD
    return [
        (f"Chinese Whispers {t:.3f}", lambda X: chinese_whispers(X, t)),
        ("Immich (cos dist 0.5, minFaces 3)", lambda X: immich(X, 1.0, 3)),
        ("Immich (cos sim 0.363, minFaces 3)", lambda X: immich(X, t, 3)),
        ("PhotoPrism DBSCAN (eps 1.0, core 4)", lambda X: dbscan(X, 1.0, 4)),
        ("Recognize HDBSCAN (6, 4)", hdbscan_recognize),
        (f"Agglomerative average {t:.3f}", lambda X: agglomerative(X, t)),
    ]


def load_reference_set(data_root: Path | str, model: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One precomputed development set, as reference.py loads it: ``(embeddings, identities)``.

    ``data_root`` is ``shared/data``; ``model`` is ``"sface"`` or ``"dlib"``; ``name`` is
    ``"lfw_dev"``, ``"lfw_dev_cap50"`` (at most 50 faces per identity, first in file order) or
    ``"masked_dev"``. Faces the detector missed are left out, the rest shuffled with a fixed seed
    (Immich depends on input order), and SFace vectors L2-normalised.
    """
    z = np.load(Path(data_root) / "embeddings" / f"{model}_dev.npz", allow_pickle=False)
    identity = z["identity"]
    dataset = "lfw_dev" if name.startswith("lfw") else "masked_dev"
    idx = np.flatnonzero(z["detected"] & (z["dataset"] == dataset))
    if name.endswith("cap50"):
        seen: collections.Counter[str] = collections.Counter()
        kept = []
        for i in idx:
            seen[identity[i]] += 1
            if seen[identity[i]] <= 50:
                kept.append(i)
        idx = np.array(kept, dtype=np.int64)
    idx = np.random.default_rng(0).permutation(idx)  # a fixed shuffle, not folder order
    X = z["emb"][idx].astype(np.float32)
    if model == "sface":
        X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, identity[idx]
