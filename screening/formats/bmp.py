"""BMP: completeness (the header's declared size and pixel offset fit the file), and pictures
carried in it (between the headers and the pixels, or after them)."""

from __future__ import annotations

import struct

from screening.formats.common import Embedded, ImageError
from screening.formats.exif_images import picture_starts


def check(data: bytes) -> None:
    if len(data) < 14:
        raise ImageError("truncated BMP: the file header is cut off")
    (declared,) = struct.unpack_from("<I", data, 2)
    (offset,) = struct.unpack_from("<I", data, 10)
    if offset > len(data) or (declared > len(data) and declared - len(data) > 2):
        raise ImageError(f"truncated BMP: header declares {declared} bytes, file has {len(data)}")


def embedded(data: bytes) -> list[Embedded]:
    """Every JPEG, PNG, GIF, WebP or TIFF picture in the file after its 14-byte header: a BMP
    has no end marker, and nothing in it points to them. Its uncompressed pixels cannot pass for
    one (a JPEG counts only when its markers reach a frame header as libjpeg reads them)."""
    return [Embedded(f"picture in the BMP file at byte {at}, outside its pixels' structure", data[at:])
            for at in picture_starts(data, 14, set())]
