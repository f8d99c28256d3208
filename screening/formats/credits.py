"""Who a file says made it: the photographer's and author's fields (RT29-24).

captions.py does not read these as captions: in a school most photos are taken by staff, and a
staff member's name in every photo's credit is no reason to hold it back. But a pupil can be the
photographer too (a photo club, a pupil media team, a parent's camera set to the child's name), and
galleries print the credit ("Photo: Amelia Hart"), Windows shows it as Authors. So these fields are
read apart, and detectors/text.py looks in them for **pupils'** names only (the register's role).

Read: EXIF Artist and XPAuthor (every directory), XMP dc:creator, xmpDM artist/author, photoshop
Credit and AuthorsPosition's owner, IPTC By-line (2:80) and Credit (2:110), and a clip's artist,
album artist, author and composer tags.
"""

from __future__ import annotations

import re
import struct

from defusedxml import ElementTree

from screening.formats.common import ImageError, MetadataError
from screening.formats.exif_images import directories
from screening.formats.geotags import _decode, _split, iim_datasets
from screening.formats.metadata import read_blocks

_EXIF = {0x013B: "EXIF Artist", 0x9C9D: "EXIF XPAuthor"}
_IPTC = {80: "IPTC By-line", 110: "IPTC Credit"}
_XMP = {("http://purl.org/dc/elements/1.1/", "creator"): "XMP dc:creator",
        ("http://ns.adobe.com/xmp/1.0/DynamicMedia/", "artist"): "XMP xmpDM:artist",
        ("http://ns.adobe.com/xmp/1.0/DynamicMedia/", "author"): "XMP xmpDM:author",
        ("http://ns.adobe.com/photoshop/1.0/", "Credit"): "XMP photoshop:Credit"}
_CLIP = frozenset({"artist", "album_artist", "author", "composer", "performer"})


def photo_credits(data: bytes) -> list[tuple[str, str]]:
    """(where, text) of the maker's fields of a file's EXIF, XMP and IPTC blocks."""
    try:
        blocks = read_blocks(data)
    except (MetadataError, ImageError):
        return []  # the location and picture readers report what cannot be read
    out: list[tuple[str, str]] = []
    for block in blocks.exif:
        out += _exif(block)
    for packet in blocks.xmp:
        out += xmp_credits(packet)
    for block in blocks.iptc:
        try:
            datasets = iim_datasets(block)
        except MetadataError:
            continue
        utf8 = any(rec == 1 and ds == 90 and b"\x1b%G" in value for rec, ds, value in datasets)
        out += [(_IPTC[ds], _decode(value, utf8)) for rec, ds, value in datasets if rec == 2 and ds in _IPTC]
    return [(where, text) for where, text in dict.fromkeys(out) if text.strip()]


def clip_credits(tags: dict[str, str]) -> list[tuple[str, str]]:
    """(where, text) of a clip's maker tags (FFmpeg's names; a language suffix dropped)."""
    out = []
    for key, value in tags.items():
        bare = re.sub(r"-[a-z]{3}$", "", key.rpartition(":")[2].lower())
        if bare in _CLIP and value and value.strip():
            out.append((f"{bare} tag", value.strip()))
    return out


def _exif(block: bytes) -> list[tuple[str, str]]:
    try:
        ifds = directories(block)
    except ImageError:
        return []
    out = []
    for ifd in ifds:
        for tag, label in _EXIF.items():
            if tag not in ifd.entries:
                continue
            kind, n, at = ifd.entries[tag]
            if kind not in (1, 2, 7, 129) or not 0 < n <= 1 << 16:
                continue
            start = at if n <= 4 else struct.unpack_from(ifd.order + "I", ifd.block, at)[0]
            raw = ifd.block[start:start + n]
            text = raw.decode("utf-16-le", "replace") if tag == 0x9C9D else _decode(raw, False)
            out.append((label, text.replace("\x00", " ").strip()))
    return out


def xmp_credits(packet: bytes) -> list[tuple[str, str]]:
    try:
        root = ElementTree.fromstring(packet.strip(b"\x00 \t\r\n"))
    except Exception:
        return []
    out = []
    for element in root.iter():
        key = _split(element.tag)
        if key in _XMP:  # each item of a list (several creators) on its own
            out += [(_XMP[key], t.strip()) for t in element.itertext() if t.strip()]
        for name, value in element.attrib.items():
            if _split(name) in _XMP and value.strip():
                out.append((_XMP[_split(name)], value.strip()))
    return out
