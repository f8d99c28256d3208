"""Projected coordinates written as text (RT29-31), for formats/coordtext.py: read as WGS84.

- an Ordnance Survey easting and northing in figures, labelled: "Easting 429672, Northing 434261",
  "E 429672 N 434261", "429672E 434261N", northing first too (metres on the National Grid; osgrid.py
  converts);
  with the one-letter labels both are 6 figures (a northing of 7 for Shetland), with the words 5 or 6;
- UTM: a zone and latitude band then an easting (6 figures) and a northing (6 or 7), the point
  inside the band the letter names:
  "30U 595556 5962335", "UTM 30U 595556E 5962335N";
- MGRS: zone, band, the 100 km square's two letters, then 4 to 10 figures, spaced after the label
  MGRS or "grid" ("MGRS 30U WE 95556 62335", "Grid ref 30UWE9562"), or written together
  ("30UWE9555662335", "30UWE955623"): 6, 8 or 10 figures, 4 after a place or position key ("Camp
  30UWE9562", "GPS: 30UWE9562"); a key's colon or '=' may stand right before ("GPS:30UWE..."); not
  inside an identifier (a UUID's hex group "7FEC4912-706C", "1DBA5467-4D5C": RT31-7) and not after a
  serial number's label ("Camera serial 4QFJ12345678", "Part #4QFJ12345678", osgrid.after_number_label;
  not '#' or 'no' alone: "Checkpoint #30UWE...", "Job no 30UWE..." are references: RT33a-3/4).
A zone past 60 or a band letter that is none is simply not such a reference (no label says it is);
nor is a point outside its zone's 6 degrees of longitude (3 more either side: Norway's and
Svalbard's wider zones; RT31-7b).
"""

from __future__ import annotations

import math
import re

from screening.formats.geotags import Position
from screening.formats.osgrid import after_number_label, to_wgs84

_BANDS = "CDEFGHJKLMNPQRSTUVWX"  # 8 degrees each from 80 S; X is 12
_EAST = (r"(?:eastings?\s*[:=]?\s*(?P<e1>\d{5,6})(?:\.\d+)?|E\s*[:=]?\s*(?P<e2>\d{6})(?:\.\d+)?"
         r"|(?P<e3>\d{6})(?:\.\d+)?\s?(?:m\s?)?E)\b")
_NORTH = (r"(?:northings?\s*[:=]?\s*(?P<n1>\d{5,7})(?:\.\d+)?|N\s*[:=]?\s*(?P<n2>\d{6,7})(?:\.\d+)?"
          r"|(?P<n3>\d{6,7})(?:\.\d+)?\s?(?:m\s?)?N)\b")
_EN = [re.compile(rf"(?<![\w.]){first}[\s,;/]*{second}(?![.,]\d)", re.I) for first, second in ((_EAST, _NORTH),
                                                                                         (_NORTH, _EAST))]
_UTM = re.compile(r"(?<![\w.])(?P<zone>\d{1,2})\s?(?P<band>[C-HJ-NP-X])\s+(?P<e>\d{6})(?:\.\d+)?\s?(?:m\s?)?E?"
                  r"[\s,;/]+(?P<n>\d{6,7})(?:\.\d+)?\s?(?:m\s?)?N?\b(?![.,]\d)", re.I)
# MGRS: written together ("30UWE9555662335", 4 to 10 figures), or spaced after its label ("MGRS 30U WE
# 95556 62335"): "43 PDT 2017" is a time zone and a year; "7FEC4912-..." a UUID's first group (RT31-7);
# after a key's ':' or '=' ("GPS:30UWE...", RT33a-4), not after a figure's (a time "10:30UWE...")
_MGRS = re.compile(r"(?:(?<=[^\W\d_][:=])|(?<![\w.:=-]))"
                   r"(?P<zone>\d{1,2})(?P<band>[C-HJ-NP-X])(?P<sq>[A-HJ-NP-Z][A-HJ-NP-V])"
                   r"(?P<digits>\d{10}|\d{8}|\d{6}|\d{4})\b(?![-:.]\w)"
                   r"|(?:\bMGRS|(?i:\bgrid(?:\s?ref\w*)?))\s*[:=]?\s*(?P<lzone>\d{1,2})\s?(?P<lband>[C-HJ-NP-X])\s?"
                   r"(?P<lsq>[A-HJ-NP-Z][A-HJ-NP-V])\s?"
                   r"(?P<ldigits>\d{1,5}\s\d{1,5}|\d{2,10})\b(?![.,]\d)")
# a place or position key before 4 figures written together (1 km): "Camp 30UWE9562", "GPS: 30UWE9562"
_PLACE_KEY = re.compile(r"(?i)\b(?:mgrs|grid|ref|reference|gps|pos|position|location|loc|coords?|coordinates"
                        r"|at|near|meet|meeting|camp|summit|start|finish|checkpoint|rv|rendezvous|waypoint|wpt"
                        r"|site|base|point|place|lat|latlon)\s*[:=]?\s*$")


def positions(text: str):
    """((start, end), Position) of the eastings/northings, UTM and MGRS references in `text`."""
    for m in (*_EN[0].finditer(text), *_EN[1].finditer(text)):
        easting = int(m["e1"] or m["e2"] or m["e3"])
        northing = int(m["n1"] or m["n2"] or m["n3"])
        if not (0 < easting < 700_000 and 0 < northing < 1_300_000):
            continue  # off the National Grid: not this reference
        lat, lon = to_wgs84(easting, northing)
        yield m.span(), Position(lat, lon, raw=m.group(0).strip(), what="grid position written")
    for m in _UTM.finditer(text):
        found = _utm(int(m["zone"]), m["band"].upper(), int(m["e"]), int(m["n"]))
        if found is not None:
            yield m.span(), Position(*found, raw=m.group(0).strip(), what="UTM position written")
    for m in _MGRS.finditer(text):
        p = "" if m["zone"] else "l"
        if p == "" and after_number_label(text, m.start()):
            continue  # "Camera serial 4QFJ12345678": a serial number (RT31-7)
        if p == "" and len(m["digits"]) == 4 and not _PLACE_KEY.search(text[max(0, m.start() - 30):m.start()]):
            continue  # "Model 7FEC4912": 1 km only after a place's key ("Camp 30UWE9562")
        found = mgrs(int(m[p + "zone"]), m[p + "band"], m[p + "sq"], m[p + "digits"].replace(" ", ""))
        if found is not None:
            yield m.span(), Position(*found, raw=m.group(0).strip(), what="MGRS position written")


def _utm(zone: int, band: str, easting: float, northing: float) -> tuple[float, float] | None:
    if not 1 <= zone <= 60 or not 100_000 <= easting <= 900_000 or northing > 10_000_000:
        return None
    lat, lon = utm_to_wgs84(zone, band >= "N", easting, northing)
    low = -80 + 8 * _BANDS.index(band)
    if not low - 1 <= lat <= low + (12 if band == "X" else 8) + 1:
        return None
    west = (zone - 1) * 6 - 180  # the zone's 6 degrees, 3 more either side (32V, 31X-37X are wider)
    if not (west - 3 <= lon <= west + 9 and -180 <= lon <= 180):
        return None  # "1DBA5467-..." read as zone 1 gave longitude -183.9 (RT31-7b)
    return lat, lon


def mgrs(zone: int, band: str, square: str, digits: str) -> tuple[float, float] | None:
    """The middle of an MGRS reference's square (latitude, longitude), or None when it is none."""
    if len(digits) % 2 or not 1 <= zone <= 60:
        return None
    columns = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")[(zone - 1) % 3]
    if square[0] not in columns:
        return None
    rows = "ABCDEFGHJKLMNPQRSTUV"
    half = len(digits) // 2
    unit = 10 ** (5 - half)
    easting = (columns.index(square[0]) + 1) * 100_000 + int(digits[:half]) * unit + unit / 2
    base = ((rows.index(square[1]) - (5 if zone % 2 == 0 else 0)) % 20) * 100_000 + int(digits[half:]) * unit + unit / 2
    for k in range(5):  # the 100 km row letters repeat every 2000 km: the band says which
        found = _utm(zone, band, easting, base + k * 2_000_000)
        if found is not None:
            return found
    return None


def utm_to_wgs84(zone: int, north: bool, easting: float, northing: float) -> tuple[float, float]:
    """WGS84 latitude and longitude (degrees) of a UTM point (Snyder, 'Map Projections', 8-18ff.)."""
    a, f, k0 = 6378137.0, 1 / 298.257223563, 0.9996
    e2 = f * (2 - f)
    ep2 = e2 / (1 - e2)
    x, y = easting - 500_000.0, northing if north else northing - 10_000_000.0
    mu = y / k0 / (a * (1 - e2 / 4 - 3 * e2 ** 2 / 64 - 5 * e2 ** 3 / 256))
    e1 = (1 - math.sqrt(1 - e2)) / (1 + math.sqrt(1 - e2))
    phi = (mu + (3 * e1 / 2 - 27 * e1 ** 3 / 32) * math.sin(2 * mu) + (21 * e1 ** 2 / 16 - 55 * e1 ** 4 / 32)
           * math.sin(4 * mu) + 151 * e1 ** 3 / 96 * math.sin(6 * mu) + 1097 * e1 ** 4 / 512 * math.sin(8 * mu))
    sin, cos, tan = math.sin(phi), math.cos(phi), math.tan(phi)
    c1, t1 = ep2 * cos ** 2, tan ** 2
    n1 = a / math.sqrt(1 - e2 * sin ** 2)
    r1 = a * (1 - e2) / (1 - e2 * sin ** 2) ** 1.5
    d = x / (n1 * k0)
    lat = phi - n1 * tan / r1 * (d ** 2 / 2 - (5 + 3 * t1 + 10 * c1 - 4 * c1 ** 2 - 9 * ep2) * d ** 4 / 24
                                 + (61 + 90 * t1 + 298 * c1 + 45 * t1 ** 2 - 252 * ep2 - 3 * c1 ** 2) * d ** 6 / 720)
    lon = (d - (1 + 2 * t1 + c1) * d ** 3 / 6
           + (5 - 2 * c1 + 28 * t1 - 3 * c1 ** 2 + 8 * ep2 + 24 * t1 ** 2) * d ** 5 / 120) / cos
    return math.degrees(lat), (zone - 1) * 6 - 180 + 3 + math.degrees(lon)
