"""The item structure of a HEIF/AVIF meta box: the primary item (`pitm`), every item's id and type
(`iinf`/`infe`) and the references between items (`iref`: `dimg`, `auxl`, `thmb`, ...).

Read box by box (ISO/IEC 14496-12 and 23008-12), never by searching for a four-character code:
a `tmap` item (ISO 21496-1 gain map) is only accepted when its inputs are known (formats/heif.py).
Anything cut off or malformed raises MetadataError.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from screening.formats.common import MetadataError

MAX_ITEMS = 10_000  # a phone writes under 100 (grid tiles included)


@dataclass
class Items:
    primary: int | None = None
    types: dict[int, bytes] = field(default_factory=dict)
    refs: list[tuple[bytes, int, list[int]]] = field(default_factory=list)  # (type, from, to ids)

    def targets(self, kind: bytes, item: int) -> list[int]:
        return [to for k, src, tos in self.refs if k == kind and src == item for to in tos]


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, bytes]]:
    """(type, body) of every box between start and end; a box that does not fit raises."""
    end = len(data) if end is None else end
    out, pos = [], start
    while pos < end:
        if pos + 8 > end:
            raise MetadataError(f"HEIF box at byte {pos} is cut off")
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise MetadataError(f"HEIF box '{kind!r}' at byte {pos} is cut off")
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise MetadataError(f"HEIF box {kind!r} at byte {pos} declares {size} bytes, which do not fit")
        out.append((kind, data[pos + header:pos + size]))
        pos += size
    return out


def _uint(body: bytes, at: int, size: int) -> int:
    if at + size > len(body):
        raise MetadataError("HEIF item box is cut off")
    return int.from_bytes(body[at:at + size], "big")


def _infe(body: bytes) -> tuple[int, bytes | None]:
    """(item id, item type) of an `infe` box; versions 0 and 1 have no type (None)."""
    version = _uint(body, 0, 1)
    if version < 2:
        return _uint(body, 4, 2), None
    size = 2 if version == 2 else 4
    item = _uint(body, 4, size)
    at = 4 + size + 2  # after the protection index
    if at + 4 > len(body):
        raise MetadataError("HEIF 'infe' box is cut off")
    return item, body[at:at + 4]


def _iinf(body: bytes, items: Items) -> None:
    version = _uint(body, 0, 1)
    size = 2 if version == 0 else 4
    count = _uint(body, 4, size)
    entries = [b for k, b in boxes(body, 4 + size) if k == b"infe"]
    if count > MAX_ITEMS or len(entries) != count:
        raise MetadataError(f"HEIF 'iinf' declares {count} items and holds {len(entries)}")
    for entry in entries:
        item, kind = _infe(entry)
        if item in items.types:
            raise MetadataError(f"HEIF item {item} is declared twice")
        items.types[item] = kind or b""


def _iref(body: bytes, items: Items) -> None:
    size = 2 if _uint(body, 0, 1) == 0 else 4
    for kind, ref in boxes(body, 4):
        src, n = _uint(ref, 0, size), _uint(ref, size, 2)
        if len(ref) != size + 2 + n * size:
            raise MetadataError(f"HEIF '{kind.decode('latin-1')}' reference of item {src} is malformed")
        items.refs.append((kind, src, [_uint(ref, size + 2 + i * size, size) for i in range(n)]))


def read_items(meta: bytes) -> Items:
    """The items of a meta box's body (a FullBox: version and flags first)."""
    items = Items()
    seen = set()
    for kind, body in boxes(meta, 4):
        if kind in seen and kind in (b"pitm", b"iinf", b"iref"):
            raise MetadataError(f"HEIF meta box holds two '{kind.decode()}' boxes")
        seen.add(kind)
        if kind == b"pitm":
            items.primary = _uint(body, 4, 2 if _uint(body, 0, 1) == 0 else 4)
        elif kind == b"iinf":
            _iinf(body, items)
        elif kind == b"iref":
            _iref(body, items)
    return items
