"""Apple's Live Photo identifier: the same UUID in the still's maker note and in its clip.

An iPhone writes it into the still's Apple maker note (tag 0x11, exiftool's "MediaGroupUUID") and
into the clip's QuickTime metadata (``com.apple.quicktime.content.identifier``). It pairs a still
with its motion even when the two were renamed apart, and tells a same-named unrelated video apart.
"""
from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

# A Live Photo's motion is about 3 s; anything much longer is a video of its own, whatever its name.
MAX_MOTION_S = 15.0

_APPLE_HEADER = b"Apple iOS\x00"
_CONTENT_IDENTIFIER_TAG = 0x0011
_MAKER_NOTE_TAG = 0x927C
_EXIF_IFD = 0x8769
_CLIP_KEY = "com.apple.quicktime.content.identifier"


def still_identifier(path: str | os.PathLike[str]) -> str | None:
    """The Live Photo identifier in a JPEG or HEIC still's Apple maker note, None when there is none
    (or it cannot be read: an identifier is a hint, never a reason to fail a photo)."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()  # idempotent; HEIC is the iPhone's still format
    try:
        with Image.open(path) as img:
            return exif_identifier(img.getexif())
    except Exception:  # noqa: BLE001 - unreadable metadata: no identifier
        return None


def exif_identifier(exif: Image.Exif | None) -> str | None:
    """The Live Photo identifier in already-read EXIF (its Apple maker note), None without one."""
    if exif is None:
        return None
    try:
        note = exif.get_ifd(_EXIF_IFD).get(_MAKER_NOTE_TAG)
    except Exception:  # noqa: BLE001 - a broken Exif sub-IFD: no identifier
        return None
    return apple_identifier(note) if isinstance(note, bytes) else None


def apple_identifier(note: bytes) -> str | None:
    """Tag 0x11 of an Apple maker note: "Apple iOS\\0", a version, a byte order mark, then an IFD
    whose offsets count from the note's start.

    >>> ident = b"ABC-123\\x00"
    >>> ifd = struct.pack(">HHHII", 1, 0x11, 2, len(ident), 32) + bytes(4)
    >>> apple_identifier(b"Apple iOS\\x00\\x00\\x01MM" + ifd + ident)
    'ABC-123'
    """
    if not note.startswith(_APPLE_HEADER) or len(note) < 16:
        return None
    order = {b"MM": ">", b"II": "<"}.get(note[12:14])
    if order is None:
        return None
    try:
        (count,) = struct.unpack_from(order + "H", note, 14)
        for i in range(min(count, 256)):
            tag, kind, n, value = struct.unpack_from(order + "HHII", note, 16 + 12 * i)
            if tag != _CONTENT_IDENTIFIER_TAG or kind != 2:
                continue
            raw = note[value:value + n] if n > 4 else struct.pack(order + "I", value)[:n]
            text = raw.split(b"\x00", 1)[0].decode("ascii", "replace").strip()
            return text or None
    except struct.error:
        return None
    return None


def clip_identifier(path: str | os.PathLike[str]) -> tuple[str | None, float | None]:
    """A clip's Live Photo identifier (None when it has none) and its length in seconds (None when
    unknown); (None, None) when the file cannot be opened as a video."""
    import av

    try:
        with av.open(os.fspath(path)) as container:
            ident = container.metadata.get(_CLIP_KEY)
            duration = container.duration / 1e6 if container.duration else None
    except Exception:  # noqa: BLE001 - the clip's own scan reports why it cannot be read
        return None, None
    return (ident.strip() or None) if isinstance(ident, str) else None, duration


def is_motion_of(still_id: str | None, clip_id: str | None, clip_seconds: float | None) -> bool:
    """Whether a clip named like a still is that still's motion: not when both carry identifiers
    that differ, nor when the clip is longer than a Live Photo's motion can be."""
    if still_id is not None and clip_id is not None and still_id != clip_id:
        return False
    return clip_seconds is None or clip_seconds <= MAX_MOTION_S


def live_identity(path: str | os.PathLike[str]) -> tuple[str | None, str | None]:
    """(identifier, "still" or "clip") of a file that may be half of a Live Photo, (None, None)
    otherwise: the library joins a clip to the still with the same identifier, whatever their names."""
    from facefile.media.discover import VIDEO_EXTENSIONS
    from facefile.media.shots import LIVE_PHOTO_STILLS

    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix in LIVE_PHOTO_STILLS:
        ident = still_identifier(path)
        return (ident, "still") if ident else (None, None)
    if suffix in VIDEO_EXTENSIONS:
        ident, seconds = clip_identifier(path)
        if ident and (seconds is None or seconds <= MAX_MOTION_S):
            return ident, "clip"
    return None, None
