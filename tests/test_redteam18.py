"""Red team, round 18: the pictures carried in HEIF/AVIF boxes, clips' boxes and TIFF gaps
(formats/carried.py, 0.9.0). Each hostile file is built here and the SAFE outcome (never
`cleared`) asserted beside a control showing the same picture is found when carried where the
new search looks. A case the product gets wrong is xfail(strict) with its RT18 number.
Faces are the stand-in of tests/test_video.py (a pure red square is a face)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from screening.model import Status

from .clips import write_clip
from .test_carried_pictures import _still
from .test_redteam6 import backdrop, config, found_face, jpeg, not_cleared, verdict, with_face  # noqa: F401


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _status(path, config):
    s, d = verdict(path, config)
    return d.status, [r.error for r in s.results if r.error]


# ---------------------------------------------------------------- RT18-1/2: a picture in the `ftyp` box


def _shift_iloc_in_place(data: bytearray, delta: int) -> None:
    from .heif_boxes import _shift_iloc

    at = data.index(b"iloc") - 4
    (size,) = struct.unpack_from(">I", data, at)
    data[at + 8:at + size] = _shift_iloc(bytes(data[at + 8:at + size]), delta)


def _small_face() -> bytes:
    """A 64x64 thumbnail-sized JPEG (2 kB) with the stand-in face: libheif refuses an ftyp of
    more than its limit of minor brands, and a bigger picture makes that many."""
    return jpeg(with_face((64, 64), (4, 4)))


def _in_ftyp(data: bytes, extra: bytes) -> bytes:
    """The file with `extra` (padded to whole brands) added at the end of its `ftyp` box, which
    stays first; every later offset (HEIF iloc, MP4 stco) moved by as much."""
    extra += b"\0" * (-len(extra) % 4)
    (size,) = struct.unpack_from(">I", data, 0)
    assert data[4:8] == b"ftyp"
    out = bytearray(struct.pack(">I", size + len(extra)) + data[4:size] + extra + data[size:])
    if b"iloc" in out:
        _shift_iloc_in_place(out, len(extra))
    at = out.find(b"stco")
    while at >= 0:
        (count,) = struct.unpack_from(">I", out, at + 8)
        for i in range(count):
            (v,) = struct.unpack_from(">I", out, at + 12 + 4 * i)
            struct.pack_into(">I", out, at + 12 + 4 * i, v + len(extra))
        at = out.find(b"stco", at + 4)
    assert b"co64" not in out
    return bytes(out)


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_control_a_heic_with_brands_padding_in_ftyp_and_a_face_in_a_free_box(tmp_path, config, fmt):
    plain = tmp_path / f"plain.{fmt.lower()}"
    plain.write_bytes(_in_ftyp(_still(fmt), b"mif1" * 4))
    assert _status(plain, config) == (Status.CLEARED, [])
    free = tmp_path / f"free.{fmt.lower()}"
    free.write_bytes(_in_ftyp(_still(fmt), b"mif1" * 4) + _box(b"free", _small_face()))
    found_face(free, config)


@pytest.mark.xfail(strict=True, reason="RT18-1: heif_pictures skips the `ftyp` box whole; a JPEG after its "
                   "brands is carried where no search looks (binwalk/foremost carve it)")
@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_a_face_jpeg_inside_the_ftyp_box_of_a_heic_is_not_cleared(tmp_path, config, fmt):
    path = tmp_path / f"ftyp.{fmt.lower()}"
    path.write_bytes(_in_ftyp(_still(fmt), _small_face()))
    not_cleared(path, config)


def _clip(tmp_path) -> bytes:
    return write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()


def test_control_a_clip_with_brands_padding_in_ftyp_is_cleared_and_a_free_box_picture_is_not(tmp_path, config):
    plain = tmp_path / "brands.mp4"
    plain.write_bytes(_in_ftyp(_clip(tmp_path), b"isom" * 4))
    assert _status(plain, config) == (Status.CLEARED, [])
    free = tmp_path / "free.mp4"
    free.write_bytes(_in_ftyp(_clip(tmp_path), b"isom" * 4) + _box(b"free", _small_face()))
    status, errors = _status(free, config)
    assert status is Status.ERROR and any("holds a picture" in e for e in errors), errors


@pytest.mark.xfail(strict=True, reason="RT18-2: clip_pictures skips `ftyp` (as `mdat`); a thumbnail JPEG "
                   "after the brands is never seen")
def test_a_face_jpeg_inside_the_ftyp_box_of_a_clip_is_not_cleared(tmp_path, config):
    path = tmp_path / "ftyp.mp4"
    path.write_bytes(_in_ftyp(_clip(tmp_path), _small_face()))
    not_cleared(path, config)


# ---------------------------------------------------------------- RT18-3..6: TIFF bytes a tag "covers"


def _tiff(extra: list, tail: bytes, strip_extra: int = 0, size=(320, 240)) -> bytes:
    """A little-endian RGB TIFF of backdrop(): header, pixels, `tail`, then IFD0. `extra`: more
    IFD0 entries (tag, type, count, value or None for the tail's offset), kept sorted; a value
    that is a callable gets the tail's offset. StripByteCounts is `strip_extra` bytes longer."""
    pixels = backdrop(size).tobytes()
    h, w = backdrop(size).shape[:2]
    tail_at = 8 + len(pixels)
    ifd_at = tail_at + len(tail)
    ifd_at += ifd_at % 2
    bps_at = None
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 3, "bps"), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, 8), (277, 3, 1, 3), (278, 3, 1, h), (279, 4, 1, len(pixels) + strip_extra)]
    entries += [(t, k, n, v(tail_at) if callable(v) else v) for t, k, n, v in extra]
    entries.sort()
    bps_at = ifd_at + 2 + 12 * len(entries) + 4
    body = b""
    for tag, kind, n, value in entries:
        if value == "bps":
            body += struct.pack("<HHII", tag, kind, n, bps_at)
        elif kind == 3 and n == 1:
            body += struct.pack("<HHIHH", tag, kind, n, value, 0)
        else:
            body += struct.pack("<HHII", tag, kind, n, value)
    head = b"II*\x00" + struct.pack("<I", ifd_at) + pixels + tail
    head += b"\0" * (ifd_at - len(head))
    return head + struct.pack("<H", len(entries)) + body + b"\0" * 4 + struct.pack("<3H", 8, 8, 8)


def _private_ifd(picture: bytes):
    """A tail: a one-entry IFD (private tag 0xC5A0, UNDEFINED, the picture), then the picture;
    the pointer to it is the tail's offset."""
    def tail(at: int) -> bytes:
        return struct.pack("<HHHII", 1, 0xC5A0, 7, len(picture), at + 2 + 12 + 4) + b"\0" * 4 + picture
    return tail


def test_control_a_hand_built_tiff_is_cleared_and_a_face_jpeg_in_its_gap_is_found(tmp_path, config):
    plain = tmp_path / "plain.tif"
    plain.write_bytes(_tiff([], b""))
    assert _status(plain, config) == (Status.CLEARED, [])
    gap = tmp_path / "gap.tif"
    gap.write_bytes(_tiff([], jpeg(with_face())))
    found_face(gap, config)
    private = tmp_path / "private_tag.tif"  # a private tag of IFD0 holding it: tag_images
    face = jpeg(with_face())
    private.write_bytes(_tiff([(0xC5A0, 7, len(face), lambda at: at)], face))
    found_face(private, config)


@pytest.mark.xfail(strict=True, reason="RT18-3: tags 513/514 of a TIFF's IFD0 (exiftool's ThumbnailImage) "
                   "make the JPEG 'covered' in tiff_pictures, yet nothing screens it: tag_images skips a "
                   "4-byte pointer and a TIFF's EXIF pictures are not read (exif=False)")
def test_a_face_jpeg_thumbnail_pointed_to_by_jpeginterchangeformat_in_a_tiff_is_not_cleared(tmp_path, config):
    face = jpeg(with_face())
    path = tmp_path / "thumb513.tif"
    path.write_bytes(_tiff([(513, 4, 1, lambda at: at), (514, 4, 1, len(face))], face))
    not_cleared(path, config)


@pytest.mark.xfail(strict=True, reason="RT18-4: _tiff_covered walks the GPS/Interop IFDs and covers their "
                   "tags' values; tag_images walks only the pages and the Exif IFD: a picture in a private tag "
                   "of a GPS or Interop IFD is screened by no one")
@pytest.mark.parametrize("pointer", [34853, 40965], ids=["GPS IFD", "Interop IFD"])
def test_a_face_jpeg_in_a_private_tag_of_a_gps_or_interop_ifd_is_not_cleared(tmp_path, config, pointer):
    tail = _private_ifd(jpeg(with_face()))
    path = tmp_path / f"ifd{pointer}.tif"
    path.write_bytes(_tiff([(pointer, 4, 1, lambda at: at)], tail(8 + backdrop().nbytes)))
    not_cleared(path, config)


@pytest.mark.xfail(strict=True, reason="RT18-5: an Exif pointer typed SHORT: _tiff_covered follows it "
                   "(any integer type), tag_images only LONG/IFD: the Exif IFD's private tag is covered, unsearched")
def test_a_face_jpeg_in_an_exif_ifd_pointed_to_by_a_short_is_not_cleared(tmp_path, config):
    tail = _private_ifd(jpeg(with_face()))
    at = 8 + backdrop((64, 48)).nbytes  # within a SHORT's reach
    path = tmp_path / "exif_short.tif"
    path.write_bytes(_tiff([(34665, 3, 1, at)], tail(at), size=(64, 48)))
    not_cleared(path, config)


@pytest.mark.xfail(strict=True, reason="RT18-6: a StripByteCounts longer than the pixels covers a JPEG "
                   "after them: tiff_pictures trusts the declared span, the decoder reads only the pixels")
def test_a_face_jpeg_inside_an_overlong_strip_of_a_tiff_is_not_cleared(tmp_path, config):
    face = jpeg(with_face())
    path = tmp_path / "overlong_strip.tif"
    path.write_bytes(_tiff([], face, strip_extra=len(face)))
    not_cleared(path, config)
