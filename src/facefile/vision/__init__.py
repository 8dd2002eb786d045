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

from facefile.vision.base import Backend, DetectedFace, Detector, Embedder
from facefile.vision.models import MODELS, ModelError, ModelFile, install_models, model_dir, model_path

# YuNet + SFace: REFERENCE.md measured it far better than dlib on the development sets, and ~9x faster.
DEFAULT_BACKEND = "opencv"
BACKENDS = ("opencv", "dlib")
# Stored with every embedding; known here without loading weights (tests check they match the modules).
MODEL_IDS = {"opencv": "opencv-sface-2021dec", "dlib": "dlib-resnet-v1"}
# Longer side of the image each detector sees in a scan (the photo is reduced by a whole factor to
# at most this; faces small there are embedded from a finer copy, see faces.py). YuNet finds faces
# of ~10 px: at 1024 (a 12 MP photo at 1/4, 1008 px) an 80 px face is 20 px, found in every bench
# photo (recall 1.0), in 55 ms instead of 135 ms at 1920. dlib's HOG window is 80 px and needs
# twice the size: at 2048 (1/2, 2016 px) with no upsampling its recall on the bench photos was
# 0.92 in 210 ms, where 1920 with an upsampled retry took 300 ms for 0.91.
WORK_SIDES = {"opencv": 1024, "dlib": 2048}

__all__ = [
    "BACKENDS", "DEFAULT_BACKEND", "MODELS", "MODEL_IDS", "Backend", "DetectedFace", "Detector", "Embedder",
    "WORK_SIDES", "ModelError", "ModelFile", "install_models", "load_backend", "model_dir", "model_id_of",
    "model_path", "work_side_of",
]


def model_id_of(name: str) -> str:
    """The model id a backend's embeddings carry, without loading it."""
    if name not in MODEL_IDS:
        raise ValueError(f"unknown vision backend {name!r}; choose one of {BACKENDS}")
    return MODEL_IDS[name]


def work_side_of(name: str) -> int:
    """The working image size a backend's detector is tuned for (see ``WORK_SIDES``)."""
    model_id_of(name)  # the same error for an unknown name
    return WORK_SIDES[name]


def load_backend(name: str = DEFAULT_BACKEND, **options: Any) -> Backend:
    """A ready backend by name; ``options`` go to that backend's ``load`` (e.g. ``cnn_fallback=True``).

    One backend per process (or thread): OpenCV and dlib objects keep per-call state.
    Raises ModelError when its weights are missing or altered, ValueError for an unknown name.
    """
    if name == "opencv":
        from facefile.vision import opencv

        return opencv.load(**options)
    if name == "dlib":
        try:
            from facefile.vision import (
                dlib as dlib_backend,  # dlib is an optional extra: import it only on demand
            )
        except ImportError as exc:
            if exc.name != "dlib":
                raise
            raise ModelError(f"the dlib backend needs the dlib extra: pip install 'facefile[dlib]' ({exc})") from exc
        return dlib_backend.load(**options)
    raise ValueError(f"unknown vision backend {name!r}; choose one of {BACKENDS}")
