"""Who a file says made it: the photographer's and author's fields (RT29-24).

captions.py does not read these as captions: in a school most photos are taken by staff, and a
staff member's name in every photo's credit is no reason to hold it back. But a pupil can be the
photographer too (a photo club, a pupil media team, a parent's camera set to the child's name), and
galleries print the credit ("Photo: Amelia Hart"), Windows shows it as Authors. So these fields are
read apart, and detectors/text.py looks in them for **pupils'** names only (the register's role).

Read: EXIF Artist, XPAuthor and Copyright and the maker note's strings (every directory; a
camera's owner, Panasonic's BabyName: RT29-6), XMP dc:creator and dc:rights, tiff:Artist, xmpDM
artist/author/copyright, photoshop Credit and CaptionWriter, xmpRights:Owner, IPTC by-line, by-line
title, credit, copyright notice and writer, a PNG's Author and Copyright chunks, C2PA's author and
rights keys, and a clip's artist, album artist, author, composer, performer and copyright tags.
"""

from __future__ import annotations

import re

from defusedxml import ElementTree

from screening.formats import c2pa
from screening.formats.captions import iptc_texts, struct_fields, tag_bytes
from screening.formats.common import ImageError, MetadataError
from screening.formats.exif_images import directories
from screening.formats.geotags import _decode, _split
from screening.formats.metadata import read_blocks
from screening.formats.strings import strings_text

_MAKER_NOTE = 0x927C
_EXIF = {0x013B: "EXIF Artist", 0x9C9D: "EXIF XPAuthor", 0x8298: "EXIF Copyright", _MAKER_NOTE: "EXIF maker note",
         0xA430: "EXIF CameraOwnerName", 0xA437: "EXIF Photographer", 0xA438: "EXIF ImageEditor"}  # (RT31-5)
_IPTC = {80: "IPTC By-line", 85: "IPTC By-line title", 110: "IPTC Credit", 115: "IPTC Source",
         116: "IPTC Copyright notice", 118: "IPTC Contact", 122: "IPTC Writer/editor"}  # (2:115, 2:118: RT31-6)
_DC, _PS = "http://purl.org/dc/elements/1.1/", "http://ns.adobe.com/photoshop/1.0/"
_DM = "http://ns.adobe.com/xmp/1.0/DynamicMedia/"
_XMP = {(_DC, "creator"): "XMP dc:creator", (_DC, "rights"): "XMP dc:rights", (_DM, "artist"): "XMP xmpDM:artist",
        (_DM, "author"): "XMP xmpDM:author", (_DM, "copyright"): "XMP xmpDM:copyright",
        (_PS, "Credit"): "XMP photoshop:Credit", (_PS, "CaptionWriter"): "XMP photoshop:CaptionWriter",
        ("http://ns.adobe.com/tiff/1.0/", "Artist"): "XMP tiff:Artist",
        ("http://ns.adobe.com/tiff/1.0/", "Copyright"): "XMP tiff:Copyright",
        ("http://ns.adobe.com/xap/1.0/rights/", "Owner"): "XMP xmpRights:Owner",
        ("http://ns.adobe.com/xap/1.0/rights/", "UsageTerms"): "XMP xmpRights:UsageTerms",  # (RT31-6)
        (_DC, "publisher"): "XMP dc:publisher",
        ("http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/", "CreatorContactInfo"): "XMP Iptc4xmpCore:CreatorContactInfo",
        ("http://ns.adobe.com/exif/1.0/aux/", "OwnerName"): "XMP aux:OwnerName",
        ("http://cipa.jp/exif/1.0/", "CameraOwnerName"): "XMP exifEX:CameraOwnerName",
        ("http://cipa.jp/exif/1.0/", "Photographer"): "XMP exifEX:Photographer",
        ("http://cipa.jp/exif/1.0/", "ImageEditor"): "XMP exifEX:ImageEditor"}
_CLIP = frozenset({"artist", "album_artist", "author", "composer", "performer", "copyright"})
# a PNG's text chunks that name the maker (png.NOT_CAPTIONS: not read as captions); 'Source' is the
# PNG keyword for the device or the person that made it, 'Disclaimer' a rights text (RT31-6)
_PNG = frozenset({"author", "copyright", "artist", "creator", "source", "disclaimer"})


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
        out += [(_IPTC[ds], text) for ds, text in iptc_texts(block) if ds in _IPTC]
    out += c2pa.credits(blocks.c2pa)  # Content Credentials' author (RT29-5)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        out += _png(data)
    return [(where, text) for where, text in dict.fromkeys(out) if text.strip()]


def _png(data: bytes) -> list[tuple[str, str]]:
    from screening.formats import png

    out = []
    try:
        for kind, body, pos in png.all_chunks(data):  # those after IEND too (RT31-26)
            if kind in (b"tEXt", b"zTXt", b"iTXt"):
                keyword, text = png._text(kind, body, pos)
                if keyword.lower() in _PNG:
                    out.append((f"PNG {kind.decode()} chunk {keyword[:40]!r}", text.decode("utf-8", "replace")))
    except (ImageError, MetadataError):
        pass  # the picture reader reports a broken PNG
    return out


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
            if kind not in (1, 2, 7, 129) or n <= 0:
                continue
            raw = tag_bytes(ifd, tag, kind, n, at)
            if tag == _MAKER_NOTE:  # its strings, whatever the maker's layout: a camera's owner, a child's
                out.append(("EXIF maker note", strings_text(raw)))  # name (Panasonic BabyName: RT29-6)
                continue
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
        if key in _XMP:  # each item of a list (several creators) on its own, a struct's fields joined (RT31-15)
            out += [(_XMP[key], t.strip()) for t in element.itertext() if t.strip()]
            out += [(f"{_XMP[key]} (fields joined)", " ".join(fields)) for part in element.iter()
                    if len(fields := struct_fields(part)) > 1]
        for name, value in element.attrib.items():
            if _split(name) in _XMP and value.strip():
                out.append((_XMP[_split(name)], value.strip()))
    return out
