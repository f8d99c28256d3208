"""ISO 21496-1 gain maps (`tmap` items) in HEIC, and Photoshop resources over several APP13s
(follow-ups to RT16-2 and RT16-3). Each hostile file has its control beside it.

iOS 18 writes a `tmap` item whose inputs (`dimg` references) are the photo and Apple's gain map,
which libheif lists as an auxiliary image and which is screened: cleared. A `tmap` that takes a
hidden image nobody screens as its gain map shows that image on an HDR display: an error.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from screening import imaging
from screening.formats.avif import top_level_box
from screening.formats.common import ImageError, MetadataError
from screening.formats.heif_items import read_items
from screening.model import Status

from .heif_boxes import _box, _children, _shift_iloc, relate
from .test_redteam6 import backdrop, config, found_face, verdict, with_face  # noqa: F401

GAIN_MAP = "urn:com:apple:photo:2020:aux:hdrgainmap"


def _edit_meta(data: bytes, edit) -> bytes:
    """The file with its meta box's children rewritten by edit(list of (type, body)); iloc moved."""
    out = []
    for kind, body in _children(data, 0, len(data)):
        if kind == b"meta":
            kids = edit(_children(body, 4, len(body)))
            grown = len(body[:4] + b"".join(_box(k, b) for k, b in kids)) - len(body)
            body = body[:4] + b"".join(_box(k, _shift_iloc(b, grown) if k == b"iloc" else b) for k, b in kids)
        out.append((kind, body))
    return b"".join(_box(k, b) for k, b in out)


def with_tmap(data: bytes, inputs: list[int], tmap_id: int = 50) -> bytes:
    """A hidden `tmap` item whose `dimg` inputs are `inputs` (as iOS 18 writes: [photo, gain map])."""
    def edit(kids):
        out = []
        for k, b in kids:
            if k == b"iinf":
                infe = _box(b"infe", b"\x02\x00\x00\x01" + struct.pack(">HH", tmap_id, 0) + b"tmap\x00")
                b = b[:4] + struct.pack(">H", struct.unpack_from(">H", b, 4)[0] + 1) + b[6:] + infe
            elif k == b"iref" and inputs:
                b += _box(b"dimg", struct.pack(">HH", tmap_id, len(inputs)) + b"".join(struct.pack(">H", i) for i in inputs))
            out.append((k, b))
        return out
    return _edit_meta(data, edit)


def hide(data: bytes, item: int) -> bytes:
    """Item `item` flagged hidden (infe flags bit 0): libheif no longer lists it as an image."""
    def edit(kids):
        out = []
        for k, b in kids:
            if k == b"iinf":
                entries = [(kk, e) for kk, e in _children(b, 6, len(b))]
                entries = [(kk, e[:3] + bytes([e[3] | 1]) + e[4:] if struct.unpack_from(">H", e, 4)[0] == item else e)
                           for kk, e in entries]
                b = b[:6] + b"".join(_box(kk, e) for kk, e in entries)
            out.append((k, b))
        return out
    return _edit_meta(data, edit)


def three_image_heic(*images: np.ndarray) -> bytes:
    pillow_heif = pytest.importorskip("pillow_heif")
    heif = pillow_heif.from_pillow(Image.fromarray(images[0]))
    for pixels in images[1:]:
        heif.add_from_pillow(Image.fromarray(pixels))
    out = io.BytesIO()
    heif.save(out, quality=95)
    return out.getvalue()


@pytest.fixture
def iphone(tmp_path):
    """Item 1 the photo, item 2 its gain map (screened), item 3 another image, made hidden by tests."""
    return relate(three_image_heic(backdrop(), np.full((240, 320, 3), 40, np.uint8), with_face()), "auxl", GAIN_MAP)


def _write(tmp_path, name, data) -> str:
    (tmp_path / name).write_bytes(data)
    return tmp_path / name


def test_an_ios18_heic_whose_tmap_takes_the_photo_and_its_gain_map_is_cleared(tmp_path, config):
    clean = relate(three_image_heic(backdrop(), np.full((240, 320, 3), 40, np.uint8), backdrop()), "auxl", GAIN_MAP)
    path = _write(tmp_path, "ios18.heic", with_tmap(hide(clean, 3), [1, 2]))
    items = read_items(top_level_box(path.read_bytes(), b"meta"))
    assert items.types[50] == b"tmap" and items.targets(b"dimg", 50) == [1, 2] and items.primary == 1
    assert verdict(path, config)[1].status is Status.CLEARED


def test_a_tmap_whose_gain_map_is_a_hidden_image_nobody_screens_is_an_error(tmp_path, iphone):
    hidden = hide(iphone, 3)
    imaging.load(_write(tmp_path, "control.heic", hidden))  # the hidden face image alone: libheif drops it
    with pytest.raises(ImageError, match="tmap"):
        imaging.load(_write(tmp_path, "hostile.heic", with_tmap(hidden, [1, 3])))
    with pytest.raises(ImageError, match="input item 3"):  # whichever order it comes in
        imaging.load(_write(tmp_path, "hostile2.heic", with_tmap(hidden, [3, 1])))


def test_a_tmap_whose_input_is_a_visible_top_level_image_is_still_screened(tmp_path, iphone, config):
    found_face(_write(tmp_path, "visible.heic", with_tmap(iphone, [1, 2])), config)  # item 3: a top-level face


def test_a_tmap_whose_input_is_no_item_at_all_is_an_error(tmp_path, iphone):
    with pytest.raises(ImageError, match="input item 99"):
        imaging.load(_write(tmp_path, "missing.heic", with_tmap(hide(iphone, 3), [1, 99])))


def test_a_tmap_whose_gain_map_is_a_depth_map_that_is_not_screened_is_an_error(tmp_path):
    data = relate(three_image_heic(backdrop(), np.full((240, 320), 90, np.uint8), backdrop()), "auxl",
                  "urn:mpeg:hevc:2015:auxid:2")
    imaging.load(_write(tmp_path, "control.heic", hide(data, 3)))  # a depth map is decoded, not screened
    with pytest.raises(ImageError, match="input item 2"):
        imaging.load(_write(tmp_path, "depth_gain.heic", with_tmap(hide(data, 3), [1, 2])))


def test_a_tmap_reference_that_lists_fewer_inputs_than_it_declares_is_an_error(tmp_path, iphone):
    def miscount(kids):  # the tmap's dimg says 3 inputs and lists 2: its inputs are not known
        return [(k, b[:-8] + struct.pack(">HH", 50, 3) + b[-4:] if k == b"iref" else b) for k, b in kids]
    data = _edit_meta(with_tmap(hide(iphone, 3), [1, 2]), miscount)
    assert read_items(top_level_box(with_tmap(hide(iphone, 3), [1, 2]), b"meta")).targets(b"dimg", 50) == [1, 2]
    with pytest.raises(MetadataError, match="malformed"):
        read_items(top_level_box(data, b"meta"))
    with pytest.raises(ImageError):  # libheif refuses it too
        imaging.load(_write(tmp_path, "miscount.heic", data))


def test_items_with_32_bit_ids_are_read():
    infe = _box(b"infe", b"\x03\x00\x00\x01" + struct.pack(">IH", 70000, 0) + b"tmap\x00")
    meta = (b"\x00" * 4 + _box(b"pitm", b"\x01\x00\x00\x00" + struct.pack(">I", 1))
            + _box(b"iinf", b"\x01\x00\x00\x00" + struct.pack(">I", 1) + infe)
            + _box(b"iref", b"\x01\x00\x00\x00" + _box(b"dimg", struct.pack(">IHII", 70000, 2, 1, 70001))))
    items = read_items(meta)
    assert (items.primary, items.types, items.targets(b"dimg", 70000)) == (1, {70000: b"tmap"}, [1, 70001])
    with pytest.raises(MetadataError):
        read_items(meta[:-3])


def test_a_tmap_naming_no_inputs_is_an_error(tmp_path, iphone):
    clean = hide(iphone, 3)
    imaging.load(_write(tmp_path, "control.heic", with_tmap(clean, [1, 2])))
    with pytest.raises(ImageError, match="names no inputs"):
        imaging.load(_write(tmp_path, "no_inputs.heic", with_tmap(clean, [])))
