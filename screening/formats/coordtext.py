"""Coordinates and postcodes written as text: in a caption, a clip's tag, a GPS stamp in the picture.

GPS-stamp camera apps and dashcams write "Lat 53.800800 Long -1.549100" into the caption, a tag
of their own or the pixels. The parser is conservative, so ordinary text with numbers (a date, a
score "12.345", a phone number, a price) is not a position. It reads:
- decimal degrees with a label: "Lat 53.8008 Long -1.5491", "latitude: 53.8, longitude: -1.5";
- decimal degrees with hemisphere letters: "53.8008 N, 1.5491 W", "N 53.8008 W 1.5491";
- degrees/minutes(/seconds) with hemisphere letters: 53°48'02.9"N 1°32'56.8"W, 53°48.048'N ...;
- a bare pair of decimals in range, each with at least 4 decimal places (11 m), or 3 inside the
  British Isles: "53.800800,-1.549100", "53.801, -1.549";
- a map link: Google Maps "@53.8008,-1.5491,17z", "?q=53.8,-1.5", OpenStreetMap "mlat=53.8&mlon=-1.5";
- an ISO 6709 point closed by its slash: "+53.8008-001.5491/".
A labelled or lettered position out of range (latitude 95) is a malformed position: text that
says it is a position and cannot be read is never taken as saying nothing. A bare pair out of
range is simply not a position. UK postcodes follow the government's published pattern
(upper case, as printed on a stamp or a sign).
"""

from __future__ import annotations

import re

from screening.formats.geotags import Claims, Position

WHAT = "coordinates written"
_NUM = r"[-+−]?\d{1,3}(?:[.,]\d+)?"
_LABELLED = re.compile(
    rf"\blat(?:itude)?\b\.?\s*[:=]?\s*(?P<lat>{_NUM})\s*°?\s*(?P<ns>[NS]\b)?[\s,;/|]*"
    rf"(?:lon|long|lng|longitude)\b\.?\s*[:=]?\s*(?P<lon>{_NUM})\s*°?\s*(?P<ew>[EW]\b)?", re.I)
_HEMI_AFTER = re.compile(r"(?<![\w.])(?P<lat>\d{1,3}\.\d+)\s*°?\s*(?P<ns>[NS])\b[\s,;/]*"
                         r"(?P<lon>\d{1,3}\.\d+)\s*°?\s*(?P<ew>[EW])\b")
_HEMI_BEFORE = re.compile(r"\b(?P<ns>[NS])\s*(?P<lat>\d{1,3}\.\d+)°?[\s,;/]+(?P<ew>[EW])\s*(?P<lon>\d{1,3}\.\d+)°?(?!\d|\.\d)")
_DMS_PART = r"(\d{1,3})\s*[°º]\s*(\d{1,2}(?:\.\d+)?)\s*['′’]\s*(?:(\d{1,2}(?:\.\d+)?)\s*(?:\"|″|”|''|′′))?\s*"
_DMS = re.compile(_DMS_PART + r"([NS])\b[\s,;/]*" + _DMS_PART + r"([EW])\b")
_BARE_PAIR = re.compile(r"(?<![\w.,+\-−])([-+−]?\d{1,2}\.\d{3,})\s*[,;/]?\s+([-+−]?\d{1,3}\.\d{3,})(?!\w|[.,]\d)"
                        r"|(?<![\w.,+\-−])([-+−]?\d{1,2}\.\d{3,}),([-+−]?\d{1,3}\.\d{3,})(?!\w|[.,]\d)")
# Map links: Google Maps "@53.8008,-1.5491,17z", "?q=" / "ll=" / "query=" pairs, OpenStreetMap "mlat=..&mlon=..".
_MAP_LINK = re.compile(r"(?:@|[?&](?:q|ll|query|center|destination)=)([-+]?\d{1,2}\.\d+)(?:,|%2C)\s*([-+]?\d{1,3}\.\d+)"
                       r"|[?&]mlat=([-+]?\d{1,2}\.\d+)&(?:amp;)?mlon=([-+]?\d{1,3}\.\d+)", re.IGNORECASE)
# Where 3 decimal places (about 110 m) are enough to count: the British Isles (the trust's schools).
_BRITISH_ISLES = (49.0, 61.5, -11.0, 2.5)
_ISO6709 = re.compile(r"(?<![\w.])([+-]\d{2,6}(?:\.\d+)?)([+-]\d{3,7}(?:\.\d+)?)(?:[+-]\d+(?:\.\d+)?)?(?:CRS\S*?)?/")
# gov.uk's published postcode pattern (BS 7666), upper case only, as a whole word
POSTCODE = re.compile(r"\b(?:GIR ?0AA|(?:[A-Z][0-9]{1,2}|[A-Z][A-HJ-Y][0-9]{1,2}|[A-Z][0-9][A-Z]"
                      r"|[A-Z][A-HJ-Y][0-9][A-Z]?) ?[0-9][A-Z]{2})\b")


def positions(text: str) -> list[Position]:
    """Every position written in `text` (valid or malformed), each once, in the order found."""
    text = text.replace("−", "-")
    found: list[Position] = []
    taken: list[tuple[int, int]] = []
    for finder in (_map_links, _labelled, _dms, _hemispheres, _iso6709, _bare_pairs):
        for (start, end), pos in finder(text):
            if any(start < b and a < end for a, b in taken):
                continue  # the same characters already read by a surer pattern
            taken.append((start, end))
            found.append(pos)
    return found


def postcodes(text: str) -> list[str]:
    """UK postcodes in `text` ("LS6 2AB")."""
    return [m.group(0) for m in POSTCODE.finditer(text)]


def _position(lat: float, lon: float, raw: str) -> Position:
    if abs(lat) > 90 or abs(lon) > 180:
        return Position(None, None, f"latitude {lat:g}, longitude {lon:g} is out of range", raw, WHAT)
    return Position(lat, lon, raw=raw, what=WHAT)


def _float(text: str) -> float:
    return float(text.replace(",", "."))


def _signed(value: float, letter: str | None, negative: str) -> float:
    return -abs(value) if letter and letter.upper() == negative else value


def _labelled(text: str):
    for m in _LABELLED.finditer(text):
        lat = _signed(_float(m["lat"]), m["ns"], "S")
        lon = _signed(_float(m["lon"]), m["ew"], "W")
        yield m.span(), _position(lat, lon, m.group(0).strip())


def _hemispheres(text: str):
    for pattern in (_HEMI_AFTER, _HEMI_BEFORE):
        for m in pattern.finditer(text):
            yield m.span(), _position(_signed(float(m["lat"]), m["ns"], "S"), _signed(float(m["lon"]), m["ew"], "W"),
                                      m.group(0).strip())


def _dms(text: str):
    for m in _DMS.finditer(text):
        g = m.groups()
        raw = m.group(0).strip()
        parts = [[float(x) if x else 0.0 for x in g[0:3]], [float(x) if x else 0.0 for x in g[4:7]]]
        if any(x >= 60 for d in parts for x in d[1:]):
            yield m.span(), Position(None, None, "minutes or seconds of 60 or more", raw, WHAT)
            continue
        lat, lon = (d[0] + d[1] / 60 + d[2] / 3600 for d in parts)
        yield m.span(), _position(_signed(lat, g[3], "S"), _signed(lon, g[7], "W"), raw)


def _iso6709(text: str):
    from screening.formats.video_metadata import iso6709  # it imports this module

    for m in _ISO6709.finditer(text):
        pos = iso6709(m.group(0))
        yield m.span(), Position(pos.lat, pos.lon, pos.problem, pos.raw, WHAT)


def _bare_pairs(text: str):
    """Two decimals in range: with 4+ places anywhere (a score, a gymnastics 14.233, never comes
    with four), with 3 only inside the British Isles (RT11b-12: "53.801, -1.549" is within 110 m)."""
    for m in _BARE_PAIR.finditer(text):
        a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        lat, lon = float(a), float(b)
        places = min(len(a.split(".")[1]), len(b.split(".")[1]))
        south, north, west, east = _BRITISH_ISLES
        near = south <= lat <= north and west <= lon <= east
        if abs(lat) <= 90 and abs(lon) <= 180 and (lat, lon) != (0.0, 0.0) and (places >= 4 or near):
            yield m.span(), Position(lat, lon, raw=m.group(0).strip(), what=WHAT)


def _map_links(text: str):
    """A position in a map link (Google Maps, OpenStreetMap), whatever its decimal places (RT11b-8/9/16)."""
    for m in _MAP_LINK.finditer(text):
        a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        yield m.span(), _position(float(a), float(b), m.group(0).strip())


# ---------------------------------------------------------------- XMP vocabularies without "latitude"

_GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"
_AXES = {"lat": "lat", "long": "lon", "lon": "lon", "lng": "lon"}
_POINTS = frozenset({"point", "lat_long", "latlong", "coordinates", "gpscoordinates", "geolocation"})
_DC = "http://purl.org/dc/elements/1.1/"


def xmp_properties(properties: list[tuple[str, str]]) -> list[Position]:
    """Positions of one XMP element's properties ({ns}name, value) in vocabularies whose names do
    not say "latitude": W3C geo:lat/geo:long, any namespace's lat + long/lon/lng pair, a point
    "lat lon" (georss:point, geo:lat_long), and coordinates written in dc:coverage."""
    from screening.formats.geotags import _split, _xmp_position  # it imports this module

    axes: dict[str, dict[str, str]] = {}
    found: list[Position] = []
    for name, value in properties:
        ns, local = _split(name)
        local, value = local.lower(), (value or "").strip()
        if local in _AXES:
            axes.setdefault(ns, {})[_AXES[local]] = value
        elif local in _POINTS and value:
            found.append(_point(value))
        elif (ns, local) == (_DC, "coverage") and value:
            found += positions(value)
    for ns, pair in axes.items():
        if "lat" in pair and (pair["lat"] or pair.get("lon")) or (ns == _GEO and any(pair.values())):
            pos = _xmp_position(pair.get("lat", ""), pair.get("lon", ""))
            found.append(pos)
    return found


def _point(value: str) -> Position:
    """A point "lat lon" (GeoRSS: space separated; others a comma): two numbers, else malformed."""
    parts = value.replace(",", " ").split()
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        return positions(value)[0] if positions(value) else Position(
            None, None, "not a point 'latitude longitude'", value, "GPS")
    pos = _position(lat, lon, value)
    return Position(pos.lat, pos.lon, pos.problem, value, "GPS")


def caption_sources(texts) -> list[tuple[str, str, Claims]]:
    """(source, where, claims) for the location check, of (where, text) captions that have
    coordinates written in them (the text check's captions: EXIF, XMP, IPTC, comments, tags)."""
    out = []
    for where, text in texts:
        found = positions(text)
        if found:
            out.append(("caption", f"the {where}", Claims(tuple(found))))
    return out
