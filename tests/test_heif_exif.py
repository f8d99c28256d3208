"""Every Exif item of a HEIF/AVIF, located through iloc (formats/heif_exif.py, RT29-23)."""

from __future__ import annotations

import struct

import pytest

from screening.formats.common import MetadataError
from screening.formats.heif_exif import exif_items

TIFF = b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"  # an empty IFD0


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _heif(payload: bytes, *, method: int = 1, length: int | None = None, located: bool = True) -> bytes:
    """A HEIF (the boxes only) with one Exif item (id 1) in `idat` (method 1) or after the meta box (0)."""
    infe = _box(b"infe", b"\x02\x00\x00\x00" + struct.pack(">HH", 1, 0) + b"Exif" + b"\x00")
    iinf = _box(b"iinf", b"\x00\x00\x00\x00" + struct.pack(">H", 1) + infe)
    idat = _box(b"idat", payload) if method == 1 else b""
    length = len(payload) if length is None else length

    def build(offset: int) -> bytes:
        entry = struct.pack(">HHHHII", 1, method, 0, 1, offset, length)  # id, method, data ref, 1 extent
        iloc = _box(b"iloc", b"\x01\x00\x00\x00" + bytes([0x44, 0x00]) + struct.pack(">H", 1 if located else 0)
                    + (entry if located else b""))
        return _box(b"meta", b"\x00" * 4 + _box(b"hdlr", b"\x00" * 8 + b"pict" + b"\x00" * 13) + iinf + iloc + idat)

    ftyp = _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")
    if method == 1:
        return ftyp + build(0)
    at = len(ftyp) + len(build(0))
    return ftyp + build(at + 8) + _box(b"mdat", payload)  # the payload after mdat's header


@pytest.mark.parametrize("method", [0, 1], ids=["in-the-file", "in-idat"])
def test_the_exif_item_is_read_wherever_iloc_puts_it(method):
    assert exif_items(_heif(b"\x00\x00\x00\x06Exif\x00\x00" + TIFF, method=method)) == [TIFF]


@pytest.mark.parametrize("damage", ["past-the-end", "not-located", "offset-past-the-end"])
def test_an_exif_item_that_cannot_be_read_raises(damage):
    if damage == "past-the-end":
        data = _heif(b"\x00\x00\x00\x00" + TIFF, length=500)
    elif damage == "not-located":
        data = _heif(b"\x00\x00\x00\x00" + TIFF, located=False)
    else:
        data = _heif(b"\x00\x00\x01\x00" + TIFF)
    with pytest.raises(MetadataError):
        exif_items(data)


def test_a_file_without_an_exif_item_has_none():
    assert exif_items(_box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic")) == []
