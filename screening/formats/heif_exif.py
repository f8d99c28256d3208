"""Every Exif item of a HEIF/AVIF file, whatever image it describes, read from the boxes (RT29-23).

libheif (pillow-heif) and Pillow give the metadata of the top-level images only, and libheif hangs
an Exif item on the image its `cdsc` reference names: the EXIF of a thumbnail or of an HDR gain
map was never read, and exiftool prints its GPS. Here every item of type `Exif` listed in `iinf`
is located through `iloc` (in the file, construction method 0, or in `idat`, method 1) and its
TIFF block returned. An Exif item that cannot be located or is cut off raises MetadataError.
"""

from __future__ import annotations

from screening.formats.avif import top_level_box
from screening.formats.common import MAX_METADATA_BYTES, MetadataError
from screening.formats.heif_items import boxes, read_items


def exif_items(data: bytes) -> list[bytes]:
    """The EXIF block (from its TIFF header, or "Exif\\0\\0" before it) of every Exif item."""
    meta = top_level_box(data, b"meta")
    if meta is None or b"Exif" not in meta:  # no item of that type can be declared
        return []
    wanted = sorted(item for item, kind in read_items(meta).types.items() if kind == b"Exif")
    if not wanted:
        return []
    children = dict(boxes(meta, 4))
    if b"iloc" not in children:
        raise MetadataError("HEIF holds an Exif item but no 'iloc' box says where it is")
    places = _iloc(children[b"iloc"])
    out = []
    for item in wanted:
        if item not in places:
            raise MetadataError(f"HEIF Exif item {item} is not located by 'iloc'")
        payload = _payload(data, children.get(b"idat", b""), item, *places[item])
        if len(payload) < 4:
            raise MetadataError(f"HEIF Exif item {item} is cut off")
        skip = 4 + int.from_bytes(payload[:4], "big")  # exif_tiff_header_offset, after which the TIFF header is
        if skip > len(payload):
            raise MetadataError(f"HEIF Exif item {item} points past its end")
        out.append(payload[skip:])
    return out


def _payload(data: bytes, idat: bytes, item: int, method: int, base: int, extents: list[tuple[int, int]]) -> bytes:
    if method not in (0, 1):
        raise MetadataError(f"HEIF Exif item {item} is built from another item (construction method {method})")
    source = data if method == 0 else idat
    parts = []
    for offset, length in extents:
        start = base + offset
        end = len(source) if length == 0 else start + length
        if end > len(source) or end - start > MAX_METADATA_BYTES:
            raise MetadataError(f"HEIF Exif item {item} runs past the end of the {'file' if method == 0 else 'idat box'}")
        parts.append(source[start:end])
    return b"".join(parts)


def _iloc(body: bytes) -> dict[int, tuple[int, int, list[tuple[int, int]]]]:
    """{item: (construction method, base offset, [(extent offset, length)])} of an `iloc` box."""
    pos = 0

    def take(size: int) -> int:
        nonlocal pos
        if pos + size > len(body):
            raise MetadataError("HEIF 'iloc' box is cut off")
        value = int.from_bytes(body[pos:pos + size], "big")
        pos += size
        return value

    version = take(1)
    take(3)
    if version > 2:
        raise MetadataError(f"HEIF 'iloc' box has version {version}, which no standard defines")
    sizes = take(2)
    offset_size, length_size, base_size = sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15
    index_size = sizes & 15 if version in (1, 2) else 0
    out = {}
    for _ in range(take(4 if version == 2 else 2)):
        item = take(4 if version == 2 else 2)
        method = take(2) & 15 if version in (1, 2) else 0
        take(2)  # data reference index
        base = take(base_size)
        extents = []
        for _ in range(take(2)):
            take(index_size)
            extents.append((take(offset_size), take(length_size)))
        if item in out:
            raise MetadataError(f"HEIF 'iloc' locates item {item} twice")
        out[item] = (method, base, extents)
    return out


def add_exif_items(data: bytes, found) -> None:
    """Append to found.exif each Exif item's block that the decoder's info did not already give."""
    known = {_tiff(block) for block in found.exif}
    for block in exif_items(data):
        if _tiff(block) not in known:
            known.add(_tiff(block))
            found.exif.append(block)


def _tiff(block: bytes) -> bytes:
    return block[6:] if block.startswith(b"Exif\x00\x00") else block
