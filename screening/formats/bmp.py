"""BMP: completeness (the header's declared size and pixel offset fit the file)."""

from __future__ import annotations

import struct

from screening.formats.common import ImageError


def check(data: bytes) -> None:
    if len(data) < 14:
        raise ImageError("truncated BMP: the file header is cut off")
    (declared,) = struct.unpack_from("<I", data, 2)
    (offset,) = struct.unpack_from("<I", data, 10)
    if offset > len(data) or (declared > len(data) and declared - len(data) > 2):
        raise ImageError(f"truncated BMP: header declares {declared} bytes, file has {len(data)}")
