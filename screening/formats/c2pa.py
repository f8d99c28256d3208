"""C2PA (Content Credentials) manifests, in whatever container carries them, read as their viewers read them.

Every JUMBF superbox (`jumb` with its `jumd` description, ISO 19566-5) of the file is walked, at
any depth: JPEG APP11 segments joined in sequence order, GIF extensions' sub-blocks joined, and the
file's own bytes for every other container (PNG caBX, WebP 'C2PA', TIFF tag 52545, the HEIF/AVIF/
MP4 'uuid' box, or anywhere else). Each `json` and `cbor` content box (the assertions: stds.exif,
stds.schema-org.CreativeWork, c2pa.actions..., and the claim) is decoded, \\u escapes and chunked
CBOR strings included, and flattened into leaves (key path, value). From them:

- `claims`: positions (any latitude key paired with the longitude key of the same name in the
  same object: exif:GPSLatitude, exif:GPSDestLatitude, schema.org geo.latitude) and place texts
  (any key naming a location, city, country, address, place...), for the location check; and
  coordinates written in any text value, a GeoJSON point, a position list (formats/c2pa_positions.py);
- `captions`: every text value but the maker's (author, creator, copyright...), for the text check.

A superbox that is cut off, or content that does not decode, raises MetadataError: never cleared.
"""

from __future__ import annotations

import json
import re
import struct

from screening.formats import c2pa_places, c2pa_positions, cbor
from screening.formats.common import MetadataError

# (where, leaves) of one assertion; a leaf is (key path, value as text, is_text)
Leaf = tuple[tuple[str, ...], str, bool]
Assertion = tuple[str, tuple[Leaf, ...]]

MAX_DEPTH = 32
# the key of the leaf that joins an object's text values
JOINED = "(fields joined)"
# At most this many characters of one field's list of values are joined with the object's other fields.
JOINED_CHARS = 4096


def assertions(data: bytes, fmt: str, what: str = "file") -> list[Assertion]:
    """Every JSON and CBOR content box of every JUMBF superbox of the file (or of a clip's box,
    named by `what`); unreadable ones raise."""
    out: list[Assertion] = []
    c2pa_places.require_stores(data, fmt)  # where the spec puts a store, one must begin
    for what, stream in _streams(data, fmt, what):
        _scan(stream, what, out)
    return list(dict.fromkeys(out))


def _streams(data: bytes, fmt: str, what: str) -> list[tuple[str, bytes]]:
    """Where JUMBF may lie contiguous: JPEG APP11 and GIF extensions are joined first (their raw
    bytes are interrupted by segment headers and sub-block lengths)."""
    if fmt == "JPEG":
        from screening.formats.jpeg import ImageError, header_segments, jumbf_boxes, walk

        try:
            layout = walk(data)
            segments = layout.segments + layout.later  # APP11 between the scans too
        except ImageError:  # a cut-off file (the decode check makes it an error): what its header holds
            segments = list(header_segments(data))
        return [(f"JPEG APP11 box instance {en}", blob) for en, blob in jumbf_boxes(segments).items()]
    if fmt == "GIF":
        from screening.formats.gif import extensions

        return [(f"GIF extension at byte {at}", body) for _label, at, body in extensions(data)[0]]
    return [(what, data)]


def _scan(stream: bytes, what: str, out: list[Assertion]) -> None:
    pos, walked = 0, set()  # the superboxes already walked (as part of an enclosing one): each decoded once (RT31-21)
    while True:
        at = stream.find(b"jumb", pos)
        if at < 0:
            return
        start, pos = at - 4, at + 1
        if start < 0:
            continue
        size, header = _size(stream, start, len(stream))
        if stream[start + header + 4:start + header + 8] != b"jumd":
            continue  # the four letters, not a superbox
        if size < header or start + size > len(stream):
            raise MetadataError(f"a C2PA/JUMBF manifest in the {what} at byte {start} is cut off")
        # every superbox is walked from its own start too: one whose bytes lie in a box this walk skips (an
        # embedded file's) is still read; one an enclosing superbox's walk went through is not walked again
        if (start + header, start + size) not in walked:
            _superbox(stream, start + header, start + size, (), f"C2PA/JUMBF manifest in the {what}", out, 0, walked)


def _size(blob: bytes, start: int, end: int) -> tuple[int, int]:
    """(box size, header size) of the box at `start` (0: to `end`; 1: a 64-bit size follows)."""
    (size,) = struct.unpack_from(">I", blob, start)
    if size == 1:
        if start + 16 > end:
            return -1, 16
        return struct.unpack_from(">Q", blob, start + 8)[0], 16
    return (end - start if size == 0 else size), 8


def _boxes(blob: bytes, start: int, end: int, where: str):
    pos = start
    while pos < end:
        if end - pos < 8:
            raise MetadataError(f"{where}: a box at byte {pos} is cut off")
        size, header = _size(blob, pos, end)
        if size < header or pos + size > end:
            raise MetadataError(f"{where}: a box at byte {pos} runs past its superbox")
        yield blob[pos + 4:pos + 8], pos + header, pos + size
        pos += size


def _superbox(blob: bytes, start: int, end: int, labels: tuple[str, ...], where: str, out: list, depth: int,
              walked: set) -> None:
    walked.add((start, end))
    if depth > MAX_DEPTH:
        raise MetadataError(f"{where}: JUMBF boxes nested too deeply")
    boxes = list(_boxes(blob, start, end, where))
    if not boxes or boxes[0][0] != b"jumd" or boxes[0][2] - boxes[0][1] < 17:
        raise MetadataError(f"{where}: a JUMBF superbox has no (whole) description box")
    labels = (*labels, _label(blob[boxes[0][1]:boxes[0][2]]))
    name = "/".join(label for label in labels if label) or "(unlabelled)"
    for kind, s, e in boxes[1:]:
        if kind == b"jumb":
            _superbox(blob, s, e, labels, where, out, depth + 1, walked)
        elif kind in (b"json", b"cbor"):
            tree = _decode(kind, blob[s:e], f"{where}, {name}")
            left = [cbor.item_budget(e - s)]  # leaves listed, bounded by the bytes as the items built are (RT31-8)
            out.append((f"C2PA {labels[-1] or name}", tuple(_leaves(tree, (), left=left, where=f"{where}, {name}"))))


def _label(description: bytes) -> str:
    """The label of a `jumd` box (16-byte type, toggles, then the label if toggle 2 is set)."""
    if not description[16] & 2:
        return ""
    return description[17:].partition(b"\x00")[0].decode("utf-8", "replace")


def _decode(kind: bytes, raw: bytes, where: str):
    if kind == b"cbor":
        try:
            return cbor.loads(raw)
        except MetadataError as exc:
            raise MetadataError(f"{where}: {exc}") from None
    if raw.count(b",") + raw.count(b"[") + raw.count(b"{") > cbor.item_budget(len(raw)):  # (items at most: before
        raise MetadataError(f"{where}: more items than its size allows (many tiny items): refused")  # building them)
    try:
        return json.loads(raw, object_pairs_hook=cbor.Pairs)
    except (ValueError, RecursionError) as exc:
        raise MetadataError(f"{where}: its JSON cannot be read: {str(exc)[:80]}") from None


def _leaves(tree, path: tuple[str, ...], depth: int = 0, left: list[int] | None = None, where: str = "C2PA"):
    if depth > cbor.MAX_DEPTH:
        raise MetadataError("C2PA assertion nested too deeply")
    if left is not None:
        left[0] -= 1
        if left[0] < 0:
            raise MetadataError(f"{where}: more items than its size allows (many tiny items): refused")
    if isinstance(tree, cbor.Pairs):
        for key, value in tree:
            yield from _leaves(value, (*path, key if isinstance(key, str) else repr(key)), depth + 1, left, where)
        fields = [v.strip() for k, v in ((k, _field_text(v)) for k, v in tree) if any(c.isalpha() for c in v)
                  and not (isinstance(k, str) and k.lower() in _LD_KEYWORDS)]
        if len(fields) > 1:  # one object's texts as a viewer shows them: givenName and familyName (RT31-15)
            yield (*path, JOINED), " ".join(fields), True
    elif isinstance(tree, list):
        for value in tree:
            yield from _leaves(value, path, depth + 1, left, where)
    elif isinstance(tree, str):
        yield path, tree, True
    elif isinstance(tree, (bytes, bytearray)):
        yield path, "", False
    elif tree is not None:
        yield path, str(tree).lower() if isinstance(tree, bool) else str(tree), False


def _local(key: str) -> str:
    """A key without its namespace prefix, in lower case ('exif:GPSLatitude' -> 'gpslatitude')."""
    return key.rpartition(":")[2].lower()


_AXES = (("lat", re.compile(r"latitude|^lat$")), ("lon", re.compile(r"longitude|longtitude|^lon$|^lng$|^long$")))
# keys whose value says where: a place's name, an address, a location object (schema.org contentLocation,
# locationCreated, IPTC LocationShown, exif:GPSAreaInformation...)
_PLACE = re.compile(r"location|^city$|country|address|^place$|placename|gpsarea|province|^geo$|postalcode|postcode")


def claims(items: tuple[Assertion, ...]):
    """(where, Claims) of each assertion that says where: positions and place texts."""
    from screening.formats.geotags import Claims, Place, _xmp_position  # it imports metadata, which imports this

    out = []
    for where, leaves in items:
        pairs: dict[tuple, dict[str, str]] = {}
        places: dict[str, list[str]] = {}
        for path, value, _text in leaves:
            if path and path[-1] == JOINED:
                continue  # (its fields are read one by one)
            key = _local(path[-1]) if path else ""
            axis = next((name for name, pattern in _AXES if pattern.search(key)), None)
            if axis and not key.endswith("ref"):
                rest = re.sub(_AXES[0][1] if axis == "lat" else _AXES[1][1], "", key)
                pairs.setdefault((path[:-1], rest), {})[axis] = value
                continue
            if _ld_keyword(path):
                continue  # @type, @context...
            for part in path:
                if _PLACE.search(_local(part)) and value.strip():
                    places.setdefault(part, []).append(value.strip())
                    break
        positions = [_xmp_position(p.get("lat", ""), p.get("lon", ""), "GPS destination" if "dest" in rest else "GPS")
                     for (_parent, rest), p in pairs.items()]
        positions += c2pa_positions.positions(leaves, _local, _maker, _ld_keyword)  # text, GeoJSON, position lists (RT31-9)
        found = [Place(f"C2PA {key}", "; ".join(dict.fromkeys(values))) for key, values in places.items()]
        found += c2pa_positions.places(leaves, _maker, _ld_keyword)  # a place link as a 'url' (RT33a-12b)
        if positions or found:
            out.append((where, Claims(tuple(positions), tuple(found))))
    return out


# keys whose text says who made the file, with what, or is a reference: not captions (as EXIF Artist,
# XMP dc:creator and the CreatorTool are not read)
_MAKER = frozenset({"author", "creator", "artist", "copyrightholder", "copyright", "copyrightnotice", "rights",
                    "publisher", "credit", "claim_generator", "claim_generator_info", "softwareagent", "creatortool",
                    "software", "alg", "url", "format", "instanceid", "documentid", "originaldocumentid", "version"})


# JSON-LD's own keywords: what a node is, its vocabulary, its language. Its "@value" (a literal in expanded
# form, a language-tagged string) and "@id" (a node's IRI: a geo: URI, a map link) are read (RT33a-8).
_LD_KEYWORDS = frozenset({"@context", "@type", "@language", "@vocab", "@base", "@direction", "@version",
                          "@container", "@protected", "@reverse", "@index"})


def _field_text(value) -> str:
    """A field's text as a viewer shows it: a string, a JSON-LD value object's "@value", or a list of
    those (expanded or language-tagged form: [{"@value": "Amelia"}], RT33b-5); else ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, cbor.Pairs):  # a value object, or an @list/@set of them (RT33c-4)
        return next((_field_text(v) for k, v in value if k in ("@value", "@list", "@set")
                     and isinstance(v, str if k == "@value" else list)), "")
    if isinstance(value, list):  # (as many items as fit in JOINED_CHARS)
        texts, size = [], 0
        for t in map(_field_text, value):
            if t and size + len(t) <= JOINED_CHARS:
                texts.append(t)
                size += len(t) + 1
        return " ".join(texts)
    return ""


def _ld_keyword(path: tuple[str, ...]) -> bool:
    return bool(path) and path[-1].lower() in _LD_KEYWORDS


def _maker(path: tuple[str, ...]) -> bool:
    return any(_local(part) in _MAKER for part in path)


def captions(items: tuple[Assertion, ...]) -> list[tuple[str, str]]:
    """(where, text) of every text value of the assertions but the maker's and JSON-LD's own keys."""
    out = []
    for where, leaves in items:
        for path, value, text in leaves:
            if not text or not value.strip() or _ld_keyword(path):
                continue
            if _maker(path):
                continue
            out.append((f"{where} {'.'.join(path)}".strip(), value.strip()))
    return out


# the maker's keys that name a person (the photographer, the rights holder): read for pupils only
_PERSON = frozenset({"author", "creator", "artist", "copyrightholder", "copyright", "copyrightnotice", "rights",
                     "credit", "publisher"})  # (publisher: RT31-10)


def credits(items: tuple[Assertion, ...]) -> list[tuple[str, str]]:
    """(where, text) of the text values under the maker's keys that name a person (formats/credits.py)."""
    out = []
    for where, leaves in items:
        for path, value, text in leaves:
            if text and value.strip() and not _ld_keyword(path) \
                    and any(_local(part) in _PERSON for part in path):
                out.append((f"{where} {'.'.join(path)}".strip(), value.strip()))
    return out
