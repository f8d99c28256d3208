"""Text a file carries about itself: the captions, titles, keywords and names of the people shown.

Every EXIF text tag of IFD0 and the Exif IFD (ImageDescription, ImageTitle...), XPTitle/XPComment/
XPSubject/XPKeywords (UTF-16LE) and UserComment, except those saying who made it, when, with what;
every XMP text value (dc:title, dc:description, dc:subject, IPTC Extension PersonInImage, MWG
face-region names, Lightroom's hierarchical keywords, fields this module has never heard of)
except those that say who made, owns or edited the file and with what; every IPTC record 2
dataset but creator, credit, copyright, date and binary ones; every PNG text chunk (before or
after the image data) and every JPEG and GIF comment, read from the file's bytes (Pillow keeps
one per key and drops long ones); a clip's title/comment/description tags. Not Artist, creator or copyright (the photographer).
A block that cannot be parsed is skipped here: the location check already makes such a file
an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

from defusedxml import ElementTree
from PIL.ExifTags import TAGS

from screening.formats import c2pa, exif_text
from screening.formats.common import ImageError, MetadataError, xmp_packets
from screening.formats.exif_images import directories
from screening.formats.exif_text import MAX_PAGES, MAX_TAG_TEXT, tag_bytes
from screening.formats.geotags import _decode, _split, _text, iim_datasets
from screening.formats.icc import profile_names
from screening.formats.metadata import read_blocks
from screening.formats.strings import strings_text

  # ProcessingSoftware, versions, pointers (when malformed)
_DC = "http://purl.org/dc/elements/1.1/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML = "http://www.w3.org/XML/1998/namespace"
_PS = "http://ns.adobe.com/photoshop/1.0/"
_EXIF_NS = "http://ns.adobe.com/exif/1.0/"
# Prefixes for the places named in reasons (any other namespace is named by its last path part).
_PREFIX = {_DC: "dc", _PS: "photoshop", _EXIF_NS: "exif", "http://ns.adobe.com/xap/1.0/": "xmp",
           "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
           "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
           "http://www.metadataworkinggroup.com/schemas/regions/": "mwg-rs",
           "http://ns.adobe.com/lightroom/1.0/": "lr", "http://ns.microsoft.com/photo/1.2/": "MP",
           "http://ns.microsoft.com/photo/1.2/t/RegionInfo#": "MPRI",
           "http://ns.microsoft.com/photo/1.2/t/Region#": "MPReg", "http://ns.acdsee.com/iptc/1.0/": "acdsee",
           "http://ns.adobe.com/tiff/1.0/": "tiff", "http://ns.adobe.com/exif/1.0/aux/": "aux"}
# XMP that says how the file was made, by whom, with what and when, not what it shows: skipped
# (with everything inside it). Every other text value is read, known to this module or not.
_SKIP_NS = frozenset({
    "http://ns.adobe.com/xap/1.0/mm/", "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "http://ns.adobe.com/xap/1.0/sType/ResourceRef#", "http://ns.adobe.com/xap/1.0/sType/Dimensions#",
    "http://ns.adobe.com/xap/1.0/sType/Font#", "http://ns.adobe.com/xap/1.0/rights/",
    "http://ns.adobe.com/camera-raw-settings/1.0/",
    "http://ns.adobe.com/exif/1.0/aux/", "http://ns.adobe.com/xap/1.0/g/", "http://ns.adobe.com/xap/1.0/t/pg/",
    "http://ns.google.com/photos/1.0/camera/",
    "http://ns.google.com/photos/1.0/container/", "http://ns.google.com/photos/1.0/container/item/",
    "http://ns.google.com/photos/1.0/image/", "http://ns.google.com/photos/1.0/depthmap/",  # Data: bytes (RT31-27)
    "http://ns.adobe.com/photoshop/1.0/camera-profile",
    "http://cipa.jp/exif/1.0/", "adobe:ns:meta/"})
_DM = "http://ns.adobe.com/xmp/1.0/DynamicMedia/"  # xmpDM: its shot name, log comment, scene, album are read
_SKIP = frozenset({(_DM, "artist"), (_DM, "albumArtist"), (_DM, "composer"), (_DM, "engineer"), (_DM, "director"),
                   (_DM, "directorPhotography"), (_DM, "copyright"), (_DC, "creator"), (_DC, "rights"), (_DC, "publisher"), (_DC, "format"), (_DC, "identifier"),
                   (_DC, "language"), (_DC, "date"), (_DC, "type"), (_PS, "Credit"), (_PS, "AuthorsPosition"),
                   (_PS, "CaptionWriter"), (_PS, "DateCreated"), (_PS, "ColorMode"), (_PS, "ICCProfile"),
                   (_PS, "History"), (_PS, "DocumentAncestors"),
                   ("http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/", "CreatorContactInfo"),
                   ("http://ns.adobe.com/xap/1.0/", "CreatorTool"), ("http://ns.adobe.com/xap/1.0/", "Thumbnails")})
# EXIF and TIFF properties in XMP are numbers and camera settings, but for these
_TEXT_IN = {_EXIF_NS: frozenset({"UserComment", "ImageDescription"}),
            "http://ns.adobe.com/tiff/1.0/": frozenset({"ImageDescription"})}
_IPTC = {5: "IPTC object name", 20: "IPTC supplemental category", 22: "IPTC fixture identifier", 25: "IPTC keywords",
         26: "IPTC content location code", 27: "IPTC content location name", 40: "IPTC special instructions",
         90: "IPTC city", 92: "IPTC sublocation", 95: "IPTC province/state", 101: "IPTC country",
         103: "IPTC transmission reference", 105: "IPTC headline", 120: "IPTC caption"}
# IPTC record 2 datasets that say who made the picture, when, with what, or are binary: not read.
# Every other dataset, named above or not (2:40 special instructions, 2:22 fixture...), is.
_IPTC_NOT_TEXT = frozenset({0, 10, 30, 35, 37, 38, 55, 60, 62, 63, 65, 70, 80, 85, 110, 115, 116, 118, 122, 125,
                            130, 131, 135, 150, 151, 152, 153, 154, 200, 201, 202})
# a clip's tags that are technical, or say when, with what or by whom it was made (FFmpeg's names,
# lower case, language suffix off; the maker, as a photo's Artist and Copyright, is not read);
# every other tag of a clip is read as text
_VIDEO_NOT_TEXT = frozenset({
    "encoder", "encoded_by", "handler_name", "vendor_id", "creation_time", "language", "major_brand",
    "minor_version", "compatible_brands", "duration", "bps", "number_of_frames", "number_of_bytes", "timecode",
    "rotate", "mimetype", "filename", "date", "year", "creation_date", "track", "disc", "media_type", "hd_video",
    "gapless_playback", "compilation", "copyright", "artist", "album_artist", "author", "composer", "location", "location_accuracy_horizontal", "iso6709", "xyz",
    "com.apple.quicktime.make", "com.apple.quicktime.model", "com.apple.quicktime.software",
    "com.apple.quicktime.creationdate", "com.apple.quicktime.location.iso6709",
    "com.apple.quicktime.location.accuracy.horizontal", "com.apple.quicktime.content.identifier",
    "com.apple.quicktime.full-frame-rate-playback-intent", "com.apple.quicktime.live-photo.auto",
    "com.apple.quicktime.live-photo.vitality-score", "com.apple.quicktime.live-photo.vitality-scoring-version",
    "com.android.version", "com.android.capture.fps", "com.android.manufacturer", "com.android.model",
    "com.xiaomi.capture.fps", "samsung.android.utc_offset"})
_VIDEO_NOT_TEXT_PREFIXES = ("_statistics", "com.apple.quicktime.camera.", "com.apple.quicktime.location.accuracy")
# Pillow's info keys (a PNG/GIF/WebP's) that are shown as the image's caption
CAPTION_KEYS = frozenset({"title", "comment", "description", "synopsis", "subject", "keywords", "caption", "summary"})


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
        read = [(ds, text) for ds, text in iptc_texts(block) if ds not in _IPTC_NOT_TEXT]
        out += [(_IPTC.get(ds, f"IPTC 2:{ds}"), text) for ds, text in read]
        for ds in dict.fromkeys(ds for ds, _ in read):  # a repeated dataset's values joined (RT29-12)
            values = [text.strip() for d, text in read if d == ds and text.strip()]
            if len(values) > 1:
                out.append((f"{_IPTC.get(ds, f'IPTC 2:{ds}')} (items joined)", " ".join(values)))
    out += [(where, _comment(text)) for where, text in blocks.comments]
    out += c2pa.captions(blocks.c2pa)  # Content Credentials viewers show them (RT29-5)
    return [(where, text) for where, text in dict.fromkeys(out) if text.strip()]


def iptc_texts(block: bytes) -> list[tuple[int, str]]:
    """(dataset, text) of an IPTC block's record 2, decoded as its 1:90 character set says; a block
    that cannot be read: none (the location check reports it)."""
    try:
        datasets = iim_datasets(block)
    except MetadataError:
        return []
    utf8 = any(rec == 1 and ds == 90 and b"\x1b%G" in value for rec, ds, value in datasets)
    return [(ds, _decode(value, utf8)) for rec, ds, value in datasets if rec == 2]


def xmp_captions(packets, where: str = "") -> list[tuple[str, str]]:
    """(where, text) of the text values of XMP packets (a clip's, a sidecar's: `where` says which)."""
    out: list[tuple[str, str]] = []
    for packet in packets:
        out += [(f"{where} {prop}".strip() if where else prop, text) for prop, text in _xmp(packet)]
    return out


def sidecar_captions(path: Path) -> list[tuple[str, str]]:
    """(where, text) of the XMP sidecars beside a photo or clip (Lightroom keeps its captions and
    people tags there, RT6-36). A sidecar that cannot be read is the location check's error."""
    from screening.formats.sidecars import sidecars_of

    out: list[tuple[str, str]] = []
    for sidecar in sidecars_of(path):
        try:
            packets = xmp_packets(sidecar.read_bytes(), required=False)
        except (OSError, MetadataError):
            continue
        out += xmp_captions(packets, f"sidecar {sidecar.name}")
    return out


def name_caption(path: Path | str) -> list[tuple[str, str]]:
    """("file name", its words) of a file's own name: a publishing platform makes it the image's title
    and address (WordPress: /uploads/amelia-hart-year-4.jpg) and a download keeps it (RT26-8). '-',
    '_', '.' and '+' read as spaces, and a capital after a small letter starts a word (AmeliaHart)."""
    stem = Path(path).name
    head, dot, tail = stem.rpartition(".")
    if dot and head.strip(".") and re.fullmatch(r"[A-Za-z0-9]{1,5}", tail):  # only what looks like an extension (RT28-5)
        stem = head
    forms = [stem, unquote(stem)]  # and URL-encoded ('Amelia%20Hart': RT27-4)
    if any("\udc80" <= ch <= "\udcff" for ch in stem):  # bytes that are not UTF-8: as Windows and zips wrote them (RT28-4)
        raw = stem.encode("utf-8", "surrogateescape")
        forms += [raw.decode("cp1252", "replace"), raw.decode("cp437")]
    out = []
    for form in dict.fromkeys(forms):
        words = " ".join(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", re.sub(r"[-_.+]+", " ", form)).split())
        if words:
            out.append(("file name", words))
    return out


def _comment(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", "replace")
    return text.replace("\x00", " ").strip()


def info_captions(info: dict, known: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(where, text) of text chunks and comments Pillow read that are not among `known` captions
    (the file's own blocks, read by photo_captions): formats this module does not walk itself."""
    seen = {" ".join(text.split()) for _, text in known}
    out = []
    profile = info.get("icc_profile")
    if isinstance(profile, bytes):  # the colour profile's name (RT29-33)
        out += [("ICC profile's description", name) for name in profile_names(profile)
                if " ".join(name.split()) not in seen]
    for key, value in info.items():
        if str(key).lower() in CAPTION_KEYS and isinstance(value, (str, bytes)):
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            if text.strip() and " ".join(text.split()) not in seen:
                out.append((f"image's {str(key).lower()} text", text.strip()))
    return out


def video_captions(tags: dict[str, str]) -> list[tuple[str, str]]:
    """(where, text) of every text tag of a clip ("stream:title" is a stream's, "chapter2:title" a
    chapter's) but those that say how, when or with what it was made: players and sites show the
    title, album, show, a track's name, chapter titles (RT6-10, RT6-11), and tags never
    heard of here are read too."""
    out = []
    for key, value in tags.items():
        scope, _, name = key.rpartition(":")
        bare = re.sub(r"-[a-z]{3}$", "", name.lower())  # a Matroska/QuickTime language suffix: title-eng
        if bare in _VIDEO_NOT_TEXT or bare.startswith(_VIDEO_NOT_TEXT_PREFIXES) or not value or not value.strip():
            continue
        where = "chapter " if scope.startswith("chapter") else "stream " if scope else ""
        out.append((f"{where}{bare} tag", value.strip()))
    return out


def _exif(block: bytes) -> list[tuple[str, str]]:
    """Every text tag of every directory (IFD0, the Exif IFD, IFD1 the thumbnail's, a TIFF's later
    pages, SubIFDs: RT29-9/10), whatever type it is written as (ASCII, UTF-8, UNDEFINED, BYTE:
    RT29-8), but those that say who made it, when and with what (exif_text.NOT_TEXT) or hold binary."""
    try:  # (a multi-page TIFF: one directory a page)
        ifds = directories(block, most=MAX_PAGES)
    except ImageError as exc:  # text not read is never "no text": the text check fails, the file is an error
        raise MetadataError(f"the EXIF text cannot all be read: {exc}") from None
    out = []
    read: set[tuple[int, int, str]] = set()  # (start, count, reading) of the bytes already read as text
    budget = [2 * len(block) + MAX_TAG_TEXT]  # bytes all its tags may read: text shared by 1000 directories (RT31-20)
    for ifd in ifds:
        suffix = "" if ifd.name in ("IFD0", "Exif IFD of IFD0") else f" ({ifd.name})"
        for tag, (kind, n, at) in ifd.entries.items():
            if tag == exif_text.RAW_NAME and kind in exif_text.TEXT_KINDS and n > 0:  # the raw file's name (DNG: RT31-16)
                raw = _comment(tag_bytes(ifd, tag, kind, n, at))
                out += [(f"EXIF OriginalRawFileName (a file name){suffix}", words)
                        for _, words in name_caption(raw.replace("\\", "/"))]
                continue
            if tag in exif_text.NOT_TEXT or tag in exif_text.BINARY or kind not in exif_text.TEXT_KINDS or n <= 0:
                continue  # (a maker note's strings: formats/credits.py, for pupils' names)
            if not exif_text.first_reading(ifd, tag, kind, n, at, read, budget):
                continue  # the same bytes, read the same way, under another tag or directory: read once
            raw = tag_bytes(ifd, tag, kind, n, at)
            if tag in exif_text.XP:
                text = raw.decode("utf-16-le", "replace")
            elif tag == 0x9286:
                text = _text(raw)
            else:
                text = exif_text.utf8_as_read(raw.decode("latin-1"))
                if kind != 2 and not exif_text.printable(text):
                    continue  # UNDEFINED or BYTE that is not text: a binary value
            text = text.replace("\x00", "").strip()
            if text:
                label = "EXIF maker note's text" if tag == 0x927C else \
                    exif_text.LABELS.get(tag) or f"EXIF {TAGS.get(tag, f'tag 0x{tag:04X}')}"
                out.append((label + suffix, text))
    return out


def _xmp(packet: bytes) -> list[tuple[str, str]]:
    try:
        root = ElementTree.fromstring(packet.strip(b"\x00 \t\r\n"))
    except Exception:
        return []
    out: list[tuple[str, str]] = []
    _xmp_values(root, None, out)
    return out + _earlier_names(root)


def struct_fields(element, skipped=lambda ns, name: False) -> list[str]:
    """The text fields of one XMP struct, in order: its property attributes and its children that hold
    a simple value, those with a letter (a name split over a person's GivenName and FamilyName is
    shown as one person: RT31-15). The file's own rdf:Description is no struct: the caller leaves it."""
    out = []
    for key, value in element.attrib.items():
        ns, name = _split(key)
        if ns and ns not in (_RDF, _XML) and value.strip() and not skipped(ns, name):
            out.append(value.strip())
    for child in element:
        ns, name = _split(child.tag)
        if ns == _RDF or skipped(ns, name):
            continue
        if not len(child) and (child.text or "").strip():
            out.append(child.text.strip())
        elif len(child) == 1 and (text := _one_value(child[0])):
            out.append(text)
    return [v for v in out if any(c.isalpha() for c in v)]


def _one_value(node) -> str:
    """A struct field's text written in a container or a qualified value: an rdf:Alt's x-default item,
    else its first item with a letter, as IPTC Extension writes names (RT33b-6); a one-item rdf:Seq or
    rdf:Bag; an rdf:value (RT33c-3). "" for anything else."""
    ns, name = _split(node.tag)
    if ns == _RDF and name == "value":
        return (node.text or "").strip() if not len(node) else ""
    if ns == _RDF and name in ("Alt", "Seq", "Bag"):
        items = [(i.get(f"{{{_XML}}}lang") == "x-default", (i.text or "").strip()) for i in node if not len(i)]
        items = [i for i in items if any(c.isalpha() for c in i[1])]
        if name != "Alt" and len(items) != 1:
            return ""
        return max(items, key=lambda i: i[0])[1] if items else ""
    if ns == _RDF and name == "Description":  # rdf:parseType-less qualifier: <rdf:Description><rdf:value>
        return next((t for c in node if (t := _one_value(c))), "")
    return ""


_MM = "http://ns.adobe.com/xap/1.0/mm/"
_REF = "http://ns.adobe.com/xap/1.0/sType/ResourceRef#"
# The file's earlier names and those of the files it was made from (Lightroom's and Bridge's
# PreservedFileName, Photoshop's DerivedFrom/Ingredients stRef:filePath), inside the xmpMM
# properties skipped above: read as the file's own name is (RT29-16).
# Camera Raw and Lightroom keep the raw file's name in crs:RawFileName (RT31-16).
_FILE_NAMES = frozenset({(_MM, "PreservedFileName"), (_REF, "filePath"),
                         ("http://ns.adobe.com/camera-raw-settings/1.0/", "RawFileName")})


def _earlier_names(root) -> list[tuple[str, str]]:
    out = []
    for element in root.iter():
        values = [((element.text or "").strip(), element.tag)] if not len(element) else []
        values += [(value.strip(), key) for key, value in element.attrib.items()]
        for value, tag in values:
            ns, name = _split(tag)
            if value and (ns, name) in _FILE_NAMES:
                out += [(f"XMP {_named(ns, name)} (a file name)", words)
                        for _, words in name_caption(value.replace("\\", "/"))]
    return out


def _xmp_values(element, prop: str | None, out: list[tuple[str, str]], top: bool = True) -> None:
    """Text values under `element`: its text and its property attributes, then its children's, and
    a struct's fields joined (`top`: the element is the packet's or the file's description, no struct).

    `prop` names the property the element is part of (an rdf:li item or a struct's
    rdf:Description takes it from its parent)."""
    ns, name = _split(element.tag)
    if ns != _RDF and ns != "adobe:ns:meta/":
        if _skipped(ns, name):
            return
        prop = _named(ns, name)
    if not top and prop and len(fields := struct_fields(element, _skipped)) > 1:
        out.append((f"XMP {prop} (fields joined)", " ".join(fields)))
    text = (element.text or "").strip()
    if text and prop and not len(element):
        out.append((f"XMP {prop}", text))
    if ns == _RDF and name in ("Bag", "Seq") and prop:  # a list's items as viewers show them, joined (RT29-12)
        items = [(li.text or "").strip() for li in element if not len(li) and (li.text or "").strip()]
        if len(items) > 1:
            out.append((f"XMP {prop} (items joined)", " ".join(items)))
    for key, value in element.attrib.items():
        a_ns, a_name = _split(key)
        if key == f"{{{_RDF}}}resource" and prop and value.strip():  # a link: the property's value (RT29-28)
            out.append((f"XMP {prop}", value.strip()))
        if a_ns and a_ns not in (_RDF, "http://www.w3.org/XML/1998/namespace") and value.strip() \
                and not _skipped(a_ns, a_name):
            out.append((f"XMP {_named(a_ns, a_name)}", value.strip()))
    for child in element:
        _xmp_values(child, prop, out, top and (ns, name) in ((_RDF, "RDF"), ("adobe:ns:meta/", "xmpmeta")))


def _skipped(ns: str, name: str) -> bool:
    if ns in _TEXT_IN:
        return name not in _TEXT_IN[ns]
    return ns in _SKIP_NS or (ns, name) in _SKIP


def _named(ns: str, name: str) -> str:
    prefix = _PREFIX.get(ns) or ns.rstrip("/#").rsplit("/", 1)[-1] or "?"
    return f"{prefix}:{name}"
