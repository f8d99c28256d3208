"""Image items of a HEIF/AVIF file that its decoder never shows, decoded and screened as views.

libheif (pillow-heif) lists a HEIF file's top-level images, their thumbnails (`thmb`) and auxiliary
images (`auxl`), and decodes the tiles of a grid as part of it; an item flagged *hidden* in its
`infe` box that is none of these is dropped without a word. Pillow's AVIF decoder shows the primary
item only (its alpha too): a second `av01` item is dropped the same way. Exiftool lists such an
item and a tool extracts it, so it is a picture someone can see: each one is decoded from a copy
of the file in which it is the primary item (`pitm`) and not hidden, by the same decoder, and
screened as a view ("hidden HEIF image item 2 (hvc1)"). One that cannot be decoded makes the file
an error. Items inside a derived image (grid tiles, `iden`/`iovl` inputs, a `tmap`'s inputs, which
heif.check_tone_maps checks), thumbnails and auxiliary images of a shown image are not counted.
"""

from __future__ import annotations

import io
import struct

import numpy as np

from screening.formats.avif import boxes as top_level, spans as _children
from screening.formats.common import ImageError
from screening.formats.heif_items import read_items
from screening.formats.pixels import to_rgb

# Item types that code a picture (HEVC, AV1, JPEG, VVC, JPEG 2000, H.264, uncompressed, derived).
IMAGE_TYPES = {b"hvc1", b"av01", b"jpeg", b"vvc1", b"j2k1", b"avc1", b"unci", b"grid", b"iden", b"iovl"}
_DERIVED = {b"grid", b"iden", b"iovl", b"tmap"}
MAX_UNSHOWN = 16


def _layout(data: bytes) -> tuple[int, int, int | None, dict[int, int]] | None:
    """(meta body start, end, pitm body start, {item: its infe body start}) or None without meta."""
    meta = next(((pos + header, pos + size) for kind, pos, header, size in top_level(data) if kind == b"meta"), None)
    if meta is None:
        return None
    pitm, infes = None, {}
    for kind, body, end in _children(data, meta[0] + 4, meta[1]):
        if kind == b"pitm":
            pitm = body
        elif kind == b"iinf":
            first = body + 4 + (2 if data[body] == 0 else 4)
            for entry, ebody, _ in _children(data, first, end):
                if entry == b"infe" and data[ebody] >= 2:
                    infes[struct.unpack_from(">H" if data[ebody] == 2 else ">I", data, ebody + 4)[0]] = ebody
    return meta[0], meta[1], pitm, infes


def unshown_items(data: bytes, fmt: str) -> list[tuple[int, bytes]]:
    """(item id, type) of every image item the decoder of `fmt` never shows (see the docstring)."""
    layout = _layout(data)
    if layout is None:
        return []
    start, end, _pitm, infes = layout
    items = read_items(data[start:end])
    hidden = {i for i, at in infes.items() if data[at + 3] & 1}
    shown = {i for i, kind in items.types.items() if kind in IMAGE_TYPES and i not in hidden}
    if fmt == "AVIF":
        shown = {items.primary}
    inside = {to for kind, src, tos in items.refs if kind == b"dimg" and items.types.get(src) in _DERIVED for to in tos}
    attached = {src for kind, src, tos in items.refs if kind in (b"thmb", b"auxl") and set(tos) <= shown}
    return [(i, kind) for i, kind in sorted(items.types.items())
            if kind in IMAGE_TYPES and i != items.primary and i not in (shown | inside | attached)]


def as_primary(data: bytes, item: int) -> bytes:
    """A copy of the file in which `item` is the primary item and not hidden."""
    layout = _layout(data)
    _start, _end, pitm, infes = layout if layout else (0, 0, None, {})
    if pitm is None or item not in infes:
        raise ImageError(f"image item {item} cannot be shown: the file has no primary item box or no entry for it")
    copy = bytearray(data)
    copy[infes[item] + 3] &= 0xFE
    width = 2 if data[pitm] == 0 else 4
    if item >= 1 << (8 * width):
        raise ImageError(f"image item {item} cannot be made the primary item to decode it")
    copy[pitm + 4:pitm + 4 + width] = item.to_bytes(width, "big")
    return bytes(copy)


def unshown_images(data: bytes, fmt: str, budget: int) -> list[tuple[str, np.ndarray]]:
    """(where, RGB pixels) of every image item the decoder never shows; ImageError if one cannot be
    decoded, if there are more than MAX_UNSHOWN, or if the items cannot be read."""
    try:
        unshown = unshown_items(data, fmt)
    except Exception as exc:  # noqa: BLE001 - items that cannot be read hide what they hold
        raise ImageError(f"the {fmt} file's items cannot be read to find the pictures it holds ({exc})") from None
    if len(unshown) > MAX_UNSHOWN:
        raise ImageError(f"the {fmt} file holds {len(unshown)} image items no viewer shows: refused")
    out = []
    for item, kind in unshown:
        where = (f"hidden HEIF image item {item} ({kind.decode('latin-1')}), which viewers do not list" if fmt == "HEIF"
                 else f"AVIF image item {item} ({kind.decode('latin-1')}) besides the primary, which viewers do not show")
        try:
            pil = _decode(as_primary(data, item), fmt)
            budget -= pil.width * pil.height
            if budget < 0:
                raise ImageError(f"the {where} is over the file's pixel budget")
            out.append((where, to_rgb(pil)))
        except ImageError:
            raise
        except Exception as exc:
            raise ImageError(f"the {where} cannot be decoded: {exc or type(exc).__name__}") from None
    return out


def _decode(data: bytes, fmt: str):
    if fmt == "HEIF":
        import pillow_heif

        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        return heif[heif.primary_index].to_pillow()
    from PIL import Image

    with Image.open(io.BytesIO(data), formats=["AVIF"]) as img:
        img.load()
        return img.copy()
