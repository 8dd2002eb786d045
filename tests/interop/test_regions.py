"""Region geometry: EXIF orientation in and out, and the rule that names a detected face."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from facefile.interop.regions import match_regions, stored_frame_is_upright, to_stored, to_upright
from facefile.media.decode import UPRIGHT


@pytest.mark.parametrize("orientation", range(1, 9))
def test_regions_follow_the_pixels_through_every_orientation(orientation: int) -> None:
    # A bright block in the stored image; after PIL's upright transpose the mapped region must
    # still cover it (the same transposes media.decode applies).
    stored = np.zeros((30, 40), np.uint8)
    stored[3:9, 20:32] = 255  # rows 3..9, columns 20..32
    rect = (20 / 40, 3 / 30, 32 / 40, 9 / 30)
    img = Image.fromarray(stored)
    upright = np.asarray(img.transpose(UPRIGHT[orientation]) if orientation in UPRIGHT else img)
    h, w = upright.shape
    x1, y1, x2, y2 = to_upright(rect, orientation)
    ys, xs = np.nonzero(upright)
    assert (xs.min(), xs.max() + 1, ys.min(), ys.max() + 1) == (round(x1 * w), round(x2 * w), round(y1 * h), round(y2 * h))
    assert to_stored(to_upright(rect, orientation), orientation) == pytest.approx(rect)


def test_tools_that_wrote_upright_regions_are_recognised_by_their_dimensions() -> None:
    # A phone portrait: stored 4000 x 3000 with orientation 6.
    assert not stored_frame_is_upright((4000, 3000), (4000, 3000), 6)  # MWG-correct
    assert stored_frame_is_upright((3000, 4000), (4000, 3000), 6)  # upright coordinates
    assert not stored_frame_is_upright((3000, 4000), (4000, 3000), 1)
    assert not stored_frame_is_upright(None, (4000, 3000), 6)


def test_matching_is_one_to_one_and_tolerates_larger_regions() -> None:
    faces = [(100, 100, 160, 170), (170, 100, 230, 170)]  # two faces side by side
    regions = [
        (165, 80, 245, 200),  # drawn large (hair, chin) over the right face: IoU 0.33
        (90, 85, 170, 185),  # over the left face
        (400, 400, 450, 450),  # nobody there
    ]
    assert match_regions(regions, faces) == [1, 0, None]
    # A large region whose centre is not on the small face beside it does not claim it.
    assert match_regions([(0, 0, 300, 300)], [(10, 10, 40, 40)]) == [None]
    # Two regions over one face: the better one gets it.
    assert match_regions([(100, 100, 160, 170), (110, 110, 175, 180)], [(100, 100, 160, 170)]) == [0, None]
