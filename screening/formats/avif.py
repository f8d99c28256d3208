"""AVIF (AV1 in HEIF boxes): Android cameras and images saved from the web.

Pillow (11.3+) decodes AVIF itself; pillow-heif no longer does. Pillow shows the primary image
only, so a file that also holds a thumbnail image (an `iref` of type `thmb`) is refused
rather than cleared with a picture nobody screened.
"""

from __future__ import annotations

import io
import struct

from screening.formats.common import Found, ImageError, MetadataError, xmp_packets


def supported() -> bool:
    from PIL import features

    return bool(features.check("avif"))


def blocks(data: bytes, found: Found) -> None:
    """EXIF and XMP items, as Pillow's AVIF reader finds them (no pixels decoded)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=["AVIF"]) as img:
            info = dict(img.info)
    except Exception as exc:
        raise MetadataError(f"AVIF container cannot be read for metadata: {exc}") from None
    if info.get("exif"):
        found.exif.append(info["exif"])
    if info.get("xmp"):
        found.xmp.extend(xmp_packets(info["xmp"]))


def check(data: bytes) -> None:
    """Refuse an AVIF whose metadata box says it holds a thumbnail image besides the primary one."""
    meta = _top_level_box(data, b"meta")
    if meta is not None and b"thmb" in meta:
        raise ImageError("AVIF holds a thumbnail image besides the photo, which cannot be decoded "
                         "separately, so the file cannot be cleared")


def _top_level_box(data: bytes, kind: bytes) -> bytes | None:
    pos, n = 0, len(data)
    while pos + 8 <= n:
        size, box = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1 and pos + 16 <= n:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = n - pos
        if size < header:
            return None
        if box == kind:
            return data[pos + header:pos + size]
        pos += size
    return None
