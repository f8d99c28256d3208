"""Red team 31: the fixes of red teams 29 and 30 attacked (coordinates written as text, the maker's
fields, C2PA manifests), and the opposite failure (ordinary files flagged, readers that cost
too much on a small file).

Every file is built here, small (the face is a red square the stand-in face check finds; the text
check runs on metadata with an OCR that reads nothing). A case the product gets wrong is
xfail(strict=True) with "RT31-N: what, why it matters, the fix" in its reason: when a fix lands the
test passes, the xfail fails, and the mark must go. Controls (the same payload where the product
looks) are plain tests beside them.

Found, high (a pupil's name, a face or a position cleared):
- RT31-1: a position in exiftool's own spelling ("53 deg 48' 2.90\\" N, 1 deg 32' 56.80\\" W");
- RT31-2: a position as JSON ("latitude":53.8008, "lng":-1.5491) or GPX attributes, in a caption, an
  XMP value or a clip's comment;
- RT31-3: NMEA sentences ($GPRMC/$GPGGA: a dashcam's), in a caption or a clip's comment;
- RT31-4: a Google Maps place link with its DMS percent-encoded; spaced DMS with whole seconds (4b);
- RT31-5: a pupil as the camera's owner (EXIF CameraOwnerName, XMP aux:OwnerName, exifEX) or as
  EXIF 3.0's Photographer/ImageEditor;
- RT31-6: a pupil in IPTC 2:118 Contact / 2:115 Source, dc:publisher, xmpRights:UsageTerms, PNG Source;
- RT31-9: a position in a C2PA assertion under 'url', as a GeoJSON point or a position list;
- RT31-12: a pupil named with a sibling, the surname once ("Amelia and Tom Hart");
- RT31-13: a face as percent-encoded base64 in a link, as split string literals (octal/binary lower);
- RT31-15: a pupil's name split over a person's fields (schema.org givenName/familyName in C2PA, XMP);
- RT31-16: the raw file's earlier name (DNG OriginalRawFileName, crs:RawFileName);
- RT31-19: a GPS directory hung off a SubIFD or the Interop IFD (exiftool prints its GPS Position);
- RT31-22: map links percent-encoded (where1=, endcoord=, route=) or bracket-labelled (Uber);
- RT31-23: short map links (maps.app.goo.gl, goo.gl/maps, maps.apple/p), a place as what3words is;
- RT31-26: a PNG text chunk after IEND (exiftool prints '[Trailer] Comment');
- RT31-28: a face as base64 of an AVIF or JPEG 2000 in a caption, or a raw HEIF/AVIF in an APPn segment.
Medium (ordinary files flagged, costly readers, a pupil cleared in rarer shapes):
- RT31-7: MGRS "written together" matches upper-case hex identifiers and serials; longitudes past -180;
- RT31-8: a C2PA CBOR assertion of many small items holds ~130x its size (1 MB: ~10 s, ~400 MB);
- RT31-10: a pupil as a C2PA publisher; RT31-11: positions in XMP fields the caption reader skips;
- RT31-14: XMP properties ending in 'city'/'location' that are camera words (Opacity, SubjectLocation);
- RT31-17: a pupil in Photoshop path, clipping path or alpha channel names, or the Photoshop 4 caption;
- RT31-18: binary data in an unread APPn segment read as a postcode (fix29c's strings);
- RT31-20: one EXIF text shared by 1000 directories read 1000 times (65 KB -> 40 MB of captions);
- RT31-21: a nested C2PA assertion decoded once per enclosing superbox;
- RT31-24: a pupil credited after a staff member whose name holds the pupil's (the staff rule);
- RT31-25: 'Ticket no 12345678', 'Camera SN 12345678' read as OS grid references;
- RT31-27: base64 read as a caption holds 'postcodes': a portrait photo's GDepth:Data depth map;
- RT31-29: the text check's address pattern is quadratic on a run without spaces: that 124 KB PNG
  costs ~109 s of CPU (a 1 MB base64 caption, hours).
Resisted: a C2PA thumbnail (the unredacted original) in a JPEG (one segment or split), PNG caBX,
WebP; positions split over two XMP properties, PNG chunks, clip tags (lat/lng, exiftool DMS), DJI's
drone-dji GpsLongtitude; GPS rationals written as SRATIONAL, DOUBLE, FLOAT, LONG, SHORT, ASCII, one or
two values; XMP GPS in 8 spellings; big-endian UserComment UNICODE/ASCII/JIS; a second EXIF APP1, a
second WebP EXIF/XMP chunk or PNG eXIf; 23 spellings of a name (surname first, joined, NBSP, zero-width,
full-width); UK postcodes beside ordinals ('M1 1st'); the 75 real camera files of
../shared/data/exif-samples before and after fix29c (no new location, name or error finding);
60 ordinary captions with scores, times, dates, phone numbers, lens names; 20 KB runs of 35 units that
touch each coordinate pattern (no pattern over 0.5 s).
"""

from __future__ import annotations

import struct

import pytest

from screening.formats import c2pa, coordtext

from .test_redteam6 import backdrop, config, jpeg  # noqa: F401
from .test_redteam9 import ascii_
from .test_redteam29 import _C2PA, _box, _clip_kinds, _exif, _found, _pchunk, _png, _superbox, _tagged_clip
from .test_redteam30 import _iptc_jpeg, _xmp

PUPIL = "Amelia Hart"  # P3001 of tests/test_redteam6.PEOPLE
SITE = (53.8008, -1.5491)  # the trust's site


def _captioned(text: str) -> bytes:
    """A plain JPEG whose EXIF ImageDescription is `text`."""
    return jpeg(backdrop(), exif=_exif({0x010E: ascii_(text)}))


def _near_site(text: str) -> bool:
    return any(p.lat is not None and abs(p.lat - SITE[0]) < 0.01 and abs(p.lon - SITE[1]) < 0.01
               for p in coordtext.positions(text))


# ================================================================ positions written as text: controls


def test_rt31_control_a_labelled_position_in_a_caption_is_a_location(tmp_path, config):
    assert "location" in _found(tmp_path, config, "control.jpg", _captioned("Lat 53.8008 Long -1.5491"))


def test_rt31_control_dms_with_marks_is_read():
    assert _near_site("53°48'02.9\"N 1°32'56.8\"W")
    assert _near_site("53 48 02.9 N 1 32 56.8 W")


ORDINARY = [
    "Year 6 v Year 5, 3-1, 10:30, Room 12, 01/12/2026, tel 0113 496 0000",
    "Sports day 2026: 100m 14.52 s, 200m 29.87 s", "Kick off 14:30, HT 1-0, FT 2-1",
    "DSC04567 f/2.8 1/250s ISO 400 50mm", "XF 18-55mm F2.8-4 R LM OIS", "Order 43 PDT 2017",
    "Bib 53 finished 1:48:02, bib 1 at 32:56", "Height 1.52 m, weight 45.3 kg", "Invoice 12345 67890",
]


@pytest.mark.parametrize("caption", ORDINARY)
def test_rt31_control_an_ordinary_caption_with_numbers_is_no_position(caption):
    assert coordtext.positions(caption) == [] and coordtext.postcodes(caption) == []


def test_rt31_control_an_ordinary_caption_clears_the_whole_path(tmp_path, config):
    assert _found(tmp_path, config, "ordinary.jpg", _captioned(ORDINARY[0])) == {"cleared"}


# RT31-1 (high)
EXIFTOOL = "GPS Position : 53 deg 48' 2.90\" N, 1 deg 32' 56.80\" W"


# RT31-1: fixed (was a strict xfail)
def test_rt31_1_a_position_in_exiftools_spelling_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "exiftool.jpg", _captioned(EXIFTOOL)) & {"location", "error"}


# RT31-2 (high)
JSONISH = {
    "JSON latitude/longitude": '{"latitude":53.8008,"longitude":-1.5491,"accuracy":5}',
    "JSON lat/lng": '{"lat": 53.8008, "lng": -1.5491}',
    "JSON lon first": '{"lon":-1.5491,"lat":53.8008}',
    "GPX attributes": '<trkpt lat="53.8008" lon="-1.5491"><ele>40</ele></trkpt>',
}


# RT31-2: fixed (was a strict xfail)
@pytest.mark.parametrize("text", JSONISH.values(), ids=list(JSONISH))
def test_rt31_2_a_position_written_as_json_or_attributes_is_not_cleared(tmp_path, config, text):
    assert _found(tmp_path, config, "json.jpg", _captioned(text)) & {"location", "error"}


# RT31-2 (XMP): fixed (was a strict xfail)
def test_rt31_2_a_position_as_json_in_an_xmp_value_is_not_cleared(tmp_path, config):
    body = b"<my:gps xmlns:my='http://example.com/gps/'>{\"latitude\":53.8008,\"longitude\":-1.5491}</my:gps>"
    assert _found(tmp_path, config, "json_xmp.jpg", _xmp(body)) & {"location", "error"}


def test_rt31_control_a_position_split_over_two_xmp_properties_is_a_location(tmp_path, config):
    body = (b"<my:Lat xmlns:my='http://example.com/gps/'>53.8008</my:Lat>"
            b"<my:Lng xmlns:my='http://example.com/gps/'>-1.5491</my:Lng>")
    assert "location" in _found(tmp_path, config, "split_xmp.jpg", _xmp(body))


def test_rt31_control_a_clips_labelled_comment_is_a_location(tmp_path, config):
    path = _tagged_clip(tmp_path, "labelled.mkv", {"comment": "Lat 53.8008 Long -1.5491"})
    assert "location" in _clip_kinds(path, config)


# RT31-2 (clip): fixed (was a strict xfail)
def test_rt31_2_a_clips_json_comment_is_not_cleared(tmp_path, config):
    path = _tagged_clip(tmp_path, "json.mkv", {"comment": JSONISH["JSON latitude/longitude"]})
    assert _clip_kinds(path, config) & {"location", "error"}


# RT31-3 (high)
NMEA = {"RMC": "$GPRMC,103045,A,5348.048,N,00132.946,W,0.0,0.0,011226,,,A*6C",
        "GGA": "$GPGGA,103045,5348.048,N,00132.946,W,1,08,0.9,100.0,M,46.9,M,,*47"}


# RT31-3: fixed (was a strict xfail)
@pytest.mark.parametrize("sentence", NMEA.values(), ids=list(NMEA))
def test_rt31_3_an_nmea_sentence_in_a_caption_is_not_cleared(tmp_path, config, sentence):
    assert _found(tmp_path, config, "nmea.jpg", _captioned(sentence)) & {"location", "error"}


# RT31-3 (clip): fixed (was a strict xfail)
def test_rt31_3_an_nmea_sentence_in_a_clips_comment_is_not_cleared(tmp_path, config):
    path = _tagged_clip(tmp_path, "dashcam.mkv", {"comment": NMEA["RMC"]})
    assert _clip_kinds(path, config) & {"location", "error"}


# RT31-4 (high)
# RT31-4: fixed (was a strict xfail)
def test_rt31_4_a_google_maps_place_link_with_encoded_dms_is_not_cleared(tmp_path, config):
    link = "Our pitch: https://www.google.com/maps/place/53%C2%B048'02.9%22N+1%C2%B032'56.8%22W/"
    assert _found(tmp_path, config, "place_link.jpg", _captioned(link)) & {"location", "error"}


# RT31-4b: fixed (was a strict xfail)
def test_rt31_4b_spaced_dms_with_whole_seconds_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "spaced.jpg", _captioned("Taken at 53 48 3 N 1 32 57 W")) & {"location", "error"}


# ================================================================ the maker's fields


def _exif_jpeg(tag: int) -> bytes:
    return jpeg(backdrop(), exif=_exif({}, {tag: ascii_(PUPIL)}))


def _xmp_named(prefix: str, ns: str, name: str) -> bytes:
    return _xmp(f"<{prefix}:{name} xmlns:{prefix}='{ns}'>{PUPIL}</{prefix}:{name}>".encode())


def test_rt31_control_a_pupil_as_exif_artist_is_found(tmp_path, config):
    assert "text" in _found(tmp_path, config, "artist.jpg", jpeg(backdrop(), exif=_exif({0x013B: ascii_(PUPIL)})))


def test_rt31_control_a_pupil_as_photoshop_source_is_found(tmp_path, config):
    data = _xmp(f"<photoshop:Source>{PUPIL}</photoshop:Source>".encode())
    assert "text" in _found(tmp_path, config, "source.jpg", data)


OWNERS = {
    "EXIF CameraOwnerName 0xA430 ('[ExifIFD] OwnerName')": lambda: _exif_jpeg(0xA430),
    "EXIF 3.0 Photographer 0xA437": lambda: _exif_jpeg(0xA437),
    "EXIF 3.0 ImageEditor 0xA438": lambda: _exif_jpeg(0xA438),
    "XMP exifEX:CameraOwnerName": lambda: _xmp_named("exifEX", "http://cipa.jp/exif/1.0/", "CameraOwnerName"),
    "XMP exifEX:Photographer": lambda: _xmp_named("exifEX", "http://cipa.jp/exif/1.0/", "Photographer"),
    "XMP aux:OwnerName ('[XMP-aux] OwnerName', Lightroom)": lambda: _xmp_named(
        "aux", "http://ns.adobe.com/exif/1.0/aux/", "OwnerName"),
}


# RT31-5 (high)
# RT31-5: fixed (was a strict xfail)
@pytest.mark.parametrize("make", OWNERS.values(), ids=list(OWNERS))
def test_rt31_5_a_pupil_as_the_cameras_owner_or_photographer_is_not_cleared(tmp_path, config, make):
    assert "text" in _found(tmp_path, config, "owner.jpg", make())


OTHERS = {
    "IPTC 2:118 Contact": lambda: _iptc_jpeg((118, PUPIL.encode())),
    "IPTC 2:115 Source": lambda: _iptc_jpeg((115, PUPIL.encode())),
    "XMP dc:publisher": lambda: _xmp(f"<dc:publisher><rdf:Bag><rdf:li>{PUPIL}</rdf:li></rdf:Bag></dc:publisher>".encode()),
    "XMP xmpRights:UsageTerms": lambda: _xmp(
        f"<xmpRights:UsageTerms><rdf:Alt><rdf:li xml:lang='x-default'>Photo by {PUPIL}, school use only"
        f"</rdf:li></rdf:Alt></xmpRights:UsageTerms>".encode()),
    "PNG tEXt Source": lambda: _png(_pchunk(b"tEXt", b"Source\x00" + PUPIL.encode())),
}


# RT31-6 (high/medium)
# RT31-6: fixed (was a strict xfail)
@pytest.mark.parametrize("make", OTHERS.values(), ids=list(OTHERS))
def test_rt31_6_a_pupil_in_another_rights_or_source_field_is_not_cleared(tmp_path, config, make):
    data = make()
    assert "text" in _found(tmp_path, config, "other.png" if data.startswith(b"\x89PNG") else "other.jpg", data)


# ================================================================ ordinary text flagged


# RT31-7 (medium)
IDS = {"an upper-case UUID": "Ref uuid:7FEC4912-706C-99E3-81AA-AC08AD1FA0BF",
       "a serial number": "Camera serial 4QFJ12345678"}


def test_rt31_control_a_written_together_mgrs_reference_is_read():
    assert [p.what for p in coordtext.positions("Grid 30UWE9555662335")] == ["MGRS position written"]


# RT31-7: fixed (was a strict xfail)
@pytest.mark.parametrize("text", IDS.values(), ids=list(IDS))
def test_rt31_7_an_identifier_is_no_mgrs_position(tmp_path, config, text):
    assert _found(tmp_path, config, "id.jpg", _captioned(text)) == {"cleared"}


# RT31-7b: fixed (was a strict xfail)
def test_rt31_7b_an_mgrs_position_is_within_the_globe():
    found = coordtext.positions("uuid:1DBA5467-4D5C-B513-EBD7-222320FC40EC")
    assert all(-180 <= p.lon <= 180 for p in found if p.lon is not None)


# ================================================================ costly readers


_CBOR = bytes.fromhex("63626F7200110010800000AA00389B71")  # JUMBF content type: CBOR


def _cbor_store(payload: bytes) -> bytes:
    return _superbox(_C2PA, "c2pa", _superbox(_CBOR, "c2pa.actions", _box(b"cbor", payload)))


def test_rt31_control_a_small_cbor_assertion_is_read():
    found = c2pa.assertions(_png(_pchunk(b"caBX", _cbor_store(b"\x82\x61a\x61b"))), "PNG")
    assert [[leaf[1] for leaf in leaves] for _, leaves in found] == [["a", "b"]]


# RT31-8 (medium)
# RT31-8: fixed (was a strict xfail)
def test_rt31_8_a_cbor_assertion_of_many_items_holds_a_few_copies_of_it_at_most():
    import tracemalloc

    data = _png(_pchunk(b"caBX", _cbor_store(b"\x9f" + b"\x00" * 100_000 + b"\xff")))
    tracemalloc.start()
    try:
        try:
            c2pa.assertions(data, "PNG")
        except Exception:
            pass  # refused: fine, what is measured is what reading it held
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 16 * len(data), f"{peak / len(data):.1f}x the file"


# ================================================================ C2PA and skipped fields


_LINK = "https://www.google.com/maps/@53.8008,-1.5491,17z"


def _c2pa(label: str, body: dict) -> bytes:
    import json

    from .test_redteam29 import c2pa_jpeg

    return c2pa_jpeg(label, json.dumps(body).encode())


def test_rt31_control_c2pa_lat_lng_numbers_are_a_location(tmp_path, config):
    data = _c2pa("org.example.gps", {"lat": 53.8008, "lng": -1.5491})
    assert "location" in _found(tmp_path, config, "c2pa_latlng.jpg", data)


def test_rt31_control_a_pupil_as_a_c2pa_author_is_found(tmp_path, config):
    data = _c2pa("stds.schema-org.CreativeWork", {"@type": "CreativeWork", "author": [{"@type": "Person", "name": PUPIL}]})
    assert "text" in _found(tmp_path, config, "c2pa_author.jpg", data)


def test_rt31_control_an_ordinary_c2pa_actions_assertion_with_numbers_is_cleared(tmp_path, config):
    data = _c2pa("c2pa.actions", {"actions": [{"action": "c2pa.edited", "when": "2026-11-28T10:30:00Z",
                                               "parameters": {"value": 53.8008, "other": -1.5491}}]})
    assert _found(tmp_path, config, "c2pa_actions.jpg", data) == {"cleared"}


C2PA_POSITIONS = {
    "a map link under 'url'": ("stds.schema-org.CreativeWork", {"@type": "CreativeWork", "url": _LINK}),
    "a GeoJSON point": ("org.example.gps", {"type": "Point", "coordinates": [-1.5491, 53.8008]}),
    "a position list": ("org.example.gps", {"position": [53.8008, -1.5491]}),
}


# RT31-9 (high)
# RT31-9: fixed (was a strict xfail)
@pytest.mark.parametrize("case", C2PA_POSITIONS.values(), ids=list(C2PA_POSITIONS))
def test_rt31_9_a_position_in_another_c2pa_shape_is_not_cleared(tmp_path, config, case):
    assert _found(tmp_path, config, "c2pa_pos.jpg", _c2pa(*case)) & {"location", "error"}


# RT31-10 (medium: a credit field the product names as read for the photographer, but skipped)
# RT31-10: fixed (was a strict xfail)
def test_rt31_10_a_pupil_as_a_c2pa_publisher_is_not_cleared(tmp_path, config):
    data = _c2pa("stds.schema-org.CreativeWork", {"@type": "CreativeWork", "publisher": {"@type": "Person", "name": PUPIL}})
    assert "text" in _found(tmp_path, config, "c2pa_publisher.jpg", data)


SKIPPED = {
    "xmpRights:WebStatement": f"<xmpRights:WebStatement>{_LINK}</xmpRights:WebStatement>",
    "dc:identifier": f"<dc:identifier>{_LINK}</dc:identifier>",
    "photoshop:History": "<photoshop:History>Placed at 53.8008,-1.5491</photoshop:History>",
    "xmp:CreatorTool": ("<xmp:CreatorTool xmlns:xmp='http://ns.adobe.com/xap/1.0/'>GPS Map Camera 53.8008,-1.5491"
                        "</xmp:CreatorTool>"),
}


def test_rt31_control_a_map_link_in_dc_source_is_a_location(tmp_path, config):
    assert "location" in _found(tmp_path, config, "source_link.jpg", _xmp(f"<dc:source>{_LINK}</dc:source>".encode()))


# RT31-11 (medium)
# RT31-11: fixed (was a strict xfail)
@pytest.mark.parametrize("body", SKIPPED.values(), ids=list(SKIPPED))
def test_rt31_11_a_position_in_a_skipped_xmp_field_is_not_cleared(tmp_path, config, body):
    assert _found(tmp_path, config, "skipped.jpg", _xmp(body.encode())) & {"location", "error"}


# ================================================================ names and pictures written otherwise


def test_rt31_control_a_pupil_named_before_a_sibling_with_the_surname_after_is_found(tmp_path, config):
    assert "text" in _found(tmp_path, config, "siblings.jpg", _captioned("Tom and Amelia Hart"))


SIBLINGS = ["Amelia and Tom Hart", "Amelia & Tom Hart", "Amelia, Tom and Ella Hart", "Hart, Tom and Amelia"]


# RT31-12 (high)
# RT31-12: fixed (was a strict xfail)
@pytest.mark.parametrize("caption", SIBLINGS)
def test_rt31_12_a_pupil_named_with_a_sibling_and_one_surname_is_not_cleared(tmp_path, config, caption):
    assert "text" in _found(tmp_path, config, "siblings.jpg", _captioned(caption))


def test_rt31_control_a_face_as_base64_in_a_png_comment_is_a_face(tmp_path, config):
    from .test_redteam30 import B64, _in_png

    assert "unknown_face" in _found(tmp_path, config, "b64.png", _in_png(f"https://photos.example/share?img={B64}"))


def _written(how: str) -> str:
    import base64
    import json
    import urllib.parse

    from .test_redteam30 import B64

    raw = base64.b64decode(B64)
    return {"percent-encoded base64 in a link": "https://photos.example/share?img=" + urllib.parse.quote(B64, safe=""),
            "base64 as concatenated string literals": " + ".join(json.dumps(B64[i:i + 60]) for i in range(0, len(B64), 60)),
            "octal bytes": " ".join(f"{b:03o}" for b in raw),
            "binary bytes": " ".join(f"{b:08b}" for b in raw)}[how]


# RT31-13 (high for the link, low for the rest)
# RT31-13: fixed (was a strict xfail)
@pytest.mark.parametrize("how", ["percent-encoded base64 in a link", "base64 as concatenated string literals",
                                 "octal bytes", "binary bytes"])
def test_rt31_13_a_face_written_as_text_another_way_is_not_cleared(tmp_path, config, how):
    from .test_redteam30 import _in_png

    assert _found(tmp_path, config, "written.png", _in_png(_written(how))) & {"unknown_face", "error"}


# ================================================================ XMP properties taken for places


def test_rt31_control_a_vendors_shooting_location_is_a_place(tmp_path, config):
    body = b"<my:ShootingLocation xmlns:my='http://ns.example.com/cam/'>Roundhay Park</my:ShootingLocation>"
    assert "location" in _found(tmp_path, config, "shooting.jpg", _xmp(body))


NOT_PLACES = {
    "exif:SubjectLocation (a pixel: XMP-exif's Seq of two integers)":
        ("<exif:SubjectLocation xmlns:exif='http://ns.adobe.com/exif/1.0/'><rdf:Seq><rdf:li>2736</rdf:li>"
         "<rdf:li>1824</rdf:li></rdf:Seq></exif:SubjectLocation>"),
    "a layer's Opacity": "<my:LayerOpacity xmlns:my='http://ns.example.com/layers/'>100</my:LayerOpacity>",
    "a drone's FlightVelocity": "<drone:FlightVelocity xmlns:drone='http://www.dji.com/drone-dji/1.0/'>+0.00</drone:FlightVelocity>",
    "a BatteryCapacity": "<my:BatteryCapacity xmlns:my='http://ns.example.com/cam/'>85</my:BatteryCapacity>",
    "an AFPointLocation": "<my:AFPointLocation xmlns:my='http://ns.example.com/cam/'>Center</my:AFPointLocation>",
    "a FaceLocation (a box)": "<my:FaceLocation xmlns:my='http://ns.example.com/cam/'>120,80,40,40</my:FaceLocation>",
    "a StorageLocation": "<my:StorageLocation xmlns:my='http://ns.example.com/cam/'>SD card 1</my:StorageLocation>",
}


# RT31-14 (medium)
# RT31-14: fixed (was a strict xfail)
@pytest.mark.parametrize("body", NOT_PLACES.values(), ids=list(NOT_PLACES))
def test_rt31_14_a_camera_property_ending_in_city_or_location_is_no_place(tmp_path, config, body):
    assert _found(tmp_path, config, "not_place.jpg", _xmp(body.encode())) == {"cleared"}


# ================================================================ fix29c attacked: names split, earlier names, Photoshop


def test_rt31_control_a_pupil_as_a_c2pa_persons_name_is_found(tmp_path, config):
    data = _c2pa("stds.schema-org.CreativeWork", {"@type": "CreativeWork", "about": {"@type": "Person", "name": PUPIL}})
    assert "text" in _found(tmp_path, config, "c2pa_person.jpg", data)


SPLIT = {
    "C2PA author givenName/familyName (schema.org Person)": lambda: _c2pa(
        "stds.schema-org.CreativeWork",
        {"@type": "CreativeWork", "author": [{"@type": "Person", "givenName": "Amelia", "familyName": "Hart"}]}),
    "C2PA about givenName/familyName": lambda: _c2pa(
        "stds.schema-org.CreativeWork",
        {"@type": "CreativeWork", "about": {"@type": "Person", "givenName": "Amelia", "familyName": "Hart"}}),
    "XMP struct GivenName/FamilyName elements": lambda: _xmp(
        b"<my:Person xmlns:my='http://ns.example.com/p/' rdf:parseType='Resource'><my:GivenName>Amelia</my:GivenName>"
        b"<my:FamilyName>Hart</my:FamilyName></my:Person>"),
    "XMP struct GivenName/FamilyName attributes": lambda: _xmp(
        b"<my:Person xmlns:my='http://ns.example.com/p/' my:GivenName='Amelia' my:FamilyName='Hart'/>"),
}


# RT31-15 (high)
# RT31-15: fixed (was a strict xfail)
@pytest.mark.parametrize("make", SPLIT.values(), ids=list(SPLIT))
def test_rt31_15_a_pupils_name_split_over_a_persons_fields_is_not_cleared(tmp_path, config, make):
    assert "text" in _found(tmp_path, config, "split_name.jpg", make())


def test_rt31_control_a_pupils_name_in_the_tiff_document_name_is_found(tmp_path, config):
    data = jpeg(backdrop(), exif=_exif({0x010D: ascii_(f"{PUPIL} 001")}))
    assert "text" in _found(tmp_path, config, "docname.jpg", data)


EARLIER = {
    "EXIF/DNG OriginalRawFileName 0xC68B": lambda: jpeg(backdrop(), exif=_exif({0xC68B: ascii_(f"{PUPIL} 001.CR2")})),
    "XMP crs:RawFileName (Camera Raw, Lightroom)": lambda: _xmp(
        b"<crs:RawFileName xmlns:crs='http://ns.adobe.com/camera-raw-settings/1.0/'>Amelia_Hart_001.CR2</crs:RawFileName>"),
}


# RT31-16 (high/medium)
# RT31-16: fixed (was a strict xfail)
@pytest.mark.parametrize("make", EARLIER.values(), ids=list(EARLIER))
def test_rt31_16_a_pupils_name_in_the_raw_files_name_is_not_cleared(tmp_path, config, make):
    assert "text" in _found(tmp_path, config, "raw_name.jpg", make())


def _ps_resource(rid: int, body: bytes, name: bytes = b"") -> bytes:
    pname = bytes([len(name)]) + name + (b"" if len(name) % 2 else b"\x00")
    return b"8BIM" + struct.pack(">H", rid) + pname + struct.pack(">I", len(body)) + body + b"\x00" * (len(body) % 2)


def _app13(*resources: bytes) -> bytes:
    from .test_redteam6 import insert_segments, segment

    return insert_segments(jpeg(backdrop()), segment(0xED, b"Photoshop 3.0\x00" + b"".join(resources)))


def test_rt31_control_a_pupils_name_in_a_photoshop_url_resource_is_found(tmp_path, config):
    data = _app13(_ps_resource(0x040B, f"https://school.example/{PUPIL}".encode()))
    assert "text" in _found(tmp_path, config, "ps_url.jpg", data)


_P = PUPIL.encode()
PHOTOSHOP_NAMES = {
    "a path's name (resource 0x07D0, its Pascal name)": lambda: _app13(_ps_resource(0x07D0, b"\x00" * 26, _P)),
    "ClippingPathName (0x0BB7)": lambda: _app13(_ps_resource(0x0BB7, bytes([len(_P)]) + _P + b"\x00" * 8)),
    "AlphaChannelsNames (0x03EE)": lambda: _app13(_ps_resource(0x03EE, bytes([len(_P)]) + _P)),
    "Unicode alpha names (0x0415)": lambda: _app13(_ps_resource(
        0x0415, struct.pack(">I", len(PUPIL) + 1) + PUPIL.encode("utf-16-be") + b"\x00\x00")),
    "Photoshop 4 caption (0x03F0)": lambda: _app13(_ps_resource(0x03F0, bytes([len(_P)]) + _P)),
}


# RT31-17 (medium)
# RT31-17: fixed (was a strict xfail)
@pytest.mark.parametrize("make", PHOTOSHOP_NAMES.values(), ids=list(PHOTOSHOP_NAMES))
def test_rt31_17_a_pupils_name_in_another_photoshop_resource_is_not_cleared(tmp_path, config, make):
    assert "text" in _found(tmp_path, config, "ps_names.jpg", make())


# ================================================================ binary read as text


def _appn(marker: int, payload: bytes) -> bytes:
    from .test_redteam6 import insert_segments, segment

    return insert_segments(jpeg(backdrop()), segment(marker, payload))


def test_rt31_control_a_pupils_name_in_a_ducky_segment_is_found(tmp_path, config):
    assert "text" in _found(tmp_path, config, "ducky.jpg", _appn(0xEC, b"Ducky\x00\x01\x00\x00\x00\x10" + _P))


def test_rt31_control_a_vendor_segment_of_other_binary_is_cleared(tmp_path, config):
    import random

    data = _appn(0xE6, b"GoPro\x00" + random.Random(1).randbytes(4096))
    assert _found(tmp_path, config, "gopro_plain.jpg", data) == {"cleared"}


# RT31-18 (medium)
# RT31-18: fixed (was a strict xfail)
def test_rt31_18_a_vendor_segment_of_binary_data_is_no_location(tmp_path, config):
    import random

    data = _appn(0xE6, b"GoPro\x00" + random.Random(312).randbytes(4096))
    assert _found(tmp_path, config, "gopro.jpg", data) == {"cleared"}


# ================================================================ GPS directories hung elsewhere


def _gps_exif(ifds: dict) -> bytes:
    from .test_redteam9 import tiff_block

    return b"Exif\x00\x00" + tiff_block(ifds, ["ifd0"])


def test_rt31_control_a_gps_directory_off_ifd0_is_a_location(tmp_path, config):
    from .test_redteam29 import GPS

    data = jpeg(backdrop(), exif=_gps_exif({"ifd0": {0x8825: ("ifd", "gps")}, "gps": GPS}))
    assert "location" in _found(tmp_path, config, "gps_ifd0.jpg", data)


def _gps_off(where: str) -> bytes:
    from .test_redteam29 import GPS

    if where == "a SubIFD (0x014A of IFD0)":
        ifds = {"ifd0": {0x014A: ("ifd", "sub")}, "sub": {0x8825: ("ifd", "gps")}, "gps": GPS}
    else:
        ifds = {"ifd0": {0x8769: ("ifd", "exif")}, "exif": {0xA005: ("ifd", "iop")}, "iop": {0x8825: ("ifd", "gps")},
                "gps": GPS}
    return jpeg(backdrop(), exif=_gps_exif(ifds))


# RT31-19 (high)
# RT31-19: fixed (was a strict xfail)
@pytest.mark.parametrize("where", ["a SubIFD (0x014A of IFD0)", "the Interop IFD (0xA005 of the Exif IFD)"])
def test_rt31_19_gps_hung_off_another_directory_is_not_cleared(tmp_path, config, where):
    assert _found(tmp_path, config, "gps_elsewhere.jpg", _gps_off(where)) & {"location", "error"}


# ================================================================ one text read many times


def _shared_description(directories: int, size: int = 40_000) -> bytes:
    """A JPEG whose EXIF block chains `directories` IFDs, each with an ImageDescription pointing at the
    same `size` bytes of ordinary text."""
    from .test_redteam6 import insert_segments, segment

    text = (b"Lorem ipsum dolor sit amet, consectetur adipiscing. " * (size // 52 + 1))[:size - 1] + b"\x00"
    first = 8 + len(text) + len(text) % 2
    out = bytearray(b"II*\x00" + struct.pack("<I", first) + text + b"\x00" * (len(text) % 2))
    for i in range(directories):
        nxt = len(out) + 18 if i < directories - 1 else 0
        out += struct.pack("<H", 1) + struct.pack("<HHII", 0x010E, 2, len(text), 8) + struct.pack("<I", nxt)
    return insert_segments(jpeg(backdrop()), segment(0xE1, b"Exif\x00\x00" + bytes(out)))


def test_rt31_control_one_long_description_is_read_once():
    from screening.formats import captions

    data = _shared_description(1)
    assert sum(len(text) for _, text in captions.photo_captions(data)) < len(data)


# RT31-20 (medium)
# RT31-20: fixed (was a strict xfail)
def test_rt31_20_text_shared_by_many_directories_is_read_once():
    from screening.formats import captions

    data = _shared_description(1000)
    assert sum(len(text) for _, text in captions.photo_captions(data)) <= 8 * len(data)


def _nested_store(depth: int, payload: bytes) -> bytes:
    inner = _superbox(_CBOR, "c2pa.actions", _box(b"cbor", payload))
    for i in range(depth):
        inner = _superbox(_CBOR, f"level{i}", inner)
    return _superbox(_C2PA, "c2pa", inner)


def _decodes(monkeypatch, depth: int) -> int:
    calls = []
    real = c2pa._decode
    monkeypatch.setattr(c2pa, "_decode", lambda *a: calls.append(1) or real(*a))
    found = c2pa.assertions(_png(_pchunk(b"caBX", _nested_store(depth, b"\x82\x61a\x61b"))), "PNG")
    assert len(found) == 1
    return len(calls)


def test_rt31_control_an_assertion_in_its_store_is_decoded_at_most_twice(monkeypatch):
    assert _decodes(monkeypatch, 0) <= 2  # (the store's walk and the assertion's own: twice today)


# RT31-21 (medium)
# RT31-21: fixed (was a strict xfail)
def test_rt31_21_a_nested_assertion_is_decoded_no_more_than_an_unnested_one(monkeypatch):
    assert _decodes(monkeypatch, 30) <= 2


# ================================================================ map links in other shapes


def test_rt31_control_map_links_that_are_read():
    for link in ("https://maps.google.com/maps?ll=53.8008,-1.5491&z=15", "https://wego.here.com/?map=53.8008,-1.5491,15",
                 "https://www.google.com/maps/dir/53.8008,-1.5491/53.81,-1.55/"):
        assert _near_site(link), link


def test_rt31_control_a_what3words_link_is_a_place(tmp_path, config):
    assert "location" in _found(tmp_path, config, "w3w.jpg", _captioned("Meet at https://w3w.co/filled.count.soap"))


LINKS = {
    "Bing where1 with %2C": "https://www.bing.com/maps?where1=53.8008%2C-1.5491",
    "Citymapper endcoord with %2C": "https://citymapper.com/directions?endcoord=53.8008%2C-1.5491",
    "OSM directions route with %2C and %3B": ("https://www.openstreetmap.org/directions?engine=fossgis_osrm_car"
                                              "&route=53.8008%2C-1.5491%3B53.8100%2C-1.5500"),
    "Google maps/search with '+' for the space": "https://www.google.com/maps/search/53.8008,+-1.5491",
    "Uber dropoff[latitude]/[longitude]": "https://m.uber.com/ul/?dropoff[latitude]=53.8008&dropoff[longitude]=-1.5491",
}


# RT31-22 (high)
# RT31-22: fixed (was a strict xfail)
@pytest.mark.parametrize("link", LINKS.values(), ids=list(LINKS))
def test_rt31_22_a_map_link_in_another_shape_is_not_cleared(tmp_path, config, link):
    assert _found(tmp_path, config, "link.jpg", _captioned(f"Meet here: {link}")) & {"location", "error"}


SHORT = {"Google Maps share link (maps.app.goo.gl)": "https://maps.app.goo.gl/Xq3bVn7Lr2kP9sTa8",
         "old Google Maps short link (goo.gl/maps)": "https://goo.gl/maps/Xq3bVn7Lr2k",
         "Apple Maps short link (maps.apple/p)": "https://maps.apple/p/Xq3bVn7Lr2kP9s"}


# RT31-23 (medium/high)
# RT31-23: fixed (was a strict xfail)
@pytest.mark.parametrize("link", SHORT.values(), ids=list(SHORT))
def test_rt31_23_a_short_map_link_is_a_place(tmp_path, config, link):
    assert _found(tmp_path, config, "short.jpg", _captioned(f"Where we met: {link}")) & {"location", "error"}


# ================================================================ the staff rule of credits (RT30-9) attacked


def _credited(config, staff: str, pupil: str, credit: str) -> list[str]:
    from screening.detectors.text import TextDetector

    from .test_redteam6 import ReadsNothing

    detector = TextDetector(config, [("S1", staff, "staff"), ("P1", pupil, "pupil")], engine=ReadsNothing())
    return [f.target_id for f in detector.pupils_in([("EXIF Artist", credit)])]


def test_rt31_control_a_pupil_credited_before_a_staff_member_of_a_longer_name_is_found(config):
    assert _credited(config, "Amelia Hart-Jones", "Amelia Hart", "Amelia Hart, Amelia Hart-Jones") == ["P1"]


def test_rt31_control_a_staff_credit_holding_a_pupils_name_is_no_reason(config):
    assert _credited(config, "Amelia Hart-Jones", "Amelia Hart", "Amelia Hart-Jones") == []


# RT31-24 (medium: a pupil's name cleared, but the staff and pupil names must be near-identical)
# RT31-24: fixed (was a strict xfail)
def test_rt31_24_a_pupil_credited_after_a_staff_member_of_a_longer_name_is_found(config):
    assert _credited(config, "Amelia Hart-Jones", "Amelia Hart", "Amelia Hart-Jones and Amelia Hart") == ["P1"]


# ================================================================ numbers after 'No' taken for grid references


def test_rt31_control_an_os_grid_reference_is_read():
    assert [p.what for p in coordtext.positions("Walk start: SE 2967 3426")] == ["grid reference written"]


NUMBERED = ["Ticket no 12345678", "Candidate no 1234 5678", "Order No 20261128", "Receipt No 4512 3456",
            "Bib no 1234 5678", "Camera SN 12345678"]


# RT31-25 (medium)
# RT31-25: fixed (was a strict xfail)
@pytest.mark.parametrize("caption", NUMBERED)
def test_rt31_25_a_number_after_no_or_sn_is_no_grid_reference(tmp_path, config, caption):
    assert _found(tmp_path, config, "numbered.jpg", _captioned(caption)) == {"cleared"}


# ================================================================ chunks after a PNG's IEND


def _after_iend(*chunks: bytes) -> bytes:
    return _png() + b"".join(chunks)


def test_rt31_control_a_pupils_name_in_a_png_comment_before_iend_is_found(tmp_path, config):
    assert "text" in _found(tmp_path, config, "comment.png", _png(_pchunk(b"tEXt", b"Comment\x00" + _P)))


def _gps_tiff() -> bytes:
    from .test_redteam9 import tiff_block
    from .test_redteam29 import GPS

    return tiff_block({"ifd0": {0x8825: ("ifd", "gps")}, "gps": GPS}, ["ifd0"])


def test_rt31_control_gps_in_an_exif_chunk_after_iend_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "trailer_gps.png", _after_iend(_pchunk(b"eXIf", _gps_tiff()))) & {"location", "error"}


# RT31-26 (high: exiftool prints it)
# RT31-26: fixed (was a strict xfail)
def test_rt31_26_a_text_chunk_after_iend_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "trailer.png", _after_iend(_pchunk(b"tEXt", b"Comment\x00" + _P))) & {"text", "error"}


# ================================================================ base64 read as a caption


def _depth_png(seed: int, side: int = 300) -> bytes:
    """A noisy grey PNG standing in for a portrait photo's depth map."""
    import io

    import numpy as np
    from PIL import Image

    grey = np.random.default_rng(seed).integers(0, 256, (side, side), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(grey, "L").save(out, "PNG")
    return out.getvalue()


def _gdepth_png(seed: int) -> bytes:
    """A PNG whose XMP carries a depth map in GDepth:Data, as Google Camera's portrait mode writes it."""
    import base64

    packet = ("<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
              "<rdf:Description rdf:about='' xmlns:GDepth='http://ns.google.com/photos/1.0/depthmap/' "
              "GDepth:Format='RangeInverse' GDepth:Near='0.5' GDepth:Far='4.0' GDepth:Mime='image/png' GDepth:Data='"
              + base64.b64encode(_depth_png(seed)).decode() + "'/></rdf:RDF></x:xmpmeta>")
    return _png(_pchunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet.encode()))


def _places_read(data: bytes) -> list:
    """What the location check takes from the file's captions (coordtext over captions.photo_captions):
    the whole path also runs the text check, which spends ~100 s on this caption (RT31-29)."""
    from screening.formats import captions

    return [claims for _, _, claims in coordtext.caption_sources(captions.photo_captions(data))]


def test_rt31_control_a_depth_map_in_gdepth_data_holds_no_place():
    assert _places_read(_gdepth_png(23)) == []


def test_rt31_control_a_postcode_in_a_png_comment_is_read():
    assert _places_read(_png(_pchunk(b"tEXt", b"Comment\x00Our trip to LS1 3HE"))) != []


# RT31-27 (medium)
# RT31-27: fixed (was a strict xfail)
def test_rt31_27_a_depth_map_in_base64_holds_no_postcode():
    assert _places_read(_gdepth_png(24)) == []


# RT31-29 (fixed): the address pattern was quadratic on a run without spaces (5,000 characters 0.05 s,
# 20,000 0.72 s; a 120 KB base64 depth map 109 s of CPU). An address now starts a word, so the pattern
# is tried once a word, never at every character of a run: measured without timing, by that property.
def test_rt31_29_an_address_is_looked_for_where_a_word_starts_only():
    from screening.vision import names

    run = "word" + "x" * 5_000 + "@school.uk"
    assert names._ADDRESS.search(run) is not None  # from the word's start: the address is found
    assert names._ADDRESS.search(run, 1) is None  # from inside the run: never tried again there
    assert [m.group() for m in names._ADDRESS.finditer("see northfieldschool.org, mail head@tna.org.uk")] == \
        ["northfieldschool.org", "head@tna.org.uk"]


def _face_as(fmt: str) -> bytes:
    import io

    import pillow_heif
    from PIL import Image

    from .test_redteam6 import with_face

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.fromarray(with_face((160, 120), (60, 40))).save(out, fmt)
    return out.getvalue()


def test_rt31_control_a_face_as_base64_jpeg_in_a_comment_is_a_face(tmp_path, config):
    import base64

    from .test_redteam30 import _in_png

    assert "unknown_face" in _found(tmp_path, config, "b64jpeg.png", _in_png(base64.b64encode(_face_as("JPEG")).decode()))


# RT31-28 (high)
# RT31-28: fixed (was a strict xfail)
@pytest.mark.parametrize("fmt,where", [("AVIF", "base64 in a PNG comment"), ("JPEG2000", "base64 in a PNG comment"),
                                       ("HEIF", "an APP9 segment"), ("AVIF", "an APP9 segment")])
def test_rt31_28_a_face_as_avif_heif_or_jpeg2000_is_not_cleared(tmp_path, config, fmt, where):
    import base64

    from .test_redteam30 import _in_png

    if where.startswith("base64"):
        name, data = "b64.png", _in_png("Photo: " + base64.b64encode(_face_as(fmt)).decode())
    else:
        name, data = "appn.jpg", _appn(0xE9, b"XYZ\x00" + _face_as(fmt))
    assert _found(tmp_path, config, name, data) & {"unknown_face", "error"}
