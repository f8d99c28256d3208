"""The fixes of RT31-8, -13, -20, -21 and -28 (tests/test_redteam31.py), in other spellings, with controls.

- RT31-13: a face as base64 percent-encoded (lower-case escapes, a form body), split into string
  literals in other languages' ways (adjacent, PHP '.', a line continuation, single quotes), octal and
  binary byte lists with commas; controls: ordinary links, JSON captions and lists of 3-digit numbers
  hold no picture.
- RT31-28: a HEIF/AVIF in a blob or written as text is decoded and screened; a JPEG 2000 codestream
  is an error; controls: a clip's `ftyp` (isom, mp42) or the word 'ftyp' begins no picture.
- RT31-8: JSON of many tiny items and CBOR of empty arrays are refused (an error); a CBOR assertion of
  ordinary size and shape is read.
- RT31-20: overlapping EXIF text values, each a byte shorter, are an error; two tags sharing one text
  are read once and the text is found; distinct texts of two directories are both read.
- RT31-21: a store inside a box the walk skips is still read, once.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import urllib.parse

import pytest

from screening.formats import c2pa, captions, textpictures
from screening.formats.common import MetadataError
from screening.formats.exif_images import picture_starts

from .test_redteam6 import backdrop, config, jpeg  # noqa: F401
from .test_redteam29 import _C2PA, _box, _found, _pchunk, _png, _superbox
from .test_redteam30 import B64, FACE, _in_png
from .test_redteam31 import _appn, _cbor_store, _face_as

RAW = base64.b64decode(B64)


def _pictures(text: str) -> list[bytes]:
    return [blob[:len(FACE)] for _, blob in textpictures.written(text.encode("latin-1"), "comment")]


# ================================================================ RT31-13: written as text, other spellings


def _chunks(size: int = 60) -> list[str]:
    return [B64[i:i + size] for i in range(0, len(B64), size)]


WRITTEN = {
    "percent-encoded, lower-case escapes": "https://x.example/s?img=" + urllib.parse.quote(B64, safe="")
    .replace("%2F", "%2f").replace("%2B", "%2b").replace("%3D", "%3d"),
    "a form body (img=...&name=...)": "name=trip&img=" + urllib.parse.quote(B64, safe="") + "&ok=1",
    "Python adjacent literals in parentheses": "data = (\n" + "\n".join(f'    "{c}"' for c in _chunks()) + "\n)",
    "PHP '.' concatenation, single quotes": "$img = " + " .\n  ".join(f"'{c}'" for c in _chunks()) + ";",
    "a C line continuation": "char *img = " + " \\\n  ".join(f'"{c}"' for c in _chunks()) + ";",
    "JavaScript '+' across lines": "var img = " + " +\n    ".join(f'"{c}"' for c in _chunks(70)) + ";",
    "octal bytes with commas": ", ".join(f"{b:03o}" for b in RAW),
    "binary bytes in lines": "\n".join(" ".join(f"{b:08b}" for b in RAW[i:i + 8]) for i in range(0, len(RAW), 8)),
}


@pytest.mark.parametrize("text", WRITTEN.values(), ids=list(WRITTEN))
def test_a_face_written_another_way_is_read(text):
    assert FACE in _pictures(text)


def test_a_face_percent_encoded_in_a_link_is_screened_whole_path(tmp_path, config):
    text = "Shared: https://photos.example/v?id=7&img=" + urllib.parse.quote(B64, safe="")
    assert "unknown_face" in _found(tmp_path, config, "link.png", _in_png(text))


ORDINARY = {
    "links with escapes": "https://example.com/search?q=sports%20day%202026&page=2 and "
                          "https://maps.example/?q=Roundhay%20Park%2C%20Leeds",
    "JSON caption": json.dumps({"title": "Sports day", "names": ["Year 6", "Year 5"], "score": "3-1"}),
    "split literals of prose": '"Sports day " + "at the north field " + "with Year 6" ' * 20,
    "three-digit scores": " ".join(str(100 + (i * 37) % 277) for i in range(200)),
    "binary-looking serials": ", ".join("10110011" if i % 2 else "01100110" for i in range(100)),
}


@pytest.mark.parametrize("text", ORDINARY.values(), ids=list(ORDINARY))
def test_ordinary_text_holds_no_picture(text):
    assert textpictures.written(text.encode(), "comment") == []


def test_ordinary_links_in_a_caption_clear_the_whole_path(tmp_path, config):
    assert _found(tmp_path, config, "links.png", _in_png(ORDINARY["links with escapes"])) == {"cleared"}


# ================================================================ RT31-28: HEIF, AVIF, JPEG 2000


def test_an_avif_data_uri_is_now_screened_not_only_refused(tmp_path, config):
    uri = "data:image/avif;base64," + base64.b64encode(_face_as("AVIF")).decode()
    assert "unknown_face" in _found(tmp_path, config, "uri.png", _in_png(uri))


def test_a_heif_in_hex_is_screened(tmp_path, config):
    assert "unknown_face" in _found(tmp_path, config, "hex.png", _in_png(_face_as("HEIF").hex()))


def test_a_jpeg2000_codestream_in_a_segment_is_an_error(tmp_path, config):
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(backdrop((64, 48))).save(out, "JPEG2000", no_jp2=True)  # a bare codestream (.j2k)
    assert out.getvalue()[:4] == b"\xff\x4f\xff\x51"
    assert "error" in _found(tmp_path, config, "j2k.jpg", _appn(0xE9, b"XYZ\x00" + out.getvalue()))


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    return _box(b"ftyp", major + b"\x00\x00\x02\x00" + b"".join(compatible))


@pytest.mark.parametrize("blob", [_ftyp(b"isom", b"isom", b"iso2", b"mp41") + b"\x00" * 64,
                                  _ftyp(b"mp42", b"mp42", b"isom") + b"\x00" * 64, _ftyp(b"qt  ", b"qt  "),
                                  b"the word ftyp heic in a caption, ftypmif1" * 4],
                         ids=["MP4 isom", "MP4 mp42", "QuickTime", "the word"])
def test_a_clips_ftyp_or_the_word_begins_no_picture(blob):
    assert list(picture_starts(blob, 0, set())) == []


def test_a_heif_ftyp_with_a_compatible_brand_begins_a_picture():
    assert list(picture_starts(b"pad" + _ftyp(b"abcd", b"mif1", b"heic") + b"\x00" * 32, 0, set())) == [3]


def test_a_clip_in_a_segment_is_no_picture_and_clears(tmp_path, config):
    data = _appn(0xE9, b"XYZ\x00" + _ftyp(b"mp42", b"mp42", b"isom") + _box(b"free", b"\x00" * 200))
    assert _found(tmp_path, config, "clip_in_app9.jpg", data) == {"cleared"}


# ================================================================ RT31-8: items bounded by the bytes

_JSON = bytes.fromhex("6A736F6E00110010800000AA00389B71")  # JUMBF content type: JSON


def _json_store(payload: bytes) -> bytes:
    return _superbox(_C2PA, "c2pa", _superbox(_JSON, "org.example", _box(b"json", payload)))


@pytest.mark.parametrize("store", [_json_store(b"[" + b"0," * 100_000 + b"0]"),
                                   _cbor_store(b"\x9f" + b"\x80" * 100_000 + b"\xff")],
                         ids=["JSON of 0s", "CBOR of empty arrays"])
def test_many_tiny_items_are_refused(store):
    with pytest.raises(MetadataError, match="more items than its size allows"):
        c2pa.assertions(_png(_pchunk(b"caBX", store)), "PNG")


def test_many_tiny_items_make_the_file_an_error(tmp_path, config):
    data = _png(_pchunk(b"caBX", _cbor_store(b"\x9f" + b"\x00" * 100_000 + b"\xff")))
    assert "error" in _found(tmp_path, config, "tiny.png", data)


def test_an_ordinary_cbor_assertion_of_many_keys_is_read():
    pairs = b"".join(bytes([0x68]) + f"key{i:05d}".encode() + bytes([0x65]) + b"value" for i in range(3000))
    payload = b"\xb9" + struct.pack(">H", 3000) + pairs  # a map of 3000 text pairs, ~50 KB
    (found,) = c2pa.assertions(_png(_pchunk(b"caBX", _cbor_store(payload))), "PNG")
    fields = [leaf for leaf in found[1] if leaf[0][-1:] != (c2pa.JOINED,)]  # (and the object's texts joined: RT31-15)
    assert len(fields) == 3000 and fields[0] == (("key00000",), "value", True)


# ================================================================ RT31-20: EXIF text read once


def _ifds(texts: list[tuple[int, int]], blob: bytes) -> bytes:
    """A JPEG whose EXIF chains one IFD per (offset, count): an ImageDescription of `blob`'s bytes there."""
    from .test_redteam6 import insert_segments, segment

    out = bytearray(b"II*\x00" + struct.pack("<I", 8 + len(blob)) + blob)
    for i, (offset, count) in enumerate(texts):
        nxt = len(out) + 18 if i < len(texts) - 1 else 0
        out += struct.pack("<H", 1) + struct.pack("<HHII", 0x010E, 2, count, 8 + offset) + struct.pack("<I", nxt)
    return insert_segments(jpeg(backdrop()), segment(0xE1, b"Exif\x00\x00" + bytes(out)))


def test_overlapping_texts_each_a_byte_shorter_are_an_error():
    text = b"Lorem ipsum dolor sit amet. " * 1400  # ~39 KB
    with pytest.raises(MetadataError, match="more text than twice"):
        captions.photo_captions(_ifds([(0, len(text) - i) for i in range(1000)], text))


def test_one_text_shared_by_two_directories_is_read_once_and_found():
    text = b"Amelia Hart at sports day\x00"
    read = captions.photo_captions(_ifds([(0, len(text)), (0, len(text))], text))
    assert [t for _, t in read] == ["Amelia Hart at sports day"]


def test_two_texts_of_two_directories_are_both_read():
    text = b"Sports day\x00Amelia Hart\x00"
    read = captions.photo_captions(_ifds([(0, 11), (11, 12)], text))
    assert [t for _, t in read] == ["Sports day", "Amelia Hart"]


# ================================================================ RT31-21: each superbox walked once


def test_a_store_inside_a_box_the_walk_skips_is_read_once(monkeypatch):
    calls = []
    real = c2pa._decode
    monkeypatch.setattr(c2pa, "_decode", lambda *a: calls.append(1) or real(*a))
    inner = _superbox(_C2PA, "c2pa", _superbox(_JSON, "org.example", _box(b"json", b'{"caption": "Roundhay"}')))
    hidden = _superbox(_C2PA, "outer", _box(b"bfdb", b"\x00application/c2pa\x00"), _box(b"bidb", inner))
    found = c2pa.assertions(_png(_pchunk(b"caBX", hidden)), "PNG")
    assert [leaf[1] for _, leaves in found for leaf in leaves] == ["Roundhay"] and len(calls) == 1


def test_a_definite_array_ending_its_data_is_read():
    """(cbor checked a definite container's whole count against the bytes left at every item: an array
    of 30 numbers at the end of its data was refused once 20 bytes were left)"""
    from screening.formats import cbor

    assert cbor.loads(bytes([0x98, 30]) + bytes(range(1, 24)) + b"\x18\x18" * 7) == [*range(1, 24), *[24] * 7]
