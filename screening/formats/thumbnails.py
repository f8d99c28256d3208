"""Thumbnails kept in a file's header segments: JFIF's own, the JFXX extension's, Photoshop's.

JFIF 1.02 allows an uncompressed RGB thumbnail in the APP0 header itself and a JPEG, palette
or RGB one in an APP0 "JFXX" extension; Photoshop keeps a JPEG thumbnail among its image
resources (0x040C, older 0x0409) in JPEG APP13, TIFF tag 34377 and PNG "Raw profile type 8bim".
Each is returned for screening; one that is cut off or of an unknown kind is an ImageError.
"""

from __future__ import annotations

import io

import numpy as np

from screening.formats.common import Embedded, ImageError, MetadataError, photoshop_resources

# Photoshop thumbnails one file may carry (Photoshop writes one, two for old versions).
MAX_PHOTOSHOP_THUMBNAILS = 4


def as_png(pixels: np.ndarray) -> bytes:
    """Decoded pixels (HxWx3 or HxW uint8) as PNG bytes, to be screened as any embedded image."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


def _rgb(body: bytes, w: int, h: int, what: str) -> np.ndarray:
    if len(body) < 3 * w * h:
        raise ImageError(f"the {what} ({w}x{h} RGB) is cut off: {len(body)} of {3 * w * h} bytes")
    return np.frombuffer(body[:3 * w * h], np.uint8).reshape(h, w, 3)


def jfif_thumbnails(payload: bytes, offset: int) -> list[Embedded]:
    """The thumbnail of a JFIF APP0 header or of a JFXX extension segment (APP0 at `offset`)."""
    if payload.startswith(b"JFIF\x00"):
        if len(payload) < 14:
            raise ImageError(f"the JFIF header at byte {offset} is cut off")
        w, h = payload[12], payload[13]
        what = f"JFIF header thumbnail (byte {offset})"
        return [Embedded(what, as_png(_rgb(payload[14:], w, h, what)))] if w and h else []
    code, body = payload[5:6], payload[6:]
    what = f"JFXX extension thumbnail (byte {offset})"
    if code == b"\x10":
        return [Embedded(what, body)]
    if len(body) < 2:
        raise ImageError(f"the {what} is cut off")
    w, h = body[0], body[1]
    if code == b"\x13":
        return [Embedded(what, as_png(_rgb(body[2:], w, h, what)))] if w and h else []
    if code == b"\x11":
        if len(body) < 2 + 768 + w * h:
            raise ImageError(f"the {what} (palette, {w}x{h}) is cut off")
        palette = np.frombuffer(body[2:770], np.uint8).reshape(256, 3)
        index = np.frombuffer(body[770:770 + w * h], np.uint8).reshape(h, w)
        return [Embedded(what, as_png(palette[index]))] if w and h else []
    raise ImageError(f"the {what} is of an unknown kind (code 0x{code.hex() or '--'}): it is not read")


def photoshop_thumbnails(resources: bytes, where: str) -> list[Embedded]:
    """The thumbnails among Photoshop image resources (0x040C, older 0x0409): 28 bytes of header,
    then JPEG data (format 1) or raw RGB rows (format 0)."""
    try:
        found = [body for rid, body in photoshop_resources(resources) if rid in (0x0409, 0x040C)]
    except MetadataError:
        return []  # the location check reports resources it cannot read
    if len(found) > MAX_PHOTOSHOP_THUMBNAILS:
        raise ImageError(f"the Photoshop resources of the {where} hold more than {MAX_PHOTOSHOP_THUMBNAILS} thumbnails")
    out = []
    for i, body in enumerate(found, start=1):
        what = f"Photoshop thumbnail {i} of the {where}" if len(found) > 1 else f"Photoshop thumbnail of the {where}"
        if len(body) <= 28:
            raise ImageError(f"the {what} is cut off")
        fmt, w, h, row = (int.from_bytes(body[i:i + 4], "big") for i in (0, 4, 8, 12))
        if fmt == 0:  # kRawRGB: rows padded to `row` bytes
            if not w or not h or w * h > 4_000_000 or row < 3 * w or len(body) < 28 + row * h:
                raise ImageError(f"the {what} (raw RGB, {w}x{h}) is malformed or cut off")
            rows = np.frombuffer(body[28:28 + row * h], np.uint8).reshape(h, row)[:, :3 * w]
            out.append(Embedded(what, as_png(np.ascontiguousarray(rows.reshape(h, w, 3)))))
        else:
            out.append(Embedded(what, body[28:]))
    return out
