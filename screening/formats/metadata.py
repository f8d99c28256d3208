"""The raw metadata blocks (EXIF, XMP, IPTC) of an image file, found from its bytes alone.

Nothing here decodes pixels, so it also works on a file whose pixels are broken. A block
that is present but cut off or malformed raises MetadataError: a metadata check that could
not read everything must never pass for "nothing found".
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from screening.imaging import sniff


class MetadataError(Exception):
    """A metadata block is present but cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Blocks:
    exif: tuple[bytes, ...] = ()  # TIFF-structured EXIF blocks ("II*\0"/"MM\0*" onwards)
    xmp: tuple[bytes, ...] = ()  # XMP packets, each one <x:xmpmeta> (or <rdf:RDF>) element
    iptc: tuple[bytes, ...] = ()  # IPTC IIM datasets (0x1C ...), unwrapped from 8BIM resources


def read_blocks(data: bytes) -> Blocks:
    """Every EXIF, XMP and IPTC block of the file, from the container's own structure."""
    fmt = sniff(data)
    exif: list[bytes] = []
    xmp: list[bytes] = []
    iptc: list[bytes] = []
    reader = _READERS.get(fmt or "")
    if reader is not None:
        reader(data, exif, xmp, iptc)
    # XMP also lives in places no container reader knows (GIF extensions, HEIF items...)
    xmp.extend(xmp_packets(data, required=False))
    return Blocks(_unique(_tiff(b) for b in exif if b), _unique(xmp), _unique(b for b in iptc if b))


def _unique(items) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(items))


def _tiff(block: bytes) -> bytes:
    """An EXIF block with any "Exif\\0\\0" prefix removed."""
    return block[6:] if block.startswith(b"Exif\x00\x00") else block


# ---------------------------------------------------------------- XMP packets


_XMP_OPEN = (b"<x:xmpmeta", b"<x:xapmeta")


def xmp_packets(blob: bytes, *, required: bool = True) -> list[bytes]:
    """The XMP packets in a blob; an opened packet that never closes is an error.

    With `required`, a blob (e.g. a JPEG's XMP segment) that holds no packet at all is an
    error too: a block labelled XMP that we cannot find XMP in is not "no XMP".
    """
    packets: list[bytes] = []
    for opener in _XMP_OPEN:
        closer = b"</" + opener[1:] + b">"
        start = blob.find(opener)
        while start >= 0:
            tag_end = blob.find(b">", start)
            if tag_end > 0 and blob[tag_end - 1:tag_end] == b"/":  # <x:xmpmeta .../>: empty XMP
                end = tag_end + 1
            else:
                end = blob.find(closer, start)
                if end < 0:
                    raise MetadataError(f"an XMP packet starts at byte {start} but never ends (cut off?)")
                end += len(closer)
            packets.append(blob[start:end])
            start = blob.find(opener, end)
    if not packets and b"<rdf:RDF" in blob:
        start = blob.find(b"<rdf:RDF")
        end = blob.find(b"</rdf:RDF>", start)
        if end < 0:
            raise MetadataError("an XMP rdf:RDF element never ends (cut off?)")
        packets.append(blob[start:end + len(b"</rdf:RDF>")])
    if required and not packets and blob.strip(b"\x00 \t\r\n"):
        raise MetadataError("an XMP block holds no XMP packet")
    return packets


# ---------------------------------------------------------------- JPEG


_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXT_APP1 = b"http://ns.adobe.com/xmp/extension/\x00"
_PHOTOSHOP_APP13 = b"Photoshop 3.0\x00"


def _jpeg(data: bytes, exif: list, xmp: list, iptc: list) -> None:
    photoshop = b""
    extended: dict[bytes, dict[int, bytes]] = {}
    for marker, payload, where in _jpeg_segments(data):
        if marker == 0xE1 and payload.startswith(b"Exif\x00"):
            exif.append(payload[6:])
        elif marker == 0xE1 and payload.startswith(_XMP_APP1):
            xmp.extend(xmp_packets(payload[len(_XMP_APP1):]))
        elif marker == 0xE1 and payload.startswith(_XMP_EXT_APP1):
            body = payload[len(_XMP_EXT_APP1):]
            if len(body) < 40:
                raise MetadataError(f"extended XMP segment at byte {where} is too short")
            (offset,) = struct.unpack_from(">I", body, 36)
            extended.setdefault(body[:32], {})[offset] = body[40:]
        elif marker == 0xED and payload.startswith(_PHOTOSHOP_APP13):
            # a large resource block continues over consecutive APP13 segments
            photoshop += payload[len(_PHOTOSHOP_APP13):]
    for parts in extended.values():
        xmp.extend(xmp_packets(b"".join(parts[k] for k in sorted(parts))))
    if photoshop:
        iptc.extend(photoshop_iptc(photoshop))


def _jpeg_segments(data: bytes):
    """(marker, payload, offset) of each segment before the image data."""
    pos = 2
    n = len(data)
    while pos < n:
        if data[pos] != 0xFF:
            # stray bytes between segments: resynchronise on the next marker, as decoders do
            pos = data.find(b"\xff", pos)
            if pos < 0:
                return
            continue
        marker = data[pos + 1] if pos + 1 < n else 0xD9
        if marker == 0xFF:
            pos += 1  # fill byte
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no metadata beyond
            return
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if pos + 4 > n:
            raise MetadataError(f"JPEG segment header at byte {pos} is cut off")
        (length,) = struct.unpack_from(">H", data, pos + 2)
        end = pos + 2 + length
        if length < 2 or end > n:
            raise MetadataError(f"JPEG segment 0x{marker:02X} at byte {pos} runs past the end of the file")
        yield marker, data[pos + 4:end], pos
        pos = end


def photoshop_iptc(resources: bytes) -> list[bytes]:
    """The IPTC IIM data of Photoshop image resources ("8BIM" blocks, resource 0x0404)."""
    found = []
    pos = 0
    n = len(resources)
    while pos + 4 <= n and resources[pos:pos + 4] in (b"8BIM", b"MeSa", b"PHUT", b"AgHg", b"DCSR"):
        if pos + 7 > n:
            raise MetadataError(f"Photoshop resource at byte {pos} is cut off")
        (rid,) = struct.unpack_from(">H", resources, pos + 4)
        name_len = resources[pos + 6]
        pos += 7 + name_len + ((name_len + 1) % 2)  # Pascal name padded to even length
        if pos + 4 > n:
            raise MetadataError(f"Photoshop resource 0x{rid:04X} is cut off")
        (size,) = struct.unpack_from(">I", resources, pos)
        pos += 4
        if pos + size > n:
            raise MetadataError(f"Photoshop resource 0x{rid:04X} declares {size} bytes, only {n - pos} follow")
        if rid == 0x0404:
            found.append(resources[pos:pos + size])
        pos += size + (size % 2)
    if resources[pos:].strip(b"\x00"):
        raise MetadataError(f"Photoshop resources are malformed at byte {pos}")
    return found


# ---------------------------------------------------------------- PNG


def _png(data: bytes, exif: list, xmp: list, iptc: list) -> None:
    pos = 8
    n = len(data)
    while pos + 8 <= n:
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if len(body) < length:
            raise MetadataError(f"PNG chunk {kind!r} at byte {pos} runs past the end of the file")
        if kind == b"eXIf":
            exif.append(body)
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword, text = _png_text(kind, body, pos)
            if keyword == "XML:com.adobe.xmp":
                xmp.extend(xmp_packets(text))
            elif keyword.startswith("Raw profile type "):
                _raw_profile(keyword[17:].lower(), text, exif, xmp, iptc)
        elif kind == b"IEND":
            return
        pos += 12 + length


def _png_text(kind: bytes, body: bytes, pos: int) -> tuple[str, bytes]:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep:
        raise MetadataError(f"PNG {kind.decode()} chunk at byte {pos} has no keyword terminator")
    try:
        if kind == b"tEXt":
            return keyword.decode("latin-1"), rest
        if kind == b"zTXt":
            return keyword.decode("latin-1"), zlib.decompress(rest[1:])
        compressed, _method = rest[0], rest[1]
        _lang, _, rest = rest[2:].partition(b"\x00")
        _translated, _, text = rest.partition(b"\x00")
        return keyword.decode("latin-1"), zlib.decompress(text) if compressed else text
    except (zlib.error, IndexError) as exc:
        raise MetadataError(f"PNG {kind.decode()} chunk {keyword!r} at byte {pos} cannot be read: {exc}") from None


def _raw_profile(name: str, text: bytes, exif: list, xmp: list, iptc: list) -> None:
    """ImageMagick's hex-encoded profiles: "\\nname\\n   length\\nhex lines..."."""
    lines = text.lstrip(b"\n").split(b"\n", 2)
    try:
        length = int(lines[1])
        blob = bytes.fromhex(lines[2].decode("ascii"))
    except (IndexError, ValueError, UnicodeDecodeError):
        raise MetadataError(f"PNG 'Raw profile type {name}' is not a readable hex profile") from None
    if len(blob) != length:
        raise MetadataError(f"PNG 'Raw profile type {name}' declares {length} bytes but holds {len(blob)}")
    if name in ("exif", "app1"):
        exif.append(blob)
    elif name == "xmp":
        xmp.extend(xmp_packets(blob))
    elif name in ("iptc", "8bim"):
        iptc.extend(photoshop_iptc(blob) if blob.startswith(b"8BIM") else [blob])


# ---------------------------------------------------------------- WebP, TIFF, HEIF


def _webp(data: bytes, exif: list, xmp: list, iptc: list) -> None:
    pos = 12
    n = len(data)
    while pos + 8 <= n:
        kind = data[pos:pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        body = data[pos + 8:pos + 8 + length]
        if len(body) < length:
            raise MetadataError(f"WebP chunk {kind!r} at byte {pos} runs past the end of the file")
        if kind == b"EXIF":
            exif.append(body)
        elif kind == b"XMP ":
            xmp.extend(xmp_packets(body))
        pos += 8 + length + (length % 2)


def _tiff_file(data: bytes, exif: list, xmp: list, iptc: list) -> None:
    # the file is itself the EXIF structure; XMP (tag 700) is found by the packet scan
    exif.append(data)
    iptc.extend(tiff_iptc(data))


def tiff_iptc(block: bytes) -> list[bytes]:
    """IPTC IIM stored in a TIFF IFD0: tag 33723 directly, or inside Photoshop tag 34377."""
    raw = ifd0_raw(block, (33723, 34377))
    found = [raw[33723]] if 33723 in raw else []
    if 34377 in raw:
        found.extend(photoshop_iptc(raw[34377]))
    return found


_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}


def ifd0_raw(block: bytes, wanted: tuple[int, ...]) -> dict[int, bytes]:
    """The raw bytes of some IFD0 tags, whatever type they were written as.

    IPTC in TIFF is written as LONG, BYTE or UNDEFINED depending on the tool, and Pillow
    keeps only the first value of a LONG it expects once; the bytes are what matter.
    """
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(block[:4])
    if order is None or len(block) < 8:
        return {}  # not a TIFF structure: the EXIF readers report that themselves
    (offset,) = struct.unpack_from(order + "I", block, 4)
    if offset + 2 > len(block):
        raise MetadataError(f"TIFF first directory offset {offset} is past the end of the data")
    (count,) = struct.unpack_from(order + "H", block, offset)
    found = {}
    for i in range(count):
        entry = offset + 2 + 12 * i
        if entry + 12 > len(block):
            raise MetadataError(f"TIFF first directory is cut off at entry {i}")
        tag, kind, n = struct.unpack_from(order + "HHI", block, entry)
        if tag not in wanted:
            continue
        size = _TYPE_SIZES.get(kind, 1) * n
        start = entry + 8 if size <= 4 else struct.unpack_from(order + "I", block, entry + 8)[0]
        if start + size > len(block):
            raise MetadataError(f"TIFF tag {tag} runs past the end of the data")
        found[tag] = block[start:start + size]
    return found


def _heif(data: bytes, exif: list, xmp: list, iptc: list) -> None:
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(io.BytesIO(data))
        infos = [heif.info] + [image.info for image in heif]
    except Exception as exc:
        raise MetadataError(f"HEIF container cannot be read for metadata: {exc}") from None
    for info in infos:
        if info.get("exif"):
            exif.append(info["exif"])
        if info.get("xmp"):
            xmp.extend(xmp_packets(info["xmp"]))


_READERS = {"JPEG": _jpeg, "PNG": _png, "WEBP": _webp, "TIFF": _tiff_file, "HEIF": _heif}
