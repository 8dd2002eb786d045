"""Other photo tools' face names in and out: XMP face regions (MWG, Microsoft People Tags) read from
photos and sidecars, MWG regions written to sidecars or into JPEGs. No exiftool at run time."""
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
    "JpegError", "PhotoRegion", "WrittenRegion", "XmpError", "XmpRegion", "embed_regions", "find_sidecar",
    "match_regions", "packet_with_regions", "photo_regions", "read_header", "read_regions", "regions_match",
    "write_sidecar",
]
