"""Camera makers' own boxes in MP4/MOV that may say where a clip was made (RT15-7).

- Canon's `uuid` box 85C0B687-820F-11E0-8111-F4CE462B6A48: CMT1 (IFD0), CMT2 (EXIF IFD), CMT3
  (maker notes) are TIFF structures read as EXIF; CMT4 is a GPS IFD written as a TIFF's first
  directory (exiftool reads GPSLatitude there), read tag by tag;
- any user-data box whose body is a TIFF structure (other makers write EXIF the same way) is read
  as EXIF;
- boxes known to carry a GPS log in a form this version does not parse (dashcams' `udta/GPS `,
  Novatek's `gps `, `gps0`...) make the clip's location unreadable: never cleared (fail closed).
Tracks of timed metadata (GoPro GPMF `gpmd`, Google `camm`, Sony `rtmd`, DJI `djmd`) are refused
as data tracks by formats/video.py before any of this is read.
"""

from __future__ import annotations

import warnings

from PIL import Image

from screening.formats import geotags, metadata

CANON_UUID = bytes.fromhex("85C0B687820F11E08111F4CE462B6A48")
_TIFF = (b"II*\x00", b"MM\x00*")
# Boxes that hold a GPS log or position this version does not parse (exiftool QuickTimeStream).
LOCATION_BOXES = {b"GPS ", b"gps ", b"gps0", b"gpsa", b"GPSD", b"gdat", b"LIGO", b"nmea", b"NMEA"}

Source = tuple[str, str, geotags.Claims]


def canon(data: bytes, at: int, children) -> list[Source]:
    """The EXIF and GPS directories of Canon's uuid box (`data` is its body after the UUID)."""
    found: list[Source] = []
    for kind, body, where in children(data, at):
        name = kind.decode("latin-1")
        if kind == b"CMT4":
            found.append(("EXIF", f"the GPS directory of Canon's {name} box", gps_directory(body, where)))
        elif kind in (b"CMT1", b"CMT2", b"CMT3") and body[:4] in _TIFF:
            found.append(("EXIF", f"EXIF in Canon's {name} box", geotags.exif_claims(body)))
        elif kind in LOCATION_BOXES:
            refuse(kind, where)
    return found


def gps_directory(block: bytes, at: int) -> geotags.Claims:
    """A GPS IFD written as the first directory of a TIFF structure (Canon's CMT4)."""
    exif = Image.Exif()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exif.load(block)
            gps = dict(exif)
        except Exception as exc:
            raise metadata.MetadataError(f"the GPS directory at byte {at} cannot be read ({exc})") from None
    if caught or (not gps and not _no_entries(block)):
        raise metadata.MetadataError(f"the GPS directory at byte {at} is present but cannot be read")
    return geotags.gps_claims(gps)


def _no_entries(block: bytes) -> bool:
    order = "<" if block[:2] == b"II" else ">"
    if block[:4] not in _TIFF or len(block) < 10:
        return False
    offset = int.from_bytes(block[4:8], "little" if order == "<" else "big")
    return offset + 2 <= len(block) and block[offset:offset + 2] == b"\x00\x00"


def user_data(kind: bytes, body: bytes, where: int) -> list[Source]:
    """An unknown user-data box: EXIF if it is a TIFF structure; a known GPS log is refused."""
    if kind in LOCATION_BOXES:
        refuse(kind, where)
    if body[:4] in _TIFF:
        return [("EXIF", f"EXIF in the `{kind.decode('latin-1')}` box", geotags.exif_claims(body))]
    return []


def refuse(kind: bytes, where: int) -> None:
    raise metadata.MetadataError(f"the `{kind.decode('latin-1')}` box at byte {where} holds GPS data that this "
                                 "version cannot read: remove it or check the clip's location by hand")
