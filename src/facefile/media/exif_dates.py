"""When a photo was taken, from its EXIF: DateTimeOriginal, else DateTime (camera local time)."""
from __future__ import annotations

from datetime import datetime

from PIL import ExifTags, Image


def taken_at_of(exif: Image.Exif | None) -> datetime | None:
    if exif is None:
        return None
    try:
        original = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal)
    except Exception:  # a broken Exif sub-IFD: fall back to the main one
        original = None
    return _parse_exif_datetime(original) or _parse_exif_datetime(exif.get(ExifTags.Base.DateTime))


def _parse_exif_datetime(value: object) -> datetime | None:
    """"2021:06:05 14:30:00" (also with "-" or "T", trailing NULs or sub-seconds) -> datetime."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip("\x00 ")[:19]
    if len(text) < 19:
        return None
    text = text[:10].replace("-", ":") + " " + text[11:]
    try:
        return datetime.strptime(text, "%Y:%m:%d %H:%M:%S")  # "0000:00:00 00:00:00" fails: None
    except ValueError:
        return None
