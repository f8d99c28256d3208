"""Pictures in the corners of a file fixed after red team 9 (RT9-1..5, 20, 21) and the text fields
of RT9-6/8: each hidden picture is seen (the stand-in face is found in it, not just "not
cleared"), and each malformed, cut-off, looping or oversized version of the new structure is an
error naming the part, never a crash and never `cleared`. Text fields that say who made the file
(EXIF Artist, IPTC By-line) stay unread.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image

from screening.formats import exif_images as ei
from screening.formats import thumbnails
from screening.formats.captions import photo_captions
from screening.formats.common import ImageError

from .test_redteam9 import (
    ascii_,
    exif_text,
    has_face,
    jfif_app0,
    jfxx_app0,
    jpeg_photo,
    long_,
    photoshop_iptc,
    photoshop_thumbnail_resource,
    preview_exif,
    short,
    small_face,
    tiff_block,
    uncompressed_thumbnail_exif,
)
from .test_redteam6 import backdrop, config, found_face, jpeg, kinds, segment, verdict  # noqa: F401

# ---------------------------------------------------------------- seen: the face is found


@pytest.mark.parametrize("where", ["IFD0", "IFD2", "SubIFD"])
def test_a_face_in_an_exif_preview_outside_ifd1_is_found(tmp_path, config, where):
    path = tmp_path / f"preview_{where}.jpg"
    path.write_bytes(jpeg(backdrop(), exif=preview_exif(where, jpeg(small_face((320, 240))))))
    found_face(path, config)


def test_a_face_in_an_uncompressed_exif_thumbnail_is_found(tmp_path, config):
    path = tmp_path / "strip_thumb.jpg"
    path.write_bytes(jpeg(backdrop(), exif=uncompressed_thumbnail_exif(small_face())))
    found_face(path, config)


def test_an_uncompressed_ycbcr_thumbnail_decodes_to_its_colours():
    rgb = small_face()
    import cv2

    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)[..., [0, 2, 1]]  # Y, Cb, Cr
    h, w = rgb.shape[:2]
    ifd1 = {0x0100: short(w), 0x0101: short(h), 0x0102: short(8, 8, 8), 0x0103: short(1), 0x0106: short(6),
            0x0111: ("blob", "strip"), 0x0115: short(3), 0x0116: short(h), 0x0117: ("size", "strip"),
            0x0212: short(1, 1)}
    block = tiff_block({"ifd0": {0x0112: short(1)}, "ifd1": ifd1}, ["ifd0", "ifd1"], {"strip": ycc.tobytes()})
    (image,) = ei.exif_images(block)
    assert image.where == "uncompressed image in EXIF IFD1"
    with Image.open(__import__("io").BytesIO(image.data)) as im:
        assert has_face(np.asarray(im.convert("RGB")))


@pytest.mark.parametrize("code", [0x10, 0x11, 0x13])
def test_a_face_in_the_jfxx_thumbnail_is_found(tmp_path, config, code):
    thumb = small_face((120, 90))
    if code == 0x11:  # palette: the face's red and the backdrop's colours, quantised
        pal = Image.fromarray(thumb).quantize(64)
        palette = bytes(pal.getpalette()[:768]).ljust(768, b"\x00")
        seg = segment(0xE0, b"JFXX\x00\x11" + bytes([120, 90]) + palette + pal.tobytes())
    else:
        seg = jfxx_app0(code, thumb)
    found_face(jpeg_photo(tmp_path, "jfxx.jpg", seg), config)


def test_a_face_in_the_jfif_header_thumbnail_is_found(tmp_path, config):
    data = jpeg(backdrop())
    (length,) = struct.unpack(">H", data[4:6])
    path = tmp_path / "jfif_thumb.jpg"
    path.write_bytes(data[:2] + jfif_app0(small_face((120, 90))) + data[4 + length:])
    found_face(path, config)


@pytest.mark.parametrize("marker", [0xE0, 0xE1])
def test_a_face_in_an_unknown_app0_or_app1_segment_is_found(tmp_path, config, marker):
    found_face(jpeg_photo(tmp_path, "app.jpg", segment(marker, b"QVCI\x00\x00" + jpeg(small_face()))), config)


def test_a_face_in_the_photoshop_thumbnail_of_a_tiff_is_found(tmp_path, config):
    import tifffile

    res = photoshop_thumbnail_resource(jpeg(small_face()))
    path = tmp_path / "photoshop.tif"
    tifffile.imwrite(path, backdrop(), photometric="rgb", extratags=[(34377, "B", len(res), res, True)])
    found_face(path, config)


def test_a_face_in_a_raw_rgb_photoshop_thumbnail_is_seen():
    w, h = 160, 120
    row = (w * 24 + 31) // 32 * 4
    rows = np.zeros((h, row), np.uint8)
    rows[:, :3 * w] = small_face().reshape(h, 3 * w)
    body = struct.pack(">IIIIIIHH", 0, w, h, row, row * h, row * h, 24, 1) + rows.tobytes()
    res = b"8BIM" + struct.pack(">H", 0x040C) + b"\x00\x00" + struct.pack(">I", len(body)) + body
    (image,) = thumbnails.photoshop_thumbnails(res, "test")
    with Image.open(__import__("io").BytesIO(image.data)) as im:
        assert has_face(np.asarray(im.convert("RGB")))


# ---------------------------------------------------------------- malformed: an error naming the part


def _error(path, config) -> str:
    _, d = verdict(path, config)
    assert "error" in kinds(d), d
    return " ".join(r.detail for r in d.reasons)


def _exif_photo(tmp_path, block: bytes, name: str = "bad.jpg"):
    path = tmp_path / name
    path.write_bytes(jpeg(backdrop(), exif=b"Exif\x00\x00" + block))
    return path


def test_an_ifd_chain_that_loops_is_an_error(tmp_path, config):
    block = bytearray(tiff_block({"ifd0": {0x0112: short(1)}, "ifd1": {0x0103: short(6)}}, ["ifd0", "ifd1"]))
    ifd1 = 8 + 2 + 12 + 4
    struct.pack_into("<I", block, ifd1 + 2 + 12, 8)  # IFD1's next points back to IFD0
    with pytest.raises(ImageError, match="loop"):
        ei.exif_images(bytes(block))
    assert "loop" in _error(_exif_photo(tmp_path, bytes(block)), config)


def test_a_subifd_list_of_thousands_is_refused():
    many = [8] * 40
    block = tiff_block({"ifd0": {0x014A: long_(*many)}}, ["ifd0"])
    with pytest.raises(ImageError, match="loop|directories"):
        ei.exif_images(block)
    far = tiff_block({"ifd0": {0x014A: long_(*range(10_000, 10_000 + 4 * 40, 4))}}, ["ifd0"])
    with pytest.raises(ImageError, match="past the end|directories"):
        ei.exif_images(far)


def test_a_preview_running_past_the_exif_block_is_an_error(tmp_path, config):
    jpg = {0x0103: short(6), 0x0201: long_(20), 0x0202: long_(1 << 20)}
    block = tiff_block({"ifd0": {0x0112: short(1), 0x014A: ("ifd", "sub")}, "sub": jpg}, ["ifd0"])
    assert "SubIFD 1 of IFD0" in _error(_exif_photo(tmp_path, block), config)


def test_a_preview_that_is_not_a_picture_is_an_error(tmp_path, config):
    block = tiff_block({"ifd0": {0x0112: short(1)}, "ifd1": {0x0103: short(6), 0x0201: ("blob", "x"),
                                                               0x0202: ("size", "x")}},
                       ["ifd0", "ifd1"], {"x": b"\xff\xd8\xff\xe0" + bytes(300)})
    assert "EXIF thumbnail" in _error(_exif_photo(tmp_path, block), config)


def _strip_ifd1(w, h, strip: bytes, over: dict) -> bytes:
    ifd1 = {0x0100: short(w), 0x0101: short(h), 0x0102: short(8, 8, 8), 0x0103: short(1), 0x0106: short(2),
            0x0111: ("blob", "strip"), 0x0115: short(3), 0x0116: short(h), 0x0117: ("size", "strip"), **over}
    return tiff_block({"ifd0": {0x0112: short(1)}, "ifd1": ifd1}, ["ifd0", "ifd1"], {"strip": strip})


@pytest.mark.parametrize("case,match", [
    ("cut-off", "cut off"), ("lzw", "LZW image in EXIF IFD1 is not read"), ("16-bit", "is not read"),
    ("subsampled", "is not read"), ("huge", "too large"), ("split-jpeg", "split over strips")])
def test_an_unreadable_strip_image_is_an_error(tmp_path, config, case, match):
    pixels = small_face().tobytes()
    over = {"cut-off": {}, "lzw": {0x0103: short(5)}, "16-bit": {0x0102: short(16, 16, 16)},
            "subsampled": {0x0106: short(6), 0x0212: short(2, 1)}, "huge": {0x0100: long_(50_000), 0x0101: long_(50_000)},
            "split-jpeg": {0x0103: short(7)}}[case]
    block = _strip_ifd1(160, 120, pixels[:1000] if case == "cut-off" else pixels, over)
    with pytest.raises(ImageError, match=match):
        ei.exif_images(block)
    assert "error" in kinds(verdict(_exif_photo(tmp_path, block), config)[1])


def test_too_many_pictures_in_one_exif_block_is_an_error():
    preview = jpeg(backdrop((64, 48)))
    names = [f"ifd{i}" for i in range(ei.MAX_IMAGES + 2)]
    blobs = {f"jpg{i}": preview for i in range(len(names))}
    ifds = {n: {0x0103: short(6), 0x0201: ("blob", f"jpg{i}"), 0x0202: ("size", f"jpg{i}")} for i, n in enumerate(names)}
    with pytest.raises(ImageError, match="more than"):
        ei.exif_images(tiff_block(ifds, names, blobs))


@pytest.mark.parametrize("payload,match", [
    (b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01" + bytes([100, 100]) + bytes(300), "cut off"),
    (b"JFXX\x00\x13" + bytes([100, 100]) + bytes(300), "cut off"),
    (b"JFXX\x00\x11" + bytes([100, 100]) + bytes(800), "cut off"),
    (b"JFXX\x00\x12" + bytes(300), "unknown kind"),
    (b"JFXX\x00\x10" + b"\xff\xd8\xff" + bytes(300), "JFXX extension thumbnail")])
def test_a_malformed_jfif_or_jfxx_thumbnail_is_an_error(tmp_path, config, payload, match):
    if match != "JFXX extension thumbnail":
        with pytest.raises(ImageError, match=match):
            thumbnails.jfif_thumbnails(payload, 2)
    assert match in _error(jpeg_photo(tmp_path, "jfxx.jpg", segment(0xE0, payload)), config)


def test_a_cut_off_photoshop_thumbnail_of_a_tiff_is_an_error(tmp_path, config):
    import tifffile

    res = photoshop_thumbnail_resource(jpeg(small_face())[:400])
    path = tmp_path / "photoshop.tif"
    tifffile.imwrite(path, backdrop(), photometric="rgb", extratags=[(34377, "B", len(res), res, True)])
    assert "Photoshop thumbnail" in _error(path, config)


def test_a_clips_xmp_thumbnail_makes_it_an_error_naming_the_picture(tmp_path, config):
    from .clips import write_clip
    from .test_redteam9 import xmp_thumbnail_packet
    from .test_video import _box

    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    path = tmp_path / "xmp_thumb.mp4"
    path.write_bytes(data + _box(b"uuid", bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
                                 + xmp_thumbnail_packet(jpeg(small_face()))))
    assert "holds a picture" in _error(path, config)


# ---------------------------------------------------------------- text: read all but who made it


def test_every_exif_text_tag_is_read_but_the_makers(tmp_path):
    block = exif_text({0x013B: ascii_("Amelia Hart"), 0x8298: ascii_("Amelia Hart 2026"), 0x010D: ascii_("Doc Name"),
                       0x010F: ascii_("Canon")}, {0xA436: ascii_("Title Here"), 0xA437: ascii_("Photographer X")})
    texts = dict(photo_captions(jpeg(backdrop(), exif=block)))
    assert texts.get("EXIF image title") == "Title Here"
    assert "Doc Name" in texts.values()
    assert not {"Amelia Hart", "Amelia Hart 2026", "Canon", "Photographer X"} & set(texts.values())


def test_every_iptc_dataset_is_read_but_creator_credit_copyright_and_dates(tmp_path):
    seg = photoshop_iptc((80, b"By Line Person"), (110, b"Credit Person"), (116, b"(c) Someone"), (55, b"20260101"),
                         (40, b"Instructions text"), (199, b"Private dataset text"))
    data = jpeg(backdrop())
    from .test_redteam6 import insert_segments

    texts = dict(photo_captions(insert_segments(data, seg)))
    assert texts.get("IPTC special instructions") == "Instructions text"
    assert texts.get("IPTC 2:199") == "Private dataset text"
    assert not {"By Line Person", "Credit Person", "(c) Someone", "20260101"} & set(texts.values())


def test_a_face_after_the_jfif_header_thumbnail_is_found(tmp_path, config):
    data = jpeg(backdrop())
    (length,) = struct.unpack(">H", data[4:6])
    seg = segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00" + jpeg(small_face()))
    path = tmp_path / "jfif_tail.jpg"
    path.write_bytes(data[:2] + seg + data[4 + length:])
    found_face(path, config)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_a_face_in_an_exif_subifd_preview_of_a_png_or_webp_is_found(tmp_path, config, fmt):
    path = tmp_path / f"preview.{fmt.lower()}"
    exif = preview_exif("SubIFD", jpeg(small_face((320, 240))))
    Image.fromarray(backdrop()).save(path, fmt, exif=exif, **({"lossless": True} if fmt == "WEBP" else {}))
    found_face(path, config)


# ---------------------------------------------------------------- a picture in the EXIF block that no directory lists


def _maker_note_exif(blob: bytes) -> bytes:
    """An EXIF block whose IFD0 carries a MakerNote-like UNDEFINED value holding `blob` (a maker
    note's own structure points to its preview; no EXIF directory does)."""
    return b"Exif\x00\x00" + tiff_block({"ifd0": {0x0112: short(1), 0x927C: (7, len(blob), blob)}}, ["ifd0"])


def test_a_face_in_a_jpeg_inside_a_maker_note_is_found(tmp_path, config):
    path = tmp_path / "maker_note_preview.jpg"
    note = b"Nikon\x00\x02\x10\x00\x00" + bytes(40) + jpeg(small_face((320, 240))) + bytes(16)
    path.write_bytes(jpeg(backdrop(), exif=_maker_note_exif(note)))
    found_face(path, config)


def test_three_bytes_that_only_look_like_a_jpeg_start_in_a_maker_note_are_not_a_picture():
    numbers = struct.pack("<8h", -3, -40, -2, 7, -1, -40, -9, 0)  # ... ff d8 ff ... in signed shorts
    assert b"\xff\xd8\xff" in numbers
    block = tiff_block({"ifd0": {0x927C: (7, len(numbers), numbers)}}, ["ifd0"])
    assert ei.exif_images(block) == []


def test_a_listed_preview_is_not_counted_again_as_unlisted():
    block = preview_exif("IFD0", jpeg(small_face((320, 240))))[6:]
    (only,) = ei.exif_images(block)
    assert "EXIF IFD0" in only.where


def test_a_face_in_the_iptc_preview_is_found(tmp_path, config):
    """IPTC 2:202 ObjectPreviewData: a preview picture inside the IPTC record itself."""
    preview = jpeg(small_face())
    assert len(preview) < 60000  # one APP13 segment
    path = jpeg_photo(tmp_path, "iptc_preview.jpg", photoshop_iptc((200, b"\x00\x0b"), (202, preview)))
    found_face(path, config)


def test_an_iptc_preview_that_is_no_picture_is_an_error(tmp_path, config):
    path = jpeg_photo(tmp_path, "iptc_preview_bad.jpg", photoshop_iptc((202, b"not a picture at all")))
    assert "IPTC preview" in _error(path, config)
