"""Images carried inside XMP as base64 (xmpGImg:image thumbnails, GImage:Data, GDepth:Data...)."""

from __future__ import annotations

import base64
import binascii
import re

from screening.formats.common import Embedded

# A base64 run that begins a picture: JPEG, PNG, GIF, RIFF (WebP), TIFF, BMP; in the standard or
# the URL-safe alphabet (`-_` for `+/`: RT22-4); line breaks allowed inside, each followed by an
# indentation (XML writes one: RT22-5); not preceded by a base64 character (a
# `data:image/...;base64,` URI's run counts).
BASE64_PICTURE = re.compile(rb"(?<![A-Za-z0-9+/_-])(?:/9j/|_9j_|iVBORw0KGgo|R0lGOD[dl]h|UklGR|SUkqA|TU0AK|Qk)"
                             rb"(?:[A-Za-z0-9+/_-]|\r?\n[ \t]*){60,}={0,2}")


def unbase64(run: bytes) -> bytes:
    run = b"".join(run.split()).rstrip(b"=").translate(bytes.maketrans(b"-_", b"+/"))
    run = run[:len(run) - 1] if len(run) % 4 == 1 else run
    try:
        return base64.b64decode(run + b"=" * (-len(run) % 4), validate=True)
    except (binascii.Error, ValueError):
        return b""


# A base64 text shorter than this cannot hold an image worth screening.
_MIN_BASE64 = 200


def xmp_images(packets, sniff) -> list[Embedded]:
    """Every image the packets carry in base64: an attribute or element text that is one, and any
    base64 picture run anywhere in the packet's bytes (a `data:` URI in a property, RT22-13; text
    after an element or inside an XML comment, which the parser drops, RT23-1/2)."""
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
        for match in BASE64_PICTURE.finditer(packet):
            blob = unbase64(match.group())
            if blob and sniff(blob):
                add(f"image in an XMP packet (offset {match.start()})", blob)
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
