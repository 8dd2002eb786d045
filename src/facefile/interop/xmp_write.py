"""Write MWG face regions into an XMP packet, keeping everything else the packet holds.

The packet is edited as a tree: only the ``mwg-rs:Regions`` property is rebuilt. Within it, face
regions over a face facefile knows are facefile's to write; every other region (pets, focus areas,
faces facefile never found) is kept as it was, byte for byte in meaning.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from facefile.interop.regions import Rect, regions_match
from facefile.interop.xmp import (
    MWG_RS,
    PACKET_ID,
    PREFIXES,
    RDF,
    ST_AREA,
    ST_DIM,
    XMLNS,
    WrittenRegion,
    X,
    descriptions,
    parse_with_prefixes,
    rdf_value,
)

_REGIONS = f"{{{MWG_RS}}}Regions"
_RESOURCE = {f"{{{RDF}}}parseType": "Resource"}


def packet_with_regions(
    existing: bytes | None,
    regions: Sequence[WrittenRegion],
    stored_size: tuple[int, int],
    known_faces: Sequence[Rect] = (),
    *,
    padding: int = 0,
) -> bytes:
    """An XMP packet: ``existing`` (or an empty one) with its MWG face regions replaced by ``regions``.

    ``stored_size`` is the image's (width, height) as stored, written as ``AppliedToDimensions``;
    rectangles are normalised to it. Face regions of ``existing`` that match one of ``known_faces``
    (facefile's faces, same frame) are dropped; other regions are kept. ``padding`` bytes of
    whitespace let other tools edit an embedded packet in place (XMP spec part 3).
    """
    if existing:
        root, prefixes = parse_with_prefixes(existing)
    else:
        root, prefixes = _empty_packet(), {}
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f"{{{RDF}}}RDF")
    if rdf is None:
        rdf = ET.SubElement(root, f"{{{RDF}}}RDF")
    target, kept = None, []
    for description in descriptions(root):
        for old in description.findall(_REGIONS):
            target = target or description
            kept += _kept_regions(old, [*known_faces, *(r.rect for r in regions)])
            description.remove(old)
    if regions or kept:
        target = target or next(descriptions(root), None)
        if target is None:
            target = ET.SubElement(rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
        target.append(_regions_element(regions, kept, stored_size))
    return wrap_packet(root, prefixes, padding)


def wrap_packet(root: ET.Element, prefixes: dict[str, str], padding: int = 0) -> bytes:
    """``root`` serialised inside the ``<?xpacket?>`` wrapper, with ``padding`` bytes of whitespace."""
    ET.indent(root, space=" ")
    body = serialize(root, prefixes)
    return (
        f'<?xpacket begin="\ufeff" id="{PACKET_ID}"?>\n{body}\n'
        + (" " * 99 + "\n") * (padding // 100)
        + '<?xpacket end="w"?>'
    ).encode("utf-8")


def _empty_packet() -> ET.Element:
    root = ET.Element(f"{{{X}}}xmpmeta", {f"{{{X}}}xmptk": "facefile"})
    ET.SubElement(root, f"{{{RDF}}}RDF")
    return root


def _kept_regions(regions: ET.Element, ours: Sequence[Rect]) -> list[ET.Element]:
    """The ``rdf:li`` items of an old ``mwg-rs:Regions`` that are not faces facefile writes."""
    region_list = regions.find(f"{{{MWG_RS}}}RegionList")
    bag = region_list[0] if region_list is not None and len(region_list) else None
    kept = []
    for li in list(bag) if bag is not None else []:
        value = rdf_value(li)
        kind = value.get(f"{{{MWG_RS}}}Type", "") if isinstance(value, dict) else ""
        is_face = isinstance(kind, str) and kind.strip() in ("", "Face")
        area = _area_rect(value) if isinstance(value, dict) else None
        if is_face and area is not None and any(regions_match(area, rect) for rect in ours):
            continue
        kept.append(li)
    return kept


def _area_rect(region: dict) -> Rect | None:
    area = region.get(f"{{{MWG_RS}}}Area")
    if not isinstance(area, dict):
        return None
    try:
        x, y, w, h = (float(area[f"{{{ST_AREA}}}{k}"]) for k in "xywh")
    except (KeyError, TypeError, ValueError):
        return None
    return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _regions_element(regions: Sequence[WrittenRegion], kept: list[ET.Element], size: tuple[int, int]) -> ET.Element:
    element = ET.Element(_REGIONS, _RESOURCE)
    dims = ET.SubElement(element, f"{{{MWG_RS}}}AppliedToDimensions", _RESOURCE)
    for key, value in (("w", str(size[0])), ("h", str(size[1])), ("unit", "pixel")):
        ET.SubElement(dims, f"{{{ST_DIM}}}{key}").text = value
    bag = ET.SubElement(ET.SubElement(element, f"{{{MWG_RS}}}RegionList"), f"{{{RDF}}}Bag")
    bag.extend(kept)
    for region in regions:
        li = ET.SubElement(bag, f"{{{RDF}}}li", _RESOURCE)
        x1, y1, x2, y2 = region.rect
        area = ET.SubElement(li, f"{{{MWG_RS}}}Area", _RESOURCE)
        # MWG's (x, y) is the rectangle's centre; 6 decimals is a 1/1,000,000 of the side.
        for key, number in (("x", (x1 + x2) / 2), ("y", (y1 + y2) / 2), ("w", x2 - x1), ("h", y2 - y1)):
            ET.SubElement(area, f"{{{ST_AREA}}}{key}").text = f"{number:.6f}"
        ET.SubElement(area, f"{{{ST_AREA}}}unit").text = "normalized"
        ET.SubElement(li, f"{{{MWG_RS}}}Name").text = region.name
        ET.SubElement(li, f"{{{MWG_RS}}}Type").text = "Face"
    return element


# ---------------------------------------------------------------------- serialising


def serialize(root: ET.Element, prefixes: dict[str, str]) -> str:
    """XML text of ``root`` with every namespace declared once on it, under the packet's own prefixes
    (ours for namespaces it did not declare). No global state: ``ET.register_namespace`` is not used."""
    names = dict(PREFIXES)
    names.update({uri: prefix for uri, prefix in prefixes.items() if prefix})
    used: dict[str, str] = {}

    def qname(tag: str) -> str:
        if not tag.startswith("{"):
            return tag
        uri, local = tag[1:].split("}", 1)
        if uri not in names:
            taken = set(names.values())
            names[uri] = next(f"ns{i}" for i in range(1, len(taken) + 2) if f"ns{i}" not in taken)
        used[uri] = names[uri]
        return f"{names[uri]}:{local}"

    parts: list[str] = []

    def write(elem: ET.Element, is_root: bool) -> None:
        tag = qname(elem.tag)
        attrs = "".join(f" {qname(k)}={_quote(v)}" for k, v in elem.attrib.items())
        start = len(parts)
        parts.append("")  # the start tag, filled in once the namespaces in use are known
        if len(elem) or elem.text:
            parts.append(_escape(elem.text or ""))
            for child in elem:
                write(child, False)
                parts.append(_escape(child.tail or ""))
            parts.append(f"</{tag}>")
            parts[start] = f"<{tag}{attrs}"
        else:
            parts[start] = f"<{tag}{attrs}"
            parts.append("/>")
            return
        parts[start] += ">"

    write(root, True)
    declared = "".join(f" xmlns:{prefix}={_quote(uri)}" for uri, prefix in sorted(used.items(), key=lambda u: u[1])
                       if uri != XMLNS)
    first = parts[0]
    end = len(first) - (1 if first.endswith(">") else 0)
    parts[0] = first[:end] + declared + first[end:]
    return "".join(parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(value: str) -> str:
    escaped = _escape(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return f'"{escaped}"'
