"""The XMP segment of a JPEG, replaced byte-wise: pixels and every other segment stay as they are.

A JPEG is SOI, then marker segments (``FF xx`` + 2-byte big-endian length that counts itself), then
the entropy-coded scan from SOS on. The standard XMP packet lives in one APP1 segment whose payload
starts with ``XMP_HEADER``. Extended XMP (``http://ns.adobe.com/xmp/extension/``), EXIF, ICC, IPTC
and everything after SOS are copied unchanged.
"""
from __future__ import annotations

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
MAX_XMP_PAYLOAD = 65533 - len(XMP_HEADER)  # a segment length is 16 bits and counts its 2 bytes
_SOI, _SOS, _APP0, _APP1 = 0xD8, 0xDA, 0xE0, 0xE1
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


class JpegError(ValueError):
    """Not a JPEG we can rewrite safely."""


def segments(data: bytes) -> list[tuple[int, int, int]]:
    """``(marker, start, end)`` of every segment before the scan; ``data[start:end]`` includes the
    marker bytes. The last entry is SOS, whose ``end`` is where the header ends."""
    if data[:2] != b"\xff\xd8":
        raise JpegError("not a JPEG (no SOI marker)")
    found, pos = [], 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise JpegError(f"bad marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill bytes before a marker are allowed
            pos += 1
            continue
        if marker in _STANDALONE:
            found.append((marker, pos, pos + 2))
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise JpegError(f"segment at byte {pos} runs past the end of the file")
        found.append((marker, pos, end))
        if marker == _SOS:
            return found
        pos = end
    raise JpegError("no image data (SOS marker) found")


def read_xmp(data: bytes) -> bytes | None:
    """The standard XMP packet of a JPEG, or None."""
    for marker, start, end in segments(data):
        if marker == _APP1 and data[start + 4:start + 4 + len(XMP_HEADER)] == XMP_HEADER:
            return data[start + 4 + len(XMP_HEADER):end]
    return None


def with_xmp(data: bytes, packet: bytes) -> bytes:
    """``data`` with its standard XMP packet replaced by ``packet`` (inserted after the leading
    APP0/APP1 segments when it had none, where JFIF and EXIF readers expect those to stay first)."""
    if len(packet) > MAX_XMP_PAYLOAD:
        raise JpegError(f"XMP packet of {len(packet)} bytes does not fit a JPEG segment ({MAX_XMP_PAYLOAD} max)")
    segment = b"\xff\xe1" + (len(packet) + len(XMP_HEADER) + 2).to_bytes(2, "big") + XMP_HEADER + packet
    found = segments(data)
    for marker, start, end in found:
        if marker == _APP1 and data[start + 4:start + 4 + len(XMP_HEADER)] == XMP_HEADER:
            return data[:start] + segment + data[end:]
    insert_at = 2
    for marker, _, end in found:
        if marker not in (_APP0, _APP1):
            break
        insert_at = end
    return data[:insert_at] + segment + data[insert_at:]
