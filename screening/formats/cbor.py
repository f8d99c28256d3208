"""A small CBOR (RFC 8949) reader for C2PA assertions: every data item, definite or indefinite length.

Maps come back as `Pairs` (every key and value in order, duplicates kept, so a second copy of a
key cannot hide the first), tags as their content, simple values and floats as Python's. Anything
that is not well-formed CBOR (cut off, a reserved code, invalid UTF-8, bytes after the item) raises
MetadataError: an assertion that cannot be read is never "nothing found".

The items built are bounded by the bytes (item_budget: a floor, then one item per ITEM_BYTES bytes):
an item can be one byte (an array of 100,000 zeros is 100 KB) and each costs ~100 bytes built and
listed as a leaf, so data of many tiny items past the budget is refused (MetadataError) before it
holds more than a few copies of its size (RT31-8).
"""

from __future__ import annotations

import struct

from screening.formats.common import MetadataError

MAX_DEPTH = 64
# Items any CBOR or JSON data may hold: ITEMS_FLOOR, then one per ITEM_BYTES of its bytes (a C2PA
# assertion's map of text keys and values takes 5-10 bytes an item).
ITEMS_FLOOR = 4096
ITEM_BYTES = 4


def item_budget(size: int) -> int:
    """The items data of `size` bytes may hold (its tree built, its leaves listed) before it is refused."""
    return ITEMS_FLOOR + size // ITEM_BYTES


class Pairs(list):
    """A map's (key, value) pairs, in the order written."""


def loads(data: bytes) -> object:
    """The one data item `data` holds; more than item_budget(len(data)) items raise MetadataError."""
    value, end = _Reader(item_budget(len(data))).item(data, 0, 0)
    if value is _BREAK:
        raise MetadataError("CBOR data begins with a break")
    if end != len(data):
        raise MetadataError(f"CBOR data has {len(data) - end} bytes after its item")
    return value


_BREAK = object()


def _argument(data: bytes, pos: int, info: int) -> tuple[int | None, int]:
    if info < 24:
        return info, pos
    if info == 31:
        return None, pos  # indefinite length
    size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
    if size is None or pos + size > len(data):
        raise MetadataError(f"CBOR item at byte {pos - 1} is cut off or uses a reserved code")
    return int.from_bytes(data[pos:pos + size], "big"), pos + size


class _Reader:
    """One data item's reading: the items it may still build."""

    def __init__(self, left: int):
        self.left = left

    def item(self, data: bytes, pos: int, depth: int):
        self.left -= 1
        if self.left < 0:
            raise MetadataError("CBOR data holds more items than its size allows (many tiny items): refused")
        return _item(self, data, pos, depth)


def _item(reader: _Reader, data: bytes, pos: int, depth: int):
    if depth > MAX_DEPTH:
        raise MetadataError("CBOR data is nested too deeply")
    if pos >= len(data):
        raise MetadataError("CBOR data is cut off")
    initial = data[pos]
    major, info = initial >> 5, initial & 31
    if major == 7:
        return _simple(data, pos + 1, info)
    n, pos = _argument(data, pos + 1, info)
    if major == 0:
        return n, pos
    if major == 1:
        return -1 - n, pos
    if major in (2, 3):
        return _string(data, pos, major, n)
    if major in (4, 5):
        return _container(reader, data, pos, major, n, depth)
    if n is None:
        raise MetadataError(f"CBOR tag at byte {pos - 1} has no number")
    return reader.item(data, pos, depth + 1)  # a tag: its content


def _simple(data: bytes, pos: int, info: int):
    if info == 31:
        return _BREAK, pos
    if info in (25, 26, 27):
        size = {25: 2, 26: 4, 27: 8}[info]
        if pos + size > len(data):
            raise MetadataError("CBOR float is cut off")
        return struct.unpack(">" + {2: "e", 4: "f", 8: "d"}[size], data[pos:pos + size])[0], pos + size
    if info == 24:
        if pos >= len(data):
            raise MetadataError("CBOR simple value is cut off")
        return None, pos + 1
    if info > 24:
        raise MetadataError(f"CBOR item at byte {pos - 1} uses a reserved code")
    return {20: False, 21: True}.get(info), pos


def _string(data: bytes, pos: int, major: int, n: int | None):
    if n is None:  # chunks of the same kind, definite each, up to a break
        parts = []
        while True:
            if pos >= len(data):
                raise MetadataError("CBOR string is cut off")
            if data[pos] == 0xFF:
                pos += 1
                break
            if data[pos] >> 5 != major or data[pos] & 31 == 31:
                raise MetadataError(f"CBOR string chunk at byte {pos} is not a definite string of its kind")
            part, pos = _chunk(data, pos, major)
            parts.append(part)
        return (b"".join(parts) if major == 2 else "".join(parts)), pos
    if pos + n > len(data):
        raise MetadataError(f"CBOR string at byte {pos} runs past the end of its data")
    raw = data[pos:pos + n]
    if major == 2:
        return raw, pos + n
    try:
        return raw.decode("utf-8"), pos + n
    except UnicodeDecodeError:
        raise MetadataError(f"CBOR text at byte {pos} is not UTF-8") from None


def _chunk(data: bytes, pos: int, major: int):
    n, pos = _argument(data, pos + 1, data[pos] & 31)
    return _string(data, pos, major, n)


def _container(reader: _Reader, data: bytes, pos: int, major: int, n: int | None, depth: int):
    out: list = Pairs() if major == 5 else []
    count = 0
    while n is None or count < n:
        if n is not None and n - count > len(data) - pos:  # (each item left takes a byte at least)
            raise MetadataError(f"CBOR {'map' if major == 5 else 'array'} declares more items than its data holds")
        key, pos = reader.item(data, pos, depth + 1)
        if key is _BREAK:
            if n is not None:
                raise MetadataError("CBOR break inside a definite-length item")
            break
        if major == 5:
            value, pos = reader.item(data, pos, depth + 1)
            if value is _BREAK:
                raise MetadataError("CBOR map ends between a key and its value")
            out.append((key, value))
        else:
            out.append(key)
        count += 1
    return out, pos
