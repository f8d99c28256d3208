"""Hostile variants beside red team 15's cases RT15-4/5/7/8/10: a clip of any container after any
image's end, Photoshop's EXIF resources in every carrier, makers' boxes in clips, and a picture in
every segment, chunk, extension and tag a viewer or tool could take it from."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from screening.model import Status

from .test_redteam15 import (CANON_UUID, XMP_PACKET, _backdrop_bytes, _clip_with, _face_jpeg, _gif_subblocks,
                             _gps_exif_body, _gps_tiff, _jpeg_with_photoshop_resource, _png_chunk, _text_verdict,
                             _xml_meta)
from .test_redteam15 import config  # noqa: F401  (fixture)


def _kinds(path, config):
    return [r.kind.value for r in _text_verdict(path, config).reasons]


# ------------------------------------------------------------------ RT15-4: any clip after any image

CLIP_HEADS = {
    "matroska": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + b"\x00" * 64,
    "avi": b"RIFF" + struct.pack("<I", 4096) + b"AVI LIST" + b"\x00" * 64,
    "quicktime without ftyp": struct.pack(">I", 72) + b"moov" + b"\x00" * 64,
    "jpeg xl": b"\x00\x00\x00\x0cJXL \r\n\x87\n" + b"\x00" * 64,
    "mpeg-ps": b"\x00\x00\x01\xba" + b"\x44" * 64,
}


@pytest.mark.parametrize("clip", sorted(CLIP_HEADS))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_a_video_container_after_any_images_end_is_an_error(tmp_path, config, fmt, clip):
    path = tmp_path / f"motion.{fmt.lower()}"
    path.write_bytes(_backdrop_bytes(fmt) + CLIP_HEADS[clip] + (b";" if fmt == "GIF" else b""))
    assert _text_verdict(path, config).status is Status.ERROR


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])  # (WebP: trailing bytes read as chunks are an error already)
def test_padding_or_a_vendor_trailer_after_the_end_still_clears(tmp_path, config, fmt):
    path = tmp_path / f"trailer.{fmt.lower()}"
    path.write_bytes(_backdrop_bytes(fmt) + b"\x00" * 300 + b"SEFH some vendor trailer bytes \x01\x02")
    assert _text_verdict(path, config).status is Status.CLEARED


def test_a_face_jpeg_after_a_gif_trailer_is_screened(tmp_path, config):
    path = tmp_path / "after.gif"
    path.write_bytes(_backdrop_bytes("GIF") + _face_jpeg() + b";")
    with Image.open(path) as shown:
        shown.load()
    assert "unknown_face" in _kinds(path, config)


# ------------------------------------------------------------------ RT15-5: Photoshop EXIF resources anywhere

def test_gps_in_photoshops_exif_data_3_resource_is_a_location(tmp_path, config):
    path = tmp_path / "irb1059.jpg"
    path.write_bytes(_jpeg_with_photoshop_resource(1059, b"Exif\x00\x00" + _gps_exif_body()))
    assert "location" in _kinds(path, config)


def _resource(rid: int, data: bytes) -> bytes:
    return b"8BIM" + struct.pack(">H", rid) + b"\x00\x00" + struct.pack(">I", len(data)) + data + b"\x00" * (len(data) % 2)


def test_gps_in_a_tiffs_photoshop_exif_resource_is_a_location(tmp_path, config):
    from PIL import TiffImagePlugin

    from .test_redteam6 import backdrop

    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[34377], info.tagtype[34377] = _resource(1058, _gps_exif_body()), 7
    buf = io.BytesIO()
    Image.fromarray(backdrop()).save(buf, "TIFF", tiffinfo=info)
    path = tmp_path / "irb.tif"
    path.write_bytes(buf.getvalue())
    assert "location" in _kinds(path, config)


def test_gps_in_a_pngs_raw_8bim_profile_is_a_location(tmp_path, config):
    blob = _resource(1058, _gps_exif_body())
    text = b"Raw profile type 8bim\x00\n8bim\n" + f"{len(blob):8d}\n".encode() + blob.hex().encode() + b"\n"
    png = _backdrop_bytes("PNG")
    path = tmp_path / "raw8bim.png"
    path.write_bytes(png[:33] + _png_chunk(b"tEXt", text) + png[33:])
    assert "location" in _kinds(path, config)


def test_a_face_in_the_thumbnail_of_photoshops_exif_resource_is_screened(tmp_path, config):
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    body = exif.tobytes()
    body = body[6:] if body.startswith(b"Exif\x00\x00") else body
    path = tmp_path / "irbthumb.jpg"  # a face JPEG lying in the EXIF resource, listed by no directory
    path.write_bytes(_jpeg_with_photoshop_resource(1058, body + _face_jpeg()))
    assert "unknown_face" in _kinds(path, config)


# ------------------------------------------------------------------ RT15-7/8: makers' boxes and meta/xml in clips

def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _exif_with_gps() -> bytes:
    return _gps_exif_body()


@pytest.mark.parametrize("name,child", [
    ("CMT1 with a GPS pointer", _box(b"uuid", CANON_UUID + _box(b"CMT1", _exif_with_gps()))),
    ("CMT4 at top level", None),
    ("a maker's udta box of EXIF", _box(b"udta", _box(b"PENT", _exif_with_gps()))),
])
def test_gps_in_makers_exif_boxes_is_a_location(tmp_path, config, name, child):
    if child is None:
        path = _clip_with(tmp_path, "canon.mp4", "top", _box(b"uuid", CANON_UUID + _box(b"CMT4", _gps_tiff())))
    else:
        path = _clip_with(tmp_path, "maker.mp4", "moov", child)
    assert "location" in _kinds(path, config)


@pytest.mark.parametrize("kind,where", [(b"GPS ", "moov/udta"), (b"gps ", "moov"), (b"gps0", "top level")])
def test_a_gps_log_box_this_version_cannot_read_is_never_cleared(tmp_path, config, kind, where):
    log = _box(kind, b"\x00\x00\x00\x01" + b"$GPRMC,120000,A,5348.048,N,00132.946,W*00" + b"\x00" * 16)
    child = _box(b"udta", log) if where == "moov/udta" else log
    path = _clip_with(tmp_path, "log.mp4", "moov" if where.startswith("moov") else "top", child)
    assert _text_verdict(path, config).status is not Status.CLEARED


def test_canon_cmt_boxes_without_gps_still_clear(tmp_path, config):
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    body = exif.tobytes()
    body = body[6:] if body.startswith(b"Exif\x00\x00") else body
    empty_gps = b"II*\x00" + struct.pack("<IH", 8, 0) + b"\x00" * 4
    child = _box(b"uuid", CANON_UUID + _box(b"CMT1", body) + _box(b"CMT4", empty_gps))
    path = _clip_with(tmp_path, "canon.mp4", "moov", child)
    assert _text_verdict(path, config).status is Status.CLEARED


def test_gps_in_xmp_of_a_tracks_meta_xml_box_is_a_location(tmp_path, config):
    data = (tmp_path / "plain.mp4").read_bytes() if (tmp_path / "plain.mp4").exists() else None
    data = data or _clip_with(tmp_path, "base.mp4", "moov", _box(b"free", b"")).read_bytes()
    moov_at = data.rfind(b"moov") - 4
    at = data.find(b"trak", moov_at) - 4  # the first track, at the end of the moov
    size = struct.unpack_from(">I", data, at)[0]
    meta = _xml_meta(XMP_PACKET)
    out = bytearray(data[:at] + struct.pack(">I", size + len(meta)) + data[at + 4:at + size] + meta + data[at + size:])
    struct.pack_into(">I", out, moov_at, struct.unpack_from(">I", data, moov_at)[0] + len(meta))
    path = tmp_path / "trakxml.mp4"
    path.write_bytes(bytes(out))
    assert "location" in _kinds(path, config)


# ------------------------------------------------------------------ RT15-10: a picture wherever it is carried

def _jpeg_segment(marker: int, payload: bytes, *, after_frame: bool = False) -> bytes:
    jpeg = _backdrop_bytes("JPEG")
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    at = jpeg.find(b"\xff\xda") if after_frame else 2
    return jpeg[:at] + segment + jpeg[at:]


def _carrier(kind: str) -> tuple[str, bytes]:
    face = _face_jpeg()
    if kind == "jpeg ICC profile":
        return "icc.jpg", _jpeg_segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + face)
    if kind == "jpeg XMP segment":
        return "xmp.jpg", _jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP_PACKET.replace(
            b"exif:GPSLatitude", b"exif:X").replace(b"exif:GPSLongitude", b"exif:Y") + face)
    if kind == "jpeg APP5 after the frame header":
        return "late.jpg", _jpeg_segment(0xE5, b"PRVW\x00" + face, after_frame=True)
    if kind == "jpeg comment after the frame header":
        return "latecom.jpg", _jpeg_segment(0xFE, face, after_frame=True)
    if kind == "png tEXt":
        png = _backdrop_bytes("PNG")
        return "text.png", png[:33] + _png_chunk(b"tEXt", b"Preview\x00" + face) + png[33:]
    if kind == "gif plain text":
        gif = _backdrop_bytes("GIF")
        at = 13 + (3 * 2 ** ((gif[10] & 7) + 1) if gif[10] & 0x80 else 0)
        return "plain.gif", gif[:at] + b"\x21\x01" + _gif_subblocks(b"\x00" * 12 + face) + gif[at:]
    if kind == "webp XMP chunk":
        webp = _backdrop_bytes("WEBP")
        body = webp[12:] + b"XMP " + struct.pack("<I", len(face)) + face + b"\x00" * (len(face) % 2)
        return "xmp.webp", b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
    if kind == "tiff maker note":
        from .test_redteam6 import backdrop

        from PIL import TiffImagePlugin

        info = TiffImagePlugin.ImageFileDirectory_v2()
        info[0x927C], info.tagtype[0x927C] = b"Nikon\x00\x02\x00\x00\x00" + face, 7  # a maker note's preview
        buf = io.BytesIO()
        Image.fromarray(backdrop()).save(buf, "TIFF", tiffinfo=info)
        return "maker.tif", buf.getvalue()
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["jpeg ICC profile", "jpeg XMP segment", "jpeg APP5 after the frame header",
                                  "jpeg comment after the frame header", "png tEXt", "gif plain text",
                                  "webp XMP chunk", "tiff maker note"])
def test_a_face_jpeg_carried_anywhere_but_the_pixels_is_screened(tmp_path, config, kind):
    name, data = _carrier(kind)
    (tmp_path / name).write_bytes(data)
    with Image.open(tmp_path / name) as shown:  # the carrier itself decodes: a plain picture
        shown.load()
    assert _text_verdict(tmp_path / name, config).status is not Status.CLEARED


@pytest.mark.parametrize("noise", [b"\xff\xd8\xff\xe0 not a jpeg", b"GIF89a but no more", b"II*\x00\x08\x00\x00\x00"])
def test_signature_bytes_that_begin_no_picture_still_clear(tmp_path, config, noise):
    path = tmp_path / "noise.jpg"
    path.write_bytes(_jpeg_segment(0xFE, b"caption " + noise + b" end"))
    assert _text_verdict(path, config).status is Status.CLEARED
