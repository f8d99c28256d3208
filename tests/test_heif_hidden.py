"""Image items a HEIF/AVIF decoder never shows (formats/heif_hidden.py): a HEIF item flagged hidden
that is no grid tile, thumbnail or auxiliary image of a shown image (libheif drops it), a second
AVIF image item (Pillow shows the primary only). Each is decoded from a copy of the file where it is
the primary item and screened as a view; one that cannot be decoded makes the file an error.
Controls: the same files with a plain picture in that item, and a plain one-item AVIF."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from screening import imaging
from screening.formats import heif_hidden
from screening.formats.common import ImageError
from screening.model import Status

from .test_redteam6 import backdrop, config, verdict, with_face  # noqa: F401

pillow_heif = pytest.importorskip("pillow_heif")


def _heif(second, hidden: bool = True) -> bytes:
    """A HEIC of two images (a plain scene, then `second`), the second item's infe flagged hidden."""
    out = io.BytesIO()
    heif = pillow_heif.from_pillow(Image.fromarray(backdrop()))
    heif.add_from_pillow(Image.fromarray(second))
    heif.save(out, quality=90)
    data = bytearray(out.getvalue())
    pos = data.find(b"infe")
    while pos >= 0:
        if data[pos + 4] == 2 and struct.unpack_from(">H", data, pos + 8)[0] == 2 and hidden:
            data[pos + 7] |= 1
        pos = data.find(b"infe", pos + 4)
    return bytes(data)


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _avif_parts(pixels) -> tuple[bytes, bytes, bytes]:
    """(ftyp box, ipco body, coded data) of a one-item AVIF Pillow writes."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "AVIF", quality=90)
    data = out.getvalue()
    ftyp = data[:struct.unpack_from(">I", data)[0]]
    ipco = data.index(b"ipco") - 4
    mdat = data.index(b"mdat") - 4
    return ftyp, data[ipco + 8:ipco + struct.unpack_from(">I", data, ipco)[0]], data[mdat + 8:]


def _avif(first, second, hidden: bool = False, second_data: bytes | None = None) -> bytes:
    """An AVIF of two av01 items, the first the primary; the second has its own av1C (property 5)."""
    ftyp, ipco, data1 = _avif_parts(first)
    _, ipco2, data2 = _avif_parts(second)
    data2 = data2 if second_data is None else second_data
    av1c2 = ipco2[ipco2.index(b"av1C") - 4:]
    av1c2 = av1c2[:struct.unpack_from(">I", av1c2)[0]]
    infe = lambda item, flags: _box(b"infe", bytes([2]) + flags.to_bytes(3, "big") + struct.pack(">HH", item, 0)  # noqa: E731
                                    + b"av01Color\0")

    def meta(offset: int) -> bytes:
        iloc = struct.pack(">I2BH", 0, 0x44, 0, 2) + b"".join(
            struct.pack(">HHHII", item, 0, 1, at, len(d)) for item, at, d in ((1, offset, data1), (2, offset + len(data1), data2)))
        return _box(b"meta", b"\0" * 4 + _box(b"hdlr", b"\0" * 8 + b"pict" + b"\0" * 13) + _box(b"pitm", b"\0" * 4 + b"\0\x01")
                    + _box(b"iloc", iloc) + _box(b"iinf", b"\0" * 4 + b"\0\x02" + infe(1, 0) + infe(2, int(hidden)))
                    + _box(b"iprp", _box(b"ipco", ipco + av1c2)
                           + _box(b"ipma", b"\0" * 4 + struct.pack(">I", 2) + bytes([0, 1, 4, 1, 2, 0x83, 4, 0, 2, 4, 1, 2, 0x85, 4]))))

    size = len(ftyp) + len(meta(0)) + 8
    return ftyp + meta(size) + _box(b"mdat", data1 + data2)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _face_in(tmp_path, config, name: str, data: bytes, where: str):
    s, d = verdict(_write(tmp_path, name, data), config)
    faces = [r for r in d.reasons if r.kind.value == "unknown_face" and where in r.extra.get("view", "")]
    assert d.status is Status.NEEDS_PERMISSION and len(faces) == 1, (d.reasons, [r.error for r in s.results])
    assert faces[0].box == (140, 100, 40, 40)
    assert all(r.complete for r in s.results), [r.error for r in s.results]


def test_a_face_in_a_hidden_heif_image_item_is_screened_as_a_view(tmp_path, config):
    data = _heif(with_face())
    assert len(pillow_heif.open_heif(io.BytesIO(data))) == 1  # libheif drops the hidden item
    assert heif_hidden.unshown_items(data, "HEIF") == [(2, b"hvc1")]
    _face_in(tmp_path, config, "hidden.heic", data, "hidden HEIF image item 2")


def test_control_a_heif_with_a_hidden_plain_item_or_a_shown_face_item(tmp_path, config):
    s, d = verdict(_write(tmp_path, "plain.heic", _heif(backdrop((320, 240)))), config)
    assert d.status is Status.CLEARED, (d.reasons, [r.error for r in s.results])
    shown = _heif(with_face(), hidden=False)
    assert heif_hidden.unshown_items(shown, "HEIF") == []  # libheif lists it: screened as before
    s, d = verdict(_write(tmp_path, "shown.heic", shown), config)
    assert d.status is Status.NEEDS_PERMISSION


@pytest.fixture
def avif_ok():
    from screening.formats import avif

    if not avif.supported():
        pytest.skip("this Pillow has no AVIF decoder")


@pytest.mark.parametrize("hidden", [False, True], ids=["shown", "hidden"])
def test_a_face_in_a_second_avif_image_item_is_screened_as_a_view(tmp_path, config, avif_ok, hidden):
    data = _avif(backdrop(), with_face(), hidden=hidden)
    with Image.open(io.BytesIO(data)) as img:  # Pillow shows the plain primary item
        assert img.size == (320, 240)
    assert heif_hidden.unshown_items(data, "AVIF") == [(2, b"av01")]
    _face_in(tmp_path, config, "second.avif", data, "AVIF image item 2")


def test_control_a_plain_second_avif_item_and_a_one_item_avif_are_cleared(tmp_path, config, avif_ok):
    s, d = verdict(_write(tmp_path, "plain2.avif", _avif(backdrop(), backdrop())), config)
    assert d.status is Status.CLEARED, (d.reasons, [r.error for r in s.results])
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "AVIF", quality=90)
    assert heif_hidden.unshown_items(out.getvalue(), "AVIF") == []
    s, d = verdict(_write(tmp_path, "one.avif", out.getvalue()), config)
    assert d.status is Status.CLEARED
    translucent = np.dstack([backdrop(), np.full((240, 320), 128, np.uint8)])
    out = io.BytesIO()
    Image.fromarray(translucent).save(out, "AVIF")  # its alpha is a second av01 item (auxl to the first)
    assert heif_hidden.unshown_items(out.getvalue(), "AVIF") == []


def test_a_second_avif_item_that_does_not_decode_makes_the_file_an_error(tmp_path, config, avif_ok):
    data = _avif(backdrop(), with_face(), second_data=b"\x12\x00" + b"\xff" * 200)
    with pytest.raises(ImageError, match="AVIF image item 2"):
        imaging.load(_write(tmp_path, "broken.avif", data))
    s, d = verdict(tmp_path / "broken.avif", config)
    assert d.status is Status.ERROR


def test_real_heif_files_have_no_unshown_items():
    """Grid tiles, thumbnails, gain maps of the phone files in ../shared/data are all accounted for."""
    root = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    files = [p for p in root.rglob("*") if p.suffix.lower() in (".heic", ".heif", ".avif")] if root.exists() else []
    if not files:
        pytest.skip("../shared/data is not here")
    for path in files:
        assert heif_hidden.unshown_items(path.read_bytes(), "HEIF") == [], path.name
