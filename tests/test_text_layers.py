"""Pictures written as text one layer further (formats/textlayers.py, RT25-4..11).

Hostile: a face JPEG as numbers a byte (hex with separators, unpadded hex, decimal lists), Ascii85 and
base85, gzip'd or zlib'd then written in base64 or hex, base64 written twice or more, hex of base64,
UTF-32 text; a stream cut off; a zip bomb; text nested past the limit. Controls: number lists, text
in base85's alphabet, base64 of ordinary text and of compressed text, which hold no picture."""

from __future__ import annotations

import base64
import gzip
import json
import random
import zlib

import pytest

from screening.formats import textlayers, textpictures, textunpack
from screening.formats.common import ImageError

from .test_carried_gaps import _face_jpeg

FACE = _face_jpeg()
B64 = base64.b64encode(FACE).decode()


def _nested(data: bytes, times: int) -> str:
    for _ in range(times):
        data = base64.b64encode(data)
    return data.decode()


WRITINGS = {
    "hex bytes separated by '-' (.NET BitConverter)": FACE.hex("-").upper(),
    "hex bytes separated by ':'": FACE.hex(":"),
    "unpadded hex bytes separated by spaces": " ".join(f"{c:x}" for c in FACE),
    "a JSON byte array (Node's Buffer.toJSON)": json.dumps({"type": "Buffer", "data": list(FACE)}),
    "decimal bytes separated by spaces, in lines": "\n".join(" ".join(str(c) for c in FACE[i:i + 20])
                                                              for i in range(0, len(FACE), 20)),
    "Ascii85": base64.a85encode(FACE, wrapcol=76).decode(),
    "Ascii85 between <~ ~>": base64.a85encode(FACE, adobe=True).decode(),
    "base85 (git)": base64.b85encode(FACE).decode(),
    "base64 of the gzip'd picture": base64.b64encode(gzip.compress(FACE, mtime=0)).decode(),
    "hex of the zlib'd picture": zlib.compress(FACE).hex(),
    "base64 of the gzip'd base64 text": base64.b64encode(gzip.compress(B64.encode(), mtime=0)).decode(),
    "base64 written twice": _nested(FACE, 2),
    "base64 written five times": _nested(FACE, 5),
    "hex of the base64 text": B64.encode().hex(),
    "a JSON byte array of the gzip'd picture": json.dumps(list(gzip.compress(FACE, mtime=0))),
}


@pytest.mark.parametrize("how", WRITINGS)
def test_a_face_written_one_layer_further_decodes_to_the_face(how):
    found = textpictures.text_pictures(("Caption: our trip.\n" + WRITINGS[how] + "\n(end)").encode(), "comment")
    assert [f.data[:len(FACE)] for f in found] == [FACE], (how, [f.where for f in found])


@pytest.mark.parametrize("encoding", ["utf-32-le", "utf-32-be"])
def test_a_face_written_in_utf32_text_decodes_to_the_face(encoding):
    (found,) = textpictures.text_pictures(("Note " + B64).encode(encoding), "EXIF UserComment")
    assert found.data == FACE and "UTF-32" in found.where


def _prose(n: int) -> str:
    words = "the school sports day took place on the north field with year six children running".split()
    rng = random.Random(5)
    return ". ".join(" ".join(rng.choice(words) for _ in range(12)).capitalize() for _ in range(n))


BENIGN = {
    "a list of temperatures": ", ".join(str(random.Random(i).randrange(0, 40)) for i in range(5000)),
    "a list of numbers over 255": " ".join(str(random.Random(i).randrange(0, 5000)) for i in range(5000)),
    "a list of random bytes": json.dumps(list(random.Random(6).randbytes(20_000))),
    "random bytes as dashed hex": random.Random(7).randbytes(20_000).hex("-"),
    "random printable characters without spaces": "".join(chr(random.Random(8).randrange(33, 118))
                                                          for _ in range(50_000)),
    "base64 of ordinary text": base64.b64encode(_prose(300).encode()).decode(),
    "base64 of gzip'd ordinary text": base64.b64encode(gzip.compress(_prose(300).encode(), mtime=0)).decode(),
    "base64 of base64 of random bytes": _nested(random.Random(9).randbytes(30_000), 2),
    "a megabyte of digits and spaces": "1 2 3 4 5 6 7 8 9 0 " * 50_000,
}


@pytest.mark.parametrize("what", BENIGN)
def test_control_text_that_holds_no_picture_gives_none(what):
    assert textpictures.text_pictures(BENIGN[what].encode(), "comment") == []


def test_a_gzip_stream_cut_off_gives_what_it_holds_up_to_the_cut():
    """As gunzip writes it: the picture's start, which then does not decode (the caller's error)."""
    cut = gzip.compress(FACE, mtime=0)[:-len(FACE) // 3]
    found = textpictures.text_pictures(base64.b64encode(cut), "comment")
    assert found and FACE.startswith(found[0].data[:200])


def test_a_zip_bomb_written_in_base64_is_refused():
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = bomb.compress(b"\x00" * (textunpack.MAX_UNPACKED + 1024)) + bomb.flush()
    with pytest.raises(ImageError, match="compressed data over"):
        textpictures.text_pictures(base64.b64encode(data), "comment")


def test_text_written_in_text_past_the_limit_is_refused_not_passed_over():
    with pytest.raises(ImageError, match="layers deep"):
        textpictures.text_pictures(_nested(FACE, textlayers.MAX_DEPTH + 1).encode(), "comment")


@pytest.mark.parametrize("seed", range(6))
def test_the_base85_decoders_give_what_the_standard_librarys_give(seed):
    rng = random.Random(seed)
    data = rng.randbytes(rng.randrange(0, 400)) + b"\x00" * rng.randrange(0, 12) + rng.randbytes(rng.randrange(0, 9))
    assert textlayers._A85.decode(base64.a85encode(data)) == data
    assert textlayers._B85.decode(base64.b85encode(data)) == data
    assert textlayers._B85.decode(base64.b85encode(data, pad=True)) == data + b"\x00" * (-len(data) % 4)
    assert textlayers._A85.decode(b"s8W-\"") is None  # past 2**32 - 1: not Ascii85


def test_a_picture_in_base64_inside_json_with_accented_text_inside_base64_is_found():
    inner = json.dumps({"caption": "Café trip – Year 6", "thumb": B64}, ensure_ascii=False).encode()
    (found,) = textpictures.text_pictures(base64.b64encode(inner), "comment")
    assert found.data == FACE


def test_a_picture_zlibd_after_a_header_is_found():
    (found,) = textpictures.text_pictures(base64.b64encode(b"BLOB\x00\x01" + zlib.compress(FACE)), "comment")
    assert found.data == FACE


def test_more_gzip_headers_in_one_run_than_the_limit_are_refused():
    decoys = b"".join(b"\x1f\x8b\x08" + bytes(13) for _ in range(textunpack.MAX_GZIP + 1))
    with pytest.raises(ImageError, match="gzip headers"):
        textpictures.text_pictures(base64.b64encode(decoys + gzip.compress(FACE, mtime=0)), "comment")
