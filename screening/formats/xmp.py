"""Images carried inside XMP as text (xmpGImg:image thumbnails, GImage:Data, GDepth:Data...)."""

from __future__ import annotations

import base64
import binascii

from screening.formats.common import Embedded
from screening.formats.textpictures import text_pictures

# A base64 text shorter than this cannot hold an image worth screening.
_MIN_BASE64 = 200


def xmp_images(packets, sniff) -> list[Embedded]:
    """Every image the packets carry as text: an attribute or element text that is one in base64, and
    any picture written as text anywhere in the packet's bytes (formats/textpictures.py: base64 or
    hex, a `data:` URI in a property, RT22-13; text after an element or inside an XML comment, which
    the parser drops, RT23-1/2). More than textpictures.MAX_PICTURES in a packet is an ImageError."""
    from defusedxml import ElementTree

    found, seen = [], set()

    def add(where: str, blob: bytes) -> None:
        if blob not in seen:
            seen.add(blob)
            found.append(Embedded(where, blob))

    for packet in packets:
        try:
            root = ElementTree.fromstring(packet.strip(b"\x00 \t\r\n"))
        except Exception:
            root = None  # the location check reports an XMP packet it cannot parse
        for element in root.iter() if root is not None else ():
            values = [(element.tag, element.text or "")] + list(element.attrib.items())
            for name, text in values:
                blob = _base64(text)
                if blob is not None and sniff(blob):
                    add(f"image in XMP property {_local(name)}", blob)
        for image in text_pictures(packet, "XMP packet"):
            add(image.where, image.data)
    return found


def _base64(text: str) -> bytes | None:
    text = "".join(text.split())
    if len(text) < _MIN_BASE64:
        return None
    try:
        return base64.b64decode(text.replace("&#xA;", ""), validate=True)
    except (binascii.Error, ValueError):
        return None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2] if tag.startswith("{") else tag
