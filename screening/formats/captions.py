"""Text a file carries about itself: the captions, titles and keywords that websites show.

EXIF ImageDescription, XPTitle/XPComment/XPSubject/XPKeywords (UTF-16LE) and UserComment;
XMP dc:title, dc:description, dc:subject and photoshop:Headline; IPTC object name, headline,
caption and keywords; PNG text chunks and JPEG/GIF comments (Title, Description, Comment...); a clip's title/comment/description tags. Not Artist or creator (the
photographer). A block that cannot be parsed is skipped here: the location check already
makes such a file an error.
"""

from __future__ import annotations

import warnings

from defusedxml import ElementTree
from PIL import Image

from screening.formats.common import ImageError, MetadataError
from screening.formats.geotags import _decode, _element_text, _split, _text, iim_datasets
from screening.formats.metadata import read_blocks

EXIF_IFD = 0x8769
_EXIF = {0x010E: "EXIF image description", 0x9C9B: "EXIF XPTitle", 0x9C9C: "EXIF XPComment",
         0x9C9F: "EXIF XPSubject", 0x9C9E: "EXIF XPKeywords"}
_DC = "http://purl.org/dc/elements/1.1/"
_XMP = {(_DC, "title"): "XMP dc:title", (_DC, "description"): "XMP dc:description",
        (_DC, "subject"): "XMP dc:subject", ("http://ns.adobe.com/photoshop/1.0/", "Headline"): "XMP headline",
        ("http://ns.adobe.com/exif/1.0/", "UserComment"): "XMP user comment"}
_IPTC = {5: "IPTC object name", 25: "IPTC keywords", 105: "IPTC headline", 120: "IPTC caption"}
# a clip's container or stream tags (FFmpeg's names, any case) that are shown as its caption
VIDEO_TAGS = frozenset({"title", "comment", "description", "synopsis", "subject", "keywords", "caption", "summary"})


def photo_captions(data: bytes) -> list[tuple[str, str]]:
    """(where, text) of every caption-like text in the file's EXIF, XMP and IPTC blocks."""
    try:
        blocks = read_blocks(data)
    except (MetadataError, ImageError):
        return []
    out: list[tuple[str, str]] = []
    for block in blocks.exif:
        out += _exif(block)
    for packet in blocks.xmp:
        out += _xmp(packet)
    for block in blocks.iptc:
        try:
            datasets = iim_datasets(block)
        except MetadataError:
            continue
        utf8 = any(rec == 1 and ds == 90 and b"\x1b%G" in value for rec, ds, value in datasets)
        out += [(_IPTC[ds], _decode(value, utf8)) for rec, ds, value in datasets if rec == 2 and ds in _IPTC]
    return [(where, text) for where, text in dict.fromkeys(out) if text.strip()]


def info_captions(info: dict) -> list[tuple[str, str]]:
    """(where, text) of the text chunks and comments Pillow read (PNG tEXt Title/Description, a JPEG or GIF comment)."""
    out = []
    for key, value in info.items():
        if str(key).lower() in VIDEO_TAGS and isinstance(value, (str, bytes)):
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            if text.strip():
                out.append((f"image's {str(key).lower()} text", text.strip()))
    return out


def video_captions(tags: dict[str, str]) -> list[tuple[str, str]]:
    """(where, text) of a clip's title/comment/description tags ("stream:title" is a stream's)."""
    out = []
    for key, value in tags.items():
        scope, _, name = key.rpartition(":")
        if name.lower() in VIDEO_TAGS and value and value.strip():
            out.append((f"{'stream ' if scope else ''}{name.lower()} tag", value.strip()))
    return out


def _exif(block: bytes) -> list[tuple[str, str]]:
    exif = Image.Exif()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            exif.load(block)
            values = [(where, exif.get(tag), tag >= 0x9C9B) for tag, where in _EXIF.items()]
            values.append(("EXIF user comment", exif.get_ifd(EXIF_IFD).get(0x9286), False))
        except Exception:
            return []
    out = []
    for where, value, utf16 in values:
        if value is None:
            continue
        if utf16:
            raw = bytes(v & 0xFF for v in value) if isinstance(value, (tuple, list)) else value
            text = raw.decode("utf-16-le", "replace") if isinstance(raw, bytes) else str(raw)
        else:
            text = _text(value)
        out.append((where, text.replace("\x00", "").strip()))
    return out


def _xmp(packet: bytes) -> list[tuple[str, str]]:
    try:
        root = ElementTree.fromstring(packet.strip(b"\x00 \t\r\n"))
    except Exception:
        return []
    out = []
    for element in root.iter():
        for (ns, name), where in _XMP.items():
            value = element.get(f"{{{ns}}}{name}")  # properties written as attributes
            if value:
                out.append((where, value.strip()))
        where = _XMP.get(_split(element.tag))
        if where:
            out.append((where, _element_text(element)))
    return out
