"""PNG EXIF chunks: eXIf as written, compressed EXIF as exiftool reads it (zxIf, an eXIf starting
with a 0 byte: RT29-11), and a chunk naming EXIF in no standard's spelling (an error)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from .test_redteam6 import backdrop, config, gps_exif, kinds, verdict  # noqa: F401


def _png_with(kind: bytes, body: bytes) -> bytes:
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "PNG")
    data = out.getvalue()
    at = data.index(b"IDAT") - 4
    return data[:at] + struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body)) + data[at:]


def _kinds(tmp_path, config, data: bytes) -> set[str]:
    path = tmp_path / "p.png"
    path.write_bytes(data)
    _, d = verdict(path, config)
    return kinds(d) or {"cleared"}


def _compressed(exif: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(exif)) + zlib.compress(exif)


@pytest.mark.parametrize("kind, body", [
    (b"eXIf", gps_exif()[6:]),
    (b"exIf", gps_exif()[6:]),  # ImageMagick's chunk before the standard (RT30-10)
    (b"zxIf", _compressed(gps_exif()[6:])),
], ids=["eXIf", "exIf", "zxIf"])
def test_gps_in_an_exif_chunk_or_a_compressed_one_is_found(tmp_path, config, kind, body):
    assert "location" in _kinds(tmp_path, config, _png_with(kind, body))


@pytest.mark.parametrize("body", [gps_exif(), _compressed(gps_exif()[6:])], ids=["Exif header", "compressed"])
def test_gps_in_an_exif_chunk_written_otherwise_is_never_cleared(tmp_path, config, body):
    """(Pillow and exiv2 read an eXIf chunk too, as written: these are an error, or the GPS is found.)"""
    assert _kinds(tmp_path, config, _png_with(b"eXIf", body)) & {"location", "error"}


@pytest.mark.parametrize("kind", [b"eXIF", b"zXIf", b"EXIF"])
def test_a_chunk_naming_exif_in_another_spelling_is_an_error(tmp_path, config, kind):
    assert "error" in _kinds(tmp_path, config, _png_with(kind, gps_exif()[6:]))


def test_a_compressed_exif_chunk_that_does_not_inflate_is_an_error(tmp_path, config):
    assert "error" in _kinds(tmp_path, config, _png_with(b"zxIf", b"\x00\x00\x00\x00\x10not zlib at all"))
