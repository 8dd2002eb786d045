"""ISO-BMFF boxes and the ``iloc`` item location box, parsed and written back (ISO/IEC 14496-12).

Only what ``heif_xmp`` needs: box boundaries, and ``iloc`` in all three versions, re-serialised with
the same versions and field widths (offset and length fields at least 4 bytes wide, so the XMP
item's location fits).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from facefile.interop.embed_errors import ContainerError, NotInPlace


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int  # the box's first byte (its size field)
    body: int  # the first byte after the header
    end: int
    size_to_end: bool = False  # size 0: the box runs to the end of the file


def boxes(data: bytes, start: int, end: int) -> list[Box]:
    """The boxes between ``start`` and ``end``."""
    found, pos = [], start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise ContainerError(f"box at byte {pos} is truncated")
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        to_end = size == 0
        box_end = end if to_end else pos + size
        if box_end > end or box_end < pos + header:
            raise ContainerError(f"{kind.decode('latin-1')!r} box at byte {pos} runs past its container")
        found.append(Box(kind, pos, pos + header, box_end, to_end))
        pos = box_end
    if pos != end and end - pos >= 8:
        raise ContainerError(f"stray bytes at {pos} in a box list")
    return found


def full_box(kind: bytes, version_flags: bytes, payload: bytes) -> bytes:
    return (12 + len(payload)).to_bytes(4, "big") + kind + version_flags + payload


@dataclass(frozen=True)
class ItemLocation:
    item_id: int
    method: int  # construction method: 0 file offset, 1 idat offset, 2 item offset
    data_ref: int
    base_offset: int
    extents: list[tuple[int, int]]  # (offset, length); length 0 = to the end
    indices: tuple[int, ...] = ()  # extent_index values (version 1/2 with index_size > 0)

    def shifted(self, after: int, delta: int) -> ItemLocation:
        """File offsets at or past ``after`` moved by ``delta`` (a box before them grew)."""
        if self.base_offset:
            return replace(self, base_offset=self.base_offset + delta) if self.base_offset >= after else self
        return replace(self, extents=[(o + delta if o >= after else o, n) for o, n in self.extents])


@dataclass(frozen=True)
class Iloc:
    version_flags: bytes
    offset_size: int
    length_size: int
    base_offset_size: int
    index_size: int
    items: list[ItemLocation]

    def with_items(self, items: list[ItemLocation]) -> Iloc:
        return replace(self, items=items, offset_size=max(self.offset_size, 4), length_size=max(self.length_size, 4))


def parse_iloc(data: bytes, box: Box) -> Iloc:
    pos = box.body
    version = data[pos]
    if version > 2:
        raise NotInPlace(f"HEIF iloc version {version} is unknown")
    sizes, more = data[pos + 4], data[pos + 5]
    iloc = Iloc(data[pos:pos + 4], sizes >> 4, sizes & 15, more >> 4, more & 15 if version else 0, [])
    pos += 6
    id_width = 2 if version < 2 else 4

    def take(width: int) -> int:
        nonlocal pos
        if pos + width > box.end:
            raise ContainerError("HEIF iloc box is truncated")
        value = int.from_bytes(data[pos:pos + width], "big")
        pos += width
        return value

    for _ in range(take(id_width)):
        item_id = take(id_width)
        method = take(2) & 15 if version else 0
        data_ref = take(2)
        base = take(iloc.base_offset_size)
        extents, indices = [], []
        for _ in range(take(2)):
            if iloc.index_size:
                indices.append(take(iloc.index_size))
            extents.append((take(iloc.offset_size), take(iloc.length_size)))
        iloc.items.append(ItemLocation(item_id, method, data_ref, base, extents, tuple(indices)))
    return iloc


def serialize_iloc(iloc: Iloc) -> bytes:
    version = iloc.version_flags[0]
    id_width = 2 if version < 2 else 4

    def put(value: int, width: int) -> bytes:
        if value >= 1 << (8 * width) or (width == 0 and value):
            raise NotInPlace("HEIF item location does not fit its iloc field")
        return value.to_bytes(width, "big")

    out = [bytes([iloc.offset_size << 4 | iloc.length_size, iloc.base_offset_size << 4 | iloc.index_size]),
           put(len(iloc.items), id_width)]
    for item in iloc.items:
        out.append(put(item.item_id, id_width))
        if version:
            out.append(put(item.method, 2))
        out += [put(item.data_ref, 2), put(item.base_offset, iloc.base_offset_size), put(len(item.extents), 2)]
        for i, (offset, length) in enumerate(item.extents):
            if iloc.index_size:
                out.append(put(item.indices[i] if i < len(item.indices) else 0, iloc.index_size))
            out += [put(offset, iloc.offset_size), put(length, iloc.length_size)]
    return full_box(b"iloc", iloc.version_flags, b"".join(out))
