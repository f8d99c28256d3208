"""Places written as a code or in a map link's other shapes (RT29-18/19), for formats/coordtext.py.

- map links: OpenStreetMap's address bar "#map=18/53.8008/-1.5491" (zoom/lat/lon), Google Maps'
  data parameter "!3d53.8008!4d-1.5491" (and an embed's "!2d<lon>!3d<lat>"), Bing's "cp=53.8~-1.5";
- a full Open Location Code (Google's "plus code", "9C5WRF22+89"): decoded to the middle of its area;
- a geohash, only labelled ("geohash gcwfhf0y2", "geohash.org/gcwfhf0y2"), 5 characters at least
  (5 km): decoded likewise; one after "geohash:" that is not a geohash is a malformed position;
- a what3words address ("///filled.count.soap", "w3w.co/filled.count.soap", "what3words.com/...")
  cannot be decoded offline (the word list is the company's): it is a place, "what3words address".
  A short plus code ("RF22+89 Leeds": the area is named beside it) is a place too.
- a map service's short link (RT31-23: Google Maps' share button's "maps.app.goo.gl/...", the older
  "goo.gl/maps/...", Apple's "maps.apple/p/...", OpenStreetMap's "osm.org/go/...", HERE's
  "share.here.com/p/..."): most hold a key to the service's server, not the place (OSM's could be
  decoded, is not yet): a place too, "short map link". Waze's "waze.com/ul/h<geohash>" holds its geohash: decoded.
"""

from __future__ import annotations

import re

from screening.formats.geotags import Place, Position

WHAT = "coordinates written"
_N = r"[-+]?\d{1,3}\.\d+"
# (lat, lon) group order of each shape
_LINKS = (
    (re.compile(rf"[#&?/]map=\d{{1,2}}(?:\.\d+)?/({_N})/({_N})(?![\d.])"), (1, 2)),
    (re.compile(rf"!3d({_N})!4d({_N})"), (1, 2)),
    (re.compile(rf"!2d({_N})!3d({_N})"), (2, 1)),
    (re.compile(rf"[?&](?:amp;)?cp=({_N})(?:~|%7E)({_N})", re.I), (1, 2)),
)

_OLC = "23456789CFGHJMPQRVWX"
_FULL_PLUS = re.compile(rf"(?<![\w+])([{_OLC}]{{8}})\+([{_OLC}]{{2,3}})(?![\w+])", re.I)
_SHORT_PLUS = re.compile(rf"(?<![\w+])([{_OLC}]{{4,6}})\+([{_OLC}]{{2,3}})(?![\w+])", re.I)

_GEOHASH = "0123456789bcdefghjkmnpqrstuvwxyz"
_GEOHASH_LABEL = re.compile(r"\bgeo-?hash(\.org/|\s*[:=]\s*|\s+)([0-9a-z]{1,16})\b", re.I)

_W3W = re.compile(r"(?:(?<![:/\w])///|\b(?:w3w\.co|what3words\.com)/)([^\W\d_]{2,}\.[^\W\d_]{2,}\.[^\W\d_]{2,})"
                  r"(?![\w.]*\w)")
_SHORT_LINK = re.compile(r"(?<![\w.-])(?:maps\.app\.goo\.gl/|goo\.gl/maps/|maps\.apple(?:\.com)?/p/|osm\.org/go/"
                         r"|share\.here\.com/[lp]/)[\w~@=+-]+", re.I)
_WAZE = re.compile(r"(?<![\w.-])waze\.com/ul/h([0-9a-z]{5,12})\b", re.I)


def positions(text: str):
    """((start, end), Position) of the map links, full plus codes and labelled geohashes in `text`."""
    for pattern, (i, j) in _LINKS:
        for m in pattern.finditer(text):
            yield m.span(), _position(float(m.group(i)), float(m.group(j)), m.group(0))
    for m in _FULL_PLUS.finditer(text):
        decoded = plus_code(m.group(0))
        if decoded is not None:
            yield m.span(), Position(*decoded, raw=m.group(0), what="plus code written")
    for m in _WAZE.finditer(text):
        decoded = geohash(m.group(1))
        if decoded is not None:
            yield m.span(), Position(*decoded, raw=m.group(0), what="geohash written")
    for m in _GEOHASH_LABEL.finditer(text):
        decoded = geohash(m.group(2)) if len(m.group(2)) >= 5 else None
        if decoded is None and m.group(1).strip():  # "geohash: x" says it is one; "geohash and maps" does not
            yield m.span(), Position(None, None, "not a geohash", m.group(0), "geohash written")
        elif decoded is not None:
            yield m.span(), Position(*decoded, raw=m.group(0), what="geohash written")


def places(text: str) -> list[Place]:
    """what3words addresses, short map links and short plus codes in `text`: places without coordinates."""
    found = [Place("what3words address", "///" + m.group(1)) for m in _W3W.finditer(text)]
    found += [Place("short map link", m.group(0)) for m in _SHORT_LINK.finditer(text)]
    full = {m.span() for m in _FULL_PLUS.finditer(text)}
    found += [Place("plus code", m.group(0)) for m in _SHORT_PLUS.finditer(text)
              if m.span() not in full and re.search(r"[^\W\d_]", m.group(0)) and re.search(r"\d", m.group(0))]
    return found


def _position(lat: float, lon: float, raw: str) -> Position:
    if abs(lat) > 90 or abs(lon) > 180:
        return Position(None, None, f"latitude {lat:g}, longitude {lon:g} is out of range", raw, WHAT)
    return Position(lat, lon, raw=raw, what=WHAT)


def plus_code(code: str) -> tuple[float, float] | None:
    """The middle of a full Open Location Code's area (latitude, longitude), or None when not one."""
    digits = code.upper().replace("+", "")
    if len(digits) < 10 or any(c not in _OLC for c in digits):
        return None
    if _OLC.index(digits[0]) >= 9 or _OLC.index(digits[1]) >= 18:
        return None  # the first pair is 20-degree bands: 9 of latitude, 18 of longitude
    lat, lon, res = -90.0, -180.0, 20.0
    for k in range(0, 10, 2):
        lat += _OLC.index(digits[k]) * res
        lon += _OLC.index(digits[k + 1]) * res
        if k < 8:
            res /= 20
    height, width = res, res
    if len(digits) > 10:  # an 11th digit: a 4 x 5 grid of the 10-digit area
        row, col = divmod(_OLC.index(digits[10]), 4)
        height, width = res / 5, res / 4
        lat, lon = lat + row * height, lon + col * width
    return lat + height / 2, lon + width / 2


def geohash(code: str) -> tuple[float, float] | None:
    """The middle of a geohash's cell (latitude, longitude), or None when not a geohash."""
    code = code.lower()
    if not 1 <= len(code) <= 12 or any(c not in _GEOHASH for c in code):
        return None
    lat, lon, even = [-90.0, 90.0], [-180.0, 180.0], True
    for char in code:
        bits = _GEOHASH.index(char)
        for shift in range(4, -1, -1):
            half = lon if even else lat
            mid = (half[0] + half[1]) / 2
            half[0 if bits >> shift & 1 else 1] = mid
            even = not even
    return (lat[0] + lat[1]) / 2, (lon[0] + lon[1]) / 2
