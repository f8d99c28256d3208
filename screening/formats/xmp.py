"""Images carried inside XMP as base64 (xmpGImg:image thumbnails, GImage:Data, GDepth:Data...)."""

from __future__ import annotations

import base64
import binascii

from screening.formats.common import Embedded

# A base64 text shorter than this cannot hold an image worth screening.
_MIN_BASE64 = 200


def xmp_images(packets, sniff) -> list[Embedded]:
    """Every attribute or element text of the packets that is a base64-encoded image."""
    from defusedxml import ElementTree

    found = []
    for packet in packets:
        try:
            root = ElementTree.fromstring(packet.strip(b"\x00 \t\r\n"))
        except Exception:
            continue  # the location check reports an XMP packet it cannot parse
        for element in root.iter():
            values = [(element.tag, element.text or "")] + list(element.attrib.items())
            for name, text in values:
                blob = _base64(text)
                if blob is not None and sniff(blob):
                    found.append(Embedded(f"image in XMP property {_local(name)}", blob))
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
