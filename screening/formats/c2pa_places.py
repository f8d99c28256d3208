"""Where the C2PA spec puts a manifest store in each container; what lies there must be one (RT29-4).

PNG `caBX` chunk, WebP `C2PA` chunk, GIF `C2PA_GIF` application extension, TIFF tag 52545, the
top-level ISO BMFF `uuid` box D8FEC3D6-1B0E-483C-9297-5828877EC481 (HEIF, AVIF, MP4), JPEG APP11
JUMBF: c2patool reads a store from there. formats/c2pa.py reads every JUMBF superbox wherever it
is; here a place the spec names for a store that does not begin with one (raw JSON in a caBX
chunk, a cut or damaged box) is an error rather than nothing found.
"""

from __future__ import annotations

import struct

from screening.formats.common import ImageError, MetadataError

BMFF_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
TIFF_TAG = 52545
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}


def require_stores(data: bytes, fmt: str) -> None:
    """Raise MetadataError if a place the spec names for a store holds none that begins there."""
    try:
        places = _places(data, fmt)
    except ImageError as exc:
        raise MetadataError(f"the file's C2PA places cannot be walked: {exc}") from None
    for where, blob in places:
        require_store(blob, where)


def require_store(blob: bytes, where: str) -> None:
    """A store (a `jumb` superbox with its `jumd`) must begin in the first bytes of `blob` (after a
    BMFF box's purpose and offset fields)."""
    at = blob.find(b"jumb", 0, 96)
    if at < 4 or blob[at + 8:at + 12] != b"jumd":
        raise MetadataError(f"the {where}, where a C2PA manifest store belongs, holds none that can be read: "
                            "remove it or check it by hand")


def _places(data: bytes, fmt: str) -> list[tuple[str, bytes]]:
    if fmt == "PNG":
        from screening.formats.png import chunks

        return [(f"PNG caBX chunk at byte {pos}", body) for kind, body, pos in chunks(data) if kind == b"caBX"]
    if fmt == "WEBP":
        from screening.formats.webp import chunks as riff_chunks

        return [("WebP 'C2PA' chunk", body) for kind, body in riff_chunks(data) if kind == b"C2PA"]
    if fmt == "GIF":
        from screening.formats.gif import extensions

        return [(f"GIF C2PA_GIF extension at byte {at}", body[11:]) for label, at, body in extensions(data)[0]
                if label == 0xFF and body.startswith(b"C2PA_GIF")]
    if fmt in ("HEIF", "AVIF"):
        from screening.formats.avif import boxes

        return [(f"'uuid' box at byte {pos}", data[pos + header + 16:pos + size]) for kind, pos, header, size in boxes(data)
                if kind == b"uuid" and data[pos + header:pos + header + 16] == BMFF_UUID]
    if fmt == "JPEG":
        from screening.formats.jpeg import header_segments, jumbf_boxes

        return [(f"JPEG APP11 JUMBF box instance {en}", blob) for en, blob in jumbf_boxes(header_segments(data)).items()]
    if fmt == "TIFF":
        return _tiff(data)
    return []


def _tiff(data: bytes) -> list[tuple[str, bytes]]:
    from screening.formats.carried import tiff_directories

    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(data[:4])
    if order is None or len(data) < 8:
        return []
    out = []
    for number, (offset, count, _values) in enumerate(tiff_directories(data, order), start=1):
        for i in range(count):
            entry = offset + 2 + 12 * i
            if entry + 12 > len(data):
                break
            tag, kind, n = struct.unpack_from(order + "HHI", data, entry)
            if tag != TIFF_TAG:
                continue
            size = _TYPE_SIZES.get(kind, 1) * n
            start = entry + 8 if size <= 4 else struct.unpack_from(order + "I", data, entry + 8)[0]
            out.append((f"TIFF tag {TIFF_TAG} of directory {number}", data[start:start + size]))
    return out
