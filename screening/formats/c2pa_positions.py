"""Positions in a C2PA assertion beyond a latitude key paired with a longitude key (RT31-9).

- every text value under a key that says who made the file, with what, or is a reference (a map
  link under schema.org's 'url', a tool's note): read by formats/coordtext.py as a caption is. Such
  a key hides a name from the text check (a staff credit), never a position; every other text value
  is a caption already (the location check reads captions' positions);
- numbers in a list under a key that names a point: GeoJSON's `{"type": "Point", "coordinates":
  [lon, lat]}` (longitude first, as GeoJSON writes it; so `lnglat`, `lonlat`), or `"position":
  [lat, lon]`, `"gps"`, `"latlng"`, `"geo"`, `"point"` (latitude first). The first two numbers of
  the list are the point (a line's or a polygon's first vertex; a third is the altitude). Under a
  key that can only mean the globe (coordinates, gps, latlng...) a pair out of range is a
  malformed position; under 'position', 'point' or 'center' (a pixel's too) it is no position,
  nor are two whole numbers there ([1200, 800], [12, 40]: a pixel). A number written as a string
  ("coordinates": ["-1.5491", "53.8008"], as form data and some exporters write them) counts (RT33a-9);
- the places a link or a code names under those keys (a Place's 'url' that is a map link to a
  postcode, a short map link, a what3words link: coordtext.link_places, RT33a-12b).
"""

from __future__ import annotations

# keys whose list of numbers is a point on the globe, longitude first
_LON_FIRST = frozenset({"coordinates", "lnglat", "lonlat", "lnglng"})
# latitude first
_LAT_FIRST = frozenset({"gps", "gpsposition", "gpscoordinates", "gpspoint", "latlng", "latlon", "latlong", "geo",
                        "geolocation", "geopoint", "geoposition", "coordinate", "coords"})
# latitude first, but a pixel's too: only a pair in range counts
_MAYBE = frozenset({"position", "point", "center", "centre", "pos"})


def positions(leaves, local, maker, keyword=lambda path: False) -> list:
    """Positions of one assertion's leaves ((key path, value, is_text)); `local` strips a key's prefix,
    `maker(path)` says the caption reader skips the value, `keyword(path)` that it is JSON-LD's own."""
    from screening.formats import coordtext  # it imports geotags, which imports metadata, which imports c2pa
    from screening.formats.geotags import Position

    found: list = []
    for path, value, text in leaves:
        if text and value.strip() and maker(path) and not keyword(path):
            found += coordtext.positions(value)
    for key, numbers in _number_runs(leaves, local):
        first, second = numbers[:2]
        lat, lon = (second, first) if key in _LON_FIRST else (first, second)
        if key in _MAYBE and lat.is_integer() and lon.is_integer():
            continue  # a pixel's "position": [1200, 800], [12, 40]: whole numbers are no place on the globe
        if abs(lat) <= 90 and abs(lon) <= 180:
            found.append(Position(lat, lon, raw=f"{key}: {first:g}, {second:g}", what="GPS"))
        elif key not in _MAYBE:
            found.append(Position(None, None, f"latitude {lat:g}, longitude {lon:g} is out of range",
                                  f"{key}: {first:g}, {second:g}", "GPS"))
    return found


def places(leaves, maker, keyword=lambda path: False) -> list:
    """Places named by a link or a code in the texts under a maker's keys (RT33a-12b)."""
    from screening.formats import coordtext  # it imports geotags, which imports metadata, which imports c2pa

    return [place for path, value, text in leaves if text and value.strip() and maker(path) and not keyword(path)
            for place in coordtext.link_places(value)]


def _number_runs(leaves, local):
    """(key, numbers) of each run of 2 or more numbers in a row under one key that names a point."""
    runs: list[tuple[tuple, list[float]]] = []
    last = None
    for path, value, text in leaves:
        key = local(path[-1]) if path else ""
        number = None
        if key in _LON_FIRST | _LAT_FIRST | _MAYBE:  # a number, or a string of one (RT33a-9)
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None:
            last = None
            continue
        if last == path:
            runs[-1][1].append(number)
        else:
            runs.append((path, [number]))
            last = path
    return [(local(path[-1]), numbers) for path, numbers in runs if len(numbers) >= 2]
