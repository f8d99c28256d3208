"""Pictures in a PNG's text chunks as a reader of the text gets them (formats/png.py): raw inside
the inflated text of a zTXt or compressed iTXt chunk, or written in base64 (also as a `data:` URI)
in any text chunk; and a picture in a private chunk of an unknown type (RT15-10, searched raw).
Each is screened as a view; controls: ordinary text, base64 that is no picture, a plain picture."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from screening import imaging
from screening.model import Status

from .test_redteam6 import backdrop, config, jpeg, verdict, with_face  # noqa: F401


def xmp_thumbnail_packet(picture: bytes) -> bytes:
    """An XMP packet with `picture` as its base64 xmpGImg:image thumbnail."""
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/">'
            '<xmp:Thumbnails><rdf:Alt><rdf:li rdf:parseType="Resource"><xmpGImg:format>JPEG</xmpGImg:format>'
            f'<xmpGImg:image>{base64.b64encode(picture).decode()}</xmpGImg:image></rdf:li></rdf:Alt></xmp:Thumbnails>'
            '</rdf:Description></rdf:RDF></x:xmpmeta>').encode()


def _face_jpeg() -> bytes:
    return jpeg(with_face((160, 120), (60, 40)))


def _png(info: PngImagePlugin.PngInfo | None = None, extra: bytes = b"") -> bytes:
    """The plain scene as a PNG with `info`'s text chunks, and `extra` chunks before IEND."""
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "PNG", pnginfo=info)
    data = out.getvalue()
    return data[:-12] + extra + data[-12:]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _info(kind: str, key: str, value: str) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    if kind == "tEXt":
        info.add_text(key, value)
    elif kind == "zTXt":
        info.add_text(key, value, zip=True)
    else:
        info.add_itxt(key, value, zip=True)
    return info


def _b64(picture: bytes, lines: bool = False) -> str:
    text = base64.b64encode(picture).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76)) if lines else text


CASES = {
    "raw JPEG in an inflated zTXt": lambda pic: _png(_info("zTXt", "Comment", pic.decode("latin-1"))),
    "base64 JPEG in a zTXt": lambda pic: _png(_info("zTXt", "Thumbnail", _b64(pic))),
    "base64 JPEG in lines in a compressed iTXt": lambda pic: _png(_info("iTXt", "Preview", _b64(pic, lines=True))),
    "base64 JPEG in a tEXt": lambda pic: _png(_info("tEXt", "Description", "see " + _b64(pic))),
    "a data: URI in a compressed iTXt": lambda pic: _png(_info("iTXt", "Comment",
                                                                 "<img src='data:image/jpeg;base64," + _b64(pic) + "'>")),
    "a JPEG in a private chunk of unknown type": lambda pic: _png(extra=_chunk(b"prVw", b"\0" * 4 + pic)),
}


@pytest.mark.parametrize("case", CASES)
def test_a_face_picture_carried_in_a_png_text_or_private_chunk_is_screened_as_a_view(tmp_path, config, case):
    path = tmp_path / "carried.png"
    path.write_bytes(CASES[case](_face_jpeg()))
    s, d = verdict(path, config)
    faces = [r for r in d.reasons if r.kind.value == "unknown_face" and "PNG" in r.extra.get("view", "")]
    assert d.status is Status.NEEDS_PERMISSION and len(faces) == 1, (d.reasons, [r.error for r in s.results])
    assert faces[0].box == (60, 40, 40, 40)


@pytest.mark.parametrize("case", CASES)
def test_control_a_plain_picture_in_the_same_place_is_cleared(tmp_path, config, case):
    path = tmp_path / "plain.png"
    path.write_bytes(CASES[case](jpeg(backdrop((160, 120)))))
    assert len(imaging.load(path).views) + len(imaging.load(path).repeats) >= 2  # found and screened
    s, d = verdict(path, config)
    assert d.status is Status.CLEARED, (d.reasons, [r.error for r in s.results])


def test_control_ordinary_text_and_base64_that_is_no_picture_are_cleared(tmp_path, config):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Sports day, Year 5 relay " * 40, zip=True)
    info.add_itxt("Data", base64.b64encode(bytes(range(256)) * 8).decode(), zip=True)
    info.add_text("Key", "Qk" + "A" * 200)  # begins like a BMP in base64, decodes to no picture
    info.add_text("Empty", "")  # a text chunk with nothing after its keyword
    info.add_itxt("Plain", "uncompressed international text", zip=False)
    path = tmp_path / "text.png"
    path.write_bytes(_png(info))
    assert imaging.load(path).views == [""]
    s, d = verdict(path, config)
    assert d.status is Status.CLEARED, (d.reasons, [r.error for r in s.results])


def test_a_cut_off_base64_picture_in_a_text_chunk_makes_the_png_an_error(tmp_path, config):
    face = _face_jpeg()
    path = tmp_path / "cut.png"
    path.write_bytes(_png(_info("zTXt", "Thumbnail", _b64(face[:len(face) // 2]))))
    s, d = verdict(path, config)
    assert d.status is Status.ERROR and "written in base64" in s.results[0].error


def test_a_base64_xmp_thumbnail_in_a_png_is_screened_once(tmp_path, config):
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp_thumbnail_packet(_face_jpeg()).decode(), zip=True)
    path = tmp_path / "xmp.png"
    path.write_bytes(_png(info))
    s, d = verdict(path, config)
    faces = [r for r in d.reasons if r.kind.value == "unknown_face"]
    assert d.status is Status.NEEDS_PERMISSION and len(faces) == 1, d.reasons
    assert "XMP" in faces[0].extra["view"]
