"""The XMP segments of a JPEG, replaced byte-wise: pixels and every other segment stay as they are.

A JPEG is SOI, then marker segments (``FF xx`` + 2-byte big-endian length that counts itself), then
the entropy-coded scan from SOS on. The standard XMP packet lives in one APP1 segment whose payload
starts with ``XMP_HEADER``. A packet over one segment is split (``xmp_extended``): its extended part
follows in APP1 segments starting with ``EXTENDED_HEADER``, each carrying the GUID, the extended
packet's full length and this chunk's offset in it. EXIF, ICC, IPTC and everything after SOS are
copied unchanged.
"""
from __future__ import annotations

import logging

from facefile.interop.embed_errors import ContainerError, NotInPlace
from facefile.interop.xmp import XmpError
from facefile.interop.xmp_extended import extended_guid, merge_extended, split_packet

log = logging.getLogger(__name__)

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXTENDED_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
MAX_XMP_PAYLOAD = 65533 - len(XMP_HEADER)  # a segment length is 16 bits and counts its 2 bytes
# GUID (32) + full length (4) + offset (4) precede each extended chunk.
MAX_EXTENDED_CHUNK = 65533 - len(EXTENDED_HEADER) - 40
_SOI, _SOS, _APP0, _APP1, _APP2 = 0xD8, 0xDA, 0xE0, 0xE1, 0xE2
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


class JpegError(ContainerError):
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


def _is(data: bytes, start: int, header: bytes) -> bool:
    return data[start + 4:start + 4 + len(header)] == header


def read_xmp(data: bytes) -> bytes | None:
    """The standard XMP packet of a JPEG, or None."""
    for marker, start, end in segments(data):
        if marker == _APP1 and _is(data, start, XMP_HEADER):
            return data[start + 4 + len(XMP_HEADER):end]
    return None


def read_full_xmp(data: bytes) -> bytes | None:
    """The XMP of a JPEG with its extended part merged in (when the standard packet names one by
    ``HasExtendedXMP`` and its chunks are all there), else the standard packet, or None."""
    standard = read_xmp(data)
    if standard is None:
        return None
    try:
        guid = extended_guid(standard)
    except XmpError:
        return standard  # the caller's parse reports it
    if guid is None:
        return standard
    extended = read_extended(data, guid)
    if extended is None:
        log.info("extended XMP %s named but missing or incomplete: standard packet only", guid)
        return standard
    try:
        return merge_extended(standard, extended)
    except XmpError as exc:
        log.info("extended XMP %s ignored: %s", guid, exc)
        return standard


def read_extended(data: bytes, guid: str) -> bytes | None:
    """The extended packet with this GUID, reassembled from its chunks by offset; None when absent,
    incomplete or inconsistent (chunks of other GUIDs are stale copies: the spec says ignore them)."""
    want = guid.encode("ascii", "replace")
    full: bytearray | None = None
    covered = 0
    for marker, start, end in segments(data):
        if marker != _APP1 or not _is(data, start, EXTENDED_HEADER):
            continue
        head = start + 4 + len(EXTENDED_HEADER)
        if data[head:head + 32] != want or end - head < 40:
            continue
        length = int.from_bytes(data[head + 32:head + 36], "big")
        offset = int.from_bytes(data[head + 36:head + 40], "big")
        chunk = data[head + 40:end]
        if full is None:
            full = bytearray(length)
        if length != len(full) or offset + len(chunk) > length:
            return None
        full[offset:offset + len(chunk)] = chunk
        covered += len(chunk)
    return bytes(full) if full is not None and covered == len(full) else None


def _segment(header: bytes, payload: bytes) -> bytes:
    return b"\xff\xe1" + (len(payload) + len(header) + 2).to_bytes(2, "big") + header + payload


def xmp_segments(packet: bytes, padding: int = 0) -> bytes:
    """The APP1 segments for ``packet``: one standard segment, plus extended ones when it is over
    one segment (it is split, see ``xmp_extended``). Raises JpegError if it cannot be split."""
    try:
        standard, extended = split_packet(packet, MAX_XMP_PAYLOAD, padding)
    except XmpError as exc:
        raise JpegError(f"XMP packet of {len(packet)} bytes does not fit a JPEG segment: {exc}") from exc
    out = [_segment(XMP_HEADER, standard)]
    if extended is not None:
        guid = extended_guid(standard)
        assert guid is not None  # split_packet wrote it
        head = guid.encode("ascii") + len(extended).to_bytes(4, "big")
        for offset in range(0, len(extended), MAX_EXTENDED_CHUNK):
            chunk = extended[offset:offset + MAX_EXTENDED_CHUNK]
            out.append(_segment(EXTENDED_HEADER, head + offset.to_bytes(4, "big") + chunk))
    return b"".join(out)


def with_xmp(data: bytes, packet: bytes, padding: int = 0) -> bytes:
    """``data`` with its XMP (standard and extended segments) replaced by ``packet``, at the standard
    segment's place, or after the leading APP0/APP1 segments when it had none (where JFIF and EXIF
    readers expect those to stay first)."""
    new = xmp_segments(packet, padding)
    found = segments(data)
    old = [(s, e) for m, s, e in found if m == _APP1 and (_is(data, s, XMP_HEADER) or _is(data, s, EXTENDED_HEADER))]
    if old:
        insert_at = old[0][0]
    else:
        insert_at = 2
        for marker, _, end in found:
            if marker not in (_APP0, _APP1):
                break
            insert_at = end
    _check_mpf(data, found, insert_at)
    if not old:
        return data[:insert_at] + new + data[insert_at:]
    parts, pos = [], 0
    for i, (start, end) in enumerate(old):
        parts.append(data[pos:start])
        if i == 0:
            parts.append(new)
        pos = end
    parts.append(data[pos:])
    return b"".join(parts)


def _check_mpf(data: bytes, found: list[tuple[int, int, int]], edit_at: int) -> None:
    """An MPO (or an iPhone JPEG with a gain map) indexes its other images by offsets relative to
    its APP2 "MPF" segment: bytes changed after that segment would move them and break the index."""
    for marker, start, _ in found:
        if marker == _APP2 and data[start + 4:start + 8] == b"MPF\x00" and start < edit_at:
            raise NotInPlace("the XMP would move the images an MPF index points at (MPO)")
