"""A scan with the real models reads faces from camera RAW files (DNGs made from LFW photos in the
test) and files a RAW with its camera JPEG as one photo."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from facefile_bench.dng import write_dng
from PIL import Image

from facefile.library import Library
from facefile.media import decode, decode_region
from tests.support.database import sql

pytestmark = [pytest.mark.data]


def lfw_faces(shared_data: Path, n: int) -> list[np.ndarray]:
    """``n`` LFW development photos (one face each, centred), enlarged 4x as a camera would see them."""
    people = sorted(p for p in (shared_data / "lfw_dev").iterdir() if p.is_dir())
    photos = [sorted(p.glob("*.jpg"))[0] for p in people[:n]]
    return [np.asarray(Image.open(p).convert("RGB").resize((1000, 1000), Image.Resampling.BICUBIC)) for p in photos]


def test_faces_of_raw_files_are_found_and_a_raw_beside_its_jpeg_is_one_photo(shared_data: Path, tmp_path: Path) -> None:
    first, second = lfw_faces(shared_data, 2)
    photos = tmp_path / "photos"
    photos.mkdir()
    # Stored as a sensor held 90° clockwise records it; orientation 6 turns it upright again.
    write_dng(photos / "DSC_0001.DNG", np.ascontiguousarray(np.rot90(first)), orientation=6)
    write_dng(photos / "DSC_0002.DNG", second)
    Image.fromarray(second).save(photos / "DSC_0002.JPG", quality=92)  # the camera's JPEG of that shot
    (photos / "DSC_0003.NEF").write_bytes(b"\x00" * 5000)  # a broken RAW: one clear error, the scan goes on
    with Library.open(tmp_path / "lib") as lib:
        report = lib.scan(photos, workers=1)
        assert report.errors == 1 and report.files_paired == 1
        [error] = lib.errors()
        assert Path(error.path).name == "DSC_0003.NEF" and error.reason.startswith("not a readable RAW file")
        assert lib.stats()["photos"] == 2 and lib.stats()["faces"] == 2
        rows = sql(lib).execute(
            "SELECT fi.path, i.width, i.height, f.x1, f.y1, f.x2, f.y2 FROM files fi JOIN images i ON i.id = fi.image_id "
            "JOIN faces f ON f.image_id = i.id WHERE fi.companion = 0 ORDER BY fi.path").fetchall()
    (raw_path, w, h, *box), (jpeg_path, *_rest) = rows
    assert Path(raw_path).name == "DSC_0001.DNG" and Path(jpeg_path).name == "DSC_0002.JPG"
    assert (w, h) == (1000, 1000)
    # The face box is where the face is in the upright RAW: its crop matches the upright photo's.
    upright = decode(photos / "DSC_0001.DNG", max_side=1000).pixels
    crop = decode_region(photos / "DSC_0001.DNG", tuple(box))
    x1, y1 = int(round(box[0])), int(round(box[1]))
    expected = upright[y1:y1 + crop.shape[0], x1:x1 + crop.shape[1]].astype(float)
    assert np.abs(crop.astype(float) - expected).mean() < 20
    assert 300 < (box[0] + box[2]) / 2 < 700 and 300 < (box[1] + box[3]) / 2 < 700  # LFW faces are centred


def test_the_photo_page_and_face_thumbnails_of_a_raw_photo(shared_data: Path, tmp_path: Path) -> None:
    from facefile.ui.web.app import create_app
    from facefile.ui.web.security import library_token
    from tests.web.conftest import logged_in_client

    [face] = lfw_faces(shared_data, 1)
    photos = tmp_path / "photos"
    photos.mkdir()
    write_dng(photos / "IMG_0001.CR2.dng", face)
    with Library.open(tmp_path / "lib") as lib:
        lib.scan(photos, workers=1)
        [(image_id, face_id)] = sql(lib).execute("SELECT image_id, id FROM faces").fetchall()
    app = create_app(tmp_path / "lib")
    client = logged_in_client(app, library_token(tmp_path / "lib"))
    try:
        page = client.get(f"/photo/{image_id}")
        assert page.status_code == 200 and 'viewBox="0 0 1000 1000"' in page.text
        for url in (f"/photo/{image_id}/image.jpg", f"/face/{face_id}/thumb.jpg"):
            reply = client.get(url)
            assert reply.status_code == 200 and reply.headers["content-type"] == "image/jpeg", url
            shown = Image.open(io.BytesIO(reply.content))
            assert shown.format == "JPEG" and min(shown.size) > 100
    finally:
        app.state.web.lib.close()
