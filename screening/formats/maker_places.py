"""Place names cameras write in their maker notes, as the location check reads IPTC City.

A Lumix with GPS names where the picture was taken in its Panasonic maker note (Country 0x0069,
State 0x006B, City 0x006D, Landmark 0x006F; exiftool prints them), where no other field may hold
them (RT29-7). The notes' other text is read for names by the text check (captions.py, RT29-6).
A Panasonic note whose directory cannot be read is a malformed place: the file is never cleared.
"""

from __future__ import annotations

import struct

from screening.formats.common import ImageError
from screening.formats.exif_images import _Ifd, directories
from screening.formats.geotags import Claims, Place, Position

_PANASONIC = b"Panasonic\x00\x00\x00"
_PLACES = {0x0069: "Country", 0x006B: "State", 0x006D: "City", 0x006F: "Landmark"}


def maker_note_places(block: bytes) -> Claims:
    """The place names of the Panasonic maker notes of one EXIF block (TIFF header onwards)."""
    try:
        ifds = directories(block)
    except ImageError:
        return Claims()  # the EXIF readers report a broken block
    places: list[Place] = []
    for ifd in ifds:
        kind, n, at = ifd.entries.get(0x927C, (0, 0, 0))
        if n <= 4:
            continue
        start = struct.unpack_from(ifd.order + "I", ifd.block, at)[0]
        if ifd.block[start:start + len(_PANASONIC)] != _PANASONIC:
            continue
        try:
            note = _Ifd(ifd.block, ifd.order, start + len(_PANASONIC), "Panasonic maker note")
            for tag, label in _PLACES.items():
                value = _ascii(note, tag)
                if value and value.strip("-").strip():  # Lumix writes "---" for none
                    places.append(Place(f"Panasonic {label}", value))
        except (ImageError, struct.error) as exc:
            return Claims((Position(None, None, f"the Panasonic maker note cannot be read ({exc})"),))
    return Claims((), tuple(places))


def _ascii(ifd: _Ifd, tag: int) -> str:
    if tag not in ifd.entries:
        return ""
    _kind, n, at = ifd.entries[tag]
    start = at if n <= 4 else struct.unpack_from(ifd.order + "I", ifd.block, at)[0]
    if start + n > len(ifd.block):
        raise ImageError(f"tag 0x{tag:04X} runs past the end of the EXIF block")
    return ifd.block[start:start + n].split(b"\x00")[0].decode("utf-8", "replace").strip()
