"""XMP packets: safe parsing, face regions in (MWG and Microsoft People Tags), MWG face regions out.

Only the standard library's ``xml.etree`` is used, behind a guard with defusedxml's policy: a packet
with a DTD, an entity declaration or an external entity is refused before anything is expanded
(XMP never needs them; they are the vector of "billion laughs" and external-entity attacks).

Regions are returned normalised to the image **as stored** (before EXIF orientation), which is how
MWG, digiKam, Lightroom, Picasa and Windows store them; ``interop.regions`` maps them upright.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMLNS = "http://www.w3.org/XML/1998/namespace"
X = "adobe:ns:meta/"
MWG_RS = "http://www.metadataworkinggroup.com/schemas/regions/"
ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
MP = "http://ns.microsoft.com/photo/1.2/"
MPRI = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
MPREG = "http://ns.microsoft.com/photo/1.2/t/Region#"
# Prefixes we write; other namespaces keep the prefix the packet declared.
PREFIXES = {RDF: "rdf", X: "x", MWG_RS: "mwg-rs", ST_AREA: "stArea", ST_DIM: "stDim", MP: "MP",
            MPRI: "MPRI", MPREG: "MPReg", XMLNS: "xml"}

# A JPEG's standard XMP segment holds at most 65,502 bytes; sidecars of several MB exist (long
# histories); anything larger is not an XMP packet we should spend memory on.
MAX_PACKET_BYTES = 16 * 1024 * 1024
PACKET_ID = "W5M0MpCehiHzreSzNTczkc9d"  # the fixed id of every XMP packet wrapper (XMP spec part 1)


class XmpError(ValueError):
    """A packet that is not well-formed XMP, or one that was refused (DTD, entities, size)."""


@dataclass(frozen=True)
class XmpRegion:
    """A named face region as written in the packet.

    ``rect`` is ``(x1, y1, x2, y2)`` normalised to the image as stored (0..1, top-left origin).
    ``applied_to`` is MWG's ``AppliedToDimensions`` ``(w, h)`` when given, which tells the stored
    from the upright frame for tools that wrote upright coordinates (see ``regions.to_upright``).
    """

    name: str
    rect: tuple[float, float, float, float]
    kind: str  # "mwg" or "mp"
    applied_to: tuple[float, float] | None = None


@dataclass(frozen=True)
class WrittenRegion:
    """A face region facefile writes: a person name and a normalised stored-image rectangle."""

    name: str
    rect: tuple[float, float, float, float]


# ---------------------------------------------------------------------- parsing


def parse_packet(data: bytes | str) -> ET.Element:
    """The root element of an XMP packet (``x:xmpmeta`` or ``rdf:RDF``), refusing DTDs and entities."""
    return parse_with_prefixes(data)[0]


def parse_with_prefixes(data: bytes | str) -> tuple[ET.Element, dict[str, str]]:
    """The root element and ``{namespace URI: prefix}`` as the packet declared them (so a packet we
    rewrite keeps its own prefixes)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_PACKET_BYTES:
        raise XmpError(f"XMP packet of {len(raw)} bytes is larger than {MAX_PACKET_BYTES}")
    _refuse_declarations(raw)
    builder = _PrefixRecorder()
    parser = ET.XMLParser(target=builder)
    try:
        parser.feed(raw)
        root = parser.close()
    except ET.ParseError as exc:
        raise XmpError(f"not well-formed XMP: {exc}") from exc
    if root.tag not in (f"{{{X}}}xmpmeta", f"{{{RDF}}}RDF"):
        raise XmpError(f"not an XMP packet (root element {root.tag})")
    return root, builder.prefixes


def _refuse_declarations(raw: bytes) -> None:
    """A first pass with a bare expat parser that stops at any DTD or entity declaration, so the
    tree builder only ever sees packets without them (ElementTree's C parser exposes no hooks)."""

    def refuse(*_: object) -> Any:
        raise XmpError("XMP packet with a DTD or entity declaration refused")

    checker = expat.ParserCreate()
    checker.StartDoctypeDeclHandler = refuse
    checker.EntityDeclHandler = refuse
    checker.UnparsedEntityDeclHandler = refuse
    checker.ExternalEntityRefHandler = refuse
    try:
        checker.Parse(raw, True)
    except expat.ExpatError as exc:
        raise XmpError(f"not well-formed XMP: {exc}") from exc


class _PrefixRecorder(ET.TreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self.prefixes: dict[str, str] = {}

    def start_ns(self, prefix: str, uri: str) -> None:
        self.prefixes.setdefault(uri, prefix)


def descriptions(root: ET.Element) -> Iterator[ET.Element]:
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f"{{{RDF}}}RDF")
    if rdf is not None:
        yield from rdf.findall(f"{{{RDF}}}Description")


def properties(root: ET.Element) -> dict[str, Any]:
    """Every top-level property of the packet, ``{"{namespace}Name": value}``; see ``rdf_value``."""
    found: dict[str, Any] = {}
    for description in descriptions(root):
        found.update(_struct(description))
    return found


def rdf_value(elem: ET.Element) -> Any:
    """An RDF property as Python: text -> str, rdf:Bag/Seq/Alt -> list, struct -> dict.

    Every struct spelling XMP allows is read the same way: ``rdf:parseType="Resource"``, a nested
    ``rdf:Description``, or fields written as attributes (exiftool, Exiv2 and Adobe each use a
    different one).
    """
    if elem.get(f"{{{RDF}}}parseType") == "Resource":
        return _struct(elem)
    children = list(elem)
    if children:
        first = children[0]
        if first.tag in (f"{{{RDF}}}Bag", f"{{{RDF}}}Seq", f"{{{RDF}}}Alt"):
            return [rdf_value(li) for li in first if li.tag == f"{{{RDF}}}li"]
        if first.tag == f"{{{RDF}}}Description":
            return _struct(first)
        return _struct(elem)
    if _fields(elem):
        return _struct(elem)
    return (elem.text or "").strip()


def _fields(elem: ET.Element) -> dict[str, str]:
    return {k: v for k, v in elem.attrib.items() if not k.startswith((f"{{{RDF}}}", f"{{{XMLNS}}}"))}


def _struct(elem: ET.Element) -> dict[str, Any]:
    found: dict[str, Any] = dict(_fields(elem))
    for child in elem:
        found[child.tag] = rdf_value(child)
    return found


def _text(value: Any) -> str:
    """A simple value, or the first item of a language alternative."""
    if isinstance(value, list):
        return _text(value[0]) if value else ""
    return value.strip() if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    try:
        number = float(_text(value))
    except ValueError:
        return None
    return number if number == number else None  # NaN is no coordinate


# ---------------------------------------------------------------------- reading regions


def read_regions(data: bytes | str) -> list[XmpRegion]:
    """Named face regions of a packet: MWG ones when the packet has any, else Microsoft's.

    Both are read because Windows Photo Gallery wrote only ``MP:RegionInfo``; when a tool wrote both
    (digiKam does) they describe the same faces, and MWG carries more (dimensions, type).
    """
    props = properties(parse_packet(data))
    mwg = list(_mwg_regions(props.get(f"{{{MWG_RS}}}Regions")))
    return mwg if mwg else list(_mp_regions(props.get(f"{{{MP}}}RegionInfo")))


def _mwg_regions(regions: Any) -> Iterator[XmpRegion]:
    if not isinstance(regions, dict):
        return
    applied = regions.get(f"{{{MWG_RS}}}AppliedToDimensions")
    dims = None
    if isinstance(applied, dict):
        w, h = _number(applied.get(f"{{{ST_DIM}}}w")), _number(applied.get(f"{{{ST_DIM}}}h"))
        dims = (w, h) if w and h and w > 0 and h > 0 else None
    listed = regions.get(f"{{{MWG_RS}}}RegionList")
    for region in listed if isinstance(listed, list) else []:
        if not isinstance(region, dict):
            continue
        kind = _text(region.get(f"{{{MWG_RS}}}Type"))
        name = _text(region.get(f"{{{MWG_RS}}}Name"))
        area = region.get(f"{{{MWG_RS}}}Area")
        if kind not in ("", "Face") or not name or not isinstance(area, dict):
            continue  # pets, focus areas and bar codes are no persons; an unnamed face says nothing
        x, y, w, h = (_number(area.get(f"{{{ST_AREA}}}{k}")) for k in "xywh")
        if x is None or y is None or not w or not h or w <= 0 or h <= 0:
            continue
        if _text(area.get(f"{{{ST_AREA}}}unit")) == "pixel" and dims:  # not MWG, but seen in the wild
            x, w, y, h = x / dims[0], w / dims[0], y / dims[1], h / dims[1]
        # MWG: (x, y) is the centre of the rectangle.
        rect = _clip_rect((x - w / 2, y - h / 2, x + w / 2, y + h / 2))
        if rect is not None:
            yield XmpRegion(name, rect, "mwg", dims)


def _mp_regions(info: Any) -> Iterator[XmpRegion]:
    if not isinstance(info, dict):
        return
    listed = info.get(f"{{{MPRI}}}Regions")
    for region in listed if isinstance(listed, list) else []:
        if not isinstance(region, dict):
            continue
        name = _text(region.get(f"{{{MPREG}}}PersonDisplayName"))
        parts = _text(region.get(f"{{{MPREG}}}Rectangle")).split(",")
        numbers = [n for n in map(_number, parts) if n is not None] if len(parts) == 4 else []
        if not name or len(numbers) != 4:
            continue
        x, y, w, h = numbers
        if w <= 0 or h <= 0:
            continue
        # Microsoft: (x, y) is the top-left corner.
        rect = _clip_rect((x, y, x + w, y + h))
        if rect is not None:
            yield XmpRegion(name, rect, "mp")


def _clip_rect(rect: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    x1, y1, x2, y2 = (min(max(v, 0.0), 1.0) for v in rect)
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None
