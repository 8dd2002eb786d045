"""Five-point face alignment to a 112 x 112 crop, shared by quality scoring and thumbnails.

The template is the standard ArcFace/InsightFace one, the same points OpenCV's
``FaceRecognizerSF.alignCrop`` maps to, so a crop made here looks like what SFace sees. (SFace itself
still uses ``alignCrop`` so its embeddings match the reference ones bit for bit.)
"""
from __future__ import annotations

import cv2
import numpy as np

ALIGNED_SIZE = 112

# Right eye, left eye, nose tip, right mouth corner, left mouth corner (base.DetectedFace's order)
# in a 112 x 112 crop.
TEMPLATE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2 x 3 rotation + uniform scale + translation that best maps ``src`` points onto ``dst``.

    Least squares (Umeyama 1991) without reflection: a mirror image of a face is not the same face
    pose, and allowing reflection would flip faces whose landmarks are noisy.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1] = -1.0
    rotation = u @ np.diag(d) @ vt
    var_src = (src_c**2).sum() / len(src)
    scale = float((s * d).sum() / var_src) if var_src > 0 else 1.0
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def alignment_matrix(landmarks: np.ndarray, size: int = ALIGNED_SIZE) -> np.ndarray:
    """The 2 x 3 matrix taking image pixels to an aligned ``size`` x ``size`` crop."""
    return similarity_transform(landmarks, TEMPLATE_112 * (size / ALIGNED_SIZE))


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = ALIGNED_SIZE) -> np.ndarray:
    """The face with these (5, 2) landmarks warped upright into a ``size`` x ``size`` crop.

    Works on any channel layout (the crop keeps the input's); pixels outside the image are black.
    """
    matrix = alignment_matrix(landmarks, size)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
