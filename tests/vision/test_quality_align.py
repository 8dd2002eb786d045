"""Face quality and the shared 5-point alignment."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facefile.vision.align import (
    ALIGNED_SIZE,
    TEMPLATE_112,
    align_face,
    alignment_matrix,
    similarity_transform,
)
from facefile.vision.base import Backend, DetectedFace
from facefile.vision.quality import face_quality, quality_parts

from .conftest import centre_face, lfw_photo


def test_similarity_transform_recovers_rotation_scale_and_shift() -> None:
    angle, scale, shift = np.deg2rad(20), 1.7, np.array([12.0, -5.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = TEMPLATE_112 @ rotation.T + shift
    matrix = similarity_transform(TEMPLATE_112, moved)
    np.testing.assert_allclose(matrix[:, :2], rotation, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-9)


def test_align_face_maps_landmarks_onto_the_template() -> None:
    landmarks = TEMPLATE_112 * 3 + [200, 100]  # a face three times larger, elsewhere
    matrix = alignment_matrix(landmarks)
    mapped = landmarks @ matrix[:, :2].T + matrix[:, 2]
    np.testing.assert_allclose(mapped, TEMPLATE_112, atol=1e-6)
    crop = align_face(np.zeros((600, 600, 3), np.uint8), landmarks)
    assert crop.shape == (ALIGNED_SIZE, ALIGNED_SIZE, 3) and crop.dtype == np.uint8


def synthetic_face(nose_shift: float = 0.0) -> DetectedFace:
    landmarks = (TEMPLATE_112 * 2 + 100).astype(np.float32)
    landmarks[2, 0] += nose_shift
    return DetectedFace(box=(100, 100, 324, 324), landmarks=landmarks, score=0.9)


def test_quality_is_in_range_and_falls_as_the_head_turns() -> None:
    image = np.random.default_rng(0).integers(0, 255, (424, 424, 3), dtype=np.uint8)
    scores = [face_quality(image, synthetic_face(shift)) for shift in (0, 10, 25, 40)]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True) and scores[-1] == 0.0


def test_quality_of_a_flat_patch_has_no_sharpness() -> None:
    parts = quality_parts(np.full((424, 424, 3), 90, np.uint8), synthetic_face())
    assert parts.sharpness == 0.0 and parts.overall == 0.0


@pytest.mark.data
def test_a_blurred_or_downscaled_face_scores_lower(opencv_backend: Backend, shared_data: Path) -> None:
    image = lfw_photo(shared_data, "Aaron_Peirsol", 1)
    face = centre_face(image, opencv_backend.detector.detect(image))
    sharp = face_quality(image, face)
    blurred = face_quality(cv2.GaussianBlur(image, (0, 0), 2.0), face)
    small = cv2.resize(image, (62, 62), interpolation=cv2.INTER_AREA)
    downscaled = face_quality(small, face.scaled(62 / 250))
    assert 0.0 < blurred < sharp and 0.0 <= downscaled < sharp
    assert quality_parts(small, face.scaled(62 / 250)).size < quality_parts(image, face).size
