"""Extended XMP (XMP spec part 3, 1.1.3.1): a packet too large for one JPEG segment, split in two.

The *standard* packet holds ``xmpNote:HasExtendedXMP`` = the GUID of the *extended* one: the MD5 of
its serialised bytes, 32 upper-case hex digits. The extended packet is a complete ``x:xmpmeta``
without the ``<?xpacket?>`` wrapper; its properties belong to the same resource and are read as if
they were in the standard packet. Only the standard packet may be padded.

``split_packet`` moves face regions out first (the spec lets any property go; regions are what make
a packet of hundreds of named faces large), then the largest remaining properties, until the
standard packet fits. ``merge_extended`` is the reader's side: one packet with both halves.
"""
from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

from facefile.interop.xmp import MP, MWG_RS, RDF, XMLNS, X, XmpError, descriptions, parse_with_prefixes
from facefile.interop.xmp_write import serialize, wrap_packet

XMP_NOTE = "http://ns.adobe.com/xmp/note/"
HAS_EXTENDED = f"{{{XMP_NOTE}}}HasExtendedXMP"
# Moved to the extended packet before anything else: they are what grows with the faces named.
_FIRST_OUT = (f"{{{MWG_RS}}}Regions", f"{{{MP}}}RegionInfo")
_KEEP_ATTRIBUTES = (f"{{{RDF}}}", f"{{{XMLNS}}}")
_PREFIXES = {XMP_NOTE: "xmpNote"}


def extended_guid(standard: bytes) -> str | None:
    """The GUID the standard packet names in ``xmpNote:HasExtendedXMP``, or None."""
    if b"HasExtendedXMP" not in standard:
        return None
    for description in descriptions(parse_with_prefixes(standard)[0]):
        value = description.get(HAS_EXTENDED)
        element = description.find(HAS_EXTENDED)
        if value is None and element is not None:
            value = element.text
        if value and value.strip():
            return value.strip()
    return None


def merge_extended(standard: bytes, extended: bytes) -> bytes:
    """One packet with the properties of both halves, without ``HasExtendedXMP`` (it named a split
    that no longer applies once they are one). Raises XmpError for a malformed half."""
    root, prefixes = parse_with_prefixes(standard)
    ext_root, ext_prefixes = parse_with_prefixes(extended)
    _drop_note(root)
    rdf = _rdf_of(root)
    target = next(descriptions(root), None)
    if target is None:
        target = ET.SubElement(rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
    # Both halves describe the same resource: their properties go into one description, so a
    # packet read and written back is split the same way again.
    for description in descriptions(ext_root):
        target.attrib.update({k: v for k, v in description.attrib.items() if not k.startswith(_KEEP_ATTRIBUTES)})
        target.extend(list(description))
    return wrap_packet(root, {**_PREFIXES, **ext_prefixes, **prefixes})


def guid_of(extended: bytes) -> str:
    return hashlib.md5(extended, usedforsecurity=False).hexdigest().upper()


def split_packet(packet: bytes, limit: int, padding: int = 0) -> tuple[bytes, bytes | None]:
    """``(standard, extended)``: ``packet`` itself and None when it fits ``limit`` bytes, else a
    standard packet of at most ``limit`` bytes naming the extended one. Raises XmpError."""
    if len(packet) <= limit:
        return packet, None
    root, prefixes = parse_with_prefixes(packet)
    prefixes = {**_PREFIXES, **prefixes}
    _drop_note(root)
    ext_root = ET.Element(f"{{{X}}}xmpmeta", {f"{{{X}}}xmptk": "facefile"})
    ext_description = ET.SubElement(ET.SubElement(ext_root, f"{{{RDF}}}RDF"), f"{{{RDF}}}Description",
                                    {f"{{{RDF}}}about": ""})
    first = next(descriptions(root), None)
    if first is None:
        raise XmpError("an XMP packet over the limit with no rdf:Description to split")
    placeholder = ET.SubElement(first, HAS_EXTENDED)
    placeholder.text = "0" * 32  # as long as the real GUID: the size test below is exact
    for description, key, _size in _movable(root, prefixes):
        if key.startswith("@"):
            ext_description.set(key[1:], description.attrib.pop(key[1:]))
        else:
            element = next(c for c in description if id(c) == int(key))
            description.remove(element)
            ext_description.append(element)
        if len(wrap_packet(root, prefixes, padding)) <= limit:
            break
    else:
        raise XmpError("XMP packet cannot be split: its standard part stays over the limit")
    ET.indent(ext_root, space=" ")
    extended = serialize(ext_root, prefixes).encode("utf-8")
    placeholder.text = guid_of(extended)
    return wrap_packet(root, prefixes, padding), extended


def _movable(root: ET.Element, prefixes: dict[str, str]) -> list[tuple[ET.Element, str, int]]:
    """Every top-level property as ``(description, key, serialised size)``, in the order they move:
    face regions first, then the largest. ``key`` is ``@{ns}name`` for an attribute, else the
    element's id()."""
    found = []
    for description in descriptions(root):
        for name, value in description.attrib.items():
            if not name.startswith(_KEEP_ATTRIBUTES):
                found.append((description, f"@{name}", len(name) + len(value)))
        for child in description:
            if child.tag != HAS_EXTENDED:
                found.append((description, str(id(child)), len(serialize(child, prefixes))))
    tags = {str(id(c)): c.tag for d in descriptions(root) for c in d}
    return sorted(found, key=lambda item: (tags.get(item[1]) not in _FIRST_OUT, -item[2]))


def _rdf_of(root: ET.Element) -> ET.Element:
    rdf = root if root.tag == f"{{{RDF}}}RDF" else root.find(f"{{{RDF}}}RDF")
    if rdf is None:
        raise XmpError("XMP packet without rdf:RDF")
    return rdf


def _drop_note(root: ET.Element) -> None:
    for description in descriptions(root):
        description.attrib.pop(HAS_EXTENDED, None)
        for element in description.findall(HAS_EXTENDED):
            description.remove(element)
