"""Positions written in the XMP properties the caption reader skips (RT31-11).

formats/captions.py skips what says who made the file, with what and when (xmpRights:WebStatement,
dc:identifier, photoshop:History, xmp:CreatorTool, xmpMM...): a name there may be a staff credit or
a tool's. A position is a position wherever it is written ("GPS Map Camera 53.8008,-1.5491", a map
link as the rights' web statement), so the location check reads every text value and attribute of
those properties for coordinates (formats/coordtext.py), as it reads the captions' (geotags.xmp_claims:
the photo's XMP, a sidecar's, a clip's). Places too, but only those a link or a code names
(coordtext.link_places: a map link to a postcode, a short map link, a what3words link: RT33a-12), not
a postcode among other words: an instance id's hex ("xmp.iid:da920ee...") is postcode-shaped. Not read: the
bytes of Google's depth map and image (GDepth:Data, GImage:Data: base64 of a picture).
"""

from __future__ import annotations

from defusedxml import ElementTree

from screening.formats import captions, coordtext
from screening.formats.geotags import _split

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_BYTES = frozenset({"http://ns.google.com/photos/1.0/depthmap/", "http://ns.google.com/photos/1.0/image/"})


def positions(root) -> list:
    """Positions written in the texts of the skipped properties of a parsed XMP packet."""
    return [pos for text in _texts(root) for pos in coordtext.positions(text)]


def places(root) -> list:
    """Places a link or a code names in the texts of the skipped properties (RT33a-12)."""
    return [place for text in _texts(root) for place in coordtext.link_places(text)]


def _texts(root) -> list[str]:
    out: list[tuple[str, str]] = []
    _walk(root, None, out)
    return list(dict.fromkeys(text for _, text in out))


def skipped_texts(packet: bytes) -> list[tuple[str, str]]:
    """(property, text) of every text value and attribute inside the properties captions skips."""
    try:
        root = ElementTree.fromstring(packet.strip(b"\x00 \t\r\n"))
    except Exception:
        return []  # the location check's own XMP reader reports a packet that is not XML
    out: list[tuple[str, str]] = []
    _walk(root, None, out)
    return out


def _walk(element, skipped: str | None, out: list[tuple[str, str]]) -> None:
    ns, name = _split(element.tag)
    if ns in _BYTES:
        return
    if skipped is None and ns not in (_RDF, "adobe:ns:meta/") and captions._skipped(ns, name):
        skipped = captions._named(ns, name)
    text = (element.text or "").strip()
    if skipped and text and not len(element):
        out.append((skipped, text))
    for key, value in element.attrib.items():
        a_ns, a_name = _split(key)
        if a_ns in _BYTES or a_ns == "http://www.w3.org/XML/1998/namespace" or not value.strip():
            continue
        if skipped:
            out.append((skipped, value.strip()))
        elif a_ns and a_ns != _RDF and captions._skipped(a_ns, a_name):
            out.append((captions._named(a_ns, a_name), value.strip()))
    for child in element:
        _walk(child, skipped, out)
