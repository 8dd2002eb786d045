"""Pixels to faces: detectors, embedders, alignment and a quality score, behind one small protocol.

    from facefile.vision import load_backend
    backend = load_backend()                      # YuNet + SFace ("opencv")
    faces = backend.detector.detect(rgb_image)    # list[DetectedFace], best first
    vectors = backend.embedder.embed(rgb_image, faces)  # (len(faces), 128) float32, unit length

Weights never come from the network at run time: ``facefile models install`` (``install_models``)
puts the OpenCV Zoo files in place once, and every load checks their sha256.
"""
from __future__ import annotations

from typing import Any

from .base import Backend, DetectedFace, Detector, Embedder
from .models import MODELS, ModelError, ModelFile, install_models, model_dir, model_path

# YuNet + SFace: REFERENCE.md measured it far better than dlib on the development sets, and ~9x faster.
DEFAULT_BACKEND = "opencv"
BACKENDS = ("opencv", "dlib")
# Stored with every embedding; known here without loading weights (tests check they match the modules).
MODEL_IDS = {"opencv": "opencv-sface-2021dec", "dlib": "dlib-resnet-v1"}

__all__ = [
    "BACKENDS", "DEFAULT_BACKEND", "MODELS", "MODEL_IDS", "Backend", "DetectedFace", "Detector", "Embedder",
    "ModelError", "ModelFile", "install_models", "load_backend", "model_dir", "model_id_of", "model_path",
]


def model_id_of(name: str) -> str:
    """The model id a backend's embeddings carry, without loading it."""
    if name not in MODEL_IDS:
        raise ValueError(f"unknown vision backend {name!r}; choose one of {BACKENDS}")
    return MODEL_IDS[name]


def load_backend(name: str = DEFAULT_BACKEND, **options: Any) -> Backend:
    """A ready backend by name; ``options`` go to that backend's ``load`` (e.g. ``cnn_fallback=True``).

    One backend per process (or thread): OpenCV and dlib objects keep per-call state.
    Raises ModelError when its weights are missing or altered, ValueError for an unknown name.
    """
    if name == "opencv":
        from . import opencv

        return opencv.load(**options)
    if name == "dlib":
        try:
            from . import dlib as dlib_backend  # dlib is an optional extra: import it only on demand
        except ImportError as exc:
            if exc.name != "dlib":
                raise
            raise ModelError(f"the dlib backend needs the dlib extra: pip install 'facefile[dlib]' ({exc})") from exc
        return dlib_backend.load(**options)
    raise ValueError(f"unknown vision backend {name!r}; choose one of {BACKENDS}")
