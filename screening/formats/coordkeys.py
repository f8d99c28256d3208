"""Latitude and longitude written as keyed values (RT31-2, RT32-5), for formats/coordtext.py.

One reader for every syntax that writes a key, ':' or '=', then a value: JSON
('{"latitude":53.8008,"lng":-1.5491}', '{"lon":-1.5491,"lat":53.8008}'), XML attributes
('<trkpt lat="53.8008" lon="-1.5491">', a GPX track) and elements ('<lat>53.8008</lat>'), a link's query
('dropoff[latitude]=53.8008&dropoff[longitude]=-1.5491'), YAML and key: value lines (exiftool's
'GPS Latitude : 53 deg 48\' 2.90" N' with 'GPS Longitude : ...' on the next line).

A key names an axis: 'lat', 'latitude', 'lon', 'long', 'lng', 'longitude' (and DJI's 'longtitude'),
as a word, after '_', '[' or a '.', or at a capital in camelCase ('gpsLatitude', 'GPSLatitude'); not
'LatitudeRef' or 'lat_ref'. A closing quote or bracket may come between the key and its ':', '=' or '>',
an opening quote between that and the value (escaped, '\\"', or as '&quot;' too: JSON inside JSON or HTML). A value is signed decimal degrees, or degrees, minutes
(and seconds) with marks and a hemisphere letter; after 'latitudeE7' (Google Takeout's location history),
an integer of degrees times 10^7. Each key with a value is paired with the next one
of the other axis, in the order written (so a pickup and a drop-off are two positions); the pair may
be far apart (other fields between). A full 'latitude' or 'longitude' with a value and no other half
is a malformed position (as a lone field is, coordpairs.py); a lone 'lat' or 'long' is a word,
and a short key's whole number is not read ("long: 3 days, lat: 2"). 0, 0 is Google Takeout's
"no location", not a position. Out of range, or minutes or seconds of 60 or more: malformed.
"""

from __future__ import annotations

import re

from screening.formats.geotags import Position

WHAT = "coordinates written"
_S = r"\d{1,2}(?:\.\d+)?"
_VALUE = (rf"(?P<deg>[-+]?\d{{1,3}}(?:\.\d+)?)(?![\d.])(?:\s*[°º˚]\s*(?P<min>{_S})\s*['′’]"
          rf"(?:\s*(?P<sec>{_S})\s*(?:\"|″|”|''))?)?(?:\s*[°º˚])?(?:\s*(?P<hemi>[NSEW])\b)?")
_KEY = re.compile(r"(?:(?<![A-Za-z])|(?<=[a-z])(?=[A-Z])|(?<=GPS))"
                  r"(?P<key>(?i:lat(?:itude)?|lon(?:g(?:t?itude)?)?|lng))(?P<e7>E7)?(?![A-Za-z])"
                  r"(?:\\?[\"']|&quot;|\])?[ \t]*[:=>][ \t]*(?:\\?[\"']|&quot;)?[ \t]*"
                  r"(?(e7)(?P<e7v>[-+]?\d{1,10})(?![\d.])|" + _VALUE + ")")

_ANY_KEY = re.compile(r"l(?:at|on|ng)", re.I)


def positions(text: str):
    """((start, end), Position) of the keyed latitude/longitude pairs (and lone full keys) in `text`."""
    if not _ANY_KEY.search(text):
        return  # (the full pattern's look-behinds cost a few microseconds a line of ordinary prose)
    items = [m for m in _KEY.finditer(text) if _sure(m)]
    i = 0
    while i < len(items):
        m = items[i]
        axis = _axis(m)
        if i + 1 < len(items) and _axis(items[i + 1]) != axis:
            n = items[i + 1]
            lat, lon = (m, n) if axis == "lat" else (n, m)
            raw = text[m.start():n.end()]
            if _number(m) == 0 == _number(n) and not (m["min"] or n["min"]):
                i += 2
                continue  # 0, 0: Google Takeout's "no location" ("geoData": {"latitude": 0.0, "longitude": 0.0})
            yield (m.start(), n.end()), _pair(lat, lon, raw if len(raw) <= 200 else f"{m.group(0)} ... {n.group(0)}")
            i += 2
            continue
        if m["key"].lower() in ("latitude", "longitude", "longtitude"):
            other = "longitude" if axis == "lat" else "latitude"
            yield m.span(), Position(None, None, f"a {m['key'].lower()} without its {other}", m.group(0), WHAT)
        i += 1


def _sure(m: re.Match) -> bool:
    """A full key ('latitude'), or a short one ('lat', 'long') with a fraction, minutes or a hemisphere:
    "long: 3 days, lat: 2" is prose."""
    return len(m["key"]) > 4 or bool(m["e7"]) or "." in m["deg"] or bool(m["min"] or m["hemi"])


def _number(m: re.Match) -> float:
    """The value's degrees as written (Google Takeout's 'latitudeE7': 538008000 is 53.8008)."""
    return int(m["e7v"]) / 1e7 if m["e7"] else float(m["deg"])


def _axis(m: re.Match) -> str:
    return "lat" if m["key"].lower().startswith("lat") else "lon"


def _degrees(m: re.Match, negative: str, other: str) -> float | str:
    """Signed degrees of one value, or the reason it is malformed."""
    deg, mins, sec = _number(m), *(float(m[g]) if m[g] else 0.0 for g in ("min", "sec"))
    hemi = (m["hemi"] or "").upper()
    if mins >= 60 or sec >= 60:
        return "minutes or seconds of 60 or more"
    if hemi and hemi in other:
        return f"hemisphere letter {hemi} on the wrong axis"
    value = abs(deg) + mins / 60 + sec / 3600
    return -value if deg < 0 or (m["deg"] or "").startswith("-") or hemi == negative else value


def _pair(lat_m: re.Match, lon_m: re.Match, raw: str) -> Position:
    lat, lon = _degrees(lat_m, "S", "EW"), _degrees(lon_m, "W", "NS")
    for value in (lat, lon):
        if isinstance(value, str):
            return Position(None, None, value, raw, WHAT)
    if abs(lat) > 90 or abs(lon) > 180:
        return Position(None, None, f"latitude {lat:g}, longitude {lon:g} is out of range", raw, WHAT)
    return Position(lat, lon, raw=raw, what=WHAT)
