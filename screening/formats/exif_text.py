"""EXIF text tags: which tags hold text, how each is read, and the bounds on reading them.

Shared by the captions (formats/captions.py: every text tag but the maker's) and the maker's fields
(formats/credits.py: the tags naming who made the photo, read for pupils' names). A tag's bytes are
read once a block however many directories point at them (RT31-20), within a budget of twice the
block; a tag holding more than MAX_TAG_TEXT bytes of text is an error, never skipped (RT30-11).
"""

from __future__ import annotations

import struct

from screening.formats.common import MetadataError

LABELS = {0x010E: "EXIF image description", 0x9C9B: "EXIF XPTitle", 0x9C9C: "EXIF XPComment",
         0x9C9F: "EXIF XPSubject", 0x9C9E: "EXIF XPKeywords", 0x9286: "EXIF user comment", 0xA436: "EXIF image title"}
XP = frozenset({0x9C9B, 0x9C9C, 0x9C9E, 0x9C9F})  # Windows' UTF-16LE tags (BYTE)
# Directories (a TIFF's pages) whose text is read; a file with more is an error.
MAX_PAGES = 1024
# Bytes of one text tag read (past it, NULs dropped, the file is an error: RT30-11).
MAX_TAG_TEXT = 1 << 20
# Types a text tag may be written as: BYTE, ASCII, UNDEFINED, UTF-8 (EXIF 3.0).
TEXT_KINDS = frozenset({1, 2, 7, 129})
# Tags whose bytes are binary or read elsewhere: maker notes, XMP, IPTC, Photoshop resources, ICC,
# PrintIM, JPEG tables, versions, the Interop and GPS pointers, components, scene/file source.
BINARY = frozenset({0x927C, 0x02BC, 0x83BB, 0x8649, 0x8773, 0xC4A5, 0x015B, 0x9101, 0xA300, 0xA301,
                          0xA302, 0x9214, 0xA20C, 0xA40B, 0x0001, 0x0002, 0x8828, 0xA500, 0xC634, 0xC68D,
                          0xC6FD, 0xC68B})
# DNG's OriginalRawFileName: read as a file name is (name_caption), not as a caption
RAW_NAME = 0xC68B
# EXIF text tags (IFD0 and Exif IFD) that say who made the file, when and with what, not what it
# shows: not read. Every other ASCII tag, known to this module or not (EXIF 3.0 ImageTitle...), is.
NOT_TEXT = frozenset({
    0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x013C, 0x8298, 0x9C9D,  # Make, Model, Software, DateTime, Artist...
    0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292, 0x8824,  # dates, offsets, sub-seconds
    0xA420, 0xA430, 0xA431, 0xA433, 0xA434, 0xA435, 0xA437, 0xA438, 0xA439, 0xA43A, 0xA43B, 0xA43C,  # ids, owner, lens
    0xC614, 0xC615,  # DNG camera model names
    0x000B, 0x9000, 0xA000, 0x8769, 0x8825, 0xA005})


def first_reading(ifd, tag: int, kind: int, n: int, at: int, read: set, budget: list[int]) -> bool:
    """Whether a text tag's bytes are read here for the first time (each (start, count) once a block,
    whatever directories point to it, RT31-20); bytes read past `budget` (overlapping values, each a
    little longer: one text read many times) are a MetadataError, never skipped. A reading that may
    drop the text (UNDEFINED or BYTE not printable enough: _exif) is not the reading of an ASCII tag
    that takes it whole: the same bytes under an ASCII tag are read again (RT33a-7)."""
    start = at if n <= 4 else struct.unpack_from(ifd.order + "I", ifd.block, at)[0]
    key = (start, n, "utf-16" if tag in XP else "comment" if tag == 0x9286 else "text" if kind == 2 else "binary?")
    if key in read:
        return False
    read.add(key)
    budget[0] -= min(n, max(0, len(ifd.block) - start))
    if budget[0] < 0:
        raise MetadataError(f"the EXIF text tags point at more text than twice the block holds (EXIF {ifd.name} tag "
                            f"0x{tag:04X}): refused")
    return True


def tag_bytes(ifd, tag: int, kind: int, n: int, at: int) -> bytes:
    """A text tag's bytes, NULs between its words dropped (a name padded with NULs past any size is
    still read, RT30-11); more than MAX_TAG_TEXT left: MetadataError (never skipped)."""
    start = at if n <= 4 else struct.unpack_from(ifd.order + "I", ifd.block, at)[0]
    raw = ifd.block[start:start + n]
    if len(raw) > MAX_TAG_TEXT:
        raw = raw.replace(b"\x00", b"") if kind != 1 and tag not in XP else raw  # (UTF-16: its NULs are letters')
        if len(raw) > MAX_TAG_TEXT:
            raise MetadataError(f"EXIF {ifd.name} tag 0x{tag:04X} holds {len(raw)} bytes of text: too long to read")
    return raw


def printable(text: str) -> bool:
    text = text.replace("\x00", "").strip()
    return bool(text) and sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.95 * len(text)


def utf8_as_read(text: str) -> str:
    """An EXIF ASCII field that holds UTF-8 (as phones and Windows write "José García"), which
    Pillow decodes byte by byte as Latin-1: the text as a viewer shows it (RT13-5)."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text
