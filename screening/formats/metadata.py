"""The raw metadata blocks (EXIF, XMP, IPTC) of an image file, found from its bytes alone.

Nothing here decodes pixels, so it also works on a file whose pixels are broken. A block
that is present but cut off or malformed raises MetadataError: a metadata check that could
not read everything must never pass for "nothing found". The container modules in
`formats/` know where each format keeps its blocks; this module gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass

from screening.formats import METADATA_READERS, sniff
from screening.formats.common import Found, MetadataError, ifd0_raw, photoshop_iptc, xmp_packets
from screening.formats.tiff import tiff_iptc

__all__ = ["Blocks", "MetadataError", "read_blocks", "xmp_packets", "photoshop_iptc", "ifd0_raw", "tiff_iptc"]


@dataclass(frozen=True)
class Blocks:
    exif: tuple[bytes, ...] = ()  # TIFF-structured EXIF blocks ("II*\0"/"MM\0*" onwards)
    xmp: tuple[bytes, ...] = ()  # XMP packets, each one <x:xmpmeta> (or <rdf:RDF>) element, UTF-8
    iptc: tuple[bytes, ...] = ()  # IPTC IIM datasets (0x1C ...), unwrapped from 8BIM resources


def read_blocks(data: bytes) -> Blocks:
    """Every EXIF, XMP and IPTC block of the file, from the container's own structure."""
    found = Found()
    reader = METADATA_READERS.get(sniff(data) or "")
    if reader is not None:
        reader(data, found)
    # XMP also lives in places no container reader knows (GIF extensions, HEIF items...)
    found.xmp.extend(xmp_packets(data, required=False))
    return Blocks(_unique(_tiff(b) for b in found.exif if b), _unique(found.xmp),
                  _unique(b for b in found.iptc if b))


def _unique(items) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(items))


def _tiff(block: bytes) -> bytes:
    """An EXIF block with any "Exif\\0\\0" prefix removed."""
    return block[6:] if block.startswith(b"Exif\x00\x00") else block
