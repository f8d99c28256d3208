"""The raw metadata blocks (EXIF, XMP, IPTC) of an image file, found from its bytes alone.

Nothing here decodes pixels, so it also works on a file whose pixels are broken. A block
that is present but cut off or malformed raises MetadataError: a metadata check that could
not read everything must never pass for "nothing found". The container modules in
`formats/` know where each format keeps its blocks; this module gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass

from screening.formats import METADATA_READERS, c2pa, embedded, sniff
from screening.formats.common import Found, ImageError, MetadataError, ifd0_raw, photoshop_iptc, xmp_packets
from screening.formats.tiff import tiff_iptc

__all__ = ["Blocks", "MetadataError", "read_blocks", "xmp_packets", "photoshop_iptc", "ifd0_raw", "tiff_iptc"]


# Images nested in images whose metadata is read (as deep as imaging decodes them).
MAX_DEPTH = 3


@dataclass(frozen=True)
class Blocks:
    exif: tuple[bytes, ...] = ()  # TIFF-structured EXIF blocks ("II*\0"/"MM\0*" onwards)
    xmp: tuple[bytes, ...] = ()  # XMP packets, each one <x:xmpmeta> (or <rdf:RDF>) element, UTF-8
    iptc: tuple[bytes, ...] = ()  # IPTC IIM datasets (0x1C ...), unwrapped from 8BIM resources
    comments: tuple[tuple[str, bytes], ...] = ()  # (where, text) of JPEG/GIF comments and PNG text chunks
    c2pa: tuple = ()  # (where, leaves) of each C2PA/JUMBF assertion (formats/c2pa.py)


def read_blocks(data: bytes, depth: int = 0) -> Blocks:
    """Every EXIF, XMP and IPTC block of the file, from the container's own structure.

    The blocks of embedded images (an appended or MPF picture, a thumbnail) are included:
    a photo appended to a clean one brings its own EXIF GPS.
    """
    found = Found()
    fmt = sniff(data) or ""
    reader = METADATA_READERS.get(fmt)
    if reader is not None:
        reader(data, found)
    # XMP also lives in places no container reader knows (GIF extensions, HEIF items...)
    found.xmp.extend(xmp_packets(data, required=False))
    blocks = Blocks(_unique(_tiff(b) for b in found.exif if b), _unique(found.xmp), _unique(b for b in found.iptc if b),
                    _unique(found.comments), _unique(c2pa.assertions(data, fmt)))
    return _with_embedded(blocks, fmt, data, depth)


def _with_embedded(blocks: Blocks, fmt: str, data: bytes, depth: int) -> Blocks:
    if depth >= MAX_DEPTH:
        return blocks
    try:
        inner = [read_blocks(e.data, depth + 1) for e in embedded(fmt, data)]
    except ImageError:
        return blocks  # a container that cannot be walked: the decode check reports it
    return Blocks(*(_unique(getattr(blocks, kind) + tuple(b for i in inner for b in getattr(i, kind)))
                    for kind in ("exif", "xmp", "iptc", "comments", "c2pa")))


def _unique(items) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(items))


def _tiff(block: bytes) -> bytes:
    """An EXIF block with any "Exif\\0\\0" prefix removed."""
    return block[6:] if block.startswith(b"Exif\x00\x00") else block
