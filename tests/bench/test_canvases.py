"""The speed benchmark's photos: 12 MP, faces where the truth says, portraits stored sideways."""
from __future__ import annotations

from pathlib import Path

import pytest
from facefile_bench.canvases import make_canvases, match_faces
from PIL import Image

from facefile.media import decode


def test_match_faces_pairs_each_true_face_with_one_detection() -> None:
    truth = [(0, 0, 100, 100), (200, 200, 300, 300)]
    found = [(210, 190, 290, 310), (10, 10, 90, 90), (20, 20, 80, 80)]
    assert match_faces(truth, found) == [1, 0]
    assert match_faces(truth, []) == [None, None]


@pytest.mark.data
def test_canvases_are_12_megapixel_with_faces_inside(shared_data: Path, tmp_path: Path) -> None:
    canvases = make_canvases(shared_data / "lfw_dev", tmp_path, n=4, seed=1)
    for k, canvas in enumerate(canvases):
        with Image.open(canvas.path) as img:
            assert img.size == (4032, 3024)
            assert (img.getexif().get(0x0112) == 6) == (k % 4 == 3)
        upright = decode(canvas.path, max_side=100_000)
        for x1, y1, x2, y2 in canvas.boxes:
            assert 0 <= x1 < x2 <= upright.width and 0 <= y1 < y2 <= upright.height
            assert 80 * 0.99 <= x2 - x1 <= 600 * 1.01
        assert len(canvas.boxes) == len(canvas.identities)
