"""Other photo tools' face names in and out: XMP face regions (MWG, Microsoft People Tags) read from
photos and sidecars, MWG regions written to sidecars or in place into JPEG (with Extended XMP), PNG,
WebP, TIFF and HEIF files. No exiftool at run time."""
from facefile.interop.embed_errors import ContainerError, NotInPlace
from facefile.interop.files import (
    PhotoRegion,
    embed_regions,
    find_sidecar,
    photo_regions,
    read_header,
    write_sidecar,
)
from facefile.interop.jpeg import JpegError
from facefile.interop.regions import match_regions, regions_match
from facefile.interop.xmp import WrittenRegion, XmpError, XmpRegion, read_regions
from facefile.interop.xmp_write import packet_with_regions

__all__ = [
    "ContainerError", "JpegError", "NotInPlace", "PhotoRegion", "WrittenRegion", "XmpError", "XmpRegion", "embed_regions", "find_sidecar",
    "match_regions", "packet_with_regions", "photo_regions", "read_header", "read_regions", "regions_match",
    "write_sidecar",
]
