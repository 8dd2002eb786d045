"""Files in, pixels out: find photos, identify them by content, decode them upright at a working size.

``media`` knows files and nothing about faces.
"""
from facefile.media.decode import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SIDE,
    DecodedImage,
    decode,
    decode_region,
    load_original,
)
from facefile.media.detail import DetailImage, decode_with_detail
from facefile.media.discover import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    DiscoveredFile,
    discover,
    is_image_name,
)
from facefile.media.errors import MediaError
from facefile.media.hashing import hash_file

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_MAX_SIDE",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "DecodedImage",
    "DetailImage",
    "DiscoveredFile",
    "MediaError",
    "decode",
    "decode_region",
    "decode_with_detail",
    "discover",
    "hash_file",
    "is_image_name",
    "load_original",
]
