"""What each metadata block says about where a photo was taken: coordinates and place names.

EXIF is read by two independent readers (Pillow and exifread), because exifread returns
nothing both for "no EXIF" and for "EXIF it could not parse": a block that neither reader
can parse, or on whose GPS they disagree, raises MetadataError instead of passing.
"""

from __future__ import annotations

import io
import math
import re
import struct
import warnings
from dataclasses import dataclass

import exifread
from defusedxml import ElementTree
from PIL import Image

from screening.formats import xmpplaces
from screening.formats.exif_images import gps_pointed_from
from screening.formats.metadata import MetadataError


@dataclass(frozen=True)
class Position:
    """Coordinates a block claims; `problem` is set when they are present but unusable."""

    lat: float | None
    lon: float | None
    problem: str | None = None
    raw: str = ""  # the values as written, for a malformed position's detail
    what: str = "GPS"  # or "GPS destination": where the photographed subject is


@dataclass(frozen=True)
class Place:
    """A location text field: label in the trust's words, and its value."""

    label: str
    value: str


@dataclass(frozen=True)
class Claims:
    positions: tuple[Position, ...] = ()
    places: tuple[Place, ...] = ()


# ---------------------------------------------------------------- EXIF GPS

GPS_IFD = 0x8825
LAT_REF, LAT, LON_REF, LON, AREA = 1, 2, 3, 4, 28
POSITION = (LAT_REF, LAT, LON_REF, LON)
DESTINATION = (19, 20, 21, 22)  # GPSDestLatitudeRef, GPSDestLatitude, GPSDestLongitudeRef, ...
_EXIFREAD_KEYS = {"GPS GPSLatitudeRef": LAT_REF, "GPS GPSLatitude": LAT, "GPS GPSLongitudeRef": LON_REF,
                  "GPS GPSLongitude": LON, "GPS GPSAreaInformation": AREA,
                  "GPS GPSDestLatitudeRef": 19, "GPS GPSDestLatitude": 20, "GPS GPSDestLongitudeRef": 21,
                  "GPS GPSDestLongitude": 22}


def exif_claims(block: bytes) -> Claims:
    """The GPS position and GPS area text of one EXIF block (TIFF header onwards)."""
    if (elsewhere := gps_pointed_from(block)):  # exiftool follows it; Pillow and exifread do not (RT31-19)
        raise MetadataError(f"the EXIF block points to a GPS directory from its {elsewhere}: not checked")
    pil_ok, pil_gps = _pillow_gps(block)
    exr_ok, exr_gps = _exifread_gps(block)
    if not pil_ok and not exr_ok:
        if _empty_tiff(block):
            return Claims()
        raise MetadataError(f"an EXIF block ({len(block)} bytes) is present but neither Pillow nor exifread can parse it")
    if isinstance(pil_gps, str):  # Pillow cannot follow the GPS block: it may hide coordinates
        if not _has_coordinates(exr_gps):
            return Claims((Position(None, None, pil_gps),))
        pil_ok = False  # exifread could read it: use its values
    if pil_ok and exr_ok and _has_coordinates(pil_gps) != _has_coordinates(exr_gps):
        said = "Pillow" if _has_coordinates(pil_gps) else "exifread"
        raise MetadataError(f"EXIF readers disagree: only {said} finds GPS coordinates in the EXIF block")
    return gps_claims(pil_gps if pil_ok else exr_gps)


def gps_claims(gps: dict) -> Claims:
    """The position, destination and area text of a GPS IFD read as {tag: value} (Pillow's values)."""
    positions = tuple(_exif_position(gps, tags, what) for tags, what in ((POSITION, "GPS"), (DESTINATION,
                      "GPS destination")) if tags[1] in gps or tags[3] in gps)
    area = _text(gps.get(AREA))
    return Claims(positions, (Place("GPS area", area),) if area else ())


def _pillow_gps(block: bytes) -> tuple[bool, dict | str]:
    """(parsed, GPS tags by id), or the GPS tags replaced by a problem text when unreadable."""
    exif = Image.Exif()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exif.load(block)
        except Exception:
            return False, {}
    if caught or not exif:
        return False, {}
    pointer = exif.get(GPS_IFD)
    if pointer is None:
        return True, {}
    if not isinstance(pointer, int):
        return True, f"the GPS block pointer has the wrong type ({type(pointer).__name__})"
    if not 8 <= pointer < len(block):
        return True, f"the GPS block pointer ({pointer}) points outside the EXIF block"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gps = dict(exif.get_ifd(GPS_IFD))
        except Exception as exc:
            return True, f"the GPS block cannot be read ({exc})"
    if caught:
        return True, f"the GPS block is corrupt ({caught[0].message})"
    return True, gps


def _exifread_gps(block: bytes) -> tuple[bool, dict]:
    try:
        tags = exifread.process_file(io.BytesIO(block), details=False)
    except Exception:
        return False, {}
    return bool(tags), {tag_id: tags[key].values for key, tag_id in _EXIFREAD_KEYS.items() if key in tags}


def _has_coordinates(gps: dict | str) -> bool:
    return isinstance(gps, dict) and (LAT in gps or LON in gps)


def _empty_tiff(block: bytes) -> bool:
    """A well-formed TIFF header whose first IFD has no entries: EXIF that says nothing."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(block[:4])
    if order is None or len(block) < 10:
        return False
    (offset,) = struct.unpack_from(order + "I", block, 4)
    return offset + 2 <= len(block) and struct.unpack_from(order + "H", block, offset)[0] == 0


def _exif_position(gps: dict, tags: tuple[int, int, int, int], what: str) -> Position:
    lat_ref, lat, lon_ref, lon = (gps.get(t) for t in tags)
    raw = f"latitude {_show(lat_ref)} {_show(lat)}, longitude {_show(lon_ref)} {_show(lon)}"
    try:
        lat = _signed(_degrees(lat, 90.0, "latitude"), _text(lat_ref), "NS", "latitude")
        lon = _signed(_degrees(lon, 180.0, "longitude"), _text(lon_ref), "EW", "longitude")
    except ValueError as exc:
        return Position(None, None, str(exc), raw, what)
    return Position(lat, lon, raw=raw, what=what)


def _degrees(value, limit: float, name: str) -> float:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals, checked for sense."""
    if value is None:
        raise ValueError(f"{name} is missing")
    parts = list(value) if isinstance(value, (tuple, list)) else [value]
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"{name} has {len(parts)} values, expected degrees, minutes, seconds")
    numbers = [_number(p, name) for p in parts]
    if any(n < 0 for n in numbers) or any(n >= 60 for n in numbers[1:]):
        raise ValueError(f"{name} {_show(value)} is not a valid degrees/minutes/seconds value")
    degrees = sum(n / 60**i for i, n in enumerate(numbers))
    if degrees > limit:
        raise ValueError(f"{name} {degrees:g} is out of range (at most {limit:g})")
    return degrees


def _number(value, name: str) -> float:
    den = getattr(value, "denominator", 1)
    if den == 0:
        raise ValueError(f"{name} has a zero denominator")
    try:
        number = float(getattr(value, "numerator", value)) / float(den)
    except (TypeError, ValueError):
        raise ValueError(f"{name} value {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} is not a finite number")
    return number


def _signed(degrees: float, ref: str | None, letters: str, name: str) -> float:
    ref = (ref or "").strip().upper()[:1]
    if ref not in letters:
        raise ValueError(f"{name} reference is {ref or 'missing'!r}, expected {letters[0]} or {letters[1]}")
    return -degrees if ref == letters[1] else degrees


def _text(value) -> str:
    """A tag value as clean text: bytes decoded, EXIF character-code prefixes dropped."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, int) for v in value):
            value = bytes(v & 0xFF for v in value)
        else:
            value = " ".join(str(v) for v in value)
    if isinstance(value, bytes):
        for prefix in (b"ASCII\x00\x00\x00", b"UNICODE\x00", b"JIS\x00\x00\x00\x00\x00", b"\x00" * 8):
            if value.startswith(prefix):
                value = _utf16(value[8:]) if prefix.startswith(b"UNICODE") else value[8:].decode("utf-8", "replace")
                break
        else:
            value = value.decode("utf-8", "replace")
    return str(value).replace("\x00", "").strip()


def _utf16(raw: bytes) -> str:
    """EXIF "UNICODE" text: UTF-16 in the byte order of its block, which the value does not carry:
    a byte-order mark when there is one, otherwise the order whose reading is mostly Latin script."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16", "replace")
    readings = [raw.decode(codec, "replace") for codec in ("utf-16-le", "utf-16-be")]
    return max(readings, key=lambda t: sum(c.isascii() or "\u00c0" <= c <= "\u024f" for c in t))


def _show(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    den = getattr(value, "denominator", None)
    if den is not None and not isinstance(value, int):
        return f"{getattr(value, 'numerator', value)}/{den}"
    return str(value)


# ---------------------------------------------------------------- XMP

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def xmp_claims(packet: bytes) -> Claims:
    """Coordinates and place names of one XMP packet; a packet that is not XML raises.

    Namespaces are matched by URI, so any prefix works. Coordinates are every property, of any
    namespace, whose name holds "latitude" or "longitude" (exif:GPSLatitude, drone-dji:GpsLatitude,
    exif:GPSDestLatitude...), as attribute, element or qualified rdf:value, each latitude paired
    with the longitude of the same name and element; and other vocabularies' (coordtext.py).
    Place names: any property a place's name names (formats/xmpplaces.py).
    """
    try:
        root = ElementTree.fromstring(packet.strip(b"\x00 \t\r\n"))
    except Exception as exc:  # ParseError, and defusedxml's refusals (entities, DTDs)
        raise MetadataError(f"an XMP packet cannot be parsed: {exc}") from None
    positions = []
    places = []
    for element in root.iter():
        positions.extend(_element_positions(element))
        for name, value in sorted(element.attrib.items(), key=lambda kv: xmpplaces.rank(*_split(kv[0]))):  # attributes
            label = xmpplaces.label(*_split(name))
            if label and value.strip():
                places.append(Place(label, value.strip()))
        label = xmpplaces.label(*_split(element.tag))
        if label:
            value = _element_text(element)
            if value:
                places.append(Place(label, value))
    from screening.formats import xmptext  # it imports captions, which imports this module

    positions += xmptext.positions(root)  # written in a field the caption reader skips (RT31-11)
    places += xmptext.places(root)  # a place link there: a postcode's, a short map link, what3words (RT33a-12)
    return Claims(tuple(positions), tuple(places))


def _element_positions(element) -> list[Position]:
    """Positions given by this element's properties (attributes and child elements)."""
    pairs: dict[str, dict[str, str]] = {}
    properties = [(name, value) for name, value in element.attrib.items()]
    properties += [(child.tag, _element_text(child)) for child in element]
    for name, value in properties:
        ns, local = _split(name)
        local = local.lower()
        if local.endswith("ref"):
            continue
        axis = "lat" if "latitude" in local else "lon" if ("longitude" in local or "longtitude" in local) else None
        if axis is None:
            continue
        key = ns + " " + local.replace("latitude", "").replace("longitude", "").replace("longtitude", "")
        pairs.setdefault(key, {})[axis] = (value or "").strip()
    from screening.formats import coordtext  # it imports this module

    return [_xmp_position(p.get("lat", ""), p.get("lon", ""), "GPS destination" if "dest" in key else "GPS")
            for key, p in pairs.items() if p.get("lat") or p.get("lon")] + coordtext.xmp_properties(properties)


def _split(tag: str) -> tuple[str, str]:
    ns, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return ns, name


def _element_text(element) -> str:
    """Text of a simple property, of its rdf:value qualifier, or of the items of an rdf:Alt/Bag/Seq."""
    text = (element.text or "").strip()
    if text:
        return text
    value = element.get(f"{{{_RDF}}}value")
    if value is None:
        qualified = element.find(f".//{{{_RDF}}}value")
        value = qualified.text if qualified is not None else None
    if value and value.strip():
        return value.strip()
    items = [(li.text or "").strip() for li in element.iter(f"{{{_RDF}}}li")]
    return "; ".join(dict.fromkeys(t for t in items if t))


_XMP_COORDINATE = re.compile(r"^\s*(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*$", re.I)
_DECIMAL = re.compile(r"^\s*[-+]?\d+(?:\.\d+)?\s*$")


def _xmp_position(lat: str, lon: str, what: str = "GPS") -> Position:
    raw = f"latitude {lat or '(none)'!s}, longitude {lon or '(none)'!s}"
    try:
        return Position(_xmp_degrees(lat, "latitude", "NS", 90.0), _xmp_degrees(lon, "longitude", "EW", 180.0),
                        raw=raw, what=what)
    except ValueError as exc:
        return Position(None, None, str(exc), raw, what)


def _xmp_degrees(text: str, name: str, letters: str, limit: float) -> float:
    """XMP GPSCoordinate "DDD,MM,SSk" or "DDD,MM.mmk" (and plain signed decimals) to degrees."""
    if not text:
        raise ValueError(f"{name} is missing")
    if _DECIMAL.match(text):
        value = float(text)
        if abs(value) > limit:
            raise ValueError(f"{name} {value:g} is out of range (at most {limit:g})")
        return value
    m = _XMP_COORDINATE.match(text)
    if m is None or m.group(4).upper() not in letters:
        raise ValueError(f"{name} {text!r} is not an XMP coordinate like '53,48.05N'")
    parts = [float(g) for g in m.groups()[:3] if g is not None]
    if any(p >= 60 for p in parts[1:]):
        raise ValueError(f"{name} {text!r} has minutes or seconds of 60 or more")
    degrees = sum(p / 60**i for i, p in enumerate(parts))
    if degrees > limit:
        raise ValueError(f"{name} {text!r} is out of range")
    return -degrees if m.group(4).upper() == letters[1] else degrees


# ---------------------------------------------------------------- IPTC IIM

_IIM_PLACES = {90: "City", 92: "Sub-location", 95: "Province/State", 100: "Country code",
               101: "Country", 27: "Content location"}


def iptc_claims(block: bytes) -> Claims:
    """Place names in IPTC IIM record 2 (City 2:90, Sub-location 2:92...)."""
    datasets = iim_datasets(block)
    utf8 = any(rec == 1 and ds == 90 and b"\x1b%G" in value for rec, ds, value in datasets)
    places = []
    for rec, ds, value in datasets:
        label = _IIM_PLACES.get(ds) if rec == 2 else None
        if label:
            text = _decode(value, utf8)
            if text:
                places.append(Place(label, text))
    return Claims((), tuple(places))


def iim_datasets(block: bytes) -> list[tuple[int, int, bytes]]:
    """(record, dataset, value) of every IIM dataset; a malformed block raises."""
    out = []
    pos = 0
    n = len(block)
    while pos < n:
        if block[pos] != 0x1C:
            if block[pos:].strip(b"\x00"):
                raise MetadataError(f"IPTC block is malformed at byte {pos} (expected a 0x1C tag marker)")
            break
        if pos + 5 > n:
            raise MetadataError(f"IPTC dataset at byte {pos} is cut off")
        record, dataset = block[pos + 1], block[pos + 2]
        (length,) = struct.unpack_from(">H", block, pos + 3)
        header = 5
        if length & 0x8000:  # extended dataset: the length's own length follows
            size = length & 0x7FFF
            length = int.from_bytes(block[pos + 5:pos + 5 + size], "big")
            header += size
        end = pos + header + length
        if end > n:
            raise MetadataError(f"IPTC dataset {record}:{dataset} declares {length} bytes, only {n - pos - header} follow")
        out.append((record, dataset, block[pos + header:end]))
        pos = end
    return out


def _decode(value: bytes, utf8: bool) -> str:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        text = value.decode("utf-8" if utf8 else "cp1252", "replace")
    return text.replace("\x00", "").strip()
