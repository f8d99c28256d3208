"""Builders of hostile image files (faces where a naive reader does not look, cut-off data, bombs).

Used by tests/test_hostile_files.py, the fuzz test and bench/bench_hostile.py. Each builder
returns the file's bytes; the face comes from the public-domain astronaut photo.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

PUBLIC_DOMAIN = Path(__file__).resolve().parents[1] / "samples" / "public-domain"


def face_grey(size: int = 256) -> np.ndarray:
    """The astronaut's head and shoulders, grey, size x size."""
    img = Image.open(PUBLIC_DOMAIN / "astronaut.png").convert("L").crop((96, 0, 352, 256))
    return np.asarray(img.resize((size, size)))


def face_rgb(size: int = 256) -> Image.Image:
    img = Image.open(PUBLIC_DOMAIN / "astronaut.png").convert("RGB").crop((96, 0, 352, 256))
    return img.resize((size, size))


def clean_rgb(size=(320, 240)) -> Image.Image:
    """A picture with nothing in it: a smooth gradient."""
    w, h = size
    x = np.linspace(40, 200, w, dtype=np.float32)[None, :].repeat(h, 0)
    return Image.fromarray(np.stack([x, x * 0.8, 255 - x], axis=2).astype(np.uint8))


def save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


# ---------------------------------------------------------------- a face in the alpha channel


def alpha_face(mode: str) -> bytes:
    """RGB all black, the face drawn only by transparency (visible on a white page)."""
    grey = face_grey()
    alpha = 255 - grey
    black = np.zeros_like(grey)
    if mode == "RGBA":
        return save(Image.fromarray(np.stack([black, black, black, alpha], 2), "RGBA"), "PNG")
    if mode == "LA":
        return save(Image.fromarray(np.stack([black, alpha], 2), "LA"), "PNG")
    if mode == "WEBP":
        return save(Image.fromarray(np.stack([black, black, black, alpha], 2), "RGBA"), "WEBP", lossless=True)
    if mode == "P":  # palette of black at 256 transparency levels: tRNS carries the face
        img = Image.fromarray(alpha // 16 * 16 + 15, "L").convert("P")
        img.putpalette([0, 0, 0] * 256)
        img.info["transparency"] = bytes(range(256))
        return save(img, "PNG", transparency=bytes(range(256)))
    raise ValueError(mode)


# ---------------------------------------------------------------- a face in an embedded image


def face_jpeg(size: int = 160) -> bytes:
    return save(face_rgb(size), "JPEG", quality=85)


def clean_jpeg() -> bytes:
    return save(clean_rgb(), "JPEG", quality=90)


def exif_with_thumbnail(thumb: bytes) -> bytes:
    """A little-endian TIFF EXIF block: an empty IFD0, then IFD1 holding a JPEG thumbnail."""
    ifd0 = struct.pack("<H", 0) + struct.pack("<I", 8 + 6)
    entries = [(0x0103, 3, 1, 6), (0x0201, 4, 1, 8 + 6 + 2 + 3 * 12 + 4), (0x0202, 4, 1, len(thumb))]
    ifd1 = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + b"\0" * 4
    return b"II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1 + thumb


def jpeg_with_exif_thumbnail() -> bytes:
    return save(clean_rgb(), "JPEG", quality=90, exif=b"Exif\x00\x00" + exif_with_thumbnail(face_jpeg()))


def jpeg_with_appended_jpeg() -> bytes:
    return clean_jpeg() + face_jpeg(240)


def jpeg_with_mpf(primary: bytes | None = None, second: bytes | None = None) -> bytes:
    """A clean primary image whose MPF index lists a second picture (the face) after its EOI
    (an Ultra HDR JPEG's gain map is such a second picture)."""
    primary = clean_jpeg() if primary is None else primary
    second = face_jpeg(240) if second is None else second
    app2_len = 2 + 4 + 8 + 2 + 3 * 12 + 4 + 32
    total = len(primary) + 2 + app2_len
    mpf_header_at = 2 + 4 + 4  # SOI, APP2 marker+length, "MPF\0"
    entries = struct.pack("<IIIHH", 0x030000, total, 0, 0, 0)
    entries += struct.pack("<IIIHH", 0, len(second), total - mpf_header_at, 0, 0)
    body = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 3)
    body += struct.pack("<HHI4s", 0xB000, 7, 4, b"0100") + struct.pack("<HHII", 0xB001, 4, 1, 2)
    body += struct.pack("<HHII", 0xB002, 7, 32, 8 + 2 + 3 * 12 + 4) + b"\0" * 4 + entries
    app2 = b"\xff\xe2" + struct.pack(">H", 2 + 4 + len(body)) + b"MPF\x00" + body
    assert len(app2) == 2 + app2_len
    return primary[:2] + app2 + primary[2:] + second


def png_with_data_after_iend() -> bytes:
    return save(clean_rgb(), "PNG") + face_jpeg(240)


def jpeg_with_xmp_image() -> bytes:
    """The face as a base64 xmpGImg:image thumbnail inside the XMP packet."""
    b64 = base64.b64encode(face_jpeg()).decode()
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/">'
           '<xmp:Thumbnails><rdf:Alt><rdf:li rdf:parseType="Resource"><xmpGImg:format>JPEG</xmpGImg:format>'
           f'<xmpGImg:image>{b64}</xmpGImg:image></rdf:li></rdf:Alt></xmp:Thumbnails>'
           '</rdf:Description></rdf:RDF></x:xmpmeta>')
    return save(clean_rgb(), "JPEG", quality=90, xmp=xmp.encode())


def tiff_with_subifd() -> bytes:
    """IFD0 a 64x48 blank preview, the full 2000x1500 picture (a face) in a SubIFD."""
    import tifffile

    full = np.asarray(face_rgb(1500).resize((2000, 1500)))
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as tif:
        tif.write(np.zeros((48, 64, 3), np.uint8), subifds=1, subfiletype=1, photometric="rgb")
        tif.write(full, subfiletype=0, photometric="rgb")
    return buf.getvalue()


# ---------------------------------------------------------------- cut-off data


def _scan_start(data: bytes) -> int:
    sos = data.find(b"\xff\xda")
    return sos + 2 + struct.unpack_from(">H", data, sos + 2)[0]


def jpeg_cut_with_eoi(keep: float = 0.4) -> bytes:
    """The scan data cut at `keep` of its length and an end-of-image marker added."""
    data = save(face_rgb(512), "JPEG", quality=90)
    start = _scan_start(data)
    return data[:start + int((len(data) - start) * keep)] + b"\xff\xd9"


def progressive_first_scan() -> bytes:
    data = save(face_rgb(512), "JPEG", quality=90, progressive=True)
    first = data.find(b"\xff\xda")
    second = data.find(b"\xff\xda", first + 2)
    cut = data.rfind(b"\xff\xc4", first, second)  # a DHT table before the second scan
    return data[:cut if cut > 0 else second] + b"\xff\xd9"


def tiff_int32() -> bytes:
    """A 32-bit integer TIFF whose values are all above 65535 (the face is in their range)."""
    arr = face_grey().astype(np.int32) * 100_000 + 70_000
    return save(Image.fromarray(arr, "I"), "TIFF")


# ---------------------------------------------------------------- resources


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_chunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """A PNG with one chunk inserted before its first IDAT."""
    at = png.find(b"IDAT") - 4
    return png[:at] + _png_chunk(kind, body) + png[at:]


def png_ztxt_bomb(inflated_mb: int) -> bytes:
    """A zTXt "Raw profile type exif" that inflates to `inflated_mb` MB."""
    z = zlib.compressobj(9)
    chunk = b"0" * (1 << 20)
    blob = b"".join(z.compress(chunk) for _ in range(inflated_mb)) + z.flush()
    return png_with_chunk(save(clean_rgb(), "PNG"), b"zTXt", b"Raw profile type exif\x00\x00" + blob)


def apng_frames(frames: int, w: int, h: int) -> bytes:
    """An APNG of `frames` blank w x h frames: tiny on disk, huge decoded."""
    raw = zlib.compress(b"".join(b"\x00" + b"\x00" * (3 * w) for _ in range(h)), 9)
    out = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    out += _png_chunk(b"acTL", struct.pack(">II", frames, 0))
    seq = 0
    for i in range(frames):
        out += _png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, w, h, 0, 0, 1, 10, 0, 0))
        seq += 1
        if i == 0:
            out += _png_chunk(b"IDAT", raw)
        else:
            out += _png_chunk(b"fdAT", struct.pack(">I", seq) + raw)
            seq += 1
    return out + _png_chunk(b"IEND", b"")


def png_xmp_openers(copies: int) -> bytes:
    """A PNG comment holding `copies` XMP openers and no closer (a quadratic regex's worst case)."""
    return png_with_chunk(save(clean_rgb(), "PNG"), b"tEXt", b"Comment\x00" + b"<x:xmpmeta " * copies)


def png_with_exif_thumbnail() -> bytes:
    return save(clean_rgb(), "PNG", exif=exif_with_thumbnail(face_jpeg()))


def jpeg_with_photoshop_thumbnail() -> bytes:
    """The face as Photoshop's own thumbnail (image resource 0x040C) in APP13."""
    thumb = struct.pack(">IIIIIIHH", 1, 160, 160, 480, 480 * 160, len(face_jpeg()), 24, 1) + face_jpeg()
    resource = b"8BIM" + struct.pack(">H", 0x040C) + b"\x00\x00" + struct.pack(">I", len(thumb)) + thumb
    resource += b"\x00" * (len(thumb) % 2)
    app13 = b"Photoshop 3.0\x00" + resource
    data = clean_jpeg()
    return data[:2] + b"\xff\xed" + struct.pack(">H", len(app13) + 2) + app13 + data[2:]
