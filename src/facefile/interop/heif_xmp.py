"""The XMP of a HEIC/HEIF: an item of type ``mime`` (``application/rdf+xml``) in the ``meta`` box,
described by the primary image (a ``cdsc`` reference), as HEIF (ISO/IEC 23008-12, annex A) says.

An ISO-BMFF file is a list of boxes (4-byte size, 4-byte type, payload; size 1 = a 64-bit size
follows, 0 = to the end of the file). Items are listed in ``meta``'s ``iinf``, their bytes located by
``iloc`` (file offsets, or offsets into ``idat``), their relations in ``iref``. Writing:

- the packet goes into a new ``mdat`` box appended at the end of the file, so no image byte moves
  relative to the others;
- ``iinf``, ``iloc`` and ``iref`` are rebuilt with the XMP item in (or an existing XMP item is
  pointed at the new bytes; when those were our own appended ``mdat``, it is replaced);
- ``meta`` grows by some bytes, so every ``iloc`` file offset that pointed after it is shifted by
  exactly that much. A ``moov`` box (an image sequence, a movie) has chunk offsets of its own: such
  a file is left alone (``NotInPlace``).

``item_bytes`` reads every item back; the writer checks that each image item's bytes are unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from facefile.interop.embed_errors import ContainerError, NotInPlace
from facefile.interop.heif_boxes import Box, Iloc, ItemLocation, boxes, full_box, parse_iloc, serialize_iloc

XMP_TYPE = b"mime"
XMP_CONTENT = b"application/rdf+xml"


@dataclass
class Meta:
    """The parts of a top-level ``meta`` box writing XMP needs."""

    box: Box
    children: list[Box]
    primary: int
    iloc: Iloc
    infe: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)  # item id -> (type, content type)


def _meta(data: bytes) -> tuple[list[Box], Meta]:
    top = boxes(data, 0, len(data))
    if not top or top[0].type != b"ftyp":
        raise ContainerError("not an ISO-BMFF file (no ftyp box first)")
    found = [b for b in top if b.type == b"meta"]
    if not found:
        raise ContainerError("HEIF without a top-level meta box")
    meta = found[0]
    children = boxes(data, meta.body + 4, meta.end)
    by_type = {c.type: c for c in children}
    if b"iloc" not in by_type or b"pitm" not in by_type or b"iinf" not in by_type:
        raise ContainerError("HEIF meta box without pitm, iinf or iloc")
    pitm = by_type[b"pitm"]
    primary = int.from_bytes(data[pitm.body + 4:pitm.body + (6 if data[pitm.body] == 0 else 8)], "big")
    parsed = Meta(meta, children, primary, parse_iloc(data, by_type[b"iloc"]))
    iinf = by_type[b"iinf"]
    first_entry = iinf.body + (6 if data[iinf.body] == 0 else 8)
    for infe in boxes(data, first_entry, iinf.end):
        if infe.type == b"infe":
            parsed.infe.update([_infe(data, infe)])
    return top, parsed


def _infe(data: bytes, infe: Box) -> tuple[int, tuple[bytes, bytes]]:
    version = data[infe.body]
    if version < 2:
        return 0, (b"", b"")  # item infos of HEIF are version 2 or 3; older ones name no item type
    pos = infe.body + 4
    width = 2 if version == 2 else 4
    item_id = int.from_bytes(data[pos:pos + width], "big")
    pos += width + 2
    kind = data[pos:pos + 4]
    rest = data[pos + 4:infe.end].split(b"\x00")
    content = rest[1] if kind == XMP_TYPE and len(rest) > 1 else b""
    return item_id, (kind, content)


def _xmp_item(meta: Meta) -> int | None:
    return next((i for i, (kind, content) in meta.infe.items() if kind == XMP_TYPE and content == XMP_CONTENT), None)


def item_bytes(data: bytes, meta: Meta | None = None) -> dict[int, bytes]:
    """Every item's bytes (extents concatenated), by item id."""
    if meta is None:
        meta = _meta(data)[1]
    idat = next((c for c in meta.children if c.type == b"idat"), None)
    found = {}
    for item in meta.iloc.items:
        base = idat.body if item.method == 1 and idat is not None else 0
        if item.method not in (0, 1) or item.data_ref != 0:
            continue  # item-offset construction or another file: not bytes of this file as such
        parts = []
        for offset, length in item.extents:
            start = base + item.base_offset + offset
            end = len(data) if length == 0 else start + length
            if end > len(data):
                raise ContainerError(f"HEIF item {item.item_id} points past the end of the file")
            parts.append(data[start:end])
        found[item.item_id] = b"".join(parts)
    return found


def xmp_item_id(data: bytes) -> int | None:
    """The id of the file's XMP item, or None."""
    return _xmp_item(_meta(data)[1])


def read_xmp(data: bytes) -> bytes | None:
    meta = _meta(data)[1]
    item = _xmp_item(meta)
    return None if item is None else item_bytes(data, meta).get(item)


def image_data(data: bytes) -> bytes:
    """The bytes of every item but the XMP one, in item order: what writing must not change."""
    meta = _meta(data)[1]
    xmp = _xmp_item(meta)
    return b"".join(v for k, v in sorted(item_bytes(data, meta).items()) if k != xmp)


def with_xmp(data: bytes, packet: bytes) -> bytes:
    """``data`` with its XMP item's bytes replaced by (or a new XMP item holding) ``packet``."""
    top, meta = _meta(data)
    if any(b.type == b"moov" for b in top):
        raise NotInPlace("HEIF with a movie track (moov chunk offsets would need rewriting)")
    xmp = _xmp_item(meta)
    tail = len(data)
    if xmp is not None and top[-1].type == b"mdat" and top[-1].end == len(data):
        location = next((i for i in meta.iloc.items if i.item_id == xmp), None)
        if location and location.method == 0 and location.extents == [(top[-1].body - location.base_offset, len(
                data) - top[-1].body)]:
            tail = top[-1].start  # our own earlier append holding only the old packet: replace it
    body = bytearray(data[:tail])
    if top[-1].size_to_end and tail == len(data):
        if len(data) - top[-1].start >= 2**32:
            raise NotInPlace("HEIF whose last box has no size and is over 4 GB")
        body[top[-1].start:top[-1].start + 4] = (len(data) - top[-1].start).to_bytes(4, "big")
    # The shift is the meta box's growth, known before the offsets' values: their widths are fixed.
    draft = _rebuilt_meta(data, meta, xmp, 0, len(packet), 0)
    delta = len(draft) - (meta.box.end - meta.box.start)
    new_meta = _rebuilt_meta(data, meta, xmp, len(body) + delta + 8, len(packet), delta)
    assert len(new_meta) == len(draft)
    out = bytes(body[:meta.box.start]) + new_meta + bytes(body[meta.box.end:])
    out += (8 + len(packet)).to_bytes(4, "big") + b"mdat" + packet
    if read_xmp(out) != packet or image_data(out) != image_data(data):
        raise ContainerError("HEIF rewrite did not check out (item offsets): file left unchanged")
    return out


def _rebuilt_meta(data: bytes, meta: Meta, xmp: int | None, packet_at: int, length: int, delta: int) -> bytes:
    """The ``meta`` box with the XMP item at ``packet_at`` and every file offset after the old meta
    box shifted by ``delta``."""
    new_id = xmp if xmp is not None else max([meta.primary, *meta.infe, *(i.item_id for i in meta.iloc.items)]) + 1
    parts = []
    for child in meta.children:
        raw = data[child.start:child.end]
        if child.type == b"iinf" and xmp is None:
            raw = _iinf_with(data, child, new_id)
        elif child.type == b"iref" and xmp is None:
            raw = _iref_with(data, child, new_id, meta.primary)
        elif child.type == b"iloc":
            raw = serialize_iloc(_iloc_with(meta.iloc, new_id, packet_at, length, meta.box.end, delta))
        parts.append(raw)
    if xmp is None and not any(c.type == b"iref" for c in meta.children):
        parts.append(_iref_with(data, None, new_id, meta.primary))
    return full_box(b"meta", data[meta.box.body:meta.box.body + 4], b"".join(parts))


def _iloc_with(iloc: Iloc, item_id: int, packet_at: int, length: int, meta_end: int, delta: int) -> Iloc:
    items = []
    for item in iloc.items:
        if item.item_id == item_id:
            continue
        items.append(item.shifted(meta_end, delta) if item.method == 0 and item.data_ref == 0 else item)
    items.append(ItemLocation(item_id, 0, 0, 0, [(packet_at, length)]))
    return iloc.with_items(sorted(items, key=lambda i: i.item_id))


def _iinf_with(data: bytes, iinf: Box, item_id: int) -> bytes:
    version = data[iinf.body]
    count_width = 2 if version == 0 else 4
    start = iinf.body + 4
    count = int.from_bytes(data[start:start + count_width], "big") + 1
    if count >= 1 << (8 * count_width):
        raise NotInPlace("HEIF item list is full")
    infe_version = 2 if item_id < 1 << 16 else 3
    infe = full_box(b"infe", bytes([infe_version, 0, 0, 0]),
                    item_id.to_bytes(2 if infe_version == 2 else 4, "big") + b"\x00\x00" + XMP_TYPE
                    + b"XMP\x00" + XMP_CONTENT + b"\x00")
    return full_box(b"iinf", data[iinf.body:iinf.body + 4],
                    count.to_bytes(count_width, "big") + data[start + count_width:iinf.end] + infe)


def _iref_with(data: bytes, iref: Box | None, item_id: int, primary: int) -> bytes:
    version = data[iref.body] if iref is not None else (0 if max(item_id, primary) < 1 << 16 else 1)
    width = 2 if version == 0 else 4
    if max(item_id, primary) >= 1 << (8 * width):
        raise NotInPlace("HEIF item ids too large for its iref box")
    reference = b"cdsc" + item_id.to_bytes(width, "big") + (1).to_bytes(2, "big") + primary.to_bytes(width, "big")
    old = data[iref.body + 4:iref.end] if iref is not None else b""
    return full_box(b"iref", bytes([version, 0, 0, 0]), old + (4 + len(reference)).to_bytes(4, "big") + reference)
