"""Ordnance Survey National Grid references written as text ("SE 29672 34261", "SE2967234261",
"se 2967 3426"), read as WGS84 latitude and longitude.

A reference is two letters naming a 100 km square of the grid with land in it (SE, TQ, NY...;
not a sea square such as SF: "SF100000" is a box-drawing glyph's name), then 6, 8 or 10 figures:
an easting and a northing of equal length (100 m, 10 m, 1 m); two years ("NY 2024 2025") are not. The point returned is the middle of the square the
figures name. Upper-case letters always count; lower-case ones only with 8 or 10 figures (a
caption's "so 150 200 came" is not a place). "No", "no", "SN"... (the NO and SN squares, Dundee and
west Wales) are a number's label only right after a word that names a numbered thing ("Ticket no
12345678", "Order No 20261128", "Candidate No 1234 5678": RT31-25), and "SN" only after a serial's
label ("Camera SN 12345678", "Camera S/N: SN12345678", "Serial no. SN12345678": RT33a-10); after any
other word it is the square ("meet at glamis no 38604680", "control card NO 4012 3087", "Cardigan SN
1234 5678": RT33a-2). A lower-case square that is also a unit (ns, nm, hz, hp...) right after a
decimal number is the unit ("25.3 ns 27674482"); any other lower-case square after a number is a
square ("DofE day 2 ny 32140723": RT33a-1). Fail closed: a label or unit not in these lists reads as
a grid reference. Conversion: the OS transverse Mercator projection
on the Airy 1830 ellipsoid (OSGB36), then the OS's Helmert transformation to WGS84 (a few metres).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

_REF = re.compile(r"(?<![\w.,/-])(?P<sq>[A-HJ-Z]{2})\s?(?:(?P<e>\d{3,5})\s(?P<n>\d{3,5})|(?P<both>\d{6}|\d{8}|\d{10}))"
                  r"(?![\w/-]|[.,]\w)", re.IGNORECASE)  # a number after a space may follow ("SE 2967 3426 3 June": RT13-3)

# The 100 km squares with land in them (Great Britain, its islands, the Isle of Man): a sea
# square's reference is no school's
LAND = frozenset((
    "HP HT HU HW HX HY HZ NA NB NC ND NF NG NH NJ NK NL NM NN NO NR NS NT NU NW NX NY NZ OV "
    "SC SD SE SH SJ SK SM SN SO SP SR SS ST SU SV SW SX SY SZ TA TF TG TL TM TQ TR TV").split())
_YEAR = re.compile(r"19\d\d|20\d\d")
# squares that are also a number's label: "Ticket no", "Camera SN" (RT31-25)
_LABEL_SQUARES = frozenset({"NO", "SN"})
# the words right before "no"/"NO" that make it a number's label (a closed list: RT33a-2)
_NO_LABEL = re.compile(r"(?i)\b(?:serial|model|part|product|item|ticket|order|receipt|invoice|candidate|bib"
                       r"|account|customer|booking|policy|claim|member|membership|registration|student|employee"
                       r"|passport|licence|license|permit|phone|tel|fax|vat|company|charity|batch|lot|asset"
                       r"|catalogue|device)\s*[.:]?\s*$")
# "SN" is a serial number's label after a serial's words only (RT33a-10: "Camera S/N: SN12345678")
_SN_LABEL = re.compile(r"(?i)(?:\b(?:serial|camera|lens|body|device)(?:\s+(?:no|nr|num|number)\b\.?)?"
                       r"|\bs/n)\s*[:=#]?\s*$")
# units whose letters are a land square's: nanoseconds, nanometres, hertz, horsepower, sieverts... (RT33a-1)
_UNITS = frozenset({"ns", "nm", "hz", "hp", "sv", "st", "su", "tm", "ta", "nt", "nf", "nh", "sm", "sk"})
_DECIMAL_BEFORE = re.compile(r"(?<![\w.])\d+\.\d+\s*$")
# the labels of a serial number (projected.py's MGRS written together; not '#' or 'no' alone: RT33a-4)
_NUMBER_LABEL = re.compile(r"(?i)(?:\b(?:serial|s/n|sn|id|model|part|product|imei|sku)\b\.?"
                           r"(?:\s*(?:no|nr|num|number)\b\.?)?)\s*[:=#]?\s*$")

# OSGB36: Airy 1830 ellipsoid and the National Grid's projection
_A, _B, _F0 = 6377563.396, 6356256.909, 0.9996012717
_LAT0, _LON0, _E0, _N0 = math.radians(49.0), math.radians(-2.0), 400000.0, -100000.0
_WGS84_A, _WGS84_B = 6378137.0, 6356752.314245
# OSGB36 -> WGS84 (the OS publishes WGS84 -> OSGB36: these are its negation): metres, ppm, arc seconds
_TX, _TY, _TZ, _S, _RX, _RY, _RZ = 446.448, -125.157, 542.060, -20.4894, 0.1502, 0.2470, 0.8421


def grid_refs(text: str) -> Iterator[tuple[tuple[int, int], float, float, str]]:
    """((start, end), lat, lon, raw) of every grid reference in `text`."""
    for m in _REF.finditer(text):
        square = m["sq"]
        digits = m["both"] or (m["e"] + m["n"] if len(m["e"]) == len(m["n"]) else "")
        if not digits or (not square.isupper() and len(digits) < 8):
            continue
        if square.upper() not in LAND or (m["e"] and all(_YEAR.fullmatch(x) for x in (m["e"], m["n"]))):
            continue  # a sea square ("SF100000" is a glyph's name); "NY 2024 2025" is two years
        if _not_a_square(text, m.start(), square):
            continue
        origin = _square(square.upper())
        if origin is None:
            continue
        half = len(digits) // 2
        unit = 10 ** (5 - half)
        easting = origin[0] + int(digits[:half]) * unit + unit / 2
        northing = origin[1] + int(digits[half:]) * unit + unit / 2
        lat, lon = to_wgs84(easting, northing)
        yield m.span(), lat, lon, m.group(0).strip()


def _not_a_square(text: str, start: int, square: str) -> bool:
    """The letters are a number's label or a unit, not a grid square (RT31-25, RT33a-1/2/10)."""
    before = text[max(0, start - 40):start]
    if square.upper() in _LABEL_SQUARES:
        # "Ticket no 12345678", "Camera SN 12345678", "ORDER NO 20261128"; not "glamis no 38604680",
        # "control card NO 4012 3087", "Cardigan SN 1234 5678", "Grid ref NO 4012 3087"
        return (_NO_LABEL if square.upper() == "NO" else _SN_LABEL).search(before) is not None
    return square in _UNITS and _DECIMAL_BEFORE.search(before) is not None  # "25.3 ns 27674482": a unit


def after_number_label(text: str, start: int) -> bool:
    """The text before `start` ends in a serial number's label: "Camera serial ", "S/N: ", "Part #"."""
    return _NUMBER_LABEL.search(text[max(0, start - 40):start]) is not None


def _square(letters: str) -> tuple[int, int] | None:
    """The south-west corner (metres) of a 100 km square, or None when the grid has no such square."""
    first, second = (ord(c) - ord("A") - (c > "I") for c in letters)
    east = ((first - 2) % 5) * 5 + second % 5
    north = (19 - (first // 5) * 5) - second // 5
    if not (0 <= east < 7 and 0 <= north < 13):
        return None
    return east * 100_000, north * 100_000


def to_osgb36(easting: float, northing: float) -> tuple[float, float]:
    """OSGB36 latitude and longitude (degrees) of a National Grid easting and northing (metres):
    the OS's 'A guide to coordinate systems in Great Britain', annex C."""
    a, b, f0 = _A, _B, _F0
    e2 = 1 - (b * b) / (a * a)
    n = (a - b) / (a + b)
    lat, m = _LAT0, 0.0
    while True:
        lat = (northing - _N0 - m) / (a * f0) + lat
        m = _meridional_arc(lat, b, f0, n)
        if abs(northing - _N0 - m) < 0.00001:
            break
    sin, cos, tan = math.sin(lat), math.cos(lat), math.tan(lat)
    nu = a * f0 / math.sqrt(1 - e2 * sin * sin)
    rho = a * f0 * (1 - e2) / (1 - e2 * sin * sin) ** 1.5
    eta2 = nu / rho - 1
    vii = tan / (2 * rho * nu)
    viii = tan / (24 * rho * nu ** 3) * (5 + 3 * tan ** 2 + eta2 - 9 * tan ** 2 * eta2)
    ix = tan / (720 * rho * nu ** 5) * (61 + 90 * tan ** 2 + 45 * tan ** 4)
    x = 1 / (cos * nu)
    xi = 1 / (cos * 6 * nu ** 3) * (nu / rho + 2 * tan ** 2)
    xii = 1 / (cos * 120 * nu ** 5) * (5 + 28 * tan ** 2 + 24 * tan ** 4)
    xiia = 1 / (cos * 5040 * nu ** 7) * (61 + 662 * tan ** 2 + 1320 * tan ** 4 + 720 * tan ** 6)
    de = easting - _E0
    lat = lat - vii * de ** 2 + viii * de ** 4 - ix * de ** 6
    lon = _LON0 + x * de - xi * de ** 3 + xii * de ** 5 - xiia * de ** 7
    return math.degrees(lat), math.degrees(lon)


def _meridional_arc(lat: float, b: float, f0: float, n: float) -> float:
    d, s = lat - _LAT0, lat + _LAT0
    return b * f0 * ((1 + n + 5 / 4 * n ** 2 + 5 / 4 * n ** 3) * d
                     - (3 * n + 3 * n ** 2 + 21 / 8 * n ** 3) * math.sin(d) * math.cos(s)
                     + (15 / 8 * n ** 2 + 15 / 8 * n ** 3) * math.sin(2 * d) * math.cos(2 * s)
                     - 35 / 24 * n ** 3 * math.sin(3 * d) * math.cos(3 * s))


def to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    """WGS84 latitude and longitude (degrees) of a National Grid easting and northing."""
    lat, lon = (math.radians(v) for v in to_osgb36(easting, northing))
    x, y, z = _cartesian(lat, lon, _A, _B)
    s = 1 + _S * 1e-6
    rx, ry, rz = (math.radians(r / 3600) for r in (_RX, _RY, _RZ))
    x, y, z = (_TX + s * x - rz * y + ry * z, _TY + rz * x + s * y - rx * z, _TZ - ry * x + rx * y + s * z)
    return _geodetic(x, y, z, _WGS84_A, _WGS84_B)


def _cartesian(lat: float, lon: float, a: float, b: float) -> tuple[float, float, float]:
    e2 = 1 - (b * b) / (a * a)
    nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return (nu * math.cos(lat) * math.cos(lon), nu * math.cos(lat) * math.sin(lon), nu * (1 - e2) * math.sin(lat))


def _geodetic(x: float, y: float, z: float, a: float, b: float) -> tuple[float, float]:
    e2 = 1 - (b * b) / (a * a)
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - e2))
    for _ in range(10):
        nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
        lat = math.atan2(z + e2 * nu * math.sin(lat), p)
    return math.degrees(lat), math.degrees(math.atan2(y, x))
