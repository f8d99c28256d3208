"""Latitude and longitude in spellings beyond coordtext's own (RT29-32), for formats/coordtext.py.

Still only labelled or lettered, as coordtext's are:
- degrees:minutes:seconds with colons and hemisphere letters ("53:48:02.88N 1:32:56.76W", exiftool's
  -c "%d:%d:%.2f"), or degrees:decimal minutes ("53:48.048N"); the seconds or minutes with a fraction
  ("14:30:00 S" is a time, "10 12 14 S" sizes);
- degrees minutes seconds separated by spaces with letters after ("53 48 02.9 N 001 32 56.8 W"), alike,
  or all three whole ("53 48 3 N 1 32 57 W", RT31-4b: both axes with their letters, north only: "Sizes 10 12
  14 S 16 18 20 W" are sizes);
- NMEA fields, degrees and minutes run together and the hemisphere in a field of its own (RT31-3):
  "5348.048,N,00132.946,W" of a dashcam's or logger's $GPRMC/$GPGGA/$GNGLL... sentence (ddmm.mmmm,N,dddmm.mmmm,W);
- labelled values in either order, each degrees or signed degrees and minutes (and seconds):
  "lon -1.5491 lat 53.8008", "lat 53°48.048 lon -1°32.946";
- a pair after a two-axis label, split by "/", "|", ",", ";" or a space: "lat/lon 53.8008/-1.5491",
  "lon,lat: -1.5491, 53.8008" (the label's order is the numbers' order).
A labelled or lettered position out of range, or minutes or seconds of 60 or more, is malformed.
"""

from __future__ import annotations

import re

from screening.formats.geotags import Position

WHAT = "coordinates written"
_S = r"\d{1,2}(?:[.,]\d+)?"


def _sep_dms(p: str, sep: str) -> str:
    """Degrees, minutes and seconds split by `sep`, the seconds or the minutes with a fraction ("14:30:00"
    and "10 12 14" are times and sizes): groups {p}d, {p}m, {p}s, {p}f (the minutes' fraction)."""
    return rf"(?P<{p}d>\d{{1,3}}){sep}(?P<{p}m>\d{{1,2}})(?:{sep}(?P<{p}s>\d{{1,2}}[.,]\d+)|(?P<{p}f>[.,]\d+))"


_COLONS = re.compile(r"(?<![\w.:])" + _sep_dms("a", ":") + r"\s*(?P<ns>[NS])\b[\s,;/]*"
                     + _sep_dms("b", ":") + r"\s*(?P<ew>[EW])\b")
_SPACED = re.compile(r"(?<![\w.,])" + _sep_dms("a", " ") + r" ?(?P<ns>[NS])\b[\s,;/]*"
                     + _sep_dms("b", " ") + r" ?(?P<ew>[EW])\b")
_WHOLE = r"(?P<{0}d>\d{{1,3}}) (?P<{0}m>\d{{1,2}}) (?P<{0}s>\d{{1,2}})(?P<{0}f>)"
# (north only: "Sizes 10 12 14 S 16 18 20 W" are clothes sizes; the trust's sites are all north)
_SPACED_WHOLE = re.compile(r"(?<![\w.,:])" + _WHOLE.format("a") + r" ?(?P<ns>N)\b[\s,;/]*"
                           + _WHOLE.format("b") + r" ?(?P<ew>[EW])\b")
_NMEA = re.compile(r"(?<![\w.])(?P<ad>\d{1,2})(?P<am>\d{2}\.\d+),(?P<ns>[NS]),"
                   r"(?P<bd>\d{1,3})(?P<bm>\d{2}\.\d+),(?P<ew>[EW])(?![\w.])")

_LAT, _LON = r"lat(?:itude)?", r"(?:lon|long|lng|longitude)"


def _value(p: str) -> str:
    """A labelled value: signed degrees, or degrees and minutes (and seconds) with marks, a hemisphere letter."""
    return (rf"(?P<{p}>[-+]?\d{{1,3}}(?:[.,]\d+)?)(?:\s*[°º˚d]\s*(?P<{p}m>{_S})\s*['′’]?"
            rf"(?:\s*(?P<{p}s>{_S})\s*(?:\"|″|”|''))?)?\s*[°º˚]?\s*(?P<{p}h>[NSEW]\b)?")


_LABEL = r"\b\.?\s*[:=]?\s*"
_LAT_LON = re.compile(rf"\b{_LAT}{_LABEL}{_value('y')}[\s,;/|&]*\b{_LON}{_LABEL}{_value('x')}", re.I)
_LON_LAT = re.compile(rf"\b{_LON}{_LABEL}{_value('x')}[\s,;/|&]*\b{_LAT}{_LABEL}{_value('y')}", re.I)
_N = r"[-+]?\d{1,3}\.\d+"
_PAIR = re.compile(rf"\(?\b(?:(?P<first>{_LAT})\s*[/,&|-]?\s*{_LON}|{_LON}\s*[/,&|-]?\s*{_LAT})\b\)?\s*[:=]?\s*\(?"
                   rf"(?P<a>{_N})\s*(?:[/|,;]\s*|\s+)(?P<b>{_N})(?![\d.])", re.I)


def positions(text: str):
    """((start, end), Position) of the positions in these spellings in `text`."""
    for pattern in (_COLONS, _SPACED, _SPACED_WHOLE):
        for m in pattern.finditer(text):
            parts = [[_num(m[p + "d"]), _num(m[p + "m"] + (m[p + "f"] or "")), _num(m[p + "s"])] for p in "ab"]
            yield m.span(), _dms(parts, m["ns"], m["ew"], m.group(0).strip())
    for m in _NMEA.finditer(text) if ",N," in text or ",S," in text else ():
        parts = [[_num(m[p + "d"]), _num(m[p + "m"]), 0.0] for p in "ab"]
        yield m.span(), _dms(parts, m["ns"], m["ew"], m.group(0).strip())
    for pattern in (_LAT_LON, _LON_LAT):
        for m in pattern.finditer(text):
            parts = [[_num(m[p]), _num(m[p + "m"]), _num(m[p + "s"])] for p in "yx"]
            yield m.span(), _dms(parts, m["yh"], m["xh"], m.group(0).strip())
    for m in _PAIR.finditer(text):
        a, b = float(m["a"]), float(m["b"])
        lat, lon = (a, b) if m["first"] else (b, a)
        yield m.span(), _dms([[lat, 0, 0], [lon, 0, 0]], None, None, m.group(0).strip())


def _num(text: str | None) -> float:
    return float(text.replace(",", ".")) if text else 0.0


def _dms(parts: list[list[float]], ns: str | None, ew: str | None, raw: str) -> Position:
    if any(x >= 60 for d in parts for x in d[1:]):
        return Position(None, None, "minutes or seconds of 60 or more", raw, WHAT)
    lat, lon = (abs(d[0]) + d[1] / 60 + d[2] / 3600 for d in parts)
    lat = -lat if parts[0][0] < 0 or str(parts[0][0]).startswith("-") or (ns or "").upper() == "S" else lat
    lon = -lon if parts[1][0] < 0 or str(parts[1][0]).startswith("-") or (ew or "").upper() == "W" else lon
    if abs(lat) > 90 or abs(lon) > 180:
        return Position(None, None, f"latitude {lat:g}, longitude {lon:g} is out of range", raw, WHAT)
    return Position(lat, lon, raw=raw, what=WHAT)
