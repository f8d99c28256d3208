"""Location written as codes, in other spellings, in two fields or in GeoTIFF tags (RT29-18/19/20/25/26/29/31/32):
the variants the red team's cases stand for, and the ordinary files and captions that must stay cleared."""

from __future__ import annotations

import struct

import pytest

from screening.formats import coordpairs, coordtext, geocodes, geotiff, projected
from screening.formats.geotags import Place
from screening.formats.osgrid import grid_refs

from .test_redteam6 import backdrop, config, jpeg  # noqa: F401
from .test_redteam9 import ascii_
from .test_redteam29 import (_PS_NS, _clip_kinds, _described, _exif, _found, _geotiff, _pchunk, _plus_code, _png,
                             _tagged_clip, _tiff_pages, _xmp_ns_jpeg)

SITE = (53.8008, -1.5491)


def _near(text: str, point=SITE, metres: float = 60) -> bool:
    """Whether `text` holds exactly one position, within `metres` of `point`."""
    (pos,) = coordtext.positions(text)
    assert pos.problem is None, pos.problem
    return abs(pos.lat - point[0]) * 111_000 < metres and abs(pos.lon - point[1]) * 66_000 < metres


# ---------------------------------------------------------------- what each reader decodes, and how well


@pytest.mark.parametrize("text", [
    "https://www.openstreetmap.org/?layers=C#map=17/53.8008/-1.5491",  # OSM with a query before the fragment
    "https://www.google.com/maps/embed?pb=!1m18!1m12!1m3!1d2356!2d-1.5491!3d53.8008!2m3",  # an embed: lon first
    "https://www.bing.com/maps?cp=53.8008%7E-1.5491&lvl=16",
    "53:48:02.88 N, 001:32:56.76 W", "53:48.048N 1:32.946W", "latitude 53.8008, longitude -1.5491",
    "Lon: -1.5491 Lat: 53.8008", "lat 53°48'02.88\" lon -1°32'56.76\"", "(lat, lon) 53.8008, -1.5491",
    "lon/lat -1.5491/53.8008", "UTM 30U 595556E 5962335N", "MGRS 30U WE 95556 62335"])
def test_written_forms_are_read_at_the_site(text):
    assert _near(text)


@pytest.mark.parametrize("point", [SITE, (47.365562, 8.524813), (-33.85678, 151.2153), (-22.95192, -43.21049)])
def test_a_full_plus_code_decodes_to_its_area(point):
    """Each point's code (the red team's encoder) decodes to the middle of its 14 m square."""
    lat, lon = geocodes.plus_code(_plus_code(*point))
    assert abs(lat - point[0]) <= 0.000125 / 2 and abs(lon - point[1]) <= 0.000125 / 2


def test_a_labelled_geohash_decodes_to_its_cell():
    lat, lon = geocodes.geohash("u4pruydqqvj")  # the geohash's inventor's example: Jutland
    assert abs(lat - 57.64911) < 1e-4 and abs(lon - 10.40744) < 1e-4
    assert _near("geohash: gcwfhf0y2", metres=150)  # the red team's code: 80 m from the site


def test_eastings_and_northings_are_the_grid_reference_they_spell():
    (_, lat, lon, _), = grid_refs("SE 29672 34261")
    for text in ("Easting 429672, Northing 434261", "E: 429672 N: 434261", "429672E 434261N", "N 434261 E 429672",
                 "Northing: 434261.0 Easting: 429672.0"):
        (pos,) = coordtext.positions(text)
        assert abs(pos.lat - lat) < 1e-5 and abs(pos.lon - lon) < 1e-5


def test_utm_and_mgrs_agree():
    (utm,) = projected.positions("30U 595556 5962335")
    (mgrs,) = projected.positions("30UWE9555662335")
    assert abs(utm[1].lat - mgrs[1].lat) < 1e-4 and abs(utm[1].lon - mgrs[1].lon) < 1e-4


@pytest.mark.parametrize("text", ["53:61:02.88N 1:32:56.76W", "lon -181.5 lat 53.8", "geohash: school", "lat/lon 95.1/2.5"])
def test_a_written_position_that_cannot_be_read_is_malformed(text):
    (pos,) = coordtext.positions(text)
    assert pos.problem and pos.lat is None


@pytest.mark.parametrize("text,value", [("Meet at ///filled.count.soap.", "///filled.count.soap"),
                                        ("what3words.com/filled.count.soap", "///filled.count.soap"),
                                        ("Meet at RF22+89 Leeds", "RF22+89")])
def test_what3words_and_short_plus_codes_are_places(text, value):
    ((_, _, claims),) = coordtext.caption_sources([("description", text)])
    assert Place("what3words address" if "/" in value else "plus code", value) in claims.places


# ---------------------------------------------------------------- ordinary captions with numbers: not a location

ORDINARY = [
    "Sports day 12/07/2024 at 14:30:00, final score 3-1", "Year 6 trip, room 12, coach 3 N 4 E",
    "Call 0113 496 0000 or +44 113 496 0000", "Sizes 10 12 14 S 16 18 20 W", "Prices £1.50 | £2.75 | £12.345",
    "Kick-off 14:30 N 15:45 E", "Long jump 3.45 m, lat 2 students", "latest news: long 45 minutes",
    "Team 3 | 2 result", "Scores 12.345 | 14.233", "Year 10 N 123456 7", "Order 2024 10U 12 34", "C++ and 2+2 and 1234+56",
    "Ticket 123456, invoice 654321", "Visit https://www.example.org/a/b/c and file:///home.user.docs",
    "Our geohash and maps lesson", "Open day 3 June 2024 from 09:30 to 15:15 in Hall 2B",
    "Room E 12, Block N 3", "Height 1.234 m | weight 45.678 kg", "ISBN 978-0-12-345678-9", "Class 4W won 3:2",
    "Fri Apr  7 15:14:43 PDT 2017", "Sun Mar  8 23:56:24 PST 1998",  # a time zone and a year are no MGRS square
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_captions_with_numbers_say_no_location(text):
    assert coordtext.caption_sources([("description", text)]) == []


@pytest.mark.parametrize("text", ORDINARY[:4])
def test_a_photo_with_an_ordinary_caption_is_cleared(tmp_path, config, text):  # noqa: F811
    assert _found(tmp_path, config, "ordinary.jpg", _described(text)) == {"cleared"}


# ---------------------------------------------------------------- XMP place properties of any vocabulary


@pytest.mark.parametrize("body,ns", [
    (b"<acme:ShootingLocation>Headingley</acme:ShootingLocation>", b' xmlns:acme="http://example.com/acme/1.0/"'),
    (b"<acme:Town>Leeds</acme:Town>", b' xmlns:acme="http://example.com/acme/1.0/"'),
])
def test_a_place_property_of_any_vocabulary_is_a_location(tmp_path, config, body, ns):  # noqa: F811
    assert "location" in _found(tmp_path, config, "place.jpg", _xmp_ns_jpeg(body, ns))


def test_a_place_attribute_of_another_vocabulary_is_a_location(tmp_path, config):  # noqa: F811
    data = _xmp_ns_jpeg(b"", b' xmlns:mediapro="http://ns.iview-multimedia.com/mediapro/1.0/" mediapro:City="Leeds"')
    assert "location" in _found(tmp_path, config, "attr.jpg", data)


@pytest.mark.parametrize("body,ns", [
    (b"<Iptc4xmpCore:CreatorContactInfo rdf:parseType='Resource'><Iptc4xmpCore:CiAdrCity>Leeds</Iptc4xmpCore:CiAdrCity>"
     b"</Iptc4xmpCore:CreatorContactInfo>", b' xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"'),
    (b"<photoshop:Headline>Velocity and relocation</photoshop:Headline>", _PS_NS),
])
def test_the_photographers_address_and_other_words_are_not_a_place(tmp_path, config, body, ns):  # noqa: F811
    assert _found(tmp_path, config, "contact.jpg", _xmp_ns_jpeg(body, ns)) == {"cleared"}


# ---------------------------------------------------------------- a position in two fields


def test_a_lone_latitude_field_is_a_malformed_position_and_a_long_description_none():
    ((_, pos),) = coordpairs.named_pairs([("latitude tag", "53.8008"), ("long description tag", "A day out")])
    assert pos.problem == "longitude is missing"
    assert coordpairs.named_pairs([("long description tag", "x"), ("translator tag", "y"), ("platform tag", "z")]) == []


def test_two_chunks_of_other_kinds_pair(tmp_path, config):  # noqa: F811
    chunks = [_pchunk(b"tEXt", b"GPS Latitude\x0053.8008"), _pchunk(b"zTXt", b"GPS Longitude\x00\x00" + __import__(
        "zlib").compress(b"-1.5491"))]
    assert "location" in _found(tmp_path, config, "pair.png", _png(*chunks))


def test_a_png_with_ordinary_text_chunks_is_cleared(tmp_path, config):  # noqa: F811
    chunks = [_pchunk(b"tEXt", b"Title\x00Sports day 2024"), _pchunk(b"tEXt", b"Software\x00GIMP 2.10.34")]
    assert _found(tmp_path, config, "plain.png", _png(*chunks)) == {"cleared"}


def test_a_clip_with_its_position_in_two_lowercase_tags_is_a_location(tmp_path, config):  # noqa: F811
    path = _tagged_clip(tmp_path, "lower.mkv", {"lat": "53.8008", "lng": "-1.5491"})
    assert "location" in _clip_kinds(path, config)


def test_a_clip_with_ordinary_tags_is_cleared(tmp_path, config):  # noqa: F811
    path = _tagged_clip(tmp_path, "plain.mkv", {"TITLE": "Sports day 2024, final 3-1", "LONG_DESCRIPTION": "Year 6"})
    assert _clip_kinds(path, config) == {"cleared"}


# ---------------------------------------------------------------- GeoTIFF


def _transformation(x: float, y: float) -> dict:
    keys = struct.pack("<16H", 1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326)
    matrix = (1e-5, 0, 0, x, 0, -1e-5, 0, y, 0, 0, 0, 0, 0, 0, 0, 1)
    return {34264: (12, 16, struct.pack("<16d", *matrix)), 34735: (3, 16, keys)}


def test_a_geotiff_by_transformation_on_its_second_page_is_a_location(tmp_path, config):  # noqa: F811
    (pos,) = geotiff.claims(_tiff_pages({}, _transformation(-1.5491, 53.8008))).positions
    assert (pos.lat, pos.lon) == SITE
    assert "location" in _found(tmp_path, config, "page2.tif", _tiff_pages({}, _transformation(-1.5491, 53.8008)))


@pytest.mark.parametrize("tie,model,crs,problem", [((0, 0, 0, 595556.0, 5962335.0, 0), 1, 32630, None),
                                                   ((0, 0, 0, -172447.0, 7137000.0, 0), 1, 3857, "EPSG 3857"),
                                                   ((0, 0, 0, -1.5491, 53.8008, 0), 2, 0, "not named")])
def test_a_geotiffs_coordinate_system_is_read_or_the_position_is_malformed(tie, model, crs, problem):
    (pos,) = geotiff.claims(_geotiff(tie, model, crs)).positions
    if problem is None:
        assert abs(pos.lat - SITE[0]) < 1e-4 and abs(pos.lon - SITE[1]) < 1e-4
    else:
        assert pos.lat is None and problem in pos.problem


def test_geotiff_tags_in_a_jpegs_exif_are_a_location(tmp_path, config):  # noqa: F811
    exif = _exif({0x010F: ascii_("Drone"), **_transformation(-1.5491, 53.8008)})
    assert "location" in _found(tmp_path, config, "ortho.jpg", jpeg(backdrop(), exif=exif))


def test_a_plain_tiff_is_cleared(tmp_path, config):  # noqa: F811
    assert geotiff.claims(_tiff_pages({}, {})).positions == ()
    assert _found(tmp_path, config, "plain.tif", _tiff_pages({0x010F: ascii_("Scanner")})) == {"cleared"}
