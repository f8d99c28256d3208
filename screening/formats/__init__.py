"""One module per image container: completeness, metadata blocks and embedded images together.

`imaging` decodes pixels and asks the container module of the file's format what else a
viewer could see in it; `metadata` asks it for the file's EXIF, XMP and IPTC blocks.
See docs/formats.md for what each reader checks and its limits.
"""

from __future__ import annotations

import re

from screening.formats import avif, bmp, carried, gif, heif, jpeg, png, tiff, webp
from screening.formats.common import Embedded, Found, ImageError, MetadataError
from screening.formats.exif_images import exif_images as _exif_images

__all__ = ["Embedded", "Found", "ImageError", "MetadataError", "sniff", "distinct", "METADATA_READERS"]

_SIGNATURES: list[tuple[str, re.Pattern[bytes]]] = [
    ("JPEG", re.compile(rb"\A\xff\xd8\xff")),
    ("PNG", re.compile(rb"\A\x89PNG\r\n\x1a\n")),
    ("GIF", re.compile(rb"\AGIF8[79]a")),
    ("WEBP", re.compile(rb"\ARIFF....WEBP", re.S)),
    ("TIFF", re.compile(rb"\A(II\*\x00|MM\x00\*)")),
    ("BMP", re.compile(rb"\ABM")),
    # AVIF before HEIF: pillow-heif no longer decodes AVIF, Pillow (11.3+) does
    ("AVIF", re.compile(rb"\A....ftyp(avif|avis)", re.S)),
    ("HEIF", re.compile(rb"\A....ftyp(heic|heix|heim|heis|hevc|hevx|mif1|msf1)", re.S)),
]


def sniff(data: bytes) -> str | None:
    """The image format of these bytes, from their content, or None if not a supported image."""
    head = data[:32]
    for name, pattern in _SIGNATURES:
        if pattern.match(head):
            return name
    return None


METADATA_READERS = {"JPEG": jpeg.blocks, "PNG": png.blocks, "GIF": gif.blocks, "WEBP": webp.blocks, "TIFF": tiff.blocks,
                    "HEIF": heif.blocks, "AVIF": avif.blocks}


def distinct(found: list[Embedded]) -> list[Embedded]:
    """The pictures, each once: one whose bytes begin with another's is the same picture (the EXIF
    thumbnail of an ImageMagick hex profile, decoded from its text, beside the EXIF thumbnail listed;
    an XMP thumbnail read from the segment's text and from the packet). The shorter one is kept, of
    equal ones the later (listed by the more specific reader: "EXIF thumbnail", "image in XMP property
    image"), in the earlier's place; a picture in the longer one's remaining bytes is listed on its
    own (each reader lists every start)."""
    out: list[Embedded] = []
    for item in found:
        for i, kept in enumerate(out):
            if item.data and kept.data and kept.data.startswith(item.data):
                out[i] = item
                break
            if item.data and kept.data and item.data.startswith(kept.data):
                break
        else:
            out.append(item)
    return out


def check(fmt: str, data: bytes) -> list[Embedded]:
    """Check the container is complete (or ImageError) and list the images embedded in it."""
    if fmt == "JPEG":
        jpeg.check(data)
    elif fmt == "GIF":
        gif.check(data)
    elif fmt == "BMP":
        bmp.check(data)
    elif fmt == "AVIF":
        avif.check(data)
    return embedded(fmt, data)


def embedded(fmt: str, data: bytes) -> list[Embedded]:
    """The images embedded in a container, from its structure alone (no pixels decoded)."""
    if fmt == "JPEG":
        return jpeg.embedded(data, jpeg.walk(data)) + _metadata_pictures(fmt, data, exif=False)
    if fmt == "PNG":
        return png.embedded(data, png.check(data)) + _metadata_pictures(fmt, data)
    if fmt == "WEBP":
        return webp.embedded(data, webp.check(data)) + _metadata_pictures(fmt, data)
    if fmt == "GIF":
        return gif.embedded(data)
    if fmt == "BMP":
        return bmp.embedded(data)
    if fmt in ("HEIF", "AVIF"):
        listed = _metadata_pictures(fmt, data)
        return listed + carried.heif_pictures(data, fmt, listed)
    if fmt == "TIFF":
        return (tiff.photoshop_images(data) + tiff.tag_images(data) + carried.tiff_pictures(data)
                + _metadata_pictures(fmt, data, exif=False))
    return []


def _metadata_pictures(fmt: str, data: bytes, *, exif: bool = True) -> list[Embedded]:
    """The pictures EXIF points to (thumbnail, previews; JPEG and TIFF list their own), and the
    IPTC preview (dataset 2:202 ObjectPreviewData, which IPTC-aware tools show)."""
    from screening.formats.geotags import iim_datasets

    found = Found()
    try:
        METADATA_READERS[fmt](data, found)
    except MetadataError:
        return []  # the location check reports metadata it cannot read
    exif_blocks = dict.fromkeys(found.exif)  # pillow-heif gives the primary image's twice: read it once
    pictures = [image for b in exif_blocks for image in _exif_images(b[6:] if b.startswith(b"Exif\x00\x00") else b)
                ] if exif else []
    for block in found.iptc:
        try:
            datasets = iim_datasets(block)
        except MetadataError:
            continue  # reported by the location check
        pictures += [Embedded(f"IPTC preview (dataset 2:202, {len(v)} bytes)", v)
                     for record, dataset, v in datasets if (record, dataset) == (2, 202) and v]
    return pictures
