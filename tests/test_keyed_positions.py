"""Positions written as keyed values, NMEA fields, links percent-encoded, short map links, spaced whole-second
DMS (RT31-2/3/4/4b/22/23, RT32-5): the variants a real tool writes, read at the site, and the ordinary
texts (camera settings as JSON, links, "lat" as a word, sizes) that must stay no location."""

from __future__ import annotations

import pytest

from screening.formats import coordtext

from .test_redteam6 import backdrop, config, jpeg  # noqa: F401
from .test_redteam9 import ascii_
from .test_redteam29 import _clip_kinds, _exif, _found, _tagged_clip

SITE = (53.8008, -1.5491)


def _at(text: str, metres: float = 60) -> list[tuple[float, float]]:
    """The positions of `text`, each checked to lie within `metres` of the site and none malformed."""
    found = coordtext.positions(text)
    assert found, text
    for pos in found:
        assert pos.problem is None, (text, pos.problem)
        assert abs(pos.lat - SITE[0]) * 111_000 < metres and abs(pos.lon - SITE[1]) * 66_000 < metres, (text, pos)
    return [(pos.lat, pos.lon) for pos in found]


KEYED = [
    '{"latitude":53.8008,"longitude":-1.5491,"accuracy":5}',  # a GPS-stamp app's JSON
    '{"geoData": {"latitude": 53.8008, "longitude": -1.5491, "altitude": 40.0}}',  # Google Takeout's sidecar
    '{"location": {"lat": 53.8008, "lng": -1.5491}}',  # Google's geocoding API
    '{"lon":-1.5491,"lat":53.8008}', "{'lat': 53.8008, 'lon': -1.5491}",  # longitude first; a Python dict
    '{"latitude": "53.8008", "longitude": "-1.5491"}',  # numbers as strings
    '<trkpt lat="53.8008" lon="-1.5491"><ele>40</ele></trkpt>', "<wpt lon='-1.5491' lat='53.8008'/>",  # GPX
    "latitude: 53.8008\nlongitude: -1.5491\naltitude: 40",  # YAML
    "GPS Latitude : 53.8008\nGPS Longitude : -1.5491",  # exiftool -n
    ("GPS Latitude Ref : North\nGPS Latitude : 53 deg 48' 2.90\" N\n"
     "GPS Longitude Ref : West\nGPS Longitude : 1 deg 32' 56.80\" W"),  # exiftool -a -G, the Ref lines between
    "GPSLatitude=53.8008 GPSLongitude=-1.5491", "gps_lat: 53.8008, gps_lon: -1.5491", "gpsLatitude=53.8008;gpsLongitude=-1.5491",
    "https://m.uber.com/ul/?action=setPickup&dropoff[latitude]=53.8008&dropoff[longitude]=-1.5491",
    '{"lat": 53.8008, "time": "10:30:45", "speed": 12.5, "heading": 270, "lng": -1.5491}',  # other fields between
    '{"meta": "{\\"lat\\":53.8008,\\"lng\\":-1.5491}"}',  # JSON inside a JSON string, its quotes escaped
    "{&quot;lat&quot;:53.8008,&quot;lon&quot;:-1.5491}",  # JSON in HTML
    "<Point><latitude>53.8008</latitude><longitude>-1.5491</longitude></Point>",  # XML elements
    '{"latitudeE7": 538008000, "longitudeE7": -15491000, "accuracy": 12}',  # Google Takeout's location history
]


@pytest.mark.parametrize("text", KEYED)
def test_keyed_values_are_read_at_the_site(text):
    assert len(_at(text)) == 1


def test_a_pickup_and_a_drop_off_are_two_positions():
    link = ("https://m.uber.com/ul/?pickup[latitude]=53.8008&pickup[longitude]=-1.5491"
            "&dropoff[latitude]=53.8010&dropoff[longitude]=-1.5495")
    assert len(_at(link)) == 2


@pytest.mark.parametrize("text, problem", [
    ('{"latitude": 95.1, "longitude": -1.5491}', "out of range"),
    ("latitude: 53.8008", "without its longitude"),
    ("GPS Latitude : 53 deg 48' 2.90\" W\nGPS Longitude : 1 deg 32' 56.80\" W", "wrong axis"),
    ("$GPRMC,103045,A,5378.048,N,00132.946,W,0.0,0.0,011226,,,A*6C", "60 or more"),
])
def test_a_keyed_or_nmea_position_that_cannot_be_read_is_malformed(text, problem):
    (pos,) = coordtext.positions(text)
    assert pos.lat is None and problem in pos.problem


NMEA = [
    "$GPRMC,103045,A,5348.048,N,00132.946,W,0.0,0.0,011226,,,A*6C",
    "$GNRMC,103045.00,A,5348.04800,N,00132.94600,W,0.012,,011226,,,A,V*1F",  # a u-blox receiver's
    "$GPGGA,103045,5348.048,N,00132.946,W,1,08,0.9,100.0,M,46.9,M,,*47",
    "$GNGGA,103045.00,5348.04800,N,00132.94600,W,1,12,0.58,100.0,M,46.9,M,,*5A",
    "$GPGLL,5348.048,N,00132.946,W,103045,A,A*5B",
    "A,5348.0480,N,132.9460,W,0.0",  # a logger's CSV without zero-padding
]


@pytest.mark.parametrize("text", NMEA)
def test_nmea_fields_are_read_at_the_site(text):
    assert len(_at(text)) == 1


LINKS = [
    "https://www.google.com/maps/place/53%C2%B048'02.9%22N+1%C2%B032'56.8%22W/@53.8008,-1.5491,17z",
    "https://www.google.com/maps/place/53%C2%B048'02.9%22N+1%C2%B032'56.8%22W/",
    "https://www.google.com/maps/search/?api=1&query=53.8008%2C-1.5491",
    "https://www.google.com/maps/dir/?api=1&destination=53.8008%2C-1.5491",
    "https://www.google.com/maps/search/53.8,+-1.549",  # fewer places: read as a map link's
    "https://www.google.com/maps/dir/53.8008,-1.5491/",
    "https://maps.apple.com/?ll=53.8008%2C-1.5491&q=Dropped%20Pin",
    "https://www.bing.com/maps?where1=53.8008%252C-1.5491",  # encoded twice
    "https://citymapper.com/directions?startcoord=53.8008%2C-1.5491",
    "https://www.openstreetmap.org/directions?route=53.8008%2C-1.5491%3B53.8010%2C-1.5495",
    "https://waze.com/ul?ll=53.8008%2C-1.5491&navigate=yes",
    "https://waze.com/ul/hgcwfhf0y2",  # Waze's short link: a geohash
    "maps.google.com/maps?q=53.8008%2C-1.5491",  # no scheme
    "https://maps.google.com/maps?q=loc:53.801,-1.549",
    "geo:53.801,-1.549?z=17",  # Android's share: a geo: URI (RFC 5870)
]


@pytest.mark.parametrize("link", LINKS)
def test_links_are_read_decoded_at_the_site(link):
    assert _at(f"Meet here: {link} at 10", metres=150)  # "53.8,-1.549" and a 9-letter geohash: within 150 m


@pytest.mark.parametrize("text", ["Taken at 53 48 3 N 1 32 57 W", "53 48 03 N 001 32 57 W", "53 48 3N, 1 32 57W",
                                  "53.8008 degrees N, 1.5491 degrees W", "53.8008 deg N 1.5491 deg W"])
def test_spaced_whole_seconds_and_degrees_words_are_read(text):
    assert len(_at(text)) == 1


@pytest.mark.parametrize("link", ["https://maps.app.goo.gl/Xq3bVn7Lr2kP9sTa8", "https://goo.gl/maps/Xq3bVn7Lr2k",
                                  "https://maps.apple/p/Xq3bVn7Lr2kP9s", "https://maps.apple.com/p/Xq3bVn7Lr2kP9s",
                                  "https://osm.org/go/euu4jrz--", "https://share.here.com/p/s-Yz1wbGFjZQ"])
def test_a_short_map_link_is_a_place(link):
    ((source, where, claims),) = coordtext.caption_sources([("EXIF image description", f"Where we met: {link}")])
    assert claims.positions == () and [p.label for p in claims.places] == ["short map link"]


def test_a_postcode_in_an_encoded_link_is_read():
    for link in ("https://maps.google.com/?q=LS6+2AB", "https://maps.google.com/?q=LS6%202AB"):
        assert coordtext.postcodes(link) == ["LS6 2AB"], link


# ---------------------------------------------------------------- whole files: a location, not an error

def _captioned(text: str) -> bytes:
    return jpeg(backdrop(), exif=_exif({0x010E: ascii_(text)}))


@pytest.mark.parametrize("text", [KEYED[0], NMEA[0], LINKS[1], "https://maps.app.goo.gl/Xq3bVn7Lr2kP9sTa8",
                                  "53 48 3 N 1 32 57 W"])
def test_a_photo_captioned_so_is_a_location_not_an_error(tmp_path, config, text):
    assert _found(tmp_path, config, "caption.jpg", _captioned(text)) == {"location"}


def test_a_clip_whose_comment_is_a_json_position_is_a_location_not_an_error(tmp_path, config):
    path = _tagged_clip(tmp_path, "json.mkv", {"comment": KEYED[0]})
    assert "location" in _clip_kinds(path, config) and "error" not in _clip_kinds(path, config)


# ---------------------------------------------------------------- controls: ordinary texts, no location

ORDINARY = [
    '{"iso":200,"exposure":0.01,"fnumber":2.8}', '{"width": 4032, "height": 3024, "orientation": 1}',
    '{"latitude": null, "longitude": null}', '{"geoData": {"latitude": 0.0, "longitude": 0.0, "altitude": 0.0}}',
    '{"latitudeE7": 0, "longitudeE7": 0}',
    '{"time":"10:30:45","speed":12.5,"heading":270}', "The lat: short for latissimus dorsi, 3 sets of 12",
    "long: 3 days, lat: 2 weeks", "Platform: 3.5, Flat: 12.25, Salon: 4.5", "LatitudeRef: N, LongitudeRef: W",
    "Version 1.2.3 released 2026-11-28, score 3-1", "£12.50 + £3.20 p&p, 50% off, 2+1 offer",
    "https://www.example.com/photos?page=2&size=50", "https://example.com/search?q=year+6+sports+day+2026",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1m30s", "https://goo.gl/abc123 and https://bit.ly/3xYz",
    "https://example.com/a%20b?x=12.34%2C56.78", "Sizes 10 12 14 S 16 18 20 W", "Kick off 10 30 0 N then 14 45 0 E",
    "$GPGSV,3,1,11,03,03,111,00,04,15,270,00,06,01,010,00,13,06,292,00*74",  # satellites, no position
    "Results 1234.56, N, 12345.67, W", "Long jump: 3.45 m, lat pulldown: 40 kg",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_an_ordinary_text_is_no_location(text):
    assert coordtext.caption_sources([("EXIF image description", text)]) == []


def test_a_photo_with_camera_settings_as_json_is_cleared(tmp_path, config):
    assert _found(tmp_path, config, "json.jpg", _captioned(ORDINARY[0])) == {"cleared"}

