"""Hand-built HEIF structure for tests: pillow-heif writes top-level images only, so an auxiliary
image (an HDR gain map, a depth map) or a thumbnail that is not a copy of the picture is made by
rewriting the boxes of a two-image HEIC written by pillow-heif.

`relate(data, "auxl", aux_type)` turns the file's second image into an auxiliary image of the
first (an `auxC` property naming `aux_type`, an `auxl` reference), `relate(data, "thmb")` into
its thumbnail. The meta box grows, so every file offset in `iloc` is moved by as much.
"""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image


def two_image_heic(first: np.ndarray, second: np.ndarray) -> bytes:
    import pillow_heif

    heif = pillow_heif.from_pillow(Image.fromarray(first))
    heif.add_from_pillow(Image.fromarray(second))
    out = io.BytesIO()
    heif.save(out, quality=95)
    return out.getvalue()


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _children(data: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        assert size >= 8, "this helper reads 32-bit box sizes only"
        out.append((kind, data[pos + 8:pos + size]))
        pos += size
    return out


def _shift_iloc(body: bytes, delta: int) -> bytes:
    """iloc (FullBox) with every file offset (construction method 0) moved by delta."""
    out = bytearray(body)
    version = body[0]
    offset_size, length_size = body[4] >> 4, body[4] & 15
    base_size, index_size = body[5] >> 4, (body[5] & 15) if version in (1, 2) else 0
    pos = 6
    count_fmt = ">I" if version == 2 else ">H"
    (count,) = struct.unpack_from(count_fmt, body, pos)
    pos += struct.calcsize(count_fmt)

    def field(at: int, size: int, add: int) -> None:
        if size:
            value = int.from_bytes(body[at:at + size], "big") + add
            out[at:at + size] = value.to_bytes(size, "big")

    for _ in range(count):
        pos += 4 if version == 2 else 2  # item_ID
        method = 0
        if version in (1, 2):
            method = struct.unpack_from(">H", body, pos)[0] & 15
            pos += 2
        pos += 2  # data_reference_index
        base_at = pos
        pos += base_size
        (extents,) = struct.unpack_from(">H", body, pos)
        pos += 2
        if method == 0 and base_size:
            field(base_at, base_size, delta)
        for _ in range(extents):
            pos += index_size
            if method == 0 and not base_size:
                field(pos, offset_size, delta)
            pos += offset_size + length_size
    return bytes(out)


def _add_association(ipma: bytes, item: int, prop: int) -> bytes:
    version, flags = ipma[0], int.from_bytes(ipma[1:4], "big")
    wide, item_size = flags & 1, (4 if version >= 1 else 2)
    (count,) = struct.unpack_from(">I", ipma, 4)
    out, pos = bytearray(ipma[:8]), 8
    for _ in range(count):
        item_id = int.from_bytes(ipma[pos:pos + item_size], "big")
        n = ipma[pos + item_size]
        size = n * (2 if wide else 1)
        entry = ipma[pos + item_size + 1:pos + item_size + 1 + size]
        if item_id == item:
            entry += struct.pack(">H", 0x8000 | prop) if wide else bytes([0x80 | prop])
            n += 1
        out += ipma[pos:pos + item_size] + bytes([n]) + entry
        pos += item_size + 1 + size
    return bytes(out)


def relate(data: bytes, ref: str, aux_type: str = "", target: int = 2, to: int = 1) -> bytes:
    """Item `target` made an auxiliary image (ref "auxl", `aux_type` in its auxC) or a thumbnail
    (ref "thmb") of item `to`."""
    top = _children(data, 0, len(data))
    out_top, meta_at = [], None
    for kind, body in top:
        if kind == b"meta":
            meta_at = len(b"".join(_box(k, b) for k, b in out_top))
            old_size = 8 + len(body)
            kids = _children(body, 4, len(body))
            new_kids = []
            for k, b in kids:
                if k == b"iprp" and ref == "auxl":
                    parts = _children(b, 0, len(b))
                    ipco = next(p for kk, p in parts if kk == b"ipco")
                    prop = len(_children(ipco, 0, len(ipco))) + 1
                    ipco += _box(b"auxC", b"\x00\x00\x00\x00" + aux_type.encode() + b"\x00")
                    b = b"".join(_box(kk, ipco if kk == b"ipco" else _add_association(p, target, prop)
                                      if kk == b"ipma" else p) for kk, p in parts)
                new_kids.append((k, b))
            iref = b"\x00\x00\x00\x00" + _box(ref.encode(), struct.pack(">HHH", target, 1, to))
            new_kids = [(k, b) for k, b in new_kids if k != b"iref"] + [
                (b"iref", (next((b for k, b in new_kids if k == b"iref"), b"\x00" * 4)) + iref[4:])]
            new_body = body[:4] + b"".join(_box(k, b) for k, b in new_kids)
            delta = 8 + len(new_body) - old_size
            new_body = body[:4] + b"".join(_box(k, _shift_iloc(b, delta) if k == b"iloc" else b)
                                           for k, b in new_kids)
            out_top.append((kind, new_body))
        else:
            out_top.append((kind, body))
    assert meta_at is not None and all(k != b"mdat" for k, _ in top[:[k for k, _ in top].index(b"meta")])
    return b"".join(_box(k, b) for k, b in out_top)
