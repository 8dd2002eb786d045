"""The XMP of a WebP: an ``XMP `` chunk of the RIFF container, written byte-wise.

A WebP is ``RIFF`` + 4-byte little-endian size + ``WEBP``, then chunks (FourCC, 4-byte LE size,
data, one pad byte when the size is odd). Metadata needs the *extended* format: a ``VP8X`` chunk
first, whose flags say an XMP chunk is present. A simple file (one ``VP8 `` or ``VP8L`` chunk) is
converted by adding that ``VP8X`` with the canvas size read from the bitstream's header. The image
chunks (``VP8 ``, ``VP8L``, ``ALPH``, ``ANIM``/``ANMF``) are copied unchanged.
"""
from __future__ import annotations

from facefile.interop.embed_errors import ContainerError

XMP_FLAG, ALPHA_FLAG = 0x04, 0x10  # VP8X flags byte: reserved(2) ICC alpha EXIF XMP animation reserved


def chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """``(fourcc, start, end)`` of every chunk; ``data[start:end]`` is the chunk with its padding."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ContainerError("not a WebP (no RIFF/WEBP header)")
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    if riff_end > len(data):
        raise ContainerError("WebP is truncated (RIFF size past the end of the file)")
    found, pos = [], 12
    while pos + 8 <= riff_end:
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        end = pos + 8 + size + (size & 1)
        if pos + 8 + size > riff_end:
            raise ContainerError(f"WebP chunk at byte {pos} runs past the end of the file")
        found.append((data[pos:pos + 4], pos, min(end, riff_end)))
        pos = end
    if not found:
        raise ContainerError("WebP without chunks")
    return found


def _payload(data: bytes, start: int) -> bytes:
    return data[start + 8:start + 8 + int.from_bytes(data[start + 4:start + 8], "little")]


def read_xmp(data: bytes) -> bytes | None:
    for fourcc, start, _ in chunks(data):
        if fourcc == b"XMP ":
            return _payload(data, start)
    return None


def _chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + len(payload).to_bytes(4, "little") + payload + b"\x00" * (len(payload) & 1)


def canvas(fourcc: bytes, bitstream: bytes) -> tuple[int, int, bool]:
    """Width, height and whether it has alpha, from a ``VP8 `` or ``VP8L`` bitstream's header."""
    if fourcc == b"VP8 " and len(bitstream) >= 10 and bitstream[3:6] == b"\x9d\x01\x2a":
        width = int.from_bytes(bitstream[6:8], "little") & 0x3FFF
        height = int.from_bytes(bitstream[8:10], "little") & 0x3FFF
        return width, height, False
    if fourcc == b"VP8L" and len(bitstream) >= 5 and bitstream[0] == 0x2F:
        bits = int.from_bytes(bitstream[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    raise ContainerError(f"WebP {fourcc.decode('latin-1').strip()} bitstream header not recognised")


def with_xmp(data: bytes, packet: bytes) -> bytes:
    """``data`` with its ``XMP `` chunk replaced (or appended, VP8X flag set) by ``packet``."""
    found = chunks(data)
    first, start, _ = found[0]
    if first == b"VP8X":
        header = bytearray(_payload(data, start))
        if len(header) < 10:
            raise ContainerError("WebP VP8X chunk is too short")
        header[0] |= XMP_FLAG
        head = [_chunk(b"VP8X", bytes(header))]
        body = found[1:]
    elif first in (b"VP8 ", b"VP8L"):
        width, height, alpha = canvas(first, _payload(data, start))
        flags = XMP_FLAG | (ALPHA_FLAG if alpha else 0)
        head = [_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
                       + (height - 1).to_bytes(3, "little"))]
        body = found
    else:
        raise ContainerError(f"WebP starting with a {first!r} chunk")
    # The spec's order puts XMP after the image and EXIF chunks; unknown chunks may follow it.
    # (A last chunk whose pad byte is missing gets it: every chunk stays at an even offset.)
    kept = [data[s:e] + b"\x00" * ((e - s) & 1) for fourcc, s, e in body if fourcc != b"XMP "]
    riff = b"WEBP" + b"".join(head) + b"".join(kept) + _chunk(b"XMP ", packet)
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    return b"RIFF" + len(riff).to_bytes(4, "little") + riff + data[riff_end:]
