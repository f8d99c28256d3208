"""Coordinates and postcodes written as text: in a caption, a clip's tag, a GPS stamp in the picture.

GPS-stamp camera apps and dashcams write "Lat 53.800800 Long -1.549100" into the caption, a tag
of their own or the pixels. The parser is conservative, so ordinary text with numbers (a date, a
score "12.345", a phone number, a price) is not a position. It reads:
- decimal degrees with a label: "Lat 53.8008 Long -1.5491", "latitude: 53.8, longitude: -1.5";
- decimal degrees with hemisphere letters, 2 decimal places at least (3 after a decimal comma):
  "53.8008 N, 1.5491 W", "N 53.8008 W 1.5491", "53,8008 N 1,5491 W";
- degrees/minutes(/seconds) with hemisphere letters after or first: 53°48'02.9"N 1°32'56.8"W,
  53°48.048'N ..., 53d48m03sN 1d32m57sW, Garmin's "N 53° 48.048 W 001° 32.946", "N 53 48.05 W 1 32.95";
- an Ordnance Survey grid reference: "SE 29672 34261", "SE2967234261" (formats/osgrid.py);
- a bare pair of decimals in range, each with at least 4 decimal places (11 m), or 3 inside the
  British Isles: "53.800800,-1.549100", "53.801, -1.549"; separated by spaces alone, only with a
  sign or inside the British Isles ("Lap times 58.1234 59.4321" is not a position);
- a map link: Google Maps "@53.8008,-1.5491,17z", "?q=53.8,-1.5", OpenStreetMap "mlat=53.8&mlon=-1.5";
- an ISO 6709 point closed by its slash: "+53.8008-001.5491/";
- other map links, plus codes, geohashes (formats/geocodes.py), OS eastings/northings in figures,
  UTM and MGRS (formats/projected.py), colon- and space-separated DMS, longitude first, "lat/lon a/b"
  (formats/coordspell.py); a bare pair may be split by "|" too (RT29-18/19/31/32).
A what3words address ("///filled.count.soap") cannot be decoded offline: it is a place (geocodes.py).
A labelled or lettered position out of range (latitude 95) is a malformed position: text that
says it is a position and cannot be read is never taken as saying nothing. A bare pair out of
range is simply not a position. UK postcodes: formats/postcodes.py.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote_plus

from screening.formats import coordkeys, coordspell, geocodes, projected, strings
from screening.formats import postcodes as _postcodes
from screening.formats.geotags import Claims, Place, Position
from screening.formats.osgrid import grid_refs

POSTCODE = _postcodes.POSTCODE

WHAT = "coordinates written"
_NUM = r"[-+−]?\d{1,3}(?:[.,]\d+)?"
_LABELLED = re.compile(
    rf"\blat(?:itude)?\b\.?\s*+[:=]?\s*+(?P<lat>{_NUM})\s*+[°º˚]?\s*+(?P<ns>[NS]\b)?[\s,;/|&]*+"
    rf"(?:lon|long|lng|longitude)\b\.?\s*+[:=]?\s*+(?P<lon>{_NUM})\s*+[°º˚]?\s*+(?P<ew>[EW]\b)?", re.I)
# (possessive runs: a caption of "lat 1" and thousands of spaces must not take cubic time, RT13-4)
# decimal degrees with hemisphere letters: 2 decimal places at least (1 km; "Score 12.5 N 3.25 W"
# is a score and initials, RT11b-17/19), or 3 after a decimal comma ("53,8008 N 1,5491 W", RT11b-11;
# "1,50 N 2,75 E" are prices)
_DEC = r"\d{1,3}(?:\.\d{2,}|,\d{3,})"
_HEMI_AFTER = re.compile(rf"(?<![\w.,])(?P<lat>{_DEC})\s*+[°º˚]?\s*+(?P<ns>[NS])\b[\s,;/]*+"
                         rf"(?P<lon>{_DEC})\s*+[°º˚]?\s*+(?P<ew>[EW])\b")
_HEMI_BEFORE = re.compile(rf"\b(?P<ns>[NS])\s*(?P<lat>{_DEC})°?[\s,;/]+(?P<ew>[EW])\s*(?P<lon>{_DEC})°?(?![\d.,]*\d)")


def _dms_part(p: str) -> str:
    """Degrees, minutes and optional seconds: 53°48'03", 53º 48.048, 53d48m03s, or "53 48.048"
    (degrees then decimal minutes, no marks: a Garmin's "N 53 48.048"). Groups {p}d, {p}m, {p}s."""
    # no two runs of spaces meet without a mark between them: a caption of spaces is read in linear time
    return (rf"(?P<{p}d>\d{{1,3}})(?:\s*(?:[°º˚]|d)\s*|\s+(?=\d{{1,2}}[.,]\d{{2}}))"
            rf"(?P<{p}m>\d{{1,2}}(?:[.,]\d+)?)(?:\s*(?:['′’]|m(?![a-z])))?"
            rf"(?:\s*(?P<{p}s>\d{{1,2}}(?:[.,]\d+)?)\s*(?:\"|″|”|''|′′|s(?![a-z])))?")


# degrees/minutes(/seconds), hemisphere letters after (53°48'03"N, 53d48m03sN) or first (N 53° 48.048)
_DMS = re.compile(r"(?<![\w.,])" + _dms_part("a") + r"\s*(?P<ns>[NS])\b[\s,;/]*"
                  + _dms_part("b") + r"\s*(?P<ew>[EW])\b")
_DMS_FIRST = re.compile(r"\b(?P<ns>[NS])\s*" + _dms_part("a") + r"[\s,;/]+(?P<ew>[EW])\s*" + _dms_part("b")
                        + r"(?![\d.,]*\d)")
# (a CSV row's pair after a comma, or before ",45.2" of altitude, and "53.8;-1.5" are pairs: RT13-3)
_BARE_PAIR = re.compile(r"(?<![\w.+\-−])([-+−]?\d{1,2}\.\d{3,})\s*[,;/|]?\s+([-+−]?\d{1,3}\.\d{3,})(?!\w|\.\d)"
                        r"|(?<![\w.+\-−])([-+−]?\d{1,2}\.\d{3,})[,;]([-+−]?\d{1,3}\.\d{3,})(?!\w|\.\d)")
# Map links: Google Maps "@53.8008,-1.5491,17z", "?q=" / "ll=" / "query=" pairs, "/maps/search/53.8,-1.5", Bing's
# "where1=", Citymapper's "endcoord=", OSM's directions "route=" (read decoded, RT31-22), a "geo:53.8,-1.5" URI
# (Android's share), "mlat=..&mlon=..".
_MAP_LINK = re.compile(r"(?:@|[?&](?:amp;)?(?:q|ll|sll|query|center|destination|origin|[sd]addr|where\d?|(?:start|end)?coords?"
                       r"|route)=(?:loc:)?|/maps/(?:search|place|dir)/|(?<![\w.])geo:)([-+]?\d{1,2}\.\d+)(?:,|%2C)\s*([-+]?\d{1,3}\.\d+)"
                       r"|[?&]mlat=([-+]?\d{1,2}\.\d+)&(?:amp;)?mlon=([-+]?\d{1,3}\.\d+)", re.IGNORECASE)
# Where 3 decimal places (about 110 m) are enough to count: the British Isles (the trust's schools).
_BRITISH_ISLES = (49.0, 61.5, -11.0, 2.5)
_ISO6709 = re.compile(r"(?<![\w.])([+-]\d{2,6}(?:\.\d+)?)([+-]\d{3,7}(?:\.\d+)?)(?:[+-]\d+(?:\.\d+)?)?(?:CRS\S*?)?/")


# "deg" before a figure (exiftool's "53 deg 48' 2.90\" N", RT31-1) or a hemisphere ("53.8008 degrees N", RT32-5)
_DEGREE_WORD = re.compile(r"(?<=\d) ?deg(?:rees?|s)?\.?(?= ?(?:\d|[NSEW]\b))", re.I)


def positions(text: str) -> list[Position]:
    """Every position written in `text` (valid or malformed), each once, in the order found; a link's
    percent-encoding undone too (RT31-4/22): what its own words say and what its decoded form says."""
    readings = readings_of(text)
    found = _read(_DEGREE_WORD.sub("°", readings[0].replace("−", "-")))
    for decoded in readings[1:]:
        seen = {(p.lat, p.lon, p.problem) for p in found}
        found += [p for p in _read(_DEGREE_WORD.sub("°", decoded.replace("−", "-")))
                  if (p.lat, p.lon, p.problem) not in seen]
    return found


def readings_of(text: str) -> list[str]:
    """`text` as it reads (plain), and, when it holds a link or percent-encoding, with every such word
    decoded as a browser shows it (RT31-4/22/23): "%2C" a comma, "%C2%B0" a degree sign, "+" a space.
    Only words that are links ("://", "www.", "%XX") are decoded: elsewhere "+53.8008" is a sign."""
    shown = plain(text)
    if ("%" not in shown and "/" not in shown and "www." not in shown.lower()) or not _LINK_WORD.search(shown):
        return [shown]
    words = shown.split(" ")
    for i, word in enumerate(words):
        if _LINK_WORD.search(word):
            for _ in range(3):  # "%252C", encoded twice, is a comma too
                word = unquote_plus(word)
                if not _PERCENT.search(word):
                    break
            words[i] = word
    decoded = plain(" ".join(words))
    return [shown] if decoded == shown else [shown, decoded]


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_LINK_WORD = re.compile(r"%[0-9A-Fa-f]{2}|://|(?<!\S)www\.|(?<!\S)[\w.-]+\.[a-z]{2,6}/", re.I)


def _read(text: str) -> list[Position]:
    found: list[Position] = []
    taken: list[tuple[int, int]] = []
    for finder in (_map_links, geocodes.positions, _labelled, coordkeys.positions, _dms, _hemispheres,
                   _iso6709, _os_grid, projected.positions, coordspell.positions, _bare_pairs):
        for (start, end), pos in finder(text):
            if any(start < b and a < end for a, b in taken):
                continue  # the same characters already read by a surer pattern
            taken.append((start, end))
            found.append(pos)
    return found


def postcodes(text: str) -> list[str]:
    """UK postcodes in `text` ("LS6 2AB", "ls6 2ab", "LS62AB"), a link's decoded too ("?q=LS6+2AB"):
    formats/postcodes.py."""
    return list(dict.fromkeys(code for shown in readings_of(text) for code in _postcodes.postcodes(shown)))


def link_places(text: str) -> list[Place]:
    """The places a credit's or a tool's text names by a link (RT33a-12): a what3words address, a short
    map link, a short plus code (geocodes.places), and a postcode inside a link ("maps/search/?query=LS6+2AB",
    decoded); not a postcode among its other words (an instance id's hex is postcode-shaped)."""
    found = [place for shown in readings_of(text) for place in geocodes.places(shown)]
    for word in plain(text).split(" "):
        if _LINK_WORD.search(word):
            for _ in range(3):
                word = unquote_plus(word)
                if not _PERCENT.search(word):
                    break
            found += [Place("postcode", code) for code in _postcodes.postcodes(word)]
    return list(dict.fromkeys(found))


def plain(text: str) -> str:
    """`text` as it reads: invisible format characters (a zero-width space, a soft hyphen, a
    direction mark) dropped, every space (no-break, thin) a space, full-width and other compatibility
    letters and digits as ASCII, so "LS6\u200b2AB" and "ＳＥ 29672 34261" read as they show."""
    if text.isascii():
        return _SPACES.sub(" ", text)
    out = []
    for char in text:
        if unicodedata.category(char) == "Cf":
            continue
        if char.isspace():
            out.append(" ")
            continue
        folded = unicodedata.normalize("NFKC", char)  # a full-width Ｓ, a mathematical 𝟓; not º (a degree)
        wide = unicodedata.decomposition(char).startswith(("<wide>", "<font>", "<narrow>")) or char.isdecimal()
        out.append(folded if wide and len(folded) == 1 and folded.isascii() and folded.isalnum() else char)
    return _SPACES.sub(" ", "".join(out))


# a run of spaces, tabs or line breaks reads as one space ("SE  29672 34261", "LS6  2AB": RT13-3)
_SPACES = re.compile(r"\s+")  # a tab or a line break too: "LS6\t2AB" (RT14-6)


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
            yield m.span(), _position(_signed(_float(m["lat"]), m["ns"], "S"),
                                      _signed(_float(m["lon"]), m["ew"], "W"), m.group(0).strip())


def _dms(text: str):
    for m in (*_DMS.finditer(text), *_DMS_FIRST.finditer(text)):
        raw = m.group(0).strip()
        parts = [[_float(m[p + u]) if m[p + u] else 0.0 for u in "dms"] for p in "ab"]
        if any(x >= 60 for d in parts for x in d[1:]):
            yield m.span(), Position(None, None, "minutes or seconds of 60 or more", raw, WHAT)
            continue
        lat, lon = (d[0] + d[1] / 60 + d[2] / 3600 for d in parts)
        yield m.span(), _position(_signed(lat, m["ns"], "S"), _signed(lon, m["ew"], "W"), raw)


def _os_grid(text: str):
    """An Ordnance Survey grid reference, "SE 29672 34261" (RT11b-10): formats/osgrid.py."""
    for span, lat, lon, raw in grid_refs(text):
        yield span, Position(lat, lon, raw=raw, what="grid reference written")


def _iso6709(text: str):
    from screening.formats.video_metadata import iso6709  # it imports this module

    for m in _ISO6709.finditer(text):
        pos = iso6709(m.group(0))
        yield m.span(), Position(pos.lat, pos.lon, pos.problem, pos.raw, WHAT)


def _bare_pairs(text: str):
    """Two decimals in range: with 4+ places anywhere (a score, a gymnastics 14.233, never comes
    with four), with 3 only inside the British Isles (RT11b-12: "53.801, -1.549" is within 110 m).
    Two separated by spaces alone ("Lap times 58.1234 59.4321", RT11b-18) count when one has a
    sign or they are inside the British Isles ("53.8008 -1.5491")."""
    for m in _BARE_PAIR.finditer(text):
        a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        lat, lon = float(a), float(b)
        places = min(len(a.split(".")[1]), len(b.split(".")[1]))
        south, north, west, east = _BRITISH_ISLES
        near = south <= lat <= north and west <= lon <= east
        spaced = not re.search(r"[,;/|]", m.group(0))
        if spaced and not (near or a[0] in "+-" or b[0] in "+-"):
            continue
        if abs(lat) < 1 and abs(lon) < 1:
            continue  # within a degree of 0, 0, in the Gulf of Guinea: two small measurements ("-0.1120 -0.1123")
        if abs(lat) <= 90 and abs(lon) <= 180 and (places >= 4 or near):
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
    coordinates or a UK postcode written in them (the text check's captions: EXIF, XMP, IPTC,
    comments, tags). A postcode is a place: "location text in the EXIF image description:
    postcode 'LS6 2AB'" (RT11b-15). A latitude and a longitude in two of them: coordpairs.py."""
    from screening.formats.coordpairs import named_pairs  # it imports geotags, which imports this module

    texts, out = list(texts), []
    for where, text in texts:
        coded = list(dict.fromkeys(place for shown in readings_of(text) for place in geocodes.places(shown)))
        codes = strings.worded_runs(text, postcodes) if strings.from_binary(where) else postcodes(text)  # RT31-18
        found = positions(text)
        if found or codes or coded:
            places = tuple(dict.fromkeys([Place("postcode", code) for code in codes] + coded))
            out.append(("caption", f"the {where}", Claims(tuple(found), places)))
    return out + [("caption", f"the {where}", Claims((pos,))) for where, pos in named_pairs(texts)]
