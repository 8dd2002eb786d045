"""Face thumbnails and photo previews for the web UI.

Thumbnails are cut lazily from the original photos and cached under ``<library>/thumbs/``: a cache,
rebuildable at any time and never required (delete the folder and they come back as pages ask).
File names follow the convention ``facefile.library.subject_files`` erases by: ``thumbs/<face id // 1000>/<face
id>-<key>.jpg``, where ``key`` hashes the photo's content and the face box, so a face id that SQLite
reuses after a deletion never shows the crop of the face it had before.

Photo previews (the Photo page) are made per request and never written to disk: a preview shows
every face of a photo, and a cache of them would outlive an erasure of one of those persons.
"""
from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PIL import Image

from facefile.library.review import FaceSource
from facefile.library.subject_files import THUMBS_DIRNAME
from facefile.media import MediaError, decode, decode_region

# Pixels: sharp on a 2x screen up to a 180 CSS px tile, the widest app.css lets a face image grow
# (``.grid img.face``; the person page's dense grid shows 104-141 px, the People page 140-180 px).
# 224 px crops stretched over 200 px tiles looked soft. A crop is never enlarged past the photo's pixels.
THUMB_SIDE = 360
THUMB_CSS_MAX = THUMB_SIDE // 2
THUMB_MARGIN = 0.25  # of the box size on each side: forehead, chin and ears help recognise a face
PREVIEW_SIDE = 1600
_VERSION = "2"  # bump to regenerate every thumbnail after a change of crop or size

T = TypeVar("T")

PLACEHOLDER_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#ddd"/>'
    b'<text x="5" y="7" font-size="6" text-anchor="middle" fill="#888">?</text></svg>'
)


class ThumbnailCache:
    """Face crops on disk, made on first request."""

    def __init__(self, library_folder: Path) -> None:
        self.folder = Path(library_folder) / THUMBS_DIRNAME

    def path_for(self, source: FaceSource) -> Path:
        key = hashlib.blake2b(
            f"{_VERSION}:{source.content_hash}:{source.box}:{source.video_frame_s}".encode(), digest_size=6
        ).hexdigest()
        return self.folder / f"{source.id // 1000:03d}" / f"{source.id}-{key}.jpg"

    def jpeg(self, source: FaceSource) -> bytes:
        """The thumbnail's bytes, from the cache or cut now from the first readable file of the photo.
        Raises ``MediaError`` when no file of the photo can be read."""
        path = self.path_for(source)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = face_thumbnail(source)
        _write_private(path, data)
        return data


def face_thumbnail(source: FaceSource) -> bytes:
    """A square-ish JPEG around the face box, ``THUMB_SIDE`` pixels at most."""
    x1, y1, x2, y2 = source.box
    side = max(x2 - x1, y2 - y1) * (1 + 2 * THUMB_MARGIN)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    if source.video_frame_s is not None:
        from facefile.media.video import read_region  # PyAV: loaded only for faces of videos

        t = source.video_frame_s
        pixels = _first_readable(source.files, lambda f: read_region(f, t, box, max_side=THUMB_SIDE))
    else:
        pixels = _first_readable(source.files, lambda f: decode_region(f, box, max_side=THUMB_SIDE))
    return _jpeg(Image.fromarray(pixels), quality=85)


def photo_preview(files: list[Path]) -> bytes:
    """The whole photo, upright, longer side at most ``PREVIEW_SIDE`` (JPEG draft decoding: fast)."""
    image = _first_readable(files, lambda f: decode(f, max_side=PREVIEW_SIDE))
    return _jpeg(Image.fromarray(image.pixels), quality=85)


def _first_readable(files: list[Path], read: Callable[[Path], T]) -> T:
    error: MediaError | None = None
    for f in files:
        try:
            return read(f)
        except MediaError as exc:
            error = exc
    raise error or MediaError("", "no file of this photo is left")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _write_private(path: Path, data: bytes) -> None:
    """Write atomically with owner-only permissions (a crop is a picture of someone's face). The
    temporary name starts with the face id too, so an erasure finds it even after a crash; it names
    the thread as well, as two requests for one face (a person's cover on two pages) cut it at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in (path.parent.parent, path.parent):
        os.chmod(folder, 0o700)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
