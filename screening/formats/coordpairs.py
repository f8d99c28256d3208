"""A position written as two fields, its latitude in one and its longitude in another (RT29-25/26).

A clip's Matroska tags LATITUDE and LONGITUDE (GPS_LATITUDE/GPS_LONGITUDE), a PNG's text chunks
'Latitude' and 'Longitude' (or 'GPSLatitude'...): each holds one number, which no caption reader takes
for a position. Every caption is named by where it is (captions.py: "latitude tag", "PNG tEXt chunk
'GPSLatitude'"); a caption whose name holds "latitude" (or the word "lat") is paired with the one
whose name is the same with "longitude" (or "lon", "lng", "long") instead, as geotags pairs XMP
properties (which are not paired again here). The pair is read as XMP's coordinates are (decimal degrees, or "53,48.05N"); one that is
not is a malformed position, and so is a "latitude" or "longitude" field without its other half.
"""

from __future__ import annotations

import re

from screening.formats.geotags import Position, _xmp_position

_CHUNK = re.compile(r"\b(?:text|itxt|ztxt) chunk\b")  # a PNG's tEXt, iTXt, zTXt: one kind of field
_XMP = re.compile(r"\bXMP\b")
_LAT = re.compile(r"latitude|(?<![a-z])lat(?![a-z])")
_LON = re.compile(r"longt?itude|(?<![a-z])(?:lon|lng|long)(?![a-z])")


def named_pairs(texts) -> list[tuple[str, Position]]:
    """(where, position) of the latitude/longitude fields among (where, text) captions."""
    halves: dict[str, dict[str, tuple[str, str, bool]]] = {}
    for where, text in texts:
        if _XMP.search(where):
            continue  # XMP properties are paired by geotags, element by element (its reader, not this one)
        name = _CHUNK.sub("txt chunk", where.lower())
        for axis, pattern in (("lat", _LAT), ("lon", _LON)):
            m = pattern.search(name)
            if m:
                key = name[:m.start()] + "\x00" + name[m.end():]
                word = m.group(0) in ("latitude", "longitude", "longtitude")
                halves.setdefault(key, {})[axis] = (where, text.strip(), word)
                break
    found = []
    for pair in halves.values():
        lat, lon = pair.get("lat"), pair.get("lon")
        if not (lat and lon) and not (lat or lon)[2]:
            continue  # a lone "lat" or "long" field: a word in a name ("long description"), not a half
        where = " and ".join(half[0] for half in (lat, lon) if half)
        found.append((where, _xmp_position(lat[1] if lat else "", lon[1] if lon else "", "coordinates written")))
    return found
