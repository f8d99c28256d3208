"""WebP: RIFF chunk walk, completeness, EXIF/XMP chunks, data after the RIFF end."""

from __future__ import annotations

import struct

from screening.formats.common import Embedded, Found, ImageError, MetadataError, xmp_packets
from screening.formats.jpeg import after_end, images_in


def check(data: bytes) -> int:
    """The offset where the RIFF data ends, or ImageError for a cut-off file."""
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size + 8 > len(data):
        raise ImageError(f"truncated WebP: header declares {riff_size + 8} bytes, file has {len(data)}")
    for _kind, _body in chunks(data[:riff_size + 8]):
        pass
    return riff_size + 8


def chunks(data: bytes):
    pos, n = 12, len(data)
    while pos + 8 <= n:
        kind = data[pos:pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        if pos + 8 + length > n:
            raise ImageError(f"truncated WebP: chunk {kind!r} at byte {pos} runs past the end of the file")
        yield kind, data[pos + 8:pos + 8 + length]
        pos += 8 + length + (length % 2)


# Chunks not searched for pictures: the pixels (VP8, VP8L, ALPH, ANMF frames), and EXIF (its pictures
# are read as EXIF's). Every other chunk is (RT15-10).
_PIXELS = {b"VP8 ", b"VP8L", b"ALPH", b"ANMF", b"EXIF"}


def embedded(data: bytes, end: int) -> list[Embedded]:
    """Images inside any other chunk (RT15-10), and anything image-like after the RIFF data."""
    found = [image for i, (kind, body) in enumerate(chunks(data[:end])) if kind not in _PIXELS
             for image in images_in(body, f"WebP {kind.decode('latin-1')!r} chunk {i + 1}")]
    return found + after_end(data, end, [], "WebP's RIFF data")


def blocks(data: bytes, found: Found) -> None:
    try:
        for kind, body in chunks(data):
            if kind == b"EXIF":
                found.exif.append(body)
            elif kind == b"XMP ":
                found.xmp.extend(xmp_packets(body))
    except ImageError as exc:
        raise MetadataError(str(exc)) from None
