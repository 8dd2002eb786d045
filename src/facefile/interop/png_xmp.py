"""The XMP of a PNG: an ``iTXt`` chunk with keyword ``XML:com.adobe.xmp``, replaced byte-wise.

A PNG is the 8-byte signature, then chunks: 4-byte big-endian length, 4-byte type, data, CRC-32 of
type and data. The XMP chunk is uncompressed (XMP spec part 3 asks for that, so tools can find the
packet by scanning); it goes where the old one was, or before the first ``IDAT`` (Pillow, like most
readers, looks at text chunks before the image data only). Every other chunk is copied unchanged.
"""
from __future__ import annotations

import zlib

from facefile.interop.embed_errors import ContainerError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"XML:com.adobe.xmp"


def chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """``(type, start, end)`` of every chunk, ``data[start:end]`` being the whole chunk."""
    if data[:8] != SIGNATURE:
        raise ContainerError("not a PNG (no PNG signature)")
    found, pos = [], 8
    while pos < len(data):
        if pos + 12 > len(data):
            raise ContainerError(f"PNG chunk at byte {pos} is truncated")
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data) or not kind.isalpha():
            raise ContainerError(f"PNG chunk at byte {pos} runs past the end of the file")
        found.append((kind, pos, end))
        pos = end
        if kind == b"IEND":
            return found
    raise ContainerError("PNG without an IEND chunk (truncated?)")


def _is_xmp(data: bytes, kind: bytes, start: int) -> bool:
    return kind == b"iTXt" and data[start + 8:start + 8 + len(KEYWORD) + 1] == KEYWORD + b"\x00"


def read_xmp(data: bytes) -> bytes | None:
    """The XMP packet of a PNG, or None."""
    for kind, start, end in chunks(data):
        if _is_xmp(data, kind, start):
            body = data[start + 8 + len(KEYWORD) + 1:end - 4]
            compressed, rest = body[:1] == b"\x01", body[2:]
            text = rest.split(b"\x00", 2)[-1]  # after the language tag and the translated keyword
            try:
                return zlib.decompress(text) if compressed else text
            except zlib.error as exc:
                raise ContainerError(f"PNG XMP chunk does not decompress: {exc}") from exc
    return None


def xmp_chunk(packet: bytes) -> bytes:
    # keyword, NUL, compression flag 0, method 0, empty language tag, empty translated keyword
    body = b"iTXt" + KEYWORD + b"\x00\x00\x00\x00\x00" + packet
    return (len(body) - 4).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")


def with_xmp(data: bytes, packet: bytes) -> bytes:
    """``data`` with its XMP chunk (every one, if several) replaced by one holding ``packet``."""
    found = chunks(data)
    idat = next((start for kind, start, _ in found if kind == b"IDAT"), None)
    if idat is None:
        raise ContainerError("PNG without image data (no IDAT chunk)")
    old = [(start, end) for kind, start, end in found if _is_xmp(data, kind, start)]
    insert_at = old[0][0] if old and old[0][0] < idat else idat
    out = [data[:8]]
    for kind, start, end in found:
        if start == insert_at:
            out.append(xmp_chunk(packet))
        if not _is_xmp(data, kind, start):
            out.append(data[start:end])
    out.append(data[found[-1][2]:])  # anything after IEND stays too
    return b"".join(out)
