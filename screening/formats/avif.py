"""AVIF (AV1 in HEIF boxes): Android cameras and images saved from the web.

Pillow (11.3+) decodes AVIF itself; pillow-heif no longer does. Pillow shows the primary image
only (and its alpha), so a file that also holds a thumbnail image (an `iref` of type `thmb`), a
gain map (libavif's `tmap` item: an HDR display shows the picture brightened by it) or an
auxiliary image other than alpha (`auxC`: a gain map, a depth map, a matte) is refused rather
than cleared with a picture nobody screened.
"""

from __future__ import annotations

import io
import struct

from screening.formats.common import Found, ImageError, MetadataError, xmp_packets


def supported() -> bool:
    from PIL import features

    return bool(features.check("avif"))


def blocks(data: bytes, found: Found) -> None:
    """EXIF and XMP items, as Pillow's AVIF reader finds them (no pixels decoded), and every Exif item."""
    from PIL import Image

    from screening.formats.heif_exif import add_exif_items  # it imports this module

    try:
        with Image.open(io.BytesIO(data), formats=["AVIF"]) as img:
            info = dict(img.info)
    except Exception as exc:
        raise MetadataError(f"AVIF container cannot be read for metadata: {exc}") from None
    if info.get("exif"):
        found.exif.append(info["exif"])
    if info.get("xmp"):
        found.xmp.extend(xmp_packets(info["xmp"]))
    add_exif_items(data, found)  # every Exif item, a thumbnail's and a gain map's too (RT29-23)


# auxC types Pillow's decoder shows as part of the picture itself (its alpha)
ALPHA_AUX = (b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", b"urn:mpeg:hevc:2015:auxid:1")


def check(data: bytes) -> None:
    """Refuse an AVIF whose metadata box says it holds an image besides the primary one and its
    alpha: a thumbnail, a gain map, another auxiliary image (Pillow decodes none of them)."""
    meta = top_level_box(data, b"meta")
    if meta is None:
        return
    if b"thmb" in meta:
        raise ImageError("AVIF holds a thumbnail image besides the photo, which cannot be decoded "
                         "separately, so the file cannot be cleared")
    if item_types(meta) & {b"tmap"}:
        raise ImageError("AVIF holds an HDR gain map (a 'tmap' item), which an HDR display shows over the "
                         "photo and this version cannot decode, so the file cannot be cleared")
    for aux in aux_types(meta):
        if aux not in ALPHA_AUX:
            raise ImageError(f"AVIF holds an auxiliary image ('{aux[:80].decode('ascii', 'replace')}'), which "
                             "this version cannot decode, so the file cannot be cleared")


def item_types(meta: bytes) -> set[bytes]:
    """The item types of every `infe` box (version 2 and 3) in the meta box."""
    out, pos = set(), meta.find(b"infe")
    while pos >= 4:
        version = meta[pos + 4] if pos + 4 < len(meta) else 0
        at = pos + 8 + (2 if version == 2 else 4) + 2  # after version/flags, item_ID, protection index
        if version >= 2 and at + 4 <= len(meta):
            out.add(meta[at:at + 4])
        pos = meta.find(b"infe", pos + 4)
    return out


def aux_types(meta: bytes) -> list[bytes]:
    """The type URN of every `auxC` property in the meta box."""
    out, pos = [], meta.find(b"auxC")
    while pos >= 4:
        start = pos + 8  # after version/flags
        end = meta.find(b"\x00", start)
        out.append(meta[start:end if end >= 0 else len(meta)])
        pos = meta.find(b"auxC", pos + 4)
    return out


def boxes(data: bytes):
    """(type, offset, header length, size) of each top-level ISO-BMFF box, in order, until one that
    cannot be a box; the size of a box cut off by the end of the data is what it still holds."""
    yield from _walk(data, 0, len(data), cut_off=True)


def spans(data, start: int, end: int):
    """(type, body start, end) of each box between start and end of `data` (bytes or a memory map),
    in order, until one that does not fit."""
    for kind, pos, header, size in _walk(data, start, end, cut_off=False):
        yield kind, pos + header, pos + size


def _walk(data, start: int, end: int, cut_off: bool):
    """(type, offset, header length, size) of each box from start to end; a box running past the
    end is given as far as it goes (cut_off) or ends the walk."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= end:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or (pos + size > end and not cut_off):
            return
        yield kind, pos, header, min(size, end - pos)
        pos += size


def top_level_box(data: bytes, kind: bytes) -> bytes | None:
    for box, pos, header, size in boxes(data):
        if box == kind:
            return data[pos + header:pos + size]
    return None
