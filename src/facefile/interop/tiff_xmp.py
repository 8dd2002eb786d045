"""The XMP of a TIFF: tag 700 of the first IFD, written by appending, never by moving.

A classic TIFF is an 8-byte header (``II*\\0`` or ``MM\\0*``, then the first IFD's offset), then IFDs
(a 2-byte entry count, 12-byte entries ``tag, type, count, value-or-offset``, a 4-byte link to the
next IFD) and the data they point at. To change the XMP, the packet and a copy of IFD0 with tag 700
set are appended at the end and the header is pointed at the copy. Every strip, tile, EXIF IFD and
later page keeps its offset, so the image data stays byte-identical; the old IFD0 becomes unused
bytes. When the old IFD0 and its packet are the file's last bytes (what this module wrote before),
they are cut off first, so writing again does not make the file grow.
"""
from __future__ import annotations

from typing import Literal

from facefile.interop.embed_errors import ContainerError, NotInPlace

XMP_TAG = 700
_BYTE = 1  # XMP spec part 3: tag 700 is of type BYTE (or UNDEFINED)
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
_STRIPS = ((273, 279), (324, 325))  # (offsets, byte counts) of strips, of tiles


class Tiff:
    """The byte order, IFD0's entries and where IFD0 lies, parsed from a classic TIFF."""

    def __init__(self, data: bytes) -> None:
        if data[:4] in (b"II+\x00", b"MM\x00+"):
            raise NotInPlace("BigTIFF: only classic TIFF is rewritten in place")
        if data[:4] not in (b"II*\x00", b"MM\x00*"):
            raise ContainerError("not a TIFF (no TIFF header)")
        self.data = data
        self.order: Literal["little", "big"] = "little" if data[:2] == b"II" else "big"
        self.ifd0 = self.u(4, 4)
        if self.ifd0 < 8 or self.ifd0 + 2 > len(data):
            raise ContainerError("TIFF first IFD offset points outside the file")
        count = self.u(self.ifd0, 2)
        self.ifd0_end = self.ifd0 + 2 + 12 * count + 4
        if self.ifd0_end > len(data):
            raise ContainerError("TIFF first IFD runs past the end of the file")
        self.entries = [data[self.ifd0 + 2 + 12 * i:self.ifd0 + 14 + 12 * i] for i in range(count)]
        self.next_ifd = data[self.ifd0_end - 4:self.ifd0_end]

    def u(self, pos: int, size: int) -> int:
        return int.from_bytes(self.data[pos:pos + size], self.order)

    def entry(self, tag: int) -> tuple[int, int, int] | None:
        """``(type, count, value position)`` of a tag in IFD0: the value is inline when it fits 4 bytes."""
        for i, raw in enumerate(self.entries):
            if int.from_bytes(raw[:2], self.order) == tag:
                kind, count = int.from_bytes(raw[2:4], self.order), int.from_bytes(raw[4:8], self.order)
                size = _TYPE_SIZES.get(kind, 1) * count
                at = self.ifd0 + 2 + 12 * i + 8
                return kind, count, at if size <= 4 else self.u(at, 4)
        return None

    def values(self, tag: int) -> list[int]:
        """The integer values of a SHORT or LONG tag of IFD0 ([] when absent)."""
        found = self.entry(tag)
        if found is None:
            return []
        kind, count, at = found
        width = 2 if kind == 3 else 4
        if at + width * count > len(self.data):
            raise ContainerError(f"TIFF tag {tag} points outside the file")
        return [self.u(at + width * i, width) for i in range(count)]


def read_xmp(data: bytes) -> bytes | None:
    tiff = Tiff(data)
    found = tiff.entry(XMP_TAG)
    if found is None:
        return None
    _, count, at = found
    if at + count > len(data):
        raise ContainerError("TIFF XMP tag points outside the file")
    return data[at:at + count]


def image_data(data: bytes) -> bytes:
    """IFD0's strips or tiles, concatenated: the bytes that must not change."""
    tiff = Tiff(data)
    parts = []
    for offsets_tag, counts_tag in _STRIPS:
        for offset, count in zip(tiff.values(offsets_tag), tiff.values(counts_tag), strict=False):
            parts.append(data[offset:offset + count])
    return b"".join(parts)


def with_xmp(data: bytes, packet: bytes) -> bytes:
    """``data`` with IFD0's tag 700 set to ``packet``: packet and a new IFD0 appended, header moved."""
    tiff = Tiff(data)
    base = data
    old = tiff.entry(XMP_TAG)
    if old is not None and tiff.ifd0_end == len(data) and old[2] < tiff.ifd0 and tiff.ifd0 - old[2] - old[1] <= 1:
        base = data[:old[2]]  # our own previous append: reuse the space
    out = bytearray(base)
    out += b"\x00" * (len(out) & 1)  # TIFF wants word-aligned offsets
    xmp_at = len(out)
    out += packet
    out += b"\x00" * (len(out) & 1)
    ifd_at = len(out)
    order = tiff.order
    xmp_entry = (XMP_TAG.to_bytes(2, order) + _BYTE.to_bytes(2, order)
                 + len(packet).to_bytes(4, order) + xmp_at.to_bytes(4, order))
    entries = [e for e in tiff.entries if int.from_bytes(e[:2], order) != XMP_TAG]
    entries.append(xmp_entry)
    entries.sort(key=lambda e: int.from_bytes(e[:2], order))  # TIFF: ascending tags
    out += len(entries).to_bytes(2, order) + b"".join(entries) + tiff.next_ifd
    if len(out) >= 2**32:
        raise NotInPlace("TIFF would grow past 4 GB (classic TIFF offsets are 32-bit)")
    out[4:8] = ifd_at.to_bytes(4, order)
    return bytes(out)
