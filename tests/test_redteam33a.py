"""Red team 33a: round 33's changes attacked (the false-flag relaxations of the location check:
osgrid's number labels and units, projected's MGRS, xmpplaces' nouns and parts, strings' worded runs;
the EXIF text read once per block).

Every file is built here, small (the text check runs on metadata with an OCR that reads nothing). A
case the product gets wrong is xfail(strict=True) with "RT33a-N: what, why it matters, the fix" in
its reason; controls (the same payload where the product still looks) are plain tests beside them.
RT33a-1..7 were found (flagged) at 8d64123, before this round: the round's changes cleared them.
RT33a-8/9/11 were cleared at 8d64123 too (the C2PA readers this round extended do not reach them).

High (a position or a pupil's name cleared):
- RT33a-8: a JSON-LD value object or @id in a C2PA assertion ({"@value": "Well done Amelia Hart",
  "@language": "en-GB"}, "@id": "geo:53.8008,-1.5491"): name, postcode, position never read;
- RT33a-1: a lower-case grid reference after any number ("day 2 ny 32140723"): excused as a unit;
- RT33a-3: MGRS together with 6 or 4 figures ("30UWE955623"); RT33a-4: after "GPS:", "#", "no".
Medium:
- RT33a-2: NO/SN squares after a word ("glamis no 38604680", "control card NO 4012 3087");
- RT33a-5: XMP place properties named ...PointLocation, ClipLocation, MediaLocation, AreaLocation;
- RT33a-6: a postcode alone in its own run of an unparsed APPn segment;
- RT33a-7: EXIF bytes marked read before they are read: an unprintable BYTE/UNDEFINED tag hides the
  ASCII ImageDescription at the same offset;
- RT33a-9: a GeoJSON point of strings in a C2PA assertion;
- RT33a-12: a postcode map link, short map link or what3words link in xmpRights:WebStatement;
- RT33a-11: a face's base64 percent-encoded twice (a redirect link), or its raw bytes percent-encoded.
Low: RT33a-10: "Camera S/N: SN12345678" still a grid reference (the opposite failure).
"""

from __future__ import annotations

import json
import struct

import pytest

from screening.formats import coordtext

from .test_redteam6 import backdrop, config, insert_segments, jpeg, segment  # noqa: F401
from .test_redteam9 import ascii_
from .test_redteam29 import _exif, _found, c2pa_jpeg
from .test_redteam30 import _xmp

SITE = (53.8008, -1.5491)  # the trust's site; MGRS 30U WE 95556 62335


def _captioned(text: str) -> bytes:
    """A plain JPEG whose EXIF ImageDescription is `text`."""
    return jpeg(backdrop(), exif=_exif({0x010E: ascii_(text)}))


def _read(text: str) -> bool:
    return any(p.lat is not None for p in coordtext.positions(text))


# ================================================================ OS grid references (osgrid.py)

def test_rt33a_control_a_lower_case_grid_reference_after_a_word_is_a_location(tmp_path, config):
    assert _read("Walk: ny 32140723")
    assert "location" in _found(tmp_path, config, "grid_lower.jpg", _captioned("DofE walk, camp at ny 32140723"))


# RT33a-1 (high)
LOWER_AFTER_NUMBER = ["DofE day 2 ny 32140723 camp", "Group 4 sd 12345 67890 lunch stop", "12/06/26 nn 16667 71255"]


# RT33a-1: fixed (was a strict xfail)
@pytest.mark.parametrize("caption", LOWER_AFTER_NUMBER)
def test_rt33a_1_a_lower_case_grid_reference_after_a_number_is_not_cleared(tmp_path, config, caption):
    assert _found(tmp_path, config, "grid_after_number.jpg", _captioned(caption)) & {"location", "error"}


# RT33a-2 (medium)
# RT33a-2: fixed (was a strict xfail)
@pytest.mark.parametrize("caption", ["meet at glamis no 38604680", "Orienteering, control card NO 4012 3087"])
def test_rt33a_2_a_no_or_sn_grid_reference_after_a_word_is_not_cleared(tmp_path, config, caption):
    assert _found(tmp_path, config, "grid_no.jpg", _captioned(caption)) & {"location", "error"}


def test_rt33a_control_no_square_after_a_grid_word_is_a_location():
    assert _read("Grid ref NO 4012 3087") and _read("Checkpoint 3 SN 1234 5678")


# ================================================================ MGRS (projected.py)

def test_rt33a_control_mgrs_of_ten_figures_after_a_word_is_a_location(tmp_path, config):
    assert "location" in _found(tmp_path, config, "mgrs.jpg", _captioned("Meet at 30UWE9555662335"))


# RT33a-3 (high)
# RT33a-3: fixed (was a strict xfail)
@pytest.mark.parametrize("caption", ["Meet at 30UWE955623", "Camp 30UWE9562"])
def test_rt33a_3_mgrs_of_six_or_four_figures_is_not_cleared(tmp_path, config, caption):
    assert _found(tmp_path, config, "mgrs_short.jpg", _captioned(caption)) & {"location", "error"}


# RT33a-4 (high)
# RT33a-4: fixed (was a strict xfail)
@pytest.mark.parametrize("caption", ["GPS:30UWE9555662335", "Pos:30UWE9555662335", "Checkpoint #30UWE9555662335"])
def test_rt33a_4_mgrs_after_a_key_and_colon_is_not_cleared(tmp_path, config, caption):
    assert _found(tmp_path, config, "mgrs_key.jpg", _captioned(caption)) & {"location", "error"}


def test_rt33a_control_mgrs_after_a_key_and_equals_is_a_location():
    assert _read("pos=30UWE9555662335") and _read("Location: 30UWE9555662335.")


# ================================================================ XMP place properties (xmpplaces.py)

def _xmp_place(name: str) -> bytes:
    return _xmp(f"<my:{name} xmlns:my='http://example.com/v/'>Roundhay Park</my:{name}>".encode())


@pytest.mark.parametrize("name", ["ShootingLocation", "EventCity", "TripLocation"])
def test_rt33a_control_a_vendors_place_property_is_a_location(tmp_path, config, name):
    assert "location" in _found(tmp_path, config, "place.jpg", _xmp_place(name))


# RT33a-5 (medium)
# RT33a-5: fixed (was a strict xfail)
@pytest.mark.parametrize("name", ["MeetingPointLocation", "ClipLocation", "MediaLocation", "AreaLocation",
                                  "Photocity"])
def test_rt33a_5_a_place_property_ending_in_a_part_word_is_not_cleared(tmp_path, config, name):
    assert _found(tmp_path, config, "place_part.jpg", _xmp_place(name)) & {"location", "error"}


# ================================================================ a postcode in an unparsed APPn segment (strings.py)

_BINARY_RUNS = [b"x1y2z3q", b"AB12CD34", b"k9j8h7", b"0x3Fa9", b"Q1W2E3", b"m5n6b7v", b"t8r7e6", b"z0z0zz"]


def _appn(field: bytes) -> bytes:
    """A JPEG with a vendor's APP6 segment (no reader parses it): short binary-looking runs and `field`."""
    payload = (b"QCOMTAG\x00" + b"\x00\x01".join(_BINARY_RUNS[:4]) + b"\x00" + field + b"\x00"
               + b"\x00\x02".join(_BINARY_RUNS[4:]))
    return insert_segments(jpeg(backdrop()), segment(0xE6, payload))


@pytest.mark.parametrize("field", [b"Landmark LS6 2AB", b"LS6 2AB Leeds"])
def test_rt33a_control_a_worded_postcode_in_an_appn_segment_is_a_location(tmp_path, config, field):
    assert "location" in _found(tmp_path, config, "appn.jpg", _appn(field))


# RT33a-6 (medium)
# RT33a-6: fixed (was a strict xfail)
def test_rt33a_6_a_postcode_alone_in_an_appn_run_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "appn_alone.jpg", _appn(b"LS6 2AB")) & {"location", "error"}


# ================================================================ EXIF text read once a block (captions.py)

PUPIL = "Amelia Hart"  # P3001 of tests/test_redteam6.PEOPLE


def _shared_exif(entries: list[tuple[int, int]], text: bytes) -> bytes:
    """An EXIF block whose IFD0 tags (tag, type) all point at the same `text` bytes."""
    off = 8 + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", tag, kind, len(text), off)
                                                       for tag, kind in entries)
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + text


_CONTROLLED = PUPIL.encode() + b"\x01\x02\x00"  # the name, then two control bytes: not 95% printable


def test_rt33a_control_a_pupil_in_an_ascii_tag_is_found(tmp_path, config):
    data = jpeg(backdrop(), exif=_shared_exif([(0x010E, 2)], _CONTROLLED))
    assert "text" in _found(tmp_path, config, "ascii.jpg", data)


# RT33a-7 (medium)
# RT33a-7: fixed (was a strict xfail)
@pytest.mark.parametrize("first", [(0xABCC, 1), (0xABCC, 7)], ids=["BYTE", "UNDEFINED"])
def test_rt33a_7_a_name_in_exif_text_shared_with_an_unprintable_tag_is_not_cleared(tmp_path, config, first):
    data = jpeg(backdrop(), exif=_shared_exif([first, (0x010E, 2)], _CONTROLLED))
    assert _found(tmp_path, config, "shared.jpg", data) & {"text", "error"}


# ================================================================ XMP properties the caption reader skips (xmptext.py)

def test_rt33a_control_a_map_link_as_the_rights_web_statement_is_a_location(tmp_path, config):
    body = b"<xmpRights:WebStatement>https://www.google.com/maps/@53.8008,-1.5491,17z</xmpRights:WebStatement>"
    assert "location" in _found(tmp_path, config, "web_pos.jpg", _xmp(body))


# RT33a-12 (medium)
SKIPPED_PLACES = {"a map link to a postcode": "https://www.google.com/maps/search/?api=1&amp;query=LS6+2AB",
                  "a short map link": "https://maps.app.goo.gl/Xy12AbCdEf34",
                  "a what3words link": "https://w3w.co/filled.count.soap"}


# RT33a-12: fixed (was a strict xfail)
@pytest.mark.parametrize("link", SKIPPED_PLACES.values(), ids=list(SKIPPED_PLACES))
def test_rt33a_12_a_place_link_in_a_skipped_xmp_property_is_not_cleared(tmp_path, config, link):
    body = f"<xmpRights:WebStatement>{link}</xmpRights:WebStatement>".encode()
    assert _found(tmp_path, config, "web_place.jpg", _xmp(body)) & {"location", "error"}


# ================================================================ C2PA JSON-LD (c2pa.py, c2pa_positions.py)

def _schema(doc: dict) -> bytes:
    return c2pa_jpeg("stds.schema-org.CreativeWork", json.dumps({"@context": "https://schema.org", **doc}).encode())


def test_rt33a_control_c2pa_schema_org_plain_values_are_read(tmp_path, config):
    assert "text" in _found(tmp_path, config, "ld_name.jpg", _schema({"description": f"Well done {PUPIL}"}))
    link = "https://www.google.com/maps/@53.8008,-1.5491,17z"
    assert "location" in _found(tmp_path, config, "ld_url.jpg", _schema({"@type": "Place", "url": link}))


# RT33a-8 (high; before this round too, in the readers this round extended)
LD_VALUES = {
    "a pupil's name as a language-tagged value": {"description": {"@value": f"Well done {PUPIL}", "@language": "en-GB"}},
    "a postcode as a value object": {"contentLocation": {"@type": "Place", "address": {"@value": "LS6 2AB"}}},
    "a position as a value object": {"contentLocation": {"@value": "53.8008, -1.5491"}},
    "a Place's @id as a geo: URI": {"contentLocation": {"@type": "Place", "@id": "geo:53.8008,-1.5491"}},
    "a Place's @id as a map link": {"@type": "Place", "@id": "https://www.google.com/maps/@53.8008,-1.5491,17z"},
}


# RT33a-8: fixed (was a strict xfail)
@pytest.mark.parametrize("doc", LD_VALUES.values(), ids=list(LD_VALUES))
def test_rt33a_8_a_json_ld_value_or_id_in_a_c2pa_assertion_is_not_cleared(tmp_path, config, doc):
    assert _found(tmp_path, config, "ld_value.jpg", _schema(doc)) & {"text", "location", "error"}


# RT33a-12b (medium): the same in a C2PA assertion's maker keys ('url'), which c2pa_positions reads for coordinates only
# RT33a-12b: fixed (was a strict xfail)
@pytest.mark.parametrize("link", [v.replace("&amp;", "&") for v in SKIPPED_PLACES.values()], ids=list(SKIPPED_PLACES))
def test_rt33a_12b_a_place_link_as_a_c2pa_places_url_is_not_cleared(tmp_path, config, link):
    assert _found(tmp_path, config, "ld_place_url.jpg", _schema({"@type": "Place", "url": link})) & {"location", "error"}


# RT33a-9 (medium; the RT31-9 reader's reach)
# RT33a-9: fixed (was a strict xfail)
def test_rt33a_9_a_geojson_point_of_strings_in_a_c2pa_assertion_is_not_cleared(tmp_path, config):
    doc = {"spatial": {"type": "Point", "coordinates": ["-1.5491", "53.8008"]}}
    assert _found(tmp_path, config, "ld_strings.jpg", _schema(doc)) & {"location", "error"}


def test_rt33a_control_a_geojson_point_of_numbers_in_a_c2pa_assertion_is_a_location(tmp_path, config):
    doc = {"spatial": {"type": "Point", "coordinates": [-1.5491, 53.8008]}}
    assert "location" in _found(tmp_path, config, "ld_numbers.jpg", _schema(doc))


# ================================================================ pictures written as text (textpictures.py)

def _face_texts() -> dict[str, str]:
    import base64
    import urllib.parse

    from .test_redteam30 import B64  # the face JPEG (a red square) as base64

    raw = base64.b64decode(B64)
    return {"percent-encoded base64 in a link": "https://photos.example/share?img=" + urllib.parse.quote(B64, safe=""),
            "the link inside a redirect link (encoded twice)": "https://safe.example/?u=" + urllib.parse.quote(
                "https://photos.example/share?img=" + urllib.parse.quote(B64, safe=""), safe=""),
            "the JPEG's own bytes percent-encoded in a link": "https://photos.example/up?file="
            + urllib.parse.quote(raw, safe="")}


def test_rt33a_control_percent_encoded_base64_of_a_face_is_a_face(tmp_path, config):
    from .test_redteam30 import _in_png

    text = _face_texts()["percent-encoded base64 in a link"]
    assert _found(tmp_path, config, "pct.png", _in_png(text)) & {"unknown_face", "error"}


# RT33a-11 (medium; the RT31-13 reader's reach)
# RT33a-11: fixed (was a strict xfail)
@pytest.mark.parametrize("how", ["the link inside a redirect link (encoded twice)",
                                 "the JPEG's own bytes percent-encoded in a link"])
def test_rt33a_11_a_face_percent_encoded_twice_or_as_raw_bytes_is_not_cleared(tmp_path, config, how):
    from .test_redteam30 import _in_png

    assert _found(tmp_path, config, "pct2.png", _in_png(_face_texts()[how])) & {"unknown_face", "error"}


# ================================================================ the opposite failure: ordinary text flagged

# RT33a-10 (low)
# RT33a-10: fixed (was a strict xfail)
@pytest.mark.parametrize("caption", ["Camera S/N: SN12345678", "Serial no. SN12345678"])
def test_rt33a_10_a_serial_after_its_labels_colon_is_no_position(caption):
    assert not _read(caption)


def test_rt33a_control_a_square_after_a_place_and_colon_is_a_position():
    assert _read("Dundee: NO 4012 3087")
