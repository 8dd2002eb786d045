"""A photo's own XMP packet, read and replaced for every container facefile writes in place.

One module per container does the byte work (``jpeg``, ``png_xmp``, ``webp_xmp``, ``tiff_xmp``,
``heif_xmp``); this one picks it by the format Pillow named, and checks every rewrite: the image
data (JPEG scan, PNG ``IDAT``s, WebP bitstream chunks, TIFF strips or tiles, HEIF image items) must
come out byte-identical, or nothing is written.
"""
from __future__ import annotations

from types import ModuleType

from facefile.interop import heif_xmp, jpeg, png_xmp, tiff_xmp, webp_xmp
from facefile.interop.embed_errors import ContainerError, NotInPlace

WRITERS: dict[str, ModuleType] = {
    "JPEG": jpeg, "MPO": jpeg, "PNG": png_xmp, "WEBP": webp_xmp, "TIFF": tiff_xmp, "HEIF": heif_xmp,
}
_WEBP_IMAGE = (b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF")
_PNG_IMAGE = (b"IDAT", b"fdAT")


def writer_for(fmt: str) -> ModuleType:
    if fmt not in WRITERS:
        raise NotInPlace(f"{fmt or 'this format'} has no in-place XMP writer")
    return WRITERS[fmt]


def read_xmp(data: bytes, fmt: str) -> bytes | None:
    """The embedded packet (a JPEG's extended part merged in); None when there is none."""
    module = writer_for(fmt)
    return jpeg.read_full_xmp(data) if module is jpeg else module.read_xmp(data)


def image_data(data: bytes, fmt: str) -> bytes:
    """The bytes that hold the pixels, which an XMP edit must leave as they are."""
    module = writer_for(fmt)
    if module is jpeg:
        return data[jpeg.segments(data)[-1][1]:]  # from SOS on: the compressed scan and what follows
    if module is png_xmp:
        return b"".join(data[s:e] for kind, s, e in png_xmp.chunks(data) if kind in _PNG_IMAGE)
    if module is webp_xmp:
        return b"".join(data[s:e] for kind, s, e in webp_xmp.chunks(data) if kind in _WEBP_IMAGE)
    return module.image_data(data)  # type: ignore[no-any-return]


def with_xmp(data: bytes, fmt: str, packet: bytes, padding: int = 0) -> bytes:
    """``data`` with its XMP replaced by ``packet``. Raises NotInPlace (write a sidecar instead) or
    ContainerError (a broken file)."""
    module = writer_for(fmt)
    new = jpeg.with_xmp(data, packet, padding) if module is jpeg else module.with_xmp(data, packet)
    if image_data(new, fmt) != image_data(data, fmt):
        raise ContainerError(f"{fmt} rewrite would have changed the image data: file left unchanged")
    return new  # type: ignore[no-any-return]
