"""Where a video says it was made: GPS and place names in its metadata atoms and tags.

Read from the file's own boxes (ISO BMFF / QuickTime), independently of FFmpeg:
- `moov/udta/©xyz` (QuickTime, and Android's MediaMuxer): an ISO 6709 string "+53.8021-001.5476/";
- `moov/meta` keys + ilst `com.apple.quicktime.location.ISO6709` (iPhone), and its place name;
- `moov/udta/loci` (3GPP location information: fixed-point longitude, latitude and a name);
- XMP in a `uuid` box (BE7ACFCB-97A9-42E8-9C71-999491E3AFAC) or a QuickTime `XMP_` atom;
and from the tags FFmpeg reads for any container (Matroska `LOCATION`, AVI INFO...). Both are
reported (positions found twice are reported once by the location check). A location atom
that is present but cannot be read is a malformed position: the clip is never cleared for it.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

from screening.formats import c2pa, c2pa_places, captions, coordtext, geotags, metadata, sniff, video, video_vendor
from screening.formats.common import ImageError
from screening.formats.strings import strings_text
from screening.formats.xmp import xmp_images

# (source, where, claims): what the location check reports, as for photos.
Source = tuple[str, str, geotags.Claims]

_XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
# Boxes whose body is a sequence of boxes, searched for location atoms.
_CONTAINERS = {b"moov", b"trak", b"udta", b"meta", b"ilst", b"mdia", b"minf", b"edts"}
_ISO6709 = re.compile(r"^\s*([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)([+-]\d+(?:\.\d*)?)?\s*(?:CRS[^/]*)?/?\s*$")
# Tags (lowercase) that hold an ISO 6709 position, and tags that name a place.
_POSITION_TAGS = ("location", "location-eng", "\xa9xyz", "com.apple.quicktime.location.iso6709",
                  "com.android.location")
# Matroska's RECORDING_LOCATION, COMPOSITION_LOCATION, LOCATION_NAME...: any tag named for a location
_LOCATION_TAG = re.compile(r"(^|_)location($|[_-])")
_PLACE_TAGS = {"com.apple.quicktime.location.name": "Location name",
               "com.apple.quicktime.location.body": "Location body",
               "com.apple.quicktime.location.note": "Location note"}


def claims(path: Path, fmt: str, tags: dict[str, str]) -> list[Source]:
    """Every location claim of the clip: its own atoms (MP4/MOV) and FFmpeg's tags."""
    found: list[Source] = atom_claims(path) if fmt == video.MP4 else []
    # FFmpeg's tags mostly repeat the atoms read above: keep only what they add
    known = {p.raw for _, _, c in found for p in c.positions if p.raw}
    near = [(p.lat, p.lon) for _, _, c in found for p in c.positions if p.lat is not None]
    for source in tag_claims(tags):
        positions = [p for p in source[2].positions if p.raw not in known and not any(
            p.lat is not None and abs(p.lat - lat) < 1e-4 and abs(p.lon - lon) < 1e-4 for lat, lon in near)]
        if positions or source[2].places:
            found.append((source[0], source[1], geotags.Claims(tuple(positions), source[2].places)))
    return found + text_claims(path, fmt, tags)


def tag_claims(tags: dict[str, str]) -> list[Source]:
    """Positions and place names in the container tags FFmpeg read (any container)."""
    found: list[Source] = []
    for key, value in tags.items():
        name = re.sub(r"^(stream|chapter)\d*:", "", key.lower())  # the video stream's, another's, a chapter's
        if name in _POSITION_TAGS or name.endswith(".iso6709"):
            found.append(("metadata", f"the {key!r} tag", geotags.Claims((iso6709(value),))))
        elif name in _PLACE_TAGS and value.strip():
            found.append(("metadata", f"the {key!r} tag", geotags.Claims((), (geotags.Place(_PLACE_TAGS[name],
                                                                                      value.strip()),))))
        elif _LOCATION_TAG.search(name) and "accuracy" not in name and value.strip():
            found.append(("metadata", f"the {key!r} tag", _location_tag(name, value.strip())))
    return found


def _location_tag(name: str, value: str) -> geotags.Claims:
    """Matroska's RECORDING_LOCATION, COMPOSITION_LOCATION (and any tag named for a location): a
    position (ISO 6709 or written coordinates), else the name of a place."""
    if _ISO6709.match(value):
        return geotags.Claims((iso6709(value),))
    written = coordtext.positions(value)
    if written:
        return geotags.Claims(tuple(written))
    if not re.search(r"[^\W\d_]", value):  # no letter: a number is not a place's name
        return geotags.Claims((geotags.Position(None, None, "neither a position nor a place name", value),))
    label = re.sub(r"-[a-z]{3}$", "", name).replace("_", " ").capitalize()  # a language suffix: -eng
    return geotags.Claims((), (geotags.Place(label, value),))


def text_claims(path: Path, fmt: str, tags: dict[str, str]) -> list[Source]:
    """Coordinates written in the clip's text tags and its own XMP's text (a dashcam's or a GPS
    camera app's "Lat .. Long .." comment, a GPS tag of its own): RT9-22."""
    texts = captions.video_captions(tags) + captions.xmp_captions(clip_xmp(path, fmt), "clip's")
    return coordtext.caption_sources(texts + clip_c2pa_captions(path, fmt) + user_data_texts(path, fmt))


# User-data atoms read by a reader of their own (location, XMP, boxes of boxes), or that say who
# made the clip and with what (as a photo's Artist is not read): every other atom of a `udta`
# (3GPP titl, dscp, kywd, perf, albm...; QuickTime's (c)des; a maker's text) is read for its words.
_USER_DATA_NOT_TEXT = frozenset({b"\xa9xyz", b"loci", b"XMP_", b"meta", b"uuid", b"auth", b"\xa9ART", b"\xa9aut",
                                 b"cprt", b"\xa9cpy", b"\xa9wrt", b"\xa9mak", b"\xa9mod", b"\xa9swr", b"\xa9too",
                                 b"\xa9enc", b"\xa9day", b"yrrc", b"hnti", b"hinf", b"name"})


def user_data_texts(path: Path, fmt: str) -> list[tuple[str, str]]:
    """(where, text) of the strings of each user-data atom of an MP4/MOV (moov's and its tracks'
    udta) that FFmpeg may not map to a tag: 3GPP TS 26.244's title, description, keywords (RT29-17)."""
    if fmt != video.MP4:
        return []
    out: list[tuple[str, str]] = []
    for box, body in _metadata_boxes(path, "text"):
        if box.kind in (b"moov", b"udta"):
            out += _user_data(box.kind, body, box.offset)
    return out


def _user_data(kind: bytes, body: bytes, where: int) -> list[tuple[str, str]]:
    out = []
    for child, data, at in _children(body, where):
        if child in (b"trak", b"udta"):
            out += _user_data(child, data, at)
        elif kind == b"udta" and child not in _USER_DATA_NOT_TEXT and (text := strings_text(data)):
            out.append((f"clip's user data atom {child.decode('latin-1')!r}", text))
    return out


def iso6709(text: str) -> geotags.Position:
    """An ISO 6709 point ("+53.8021-001.5476+080.0/", degrees, DDMM.m or DDMMSS.s) as a Position."""
    raw = text.strip()
    m = _ISO6709.match(raw)
    if not m:
        return geotags.Position(None, None, "not an ISO 6709 position", raw)
    try:
        lat = _iso_part(m.group(1), 2, 90.0, "latitude")
        lon = _iso_part(m.group(2), 3, 180.0, "longitude")
    except ValueError as exc:
        return geotags.Position(None, None, str(exc), raw)
    return geotags.Position(lat, lon, raw=raw)


def _iso_part(text: str, degree_digits: int, limit: float, name: str) -> float:
    sign = -1.0 if text[0] == "-" else 1.0
    whole, _, fraction = text[1:].partition(".")
    digits = len(whole)
    if digits == degree_digits:
        value = float(text[1:])
    elif digits == degree_digits + 2:  # DDMM.mmm
        value = int(whole[:degree_digits]) + float(whole[degree_digits:] + "." + (fraction or "0")) / 60.0
    elif digits == degree_digits + 4:  # DDMMSS.sss
        value = (int(whole[:degree_digits]) + int(whole[degree_digits:degree_digits + 2]) / 60.0
                 + float(whole[degree_digits + 2:] + "." + (fraction or "0")) / 3600.0)
    else:
        raise ValueError(f"{name} {text!r} has {digits} whole digits")
    if value > limit:
        raise ValueError(f"{name} {sign * value:.5f} is out of range")
    return sign * value


# ---------------------------------------------------------------- the file's own atoms


def atom_claims(path: Path) -> list[Source]:
    """Location claims in the ISO BMFF boxes of a file already checked by video.check_structure."""
    found: list[Source] = []
    # a Canon thumbnail, any picture in the boxes: screened as a view of the clip (video_views.py)
    for box, body in _metadata_boxes(path, "location data"):
        if box.kind in video_vendor.LOCATION_BOXES:
            video_vendor.refuse(box.kind, box.offset)
        found += _uuid(body, box.offset) if box.kind == b"uuid" else _walk(box.kind, body, box.offset, [])
        found += [("C2PA", where, claims) for where, claims in c2pa.claims(tuple(_c2pa(box, body)))]
        _refuse_xmp_images(body, f"`{box.kind.decode('latin-1')}` box at byte {box.offset}")
    return found


def _refuse_xmp_images(body: bytes, where: str) -> None:
    """A clip's XMP may carry pictures (xmp:Thumbnails' xmpGImg:image, Premiere writes them): such a
    still is screened as a view of the clip (carried.clip_pictures reads the boxes' text), and the
    clip is still not cleared (RT9-21, kept: a still a clip's own metadata shows is checked by hand)."""
    try:
        images = xmp_images(metadata.xmp_packets(body, required=False), sniff)
    except ImageError as exc:  # too many pictures written in it
        raise metadata.MetadataError(str(exc)) from None
    if images:
        raise metadata.MetadataError(f"the clip's XMP in the {where} holds a picture ({images[0].where}) "
                                     "that is not screened in a clip: remove it or check it by hand")


def _c2pa(box: video.Box, body: bytes) -> list:
    """The C2PA assertions in a box (the manifest's top-level `uuid` box D8FEC3D6-..., or any other)."""
    if box.kind == b"uuid" and body[:16] == c2pa_places.BMFF_UUID:
        c2pa_places.require_store(body[16:], f"`uuid` box at byte {box.offset}")
    return c2pa.assertions(body, "", f"`{box.kind.decode('latin-1')}` box at byte {box.offset}")


def clip_c2pa_captions(path: Path, fmt: str) -> list[tuple[str, str]]:
    """(where, text) of the text values of the clip's C2PA manifests (RT29-5), as for photos."""
    if fmt != video.MP4:
        return []
    return c2pa.captions(tuple(a for box, body in _metadata_boxes(path, "text") for a in _c2pa(box, body)))


def clip_c2pa_credits(path: Path, fmt: str) -> list[tuple[str, str]]:
    """(where, text) of the person-naming maker's values of the clip's C2PA manifests (formats/credits.py)."""
    if fmt != video.MP4:
        return []
    return c2pa.credits(tuple(a for box, body in _metadata_boxes(path, "text") for a in _c2pa(box, body)))


def clip_xmp(path: Path, fmt: str) -> list[bytes]:
    """The XMP packets in an MP4/MOV's metadata boxes (a uuid box, udta's XMP_, a meta box):
    Premiere and Media Encoder write the title and description there (RT6-44)."""
    if fmt != video.MP4:
        return []
    return [p for _, body in _metadata_boxes(path, "text") for p in metadata.xmp_packets(body, required=False)]


def _metadata_boxes(path: Path, purpose: str) -> Iterator[tuple[video.Box, bytes]]:
    """(box, body) of each top-level box that may hold metadata (moov, uuid, meta, udta); a box
    too large to read is an error naming `purpose`."""
    with open(path, "rb") as f:
        for box in video.top_level_boxes(f, path.stat().st_size):
            if box.kind not in (b"moov", b"uuid", b"meta", b"udta") and box.kind not in video_vendor.LOCATION_BOXES:
                continue
            if box.size - box.header > video.MAX_METADATA_BOX:
                raise metadata.MetadataError(f"the `{box.kind.decode()}` box is {box.size} bytes, too large to "
                                             f"read for {purpose}")
            f.seek(box.body)
            yield box, f.read(box.size - box.header)


def _children(body: bytes, where: int) -> Iterable[tuple[bytes, bytes, int]]:
    """(type, body, offset) of the boxes inside a container body; raises if they do not fit."""
    pos = 0
    n = len(body)
    while pos + 8 <= n:
        size, kind = struct.unpack_from(">I4s", body, pos)
        header = 8
        if size == 1:
            if pos + 16 > n:
                raise metadata.MetadataError(f"a box header at byte {where + pos} is cut off")
            (size,) = struct.unpack_from(">Q", body, pos + 8)
            header = 16
        elif size == 0:
            size = n - pos
        if size < header or pos + size > n:
            raise metadata.MetadataError(f"the `{kind.decode('latin-1')}` box at byte {where + pos} does not fit "
                                         "in its parent")
        yield kind, body[pos + header:pos + size], where + pos + header
        pos += size


def _walk(kind: bytes, body: bytes, where: int, keys: list[str]) -> list[Source]:
    found: list[Source] = []
    if kind == b"meta":
        body, where = _meta_body(body, where)
        keys = []
    for child, data, at in _children(body, where):
        if kind == b"ilst":
            found += _ilst_item(child, data, at, keys)
        elif child == b"\xa9xyz":
            found.append(("QuickTime", "the QuickTime ©xyz atom", geotags.Claims((iso6709(_qt_string(data, at)),))))
        elif child == b"loci":
            found.append(("3GPP", "the 3GPP loci atom", _loci(data, at)))
        elif child == b"XMP_":
            found += [("XMP", "XMP in the QuickTime XMP_ atom", geotags.xmp_claims(p))
                      for p in metadata.xmp_packets(data)]
        elif child == b"xml ":  # ISO BMFF meta's XML box: XMP (RT15-8)
            found += [("XMP", "XMP in a meta box's `xml ` box", geotags.xmp_claims(p))
                      for p in metadata.xmp_packets(data[4:], required=False)]
        elif child == b"uuid":
            found += _uuid(data, at)
        elif child == b"keys":
            keys[:] = _keys(data, at)
        elif child in _CONTAINERS:
            found += _walk(child, data, at, keys)
        elif kind in (b"udta", b"moov", b"trak"):  # a maker's box: EXIF read, a GPS log refused (RT15-7)
            found += video_vendor.user_data(child, data, at)
    return found


def _meta_body(body: bytes, where: int) -> tuple[bytes, int]:
    """ISO `meta` has a version/flags word before its boxes; QuickTime's has not."""
    if body[4:8] == b"hdlr":
        return body, where
    return body[4:], where + 4


def _qt_string(data: bytes, at: int) -> str:
    """A QuickTime user-data text: 16-bit length, 16-bit language, then the text."""
    if len(data) < 4:
        raise metadata.MetadataError(f"the ©xyz atom at byte {at} is cut off")
    (size,) = struct.unpack_from(">H", data, 0)
    text = data[4:4 + size]
    if len(text) < size:
        raise metadata.MetadataError(f"the ©xyz atom at byte {at} declares {size} bytes of text, holds {len(text)}")
    return text.decode("utf-8", "replace")


def _loci(data: bytes, at: int) -> geotags.Claims:
    """3GPP TS 26.244 location: version/flags, language, name, role, longitude, latitude, altitude (16.16)."""
    try:
        end = data.index(b"\x00", 6)
        name = data[6:end].decode("utf-8", "replace").strip()
        lon, lat, _alt = struct.unpack_from(">iii", data, end + 2)
    except (ValueError, struct.error):
        return geotags.Claims((geotags.Position(None, None, f"the loci atom at byte {at} is cut off"),))
    lat_deg, lon_deg = lat / 65536.0, lon / 65536.0
    places = (geotags.Place("Location name", name),) if name else ()
    if abs(lat_deg) > 90 or abs(lon_deg) > 180:
        position = geotags.Position(None, None, "coordinates out of range", f"{lat_deg}, {lon_deg}")
    else:
        position = geotags.Position(lat_deg, lon_deg)
    return geotags.Claims((position,), places)


def _uuid(data: bytes, at: int) -> list[Source]:
    if data[:16] == video_vendor.CANON_UUID:
        return video_vendor.canon(data[16:], at + 16, _children)
    if data[:16] != _XMP_UUID:
        return []
    return [("XMP", "XMP in a uuid box", geotags.xmp_claims(p)) for p in metadata.xmp_packets(data[16:])]


def _keys(data: bytes, at: int) -> list[str]:
    """The names of an mdta `keys` box, in order (ilst items refer to them from 1)."""
    if len(data) < 8:
        raise metadata.MetadataError(f"the keys box at byte {at} is cut off")
    (count,) = struct.unpack_from(">I", data, 4)
    names = []
    pos = 8
    for _ in range(count):
        if pos + 8 > len(data):
            raise metadata.MetadataError(f"the keys box at byte {at} is cut off")
        size, _ns = struct.unpack_from(">I4s", data, pos)
        if size < 8 or pos + size > len(data):
            raise metadata.MetadataError(f"a key in the keys box at byte {at} does not fit")
        names.append(data[pos + 8:pos + size].decode("utf-8", "replace"))
        pos += size
    return names


def _ilst_item(kind: bytes, data: bytes, at: int, keys: list[str]) -> list[Source]:
    """One ilst item: a 1-based index into keys, holding a `data` box with the value."""
    (index,) = struct.unpack(">I", kind)
    name = keys[index - 1] if 0 < index <= len(keys) else kind.decode("latin-1")
    lowered = name.lower()
    if not (lowered.endswith(".iso6709") or lowered in _PLACE_TAGS or lowered == "\xa9xyz"):
        return []
    values = [d[8:].decode("utf-8", "replace") for child, d, _ in _children(data, at) if child == b"data"]
    if not values:
        raise metadata.MetadataError(f"the {name!r} item at byte {at} holds no value")
    where = f"the {name} metadata item"
    if lowered in _PLACE_TAGS:
        return [("QuickTime", where, geotags.Claims((), tuple(geotags.Place(_PLACE_TAGS[lowered], v.strip())
                                                             for v in values if v.strip())))]
    return [("QuickTime", where, geotags.Claims(tuple(iso6709(v) for v in values)))]
