"""Reading face regions: MWG (exiftool's and Exiv2's spellings), Microsoft People Tags, refusals."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from facefile.interop import XmpError, find_sidecar, photo_regions, read_regions
from facefile.interop.xmp import parse_packet

from .conftest import exif, write_mwg

# Exiv2 (digiKam) writes structs as attributes of nested rdf:Description elements.
EXIV2_PACKET = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions stDim:w="400" stDim:h="300" stDim:unit="pixel"/>
    <mwg-rs:RegionList>
     <rdf:Bag>
      <rdf:li>
       <rdf:Description mwg-rs:Name="Anna Smith" mwg-rs:Type="Face">
        <mwg-rs:Area stArea:x="0.25" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3" stArea:unit="normalized"/>
       </rdf:Description>
      </rdf:li>
      <rdf:li>
       <rdf:Description mwg-rs:Name="Rex" mwg-rs:Type="Pet">
        <mwg-rs:Area stArea:x="0.7" stArea:y="0.7" stArea:w="0.1" stArea:h="0.1" stArea:unit="normalized"/>
       </rdf:Description>
      </rdf:li>
      <rdf:li>
       <rdf:Description mwg-rs:Type="Face">
        <mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="0.1" stArea:h="0.1" stArea:unit="normalized"/>
       </rdf:Description>
      </rdf:li>
     </rdf:Bag>
    </mwg-rs:RegionList>
   </mwg-rs:Regions>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def test_exiv2_attribute_spelling_is_read() -> None:
    regions = read_regions(EXIV2_PACKET)
    # Pets and unnamed faces are no person names.
    assert [(r.name, r.kind, r.applied_to) for r in regions] == [("Anna Smith", "mwg", (400.0, 300.0))]
    assert regions[0].rect == pytest.approx((0.15, 0.25, 0.35, 0.55))


def test_what_exiftool_writes_in_digikam_layout_we_read(exiftool: str, tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (400, 300), (90, 120, 150)).save(photo)
    write_mwg(exiftool, photo, (400, 300), [("Anna Smith", (0.15, 0.25, 0.35, 0.55)), ("Bob", (0.6, 0.4, 0.7, 0.6))])
    found = photo_regions(photo)
    assert [(r.name, r.origin) for r in found] == [("Anna Smith", "embedded"), ("Bob", "embedded")]
    assert found[0].rect == pytest.approx((0.15, 0.25, 0.35, 0.55))
    assert found[1].rect == pytest.approx((0.6, 0.4, 0.7, 0.6))


def test_microsoft_people_tags_are_read_when_there_are_no_mwg_regions(exiftool: str, tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (400, 300)).save(photo)
    exif(exiftool, "-q", "-overwrite_original",
         "-XMP-MP:RegionInfoMP={Regions=[{PersonDisplayName=Carl Jones,Rectangle=0.1|, 0.2|, 0.3|, 0.4}]}", photo)
    [region] = photo_regions(photo)
    assert (region.name, region.kind) == ("Carl Jones", "mp")
    assert region.rect == pytest.approx((0.1, 0.2, 0.4, 0.6))  # top-left x, y + width, height


def test_sidecars_under_both_names_and_they_win_over_the_embedded_packet(exiftool: str, tmp_path: Path) -> None:
    photo, blank = tmp_path / "b.jpg", tmp_path / "blank.jpg"
    Image.new("RGB", (400, 300)).save(photo)
    Image.new("RGB", (400, 300)).save(blank)
    write_mwg(exiftool, photo, (400, 300), [("Embedded Name", (0.1, 0.1, 0.3, 0.3))])
    assert find_sidecar(photo) is None
    write_mwg(exiftool, tmp_path / "b.xmp", (400, 300), [("Lightroom Name", (0.1, 0.1, 0.3, 0.3))], source=blank)
    assert [(r.name, r.origin) for r in photo_regions(photo)] == [("Lightroom Name", "sidecar")]
    write_mwg(exiftool, tmp_path / "b.jpg.xmp", (400, 300), [("digiKam Name", (0.1, 0.1, 0.3, 0.3))], source=blank)
    assert [r.name for r in photo_regions(photo)] == ["digiKam Name"]  # photo.jpg.xmp first


@pytest.mark.parametrize("packet", [
    # billion laughs: entities expanding into entities
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>',
    # external entity: would read a local file
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>',
    '<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x:xmpmeta xmlns:x="adobe:ns:meta/"/>',
])
def test_dtds_and_entities_are_refused(packet: str) -> None:
    with pytest.raises(XmpError, match="DTD or entity"):
        parse_packet(packet)


def test_a_broken_packet_costs_nothing_but_its_regions(tmp_path: Path) -> None:
    photo = tmp_path / "c.jpg"
    Image.new("RGB", (40, 30)).save(photo)
    Path(f"{photo}.xmp").write_text("<x:xmpmeta xmlns:x='adobe:ns:meta/'><unclosed></x:xmpmeta>")
    assert photo_regions(photo) == []
    with pytest.raises(XmpError):
        read_regions("<not-xmp/>")
