"""AVIF photos (Android cameras, images saved from the web) are screened, not refused.

Pillow's own wheels decode AVIF (pillow-heif no longer does). A truncated AVIF is still an
error, and EXIF orientation and GPS in an AVIF are honoured like in a JPEG.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from screening import imaging
from screening.formats import metadata

pytestmark = pytest.mark.skipif(not imaging.AVIF_SUPPORTED, reason="this Pillow has no AVIF codec")


def picture(w=64, h=48):
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2] = (200, 30, 30)  # top half red: shows which way up it came out
    a[h // 2:] = (30, 30, 200)
    return Image.fromarray(a)


def test_avif_is_sniffed_as_avif_and_decodes(tmp_path):
    p = tmp_path / "photo.avif"
    picture().save(p, quality=90)
    assert imaging.sniff(p.read_bytes()) == "AVIF"
    pic = imaging.load(p)
    assert pic.format == "AVIF" and pic.size == (64, 48)
    assert pic.frames[0][5, 30, 0] > 150 and pic.frames[0][40, 30, 2] > 150


def test_avif_exif_orientation_is_applied_once(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: shown 90 degrees clockwise
    p = tmp_path / "turned.avif"
    picture().save(p, quality=90, exif=exif.tobytes())
    pic = imaging.load(p)
    assert pic.size == (48, 64)
    # turned clockwise: the red top half is now on the right
    assert pic.frames[0][32, 40, 0] > 150 and pic.frames[0][32, 5, 2] > 150


def test_gps_in_an_avif_is_found_in_its_metadata(tmp_path):
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (IFDRational(53), IFDRational(48), IFDRational(3)),
                                 3: "W", 4: (IFDRational(1), IFDRational(32), IFDRational(57))})
    p = tmp_path / "gps.avif"
    picture().save(p, quality=90, exif=exif.tobytes())
    blocks = metadata.read_blocks(p.read_bytes())
    assert len(blocks.exif) == 1
    found = Image.Exif()
    found.load(b"Exif\x00\x00" + blocks.exif[0])
    gps = found.get_ifd(0x8825)
    assert gps[1] == "N" and float(gps[2][0]) == 53 and gps[3] == "W"


def test_truncated_avif_is_an_error(tmp_path):
    p = tmp_path / "cut.avif"
    picture(640, 480).save(p, quality=90)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(imaging.ImageError):
        imaging.load(p)


def test_avif_holding_a_thumbnail_image_is_refused_not_half_screened():
    from screening.formats import avif

    def box(kind: bytes, body: bytes) -> bytes:
        return (8 + len(body)).to_bytes(4, "big") + kind + body

    ftyp = box(b"ftyp", b"avif" + bytes(4) + b"avifmif1")
    plain = ftyp + box(b"meta", bytes(4) + box(b"iinf", bytes(6)))
    with_thumb = ftyp + box(b"meta", bytes(4) + box(b"iref", bytes(4) + box(b"thmb", bytes(8))))
    avif.check(plain)  # nothing refused
    with pytest.raises(imaging.ImageError, match="thumbnail"):
        avif.check(with_thumb)
