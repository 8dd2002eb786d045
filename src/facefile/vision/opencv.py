"""The default backend: OpenCV's YuNet detector and SFace embedder (OpenCV Zoo weights).

REFERENCE.md measured this pair far better than dlib on the development sets and about 9x faster.
Objects hold OpenCV networks with per-image state (YuNet's input size), so build one backend per
process or thread; thread counts (``cv2.setNumThreads``) are left to the caller.
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from facefile.vision.base import Backend, DetectedFace, check_rgb, l2_normalise
from facefile.vision.models import model_path

MODEL_ID = "opencv-sface-2021dec"


class YuNetDetector:
    """``cv2.FaceDetectorYN`` with the thresholds the reference embeddings were made with.

    When nothing is found in an image whose longer side is at most ``upsample_max_side``, the image
    is enlarged 2x and searched again, as the reference embeddings were made (a second chance for
    small or hard faces; rare: none of 3,000 LFW photos needed it); boxes found there are mapped back
    to the original pixels. Larger images skip the retry: it would cost 4x for little gain, since
    YuNet already finds faces down to about 10 px at native size.
    """

    def __init__(self, score_threshold: float = 0.6, nms_threshold: float = 0.3, top_k: int = 5000,
                 upsample_max_side: int = 1024) -> None:
        if not 0.0 < score_threshold < 1.0 or not 0.0 < nms_threshold < 1.0:
            raise ValueError("score_threshold and nms_threshold must be in (0, 1)")
        self.upsample_max_side = upsample_max_side
        self._net = cv2.FaceDetectorYN.create(
            str(model_path("yunet")), "", (320, 320), score_threshold, nms_threshold, top_k
        )

    def detect(self, image: np.ndarray, *, enlarge: bool = True) -> list[DetectedFace]:
        """All faces in an RGB image, best score first; boxes clipped to the image. ``enlarge=False``
        skips the enlarged retry (see ``base.Detector``)."""
        bgr = rgb_to_bgr(image)
        faces = self._detect_bgr(bgr)
        height, width = bgr.shape[:2]
        if not faces and enlarge and max(height, width) <= self.upsample_max_side:
            enlarged = cv2.resize(bgr, (width * 2, height * 2), interpolation=cv2.INTER_LINEAR)
            faces = [face.scaled(0.5) for face in self._detect_bgr(enlarged)]
        return [face.clipped(width, height) for face in faces]

    def _detect_bgr(self, bgr: np.ndarray) -> list[DetectedFace]:
        height, width = bgr.shape[:2]
        self._net.setInputSize((width, height))
        _, rows = self._net.detect(bgr)
        if rows is None:
            return []
        faces = [face_from_yunet_row(row) for row in rows]
        return sorted(faces, key=lambda face: face.score, reverse=True)


class SFaceEmbedder:
    """``cv2.FaceRecognizerSF``: ``alignCrop`` on the 5 landmarks, ``feature``, L2-normalised.

    ``feature`` takes one crop at a time. A batched ``cv2.dnn`` forward pass gives identical vectors
    but saved only ~13 % per face on CPU while loading the 37 MB network a second time, so faces are
    embedded one by one.
    """

    model_id = MODEL_ID
    dim = 128

    def __init__(self) -> None:
        self._net = cv2.FaceRecognizerSF.create(str(model_path("sface")), "")

    def embed(self, image: np.ndarray, faces: Sequence[DetectedFace]) -> np.ndarray:
        """One L2-normalised float32 row per face, shape ``(len(faces), 128)``."""
        out = np.empty((len(faces), self.dim), dtype=np.float32)
        if not faces:
            return out
        bgr = rgb_to_bgr(image)
        for i, face in enumerate(faces):
            crop = self._net.alignCrop(bgr, yunet_row_from_face(face))
            out[i] = self._net.feature(crop).reshape(-1)
        return l2_normalise(out)


def load(score_threshold: float = 0.6, nms_threshold: float = 0.3, upsample_max_side: int = 1024) -> Backend:
    """The YuNet + SFace backend (weights verified; ModelError if not installed)."""
    # OpenCV 5's DNN engine warns on every network load that it ignores compute targets: noise on a
    # user's terminal, once per worker process.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    detector = YuNetDetector(score_threshold, nms_threshold, upsample_max_side=upsample_max_side)
    return Backend(name="opencv", detector=detector, embedder=SFaceEmbedder())


# ---------------------------------------------------------------- conversions

def rgb_to_bgr(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(check_rgb(image), cv2.COLOR_RGB2BGR)


def face_from_yunet_row(row: np.ndarray) -> DetectedFace:
    """YuNet's row: x, y, w, h, 5 landmark (x, y) pairs in base.py's order, score."""
    x, y, w, h = (float(v) for v in row[:4])
    return DetectedFace(box=(x, y, x + w, y + h), landmarks=row[4:14].reshape(5, 2).astype(np.float32),
                        score=float(row[14]))


def yunet_row_from_face(face: DetectedFace) -> np.ndarray:
    """The (1, 15) row ``alignCrop`` expects; only its landmarks matter to the alignment."""
    x1, y1, x2, y2 = face.box
    row = np.empty((1, 15), dtype=np.float32)
    row[0, :4] = (x1, y1, x2 - x1, y2 - y1)
    row[0, 4:14] = np.asarray(face.landmarks, dtype=np.float32).reshape(-1)
    row[0, 14] = face.score
    return row
