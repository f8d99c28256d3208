"""What a viewer shows that the stored values hide: each becomes an extra view the checks screen.

Found by the red team (tests/test_redteam.py runs the whole scan on the same kinds of file);
these tests pin the decoding side: the view exists, or the file is refused.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from screening import imaging
from screening.formats.common import MetadataError
from screening.formats import metadata

from .conftest import PUBLIC_DOMAIN


def face(side: int = 160) -> Image.Image:
    return Image.open(PUBLIC_DOMAIN / "astronaut.png").convert("RGB").resize((side, side))


def jpeg_bytes(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def clean_jpeg() -> bytes:
    return jpeg_bytes(Image.fromarray(np.random.default_rng(1).integers(0, 255, (200, 300, 3), np.uint8)))


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def load(tmp_path: Path, name: str, data: bytes) -> imaging.Picture:
    path = tmp_path / name
    path.write_bytes(data)
    return imaging.load(path)


def test_float_tiff_with_one_outlier_gets_a_ranked_view(tmp_path):
    values = np.asarray(face().convert("L"), np.float32) / 255.0
    values[0, 0] = 1e6  # min..max scaling alone would flatten the face to black
    path = tmp_path / "outlier.tif"
    Image.fromarray(values, mode="F").save(path)
    picture = imaging.load(path)
    assert "values ranked (wide samples equalised)" in picture.views
    ranked = picture.frames[picture.views.index("values ranked (wide samples equalised)")]
    assert ranked.std() > 40  # the face's tones are spread out again


def test_very_dark_photo_gets_a_stretched_view(tmp_path):
    dark = (np.asarray(face()) // 17).astype(np.uint8)  # values 0..15
    out = io.BytesIO()
    Image.fromarray(dark).save(out, "PNG")
    picture = load(tmp_path, "dark.png", out.getvalue())
    assert any(v.startswith("brightness stretched") for v in picture.views)


def test_ordinary_photo_gets_no_extra_view(tmp_path):
    out = io.BytesIO()
    face(400).save(out, "PNG")
    assert load(tmp_path, "plain.png", out.getvalue()).views == [""]


def test_image_in_an_unknown_app_segment_is_screened(tmp_path):
    host = clean_jpeg()
    data = host[:2] + segment(0xE4, b"VENDOR\x00" + jpeg_bytes(face())) + host[2:]
    picture = load(tmp_path, "app4.jpg", data)
    assert any("APP4 segment" in v for v in picture.views)


def test_image_in_a_c2pa_manifest_split_over_app11_segments_is_screened(tmp_path):
    host, thumb = clean_jpeg(), jpeg_bytes(face())
    box = struct.pack(">I", 8 + len(thumb)) + b"jumb" + thumb
    half = len(box) // 2
    first = b"JP" + struct.pack(">HI", 1, 1) + box[:half]
    second = b"JP" + struct.pack(">HI", 1, 2) + box[:8] + box[half:]  # each continuation repeats the box header
    data = host[:2] + segment(0xEB, first) + segment(0xEB, second) + host[2:]
    picture = load(tmp_path, "c2pa.jpg", data)
    assert any("C2PA/JUMBF manifest" in v for v in picture.views)


def png_with(chunk: bytes) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (90, 140, 200)).save(out, "PNG")
    png = out.getvalue()
    at = png.index(b"IDAT") - 4
    return png[:at] + chunk + png[at:]


def test_image_in_a_png_c2pa_chunk_is_screened(tmp_path):
    data = png_with(png_chunk(b"caBX", b"\x00\x00\x00\x10jumb" + jpeg_bytes(face())))
    picture = load(tmp_path, "c2pa.png", data)
    assert any("'caBX' chunk" in v for v in picture.views)


def test_gps_in_a_c2pa_assertion_is_an_error_never_nothing():
    data = png_with(png_chunk(b"caBX", b'{"exif:GPSLatitude": "39,21.102N", "exif:GPSLongitude": "2,1.5W"}'))
    with pytest.raises(MetadataError, match="C2PA"):
        metadata.read_blocks(data)


def test_smaller_tiff_subifd_that_shows_something_else_is_screened(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    page = np.full((300, 300, 3), 200, np.uint8)
    small = np.asarray(face(120))
    path = tmp_path / "subifd.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(page, subifds=1, photometric="rgb")
        tif.write(small, subfiletype=1, photometric="rgb")
    picture = imaging.load(path)
    assert any("SubIFD 1" in v for v in picture.views)
