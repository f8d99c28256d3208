"""Pictures carried where no decoder looks: a Canon thumbnail in a clip's boxes, a JPEG hidden in a
HEIF/AVIF file's boxes or after them, a picture after a WebP's RIFF data or inside a BMP, and
(not yet: strict xfail) a TIFF. Each hostile file has its control beside it (formats/carried.py)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from screening import imaging
from screening.formats.common import ImageError
from screening.model import Status

from .clips import write_clip
from .hostile import exif_with_thumbnail
from .test_redteam6 import backdrop, config, found_face, jpeg, not_cleared, verdict, with_face  # noqa: F401
from .test_video import _box, _into_moov

CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")


def _status(path, config):
    s, d = verdict(path, config)
    return d.status, [r.error for r in s.results if r.error]


def _face_thumb() -> bytes:
    return jpeg(with_face((160, 120), (60, 40)))


# ---------------------------------------------------------------- 1. Canon thumbnails in clips


def _canon_clip(tmp_path, name: str, child: bytes | None, top: bytes = b"") -> object:
    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    path = tmp_path / name
    path.write_bytes((_into_moov(data, child) if child else data) + top)
    return path


def _cmt1() -> bytes:
    """Canon's CMT1: IFD0 of a TIFF structure (Make 'Canon'), no picture."""
    make = b"Canon\x00"
    return b"II*\x00" + struct.pack("<IH", 8, 1) + struct.pack("<HHII", 0x010F, 2, len(make), 26) + b"\0" * 4 + make


def test_control_a_clip_with_canons_uuid_box_and_no_thumbnail_is_cleared(tmp_path, config):
    path = _canon_clip(tmp_path, "canon_plain.mp4", _box(b"uuid", CANON_UUID + _box(b"CMT1", _cmt1())))
    assert _status(path, config) == (Status.CLEARED, [])


def _thumbnail_face(path, config) -> None:
    """The face in the carried picture is found, in the clip thumbnail view, at time 0
    (tests/test_clip_thumbnails.py has the rest: cut off, too many, split clips)."""
    s, d = verdict(path, config)
    assert d.status is Status.NEEDS_PERMISSION and not [r.error for r in s.results if r.error], d.reasons
    faces = [r for r in d.reasons if r.kind.value == "unknown_face" and "clip thumbnail" in r.extra.get("view", "")]
    assert len(faces) == 1 and faces[0].time == 0.0, d.reasons


@pytest.mark.parametrize("atom", [_box(b"CNTH", _box(b"CNDA", _face_thumb())),
                                  _box(b"thmb", b"\0" * 4 + b"jpeg" + _face_thumb())],
                         ids=["Canon MOV CNTH/CNDA", "udta thmb (OpenCV's sample cup.mp4 has one)"])
def test_a_face_in_a_thumbnail_atom_of_a_clips_user_data_is_screened_as_a_view(tmp_path, config, atom):
    """Canon's MOV: moov/udta/CNTH/CNDA; other cameras: moov/udta/thmb. Exiftool shows either
    (ThumbnailImage)."""
    _thumbnail_face(_canon_clip(tmp_path, "thumb.mov", _box(b"udta", atom)), config)


def test_a_face_in_the_thmb_box_of_canons_uuid_box_is_screened_as_a_view(tmp_path, config):
    """Canon's MP4 (and CR3): the THMB box of Canon's uuid box (size, then the JPEG)."""
    thmb = b"\0" * 4 + struct.pack(">HHIH", 160, 120, len(_face_thumb()), 0) + b"\0" * 2 + _face_thumb()
    uuid = _box(b"uuid", CANON_UUID + _box(b"CMT1", _cmt1()) + _box(b"THMB", thmb))
    for name, child, top in (("thmb_moov.mp4", uuid, b""), ("thmb_top.mp4", None, uuid)):
        _thumbnail_face(_canon_clip(tmp_path, name, child, top), config)


def test_a_picture_in_a_clips_free_box_is_screened_as_a_view(tmp_path, config):
    _thumbnail_face(_canon_clip(tmp_path, "free.mp4", None, _box(b"free", b"\0" * 16 + _face_thumb())), config)


def test_a_cut_off_picture_in_a_clips_box_makes_it_an_error(tmp_path, config):
    path = _canon_clip(tmp_path, "cut.mov", _box(b"udta", _box(b"CNTH", _box(b"CNDA", _face_thumb()[:700]))))
    status, errors = _status(path, config)
    assert status is Status.ERROR and any("clip thumbnail" in e and "`moov` box" in e for e in errors), errors


# ---------------------------------------------------------------- 2. HEIF/AVIF: pictures outside the items


def _still(fmt: str, **kw) -> bytes:
    if fmt == "HEIF":
        pillow_heif = pytest.importorskip("pillow_heif")
        heif = pillow_heif.from_pillow(Image.fromarray(backdrop()))
        out = io.BytesIO()
        heif.save(out, quality=90, **kw)
        return out.getvalue()
    if not imaging.AVIF_SUPPORTED:
        pytest.skip("this Pillow has no AVIF codec")
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "AVIF", **kw)
    return out.getvalue()


def _grow_last(data: bytes, kind: bytes, extra: bytes) -> bytes:
    """The file with `extra` added at the end of its last box, which must be `kind`."""
    at = data.rindex(kind) - 4
    (size,) = struct.unpack_from(">I", data, at)
    assert at + size == len(data), f"{kind!r} is not the last box"
    return data[:at] + struct.pack(">I", size + len(extra)) + data[at + 4:] + extra


def _hidden(data: bytes, where: str, picture: bytes) -> bytes:
    if where == "after the last box":
        return data + picture
    if where == "free box":
        return data + _box(b"free", picture)
    if where == "unknown box":
        return data + _box(b"zzzz", b"\0" * 7 + picture)
    return _grow_last(data, b"mdat", picture)  # an mdat range no item's extent points to


WHERE = ["after the last box", "free box", "unknown box", "mdat range no item points to"]


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_control_an_ordinary_heic_or_avif_is_cleared_with_only_its_own_view(tmp_path, config, fmt):
    path = tmp_path / f"plain.{fmt.lower()}"
    path.write_bytes(_still(fmt))
    assert imaging.load(path).views == [""]
    assert _status(path, config) == (Status.CLEARED, [])


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_face_jpeg_hidden_in_a_heic_or_avif_is_screened_as_a_view(tmp_path, config, fmt, where):
    path = tmp_path / f"hidden.{fmt.lower()}"
    path.write_bytes(_hidden(_still(fmt), where, jpeg(with_face())))
    assert any(f"{fmt} file" in v or "picture in the" in v for v in imaging.load(path).views[1:])
    found_face(path, config)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_png_hidden_in_a_heic_or_avif_mdat_is_screened(tmp_path, config, fmt):
    out = io.BytesIO()
    Image.fromarray(with_face()).save(out, "PNG")
    path = tmp_path / f"png.{fmt.lower()}"
    path.write_bytes(_hidden(_still(fmt), "mdat range no item points to", out.getvalue()))
    found_face(path, config)


def test_a_hidden_picture_that_cannot_be_decoded_makes_a_heic_an_error(tmp_path, config):
    path = tmp_path / "cut.heic"
    path.write_bytes(_hidden(_still("HEIF"), "free box", jpeg(with_face())[:600]))
    with pytest.raises(ImageError, match="cannot be screened"):
        imaging.load(path)
    assert _status(path, config)[0] is Status.ERROR


@pytest.mark.parametrize("extra", [_box(b"mpvd", b"\0" * 64), _box(b"ftyp", b"isom\0\0\0\0isom") + _box(b"moov", b"")],
                         ids=["samsung mpvd box", "an MP4 appended"])
def test_a_motion_photo_heic_is_an_error_not_a_still(tmp_path, config, extra):
    path = tmp_path / "motion.heic"
    path.write_bytes(_still("HEIF") + extra)
    with pytest.raises(ImageError, match="video"):
        imaging.load(path)


def test_the_exif_thumbnail_of_a_heic_is_screened_once_not_twice(tmp_path, config):
    path = tmp_path / "exif_thumb.heic"
    path.write_bytes(_still("HEIF", exif=exif_with_thumbnail(_face_thumb())))
    assert imaging.load(path).views == ["", "EXIF thumbnail"]
    found_face(path, config)


def test_trailing_zero_padding_of_a_heic_is_harmless(tmp_path, config):
    path = tmp_path / "padded.heic"
    path.write_bytes(_still("HEIF") + b"\0" * 100)
    assert _status(path, config) == (Status.CLEARED, [])


# ---------------------------------------------------------------- 3. WebP: after the RIFF data


def _webp() -> bytes:
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "WEBP", quality=90)
    return out.getvalue()


def test_control_libwebp_writes_no_bytes_after_the_riff_data():
    data = _webp()
    assert struct.unpack_from("<I", data, 4)[0] + 8 == len(data)


@pytest.mark.parametrize("padding", [b"\0", b"\0" * 4096])
def test_zero_padding_after_a_webps_riff_data_is_cleared(tmp_path, config, padding):
    path = tmp_path / "padded.webp"
    path.write_bytes(_webp() + padding)
    assert _status(path, config) == (Status.CLEARED, [])


@pytest.mark.parametrize("appended", ["jpeg", "webp"])
def test_a_face_picture_after_a_webps_riff_data_is_not_cleared(tmp_path, config, appended):
    out = io.BytesIO()
    Image.fromarray(with_face()).save(out, appended.upper())
    path = tmp_path / f"appended_{appended}.webp"
    path.write_bytes(_webp() + b"\0" * 3 + out.getvalue())
    not_cleared(path, config)


# ---------------------------------------------------------------- 4. other containers


def _bmp() -> bytes:
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "BMP")
    return out.getvalue()


def test_control_an_ordinary_bmp_is_cleared(tmp_path, config):
    path = tmp_path / "plain.bmp"
    path.write_bytes(_bmp())
    assert _status(path, config) == (Status.CLEARED, [])


def test_a_face_jpeg_appended_to_a_bmp_is_screened(tmp_path, config):
    path = tmp_path / "appended.bmp"
    path.write_bytes(_bmp() + jpeg(with_face()))
    found_face(path, config)


def test_a_face_jpeg_between_a_bmps_headers_and_its_pixels_is_screened(tmp_path, config):
    data, hidden = _bmp(), jpeg(with_face())
    (offset,) = struct.unpack_from("<I", data, 10)
    grown = data[:2] + struct.pack("<I", len(data) + len(hidden)) + data[6:10] + struct.pack("<I", offset + len(hidden))
    path = tmp_path / "gap.bmp"
    path.write_bytes(grown + data[14:offset] + hidden + data[offset:])
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), backdrop())  # the pixels a viewer shows
    found_face(path, config)


def _tiff(**kw) -> bytes:
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "TIFF", **kw)
    return out.getvalue()


@pytest.mark.parametrize("kw", [{}, {"compression": "jpeg"}, {"compression": "tiff_deflate"},
                                {"exif": exif_with_thumbnail(jpeg(backdrop((160, 120))))}],
                         ids=["plain", "jpeg strips", "deflate", "exif thumbnail"])
def test_control_an_ordinary_tiff_has_no_carried_picture(tmp_path, config, kw):
    from screening.formats import carried

    data = _tiff(**kw)
    assert carried.tiff_pictures(data) == []
    path = tmp_path / "plain.tif"
    path.write_bytes(data)
    assert _status(path, config) == (Status.CLEARED, [])


def test_control_a_multipage_tiff_with_tifffile_has_no_carried_picture():
    tifffile = pytest.importorskip("tifffile")
    from screening.formats import carried

    out = io.BytesIO()
    tifffile.imwrite(out, np.stack([backdrop(), backdrop()]), photometric="rgb", tile=(64, 64))
    assert carried.tiff_pictures(out.getvalue()) == []


def test_a_face_jpeg_appended_to_a_tiff_is_screened(tmp_path, config):
    path = tmp_path / "appended.tif"
    path.write_bytes(_tiff() + jpeg(with_face()))
    assert any("no directory points to" in v for v in imaging.load(path).views)
    found_face(path, config)


def test_a_face_png_between_a_tiffs_parts_is_screened(tmp_path, config):
    """The PNG sits between the pixels and the directory, which is copied after it (its values
    still point where they were): no directory points to the PNG, and the file does not end with it."""
    data = _tiff()
    (first,) = struct.unpack_from("<I", data, 4)
    (count,) = struct.unpack_from("<H", data, first)
    ifd = data[first:first + 2 + 12 * count] + b"\0" * 4
    out = io.BytesIO()
    Image.fromarray(with_face()).save(out, "PNG")
    hidden = out.getvalue() + b"\0" * (len(out.getvalue()) % 2)
    moved = data[:4] + struct.pack("<I", len(data) + len(hidden)) + data[8:] + hidden + ifd
    path = tmp_path / "gap.tif"
    path.write_bytes(moved)
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), backdrop())  # the pixels a viewer shows
    assert any("no directory points to" in v for v in imaging.load(path).views)
    found_face(path, config)
