"""Red team 33c: the last fixes of round 33 attacked (0ba3de0 896b1a3 8229e5f 8cb4b25 7c00cf1 c1e6b16).

Every file is built here, small (the register of tests/test_redteam6 holds one pupil, Amelia Hart). A
case the product gets wrong is xfail(strict=True) with "RT33c-N: what, why it matters, the fix" in its
reason; controls beside them.

High (a pupil's name or face cleared):
- RT33c-1 (a regression of 8cb4b25): the staff rule counts a staff match's words with str.split(), so
  a sibling pairing joined without spaces ("Tom/Amelia Hart", "Tom&Amelia Hart", "Tom+Amelia Hart",
  Tom Hart staff) spans "2 words" = the staff name's 2 and still explains (excuses) the pupil inside;
- RT33c-2 (a regression of 896b1a3/8229e5f): a picture percent-encoded as bytes is skipped when its
  first 8 bytes occur raw anywhere in the text; every JFIF JPEG starts FF D8 FF E0 00 10 4A 46, so one
  raw (innocent) JPEG in the same text hides any percent-encoded JPEG face after it.
- RT33c-3 (c1e6b16's reach): an XMP struct's name fields are joined from an rdf:Alt's first item only,
  and from no other container: an Alt whose first item (x-default) is empty or another language's, a
  one-item rdf:Seq/rdf:Bag, an rdf:value qualifier: "Amelia" and "Hart" never joined, cleared;
- RT33c-4 (c1e6b16's reach): a C2PA person's name fields as JSON-LD @list/@set objects, or a list of
  more than 8 values: never joined, cleared.
Medium:
- RT33c-5 (a regression of 7c00cf1): a postcode in a Photoshop resource with no text of its own (a
  plug-in's 0x0FA0, print info) now needs a word around it or a run of its own: "addr=LS6 2AB",
  "Home:LS6 2AB" or "LS62AB" among the block's binary strings are cleared (found in a caption).
Resisted: a C2PA name as a list of lists (joined).
"""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from .test_redteam6 import backdrop, config, jpeg  # noqa: F401
from .test_redteam29 import _found, _pchunk, _png
from .test_redteam30 import B64
from .test_redteam31 import _app13, _ps_resource
from .test_redteam33b import _captioned
from .test_redteam33b import _credited, _person, _xmp_person


def _xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


# ================================================================ the staff rule (credits)


@pytest.mark.parametrize("credit", ["Tom & Amelia Hart", "Tom / Amelia Hart", "Tom,Amelia Hart"])
def test_rt33c_control_a_spaced_pairing_with_a_staff_member_is_found(config, credit):  # noqa: F811
    assert _credited(config, "Tom Hart", "Amelia Hart", credit) == ["P1"]


@pytest.mark.parametrize("credit", ["Tom/Amelia Hart", "Tom&Amelia Hart", "Tom+Amelia Hart"])
def test_rt33c_control_an_unspaced_pairing_without_staff_is_found(config, credit):  # noqa: F811
    assert _credited(config, "Zed Zork", "Amelia Hart", credit) == ["P1"]


# RT33c-1: fixed (was a strict xfail)
@pytest.mark.parametrize("credit", ["Tom/Amelia Hart", "Tom&Amelia Hart", "Tom+Amelia Hart"])
def test_rt33c_1_an_unspaced_staff_pairing_excuses_no_pupil(config, credit):  # noqa: F811
    assert _credited(config, "Tom Hart", "Amelia Hart", credit) == ["P1"]


# ================================================================ pictures percent-encoded as bytes


def _pct_face() -> bytes:
    return b"https://photos.example/up?file=" + urllib.parse.quote(base64.b64decode(B64), safe="").encode()


def _in_png_bytes(text: bytes) -> bytes:
    """A plain PNG whose zero-compression iTXt Comment holds `text` as bytes (raw bytes kept)."""
    return _png(_pchunk(b"iTXt", b"Comment\x00\x00\x00\x00\x00" + text))


def test_rt33c_control_a_face_percent_encoded_as_bytes_is_read():
    from screening.formats import textpictures

    assert textpictures.written(_pct_face(), "x")


def test_rt33c_control_a_face_percent_encoded_as_bytes_in_a_png_is_not_cleared(tmp_path, config):  # noqa: F811
    assert _found(tmp_path, config, "pct.png", _in_png_bytes(_pct_face())) & {"unknown_face", "error"}


# RT33c-2: fixed (was a strict xfail)
@pytest.mark.parametrize("before", ["a whole innocent JPEG", "its 8 first bytes"])
def test_rt33c_2_a_percent_encoded_face_after_raw_jpeg_bytes_is_not_cleared(tmp_path, config, before):  # noqa: F811
    raw = jpeg(backdrop()) if before == "a whole innocent JPEG" else base64.b64decode(B64)[:8]
    data = _in_png_bytes(b"thumb " + raw + b" end. " + _pct_face())
    assert _found(tmp_path, config, "pct_after.png", data) & {"unknown_face", "error"}


# ================================================================ a name split over fields


def _alt(text: bytes, first: bytes = b"") -> bytes:
    return b"<rdf:Alt>" + first + b"<rdf:li xml:lang='en-GB'>" + text + b"</rdf:li></rdf:Alt>"


def test_rt33c_control_an_alt_with_the_name_first_is_joined(tmp_path, config):  # noqa: F811
    assert "text" in _found(tmp_path, config, "alt.jpg", _xmp_person(_alt(b"Amelia"), _alt(b"Hart")))


def test_rt33c_control_a_c2pa_name_as_lists_of_lists_is_joined(tmp_path, config):  # noqa: F811
    assert "text" in _found(tmp_path, config, "ld_lists.jpg", _person([["Amelia"]], [["Hart"]]))


def test_rt33c_control_a_c2pa_name_after_7_other_values_is_joined(tmp_path, config):  # noqa: F811
    assert "text" in _found(tmp_path, config, "ld_8.jpg", _person(["A"] * 7 + ["Amelia"], ["Hart"]))


_EMPTY, _FR = b"<rdf:li xml:lang='x-default'></rdf:li>", b"<rdf:li xml:lang='fr'>-</rdf:li>"


def _in(container: bytes, text: bytes) -> bytes:
    return b"<rdf:" + container + b"><rdf:li>" + text + b"</rdf:li></rdf:" + container + b">"


def _qualified(text: bytes) -> bytes:
    return b"<rdf:Description><rdf:value>" + text + b"</rdf:value></rdf:Description>"


XMP_SPLIT = {
    "Alt, empty x-default first": lambda: _xmp_person(_alt(b"Amelia", _EMPTY), _alt(b"Hart", _EMPTY)),
    "Alt, another language first": lambda: _xmp_person(_alt(b"Amelia", _FR), _alt(b"Hart", _FR)),
    "one-item Seq": lambda: _xmp_person(_in(b"Seq", b"Amelia"), _in(b"Seq", b"Hart")),
    "one-item Bag": lambda: _xmp_person(_in(b"Bag", b"Amelia"), _in(b"Bag", b"Hart")),
    "rdf:value qualifier": lambda: _xmp_person(_qualified(b"Amelia"), _qualified(b"Hart")),
}


# RT33c-3: fixed (was a strict xfail)
@pytest.mark.parametrize("make", XMP_SPLIT.values(), ids=list(XMP_SPLIT))
def test_rt33c_3_an_xmp_structs_name_in_other_rdf_forms_is_not_cleared(tmp_path, config, make):  # noqa: F811
    assert "text" in _found(tmp_path, config, "xmp_split.jpg", make())


C2PA_SPLIT = {
    "@list objects": lambda: _person({"@list": ["Amelia"]}, {"@list": ["Hart"]}),
    "@set objects": lambda: _person({"@set": ["Amelia"]}, {"@set": ["Hart"]}),
    "a list of 9 values": lambda: _person(["A"] * 8 + ["Amelia"], ["Hart"]),
}


# RT33c-4: fixed (was a strict xfail)
@pytest.mark.parametrize("make", C2PA_SPLIT.values(), ids=list(C2PA_SPLIT))
def test_rt33c_4_a_c2pa_persons_name_in_other_json_ld_forms_is_not_cleared(tmp_path, config, make):  # noqa: F811
    assert "text" in _found(tmp_path, config, "c2pa_split.jpg", make())


# ================================================================ Photoshop resources read as a binary block


def _plugin(field: bytes) -> bytes:
    """A plain JPEG with a plug-in's Photoshop resource (0x0FA0): two binary strings and `field`."""
    return _app13(_ps_resource(0x0FA0, b"\x00\x01\x02\x03x9Q2#\x00\x00k7@Z1\x00" + field + b"\x00\x07\x08"))


@pytest.mark.parametrize("field", [b"Address: LS6 2AB", b"LS6 2AB", b"postcode LS6 2AB"])
def test_rt33c_control_a_worded_or_lone_postcode_in_a_plugin_resource_is_found(tmp_path, config, field):  # noqa: F811
    assert "location" in _found(tmp_path, config, "ps_plugin.jpg", _plugin(field))


POSTCODE_FIELDS = [b"addr=LS6 2AB", b"Home:LS6 2AB", b"LS62AB"]


@pytest.mark.parametrize("field", POSTCODE_FIELDS)
def test_rt33c_control_the_same_postcode_in_a_caption_is_a_location(tmp_path, config, field):  # noqa: F811
    assert "location" in _found(tmp_path, config, "cap.jpg", _captioned(field.decode()))


# RT33c-5: fixed (was a strict xfail)
@pytest.mark.parametrize("field", POSTCODE_FIELDS)
def test_rt33c_5_a_keyed_postcode_in_a_plugin_resource_is_not_cleared(tmp_path, config, field):  # noqa: F811
    assert "location" in _found(tmp_path, config, "ps_plugin.jpg", _plugin(field))


def test_a_value_object_whose_value_is_not_text_joins_nothing_and_raises_nothing():
    from screening.formats import c2pa, cbor

    odd = cbor.Pairs([("@value", ["Amelia"]), ("@language", "en")])
    assert c2pa._field_text(odd) == ""
    person = cbor.Pairs([("givenName", odd), ("familyName", "Hart"), ("name", "Amelia Hart")])
    leaves = list(c2pa._leaves(person, ()))
    assert (("(fields joined)",), "Hart Amelia Hart", True) in leaves
