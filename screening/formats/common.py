"""What every container reader shares: its errors, what it returns, bounded inflation, XMP finding.

Each container module (jpeg, png, webp, gif, bmp, tiff, heif) exposes the same three things,
mat2-style: `check(data)` (the file is complete, or ImageError), `blocks(data, found)` (its
metadata blocks, or MetadataError) and `embedded(data)` (every other image a viewer could
show from it: thumbnails, appended images, MPF pictures).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from screening.formats.strings import strings_text

# Decompressed metadata (PNG zTXt/iTXt, ImageMagick raw profiles) larger than this is refused:
# a real EXIF block is at most 64 KB, a big XMP packet a few MB.
MAX_METADATA_BYTES = 16 << 20
# Embedded images smaller than this are not worth a frame (and cannot carry a face).
MIN_EMBEDDED_BYTES = 64


class ImageError(Exception):
    """The file could not be decoded completely; the message says why in plain words."""


class MetadataError(Exception):
    """A metadata block is present but cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Embedded:
    """An image stored inside another one, and where (for the reason's detail)."""

    where: str  # "EXIF thumbnail", "image after the JPEG end-of-image marker (byte 5120)"
    data: bytes


@dataclass
class Found:
    """The metadata blocks a container reader collects."""

    exif: list[bytes] = field(default_factory=list)
    xmp: list[bytes] = field(default_factory=list)
    iptc: list[bytes] = field(default_factory=list)
    comments: list[tuple[str, bytes]] = field(default_factory=list)  # (where, text): JPEG/GIF comments, PNG text


def inflate(blob: bytes, what: str, limit: int = MAX_METADATA_BYTES) -> bytes:
    """zlib data decompressed to at most `limit` bytes; a bomb or corrupt stream raises."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(blob, limit)
    except zlib.error as exc:
        raise MetadataError(f"{what} cannot be decompressed: {exc}") from None
    if d.unconsumed_tail:
        raise MetadataError(f"{what} inflates to more than {limit >> 20} MB: refused as a decompression bomb")
    return out


# ---------------------------------------------------------------- XMP packets (linear time)

_UTF16 = ("utf-16-le", "utf-16-be")


def xmp_packets(blob: bytes, *, required: bool = True) -> list[bytes]:
    """The XMP packets in a blob (any namespace prefix, UTF-8 or UTF-16), as UTF-8.

    Linear: each search starts where the last packet ended, and a packet that opens and
    never closes stops the scan with an error (a cut-off packet is not "no XMP").
    With `required`, a non-empty blob without a packet (a block labelled XMP) is an error.
    """
    packets = _packets(blob, "xmpmeta") or _packets(blob, "xapmeta") or _packets(blob, "RDF")
    for codec in _UTF16:
        at = max(blob.find("xmpmeta".encode(codec)), blob.find(":RDF".encode(codec)))
        if at >= 0:  # decode from the packet's own byte alignment
            text = blob[at % 2:].decode(codec, "replace").encode("utf-8")
            packets += _packets(text, "xmpmeta") or _packets(text, "RDF")
    if required and not packets and blob.strip(b"\x00 \t\r\n"):
        raise MetadataError("an XMP block holds no XMP packet")
    return packets


def _packets(blob: bytes, local: str) -> list[bytes]:
    packets = []
    needle = b":" + local.encode()
    pos = blob.find(needle)
    while pos >= 0:
        start = blob.rfind(b"<", max(0, pos - 64), pos)
        prefix = blob[start + 1:pos] if start >= 0 else b""
        if start < 0 or not prefix or not _is_name(prefix):
            pos = blob.find(needle, pos + len(needle))
            continue
        tag_end = blob.find(b">", pos)
        if tag_end < 0:
            raise MetadataError(f"an XMP packet starts at byte {start} but its tag never ends (cut off?)")
        if blob[tag_end - 1:tag_end] == b"/":  # <x:xmpmeta .../>: empty XMP
            end = tag_end + 1
        else:
            closer = b"</" + prefix + needle + b">"
            end = blob.find(closer, tag_end)
            if end < 0:
                raise MetadataError(f"an XMP packet starts at byte {start} but never ends (cut off?)")
            end += len(closer)
        packets.append(blob[start:end])
        pos = blob.find(needle, end)
    return packets


def _is_name(prefix: bytes) -> bool:
    return all(c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-." for c in prefix)


# ---------------------------------------------------------------- Photoshop resources, TIFF IFD0


def photoshop_iptc(resources: bytes) -> list[bytes]:
    """The IPTC IIM data of Photoshop image resources ("8BIM" blocks, resource 0x0404)."""
    return [body for rid, body in photoshop_resources(resources) if rid == 0x0404]


# Photoshop resources that hold an EXIF block (TIFF header onwards): "EXIF data 1" and "EXIF data 3".
PHOTOSHOP_EXIF = (0x0422, 0x0423)


def photoshop_exif(resources: bytes) -> list[bytes]:
    """The EXIF blocks of Photoshop image resources 0x0422/0x0423 (exiftool reads GPS there: RT15-5)."""
    return [body[6:] if body.startswith(b"Exif\x00\x00") else body
            for rid, body in photoshop_resources(resources) if rid in PHOTOSHOP_EXIF and body]


def photoshop_blocks(resources: bytes, found: Found) -> None:
    """The IPTC (0x0404), EXIF (0x0422, 0x0423) and XMP (0x0424) of Photoshop image resources."""
    found.iptc.extend(photoshop_iptc(resources))
    found.exif.extend(photoshop_exif(resources))
    found.xmp.extend(p for rid, body in photoshop_resources(resources) if rid == 0x0424 for p in xmp_packets(body))
    for rid, name, body in _resources(resources):  # every resource's name and text (RT29-22, RT31-17)
        what = f"Photoshop {PHOTOSHOP_TEXT.get(rid, 'resource')} (resource 0x{rid:04X})"
        if name.strip(b"\x00 "):
            found.comments.append((f"{what}'s name", name))
        if rid not in PHOTOSHOP_BINARY and not 0x07D0 <= rid <= 0x0BB6 and (text := strings_text(body)):
            found.comments.append((what, text.encode()))


# Photoshop resources whose text a viewer shows, named (exiftool: '[Photoshop] URL', 'SlicesGroupName',
# 'ClippingPathName', 'AlphaChannelsNames'); every resource's text is read but for PHOTOSHOP_BINARY's
# and the paths' point records (0x07D0-0x0BB6: a path's name is its resource's name)
PHOTOSHOP_TEXT = {0x040B: "URL", 0x041A: "slices", 0x041E: "URL list", 0x0BB7: "clipping path name",
                  0x03EE: "alpha channel names", 0x0415: "Unicode alpha names", 0x03F0: "caption"}
# read elsewhere (IPTC, EXIF, XMP, ICC, thumbnails) or binary (an MD5, ids, print settings' numbers)
PHOTOSHOP_BINARY = frozenset({0x0404, 0x0422, 0x0423, 0x0424, 0x040F, 0x0409, 0x040C, 0x0425, 0x0414, 0x03ED,
                              0x0408, 0x0419, 0x0416, 0x0417, 0x041D, 0x0428, 0x0430, 0x0402})


def photoshop_resources(resources: bytes) -> list[tuple[int, bytes]]:
    """(id, data) of every Photoshop image resource ("8BIM" blocks); malformed ones raise."""
    return [(rid, body) for rid, _name, body in _resources(resources)]


def _resources(resources: bytes) -> list[tuple[int, bytes, bytes]]:
    """(id, Pascal name, data) of every Photoshop image resource; malformed ones raise."""
    found = []
    pos = 0
    n = len(resources)
    while pos + 4 <= n and resources[pos:pos + 4] in (b"8BIM", b"MeSa", b"PHUT", b"AgHg", b"DCSR"):
        if pos + 7 > n:
            raise MetadataError(f"Photoshop resource at byte {pos} is cut off")
        (rid,) = struct.unpack_from(">H", resources, pos + 4)
        name_len = resources[pos + 6]
        name = resources[pos + 7:pos + 7 + name_len]
        pos += 7 + name_len + ((name_len + 1) % 2)  # Pascal name padded to even length
        if pos + 4 > n:
            raise MetadataError(f"Photoshop resource 0x{rid:04X} is cut off")
        (size,) = struct.unpack_from(">I", resources, pos)
        pos += 4
        if pos + size > n:
            raise MetadataError(f"Photoshop resource 0x{rid:04X} declares {size} bytes, only {n - pos} follow")
        found.append((rid, name, resources[pos:pos + size]))
        pos += size + (size % 2)
    if resources[pos:].strip(b"\x00"):
        raise MetadataError(f"Photoshop resources are malformed at byte {pos}")
    return found


_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}


def ifd0_raw(block: bytes, wanted: tuple[int, ...], ifd: int = 0) -> dict[int, bytes]:
    """The raw bytes of some tags of IFD `ifd` (0 or 1), whatever type they were written as.

    IPTC in TIFF is written as LONG, BYTE or UNDEFINED depending on the tool, and Pillow
    keeps only the first value of a LONG it expects once; the bytes are what matter.
    """
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(block[:4])
    if order is None or len(block) < 8:
        return {}  # not a TIFF structure: the EXIF readers report that themselves
    (offset,) = struct.unpack_from(order + "I", block, 4)
    for _ in range(ifd):
        offset = _next_ifd(block, order, offset)
        if not offset:
            return {}
    if offset + 2 > len(block):
        raise MetadataError(f"TIFF directory offset {offset} is past the end of the data")
    (count,) = struct.unpack_from(order + "H", block, offset)
    found = {}
    for i in range(count):
        entry = offset + 2 + 12 * i
        if entry + 12 > len(block):
            raise MetadataError(f"TIFF directory {ifd} is cut off at entry {i}")
        tag, kind, n = struct.unpack_from(order + "HHI", block, entry)
        if tag not in wanted:
            continue
        size = _TYPE_SIZES.get(kind, 1) * n
        start = entry + 8 if size <= 4 else struct.unpack_from(order + "I", block, entry + 8)[0]
        if start + size > len(block):
            raise MetadataError(f"TIFF tag {tag} runs past the end of the data")
        found[tag] = block[start:start + size]
    return found


def _next_ifd(block: bytes, order: str, offset: int) -> int:
    if offset + 2 > len(block):
        raise MetadataError(f"TIFF directory offset {offset} is past the end of the data")
    (count,) = struct.unpack_from(order + "H", block, offset)
    at = offset + 2 + 12 * count
    if at + 4 > len(block):
        return 0
    return struct.unpack_from(order + "I", block, at)[0]


def tiff_int(raw: bytes, order_block: bytes) -> int:
    """A SHORT or LONG tag value from its raw bytes, in the byte order of its TIFF block."""
    order = "<" if order_block[:2] == b"II" else ">"
    return struct.unpack_from(order + ("H" if len(raw) == 2 else "I"), raw)[0]
