"""GeoTIFF georeferencing (RT29-29): a TIFF, or a TIFF-structured EXIF block, that puts its pixels on
the map. An orthophoto from a drone survey, a GIS export: QGIS and Google Earth place it, exiftool prints
"ModelTiePoint : 0 0 0 -1.5491 53.8008 0".

Any directory (page, SubIFD, Exif...: carried.tiff_directories) with ModelTiepointTag 33922 or
ModelTransformationTag 34264 is georeferenced; the model point of pixel (0, 0) (the tie point's, or the
transformation's translation) is its position, in the coordinate system the GeoKey directory (34735)
names: geographic WGS 84 / ETRS89 / OSGB36 (EPSG 4326, 4258, 4277: longitude, latitude), British National
Grid (27700, formats/osgrid.py), UTM on WGS 84 or ETRS89 (326zz, 327zz, 258zz). Any other coordinate
system, no GeoKey directory, or tags that cannot be read, is a malformed position: the file says where it
is and that is not read, so it is never cleared.
"""

from __future__ import annotations

import math
import struct

from screening.formats.carried import tiff_directories
from screening.formats.common import ImageError, MetadataError
from screening.formats.geotags import Claims, Position
from screening.formats.osgrid import to_wgs84
from screening.formats.projected import utm_to_wgs84

TIEPOINT, SCALE, TRANSFORMATION, GEOKEYS = 33922, 33550, 34264, 34735
_TAGS = (TIEPOINT, SCALE, TRANSFORMATION, GEOKEYS)
_FORMATS = {3: "H", 4: "I", 8: "h", 9: "i", 11: "f", 12: "d", 16: "Q"}
_SIZES = {"H": 2, "I": 4, "h": 2, "i": 4, "f": 4, "d": 8, "Q": 8}
WHAT = "GeoTIFF georeferencing"
_GEOGRAPHIC = {4326, 4258, 4277, 4019, 4030}  # WGS 84, ETRS89, OSGB36, GRS 80, WGS 84 datum


def claims(block: bytes) -> Claims:
    """The position of every georeferenced directory of a TIFF structure (a file or an EXIF block)."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(block[:4])
    if order is None or len(block) < 8:
        return Claims()
    try:
        directories = tiff_directories(block, order)
    except (ImageError, struct.error) as exc:
        raise MetadataError(f"the TIFF directories cannot be walked for GeoTIFF tags: {exc}") from None
    found = []
    for offset, count, _ in directories:
        try:
            tags = _geo_tags(block, order, offset, count)
        except ValueError as exc:
            found.append(Position(None, None, str(exc), "", WHAT))
            continue
        if TIEPOINT in tags or TRANSFORMATION in tags:
            found.append(_position(tags))
    return Claims(tuple(found))


def _geo_tags(block: bytes, order: str, offset: int, count: int) -> dict[int, tuple]:
    tags: dict[int, tuple] = {}
    for entry in range(offset + 2, offset + 2 + 12 * count, 12):
        if entry + 12 > len(block):
            break  # a cut directory: the EXIF readers and the decode check report it
        tag, kind, n = struct.unpack_from(order + "HHI", block, entry)
        if tag not in _TAGS:
            continue
        fmt = _FORMATS.get(kind)
        if fmt is None or n > 1 << 16:
            raise ValueError(f"GeoTIFF tag {tag} has type {kind} and {n} values: not read")
        size = _SIZES[fmt] * n
        at = entry + 8 if size <= 4 else struct.unpack_from(order + "I", block, entry + 8)[0]
        if at + size > len(block):
            raise ValueError(f"GeoTIFF tag {tag} runs past the end of the data")
        tags[tag] = struct.unpack_from(f"{order}{n}{fmt}", block, at)
    return tags


def _position(tags: dict[int, tuple]) -> Position:
    if TIEPOINT in tags:
        values, name = tags[TIEPOINT], "tie point"
        x, y = (values[3], values[4]) if len(values) >= 6 else (math.nan, math.nan)
    else:
        values, name = tags[TRANSFORMATION], "transformation"
        x, y = (values[3], values[7]) if len(values) >= 16 else (math.nan, math.nan)
    raw = f"{name} " + " ".join(f"{v:.12g}" for v in values[:16])
    if not (math.isfinite(x) and math.isfinite(y)):
        return Position(None, None, f"the {name} has {len(values)} values, not a point", raw, WHAT)
    model, crs = _crs(tags.get(GEOKEYS, ()))
    if model == 2 and crs in _GEOGRAPHIC:
        lat, lon = y, x
    elif model == 1 and crs == 27700 and 0 <= x < 700_000 and 0 <= y < 1_300_000:
        lat, lon = to_wgs84(x, y)
    elif model == 1 and crs is not None and (32601 <= crs <= 32660 or 32701 <= crs <= 32760 or 25828 <= crs <= 25838):
        lat, lon = utm_to_wgs84(crs % 100, crs < 32700, x, y)
    else:
        system = f"EPSG {crs}" if crs else "not named"
        return Position(None, None, f"the coordinate system ({system}, model type {model}) is not read", raw, WHAT)
    if abs(lat) > 90 or abs(lon) > 180:
        return Position(None, None, f"latitude {lat:g}, longitude {lon:g} is out of range", raw, WHAT)
    return Position(lat, lon, raw=raw, what=WHAT)


def _crs(keys: tuple) -> tuple[int | None, int | None]:
    """(GTModelType 1024, the EPSG code of ProjectedCSType 3072 or GeographicType 2048) of a GeoKey
    directory: a header of four shorts, then (key, location, count, value) per key."""
    found: dict[int, int] = {}
    for at in range(4, min(len(keys), 4 + 4 * keys[3] if len(keys) >= 4 else 0), 4):
        key, location, _, value = keys[at:at + 4] if at + 4 <= len(keys) else (0, 1, 0, 0)
        if location == 0:
            found[key] = value
    model = found.get(1024)
    return model, found.get(3072) if model == 1 else found.get(2048)
