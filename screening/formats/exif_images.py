"""Every picture an EXIF block points to: the IFD1 thumbnail and the previews of other IFDs.

EXIF is a TIFF structure: a chain of IFDs (IFD0, IFD1 the thumbnail, IFD2...) and SubIFDs
(0x014A) hanging off them. Cameras and tools keep JPEG pictures in any of them (exiftool's
ThumbnailImage, PreviewImage, OtherImage, JpgFromRaw): 0x0201/0x0202, or strips (0x0111/0x0117)
of compression 6/7. EXIF 2.3 also allows an uncompressed (strip) thumbnail in IFD1. Every one is
returned for screening; one that cannot be read (cut off, a loop, an unknown coding) is an
ImageError naming the IFD, never skipped. The walk is bounded: MAX_IFDS directories at most.
"""

from __future__ import annotations

import struct

import numpy as np

from screening.formats.common import Embedded, ImageError
from screening.formats.thumbnails import as_png

# Directories one EXIF block may hold (a camera writes 2-6); more is refused as hostile.
MAX_IFDS = 32
# Pictures one EXIF block may point to.
MAX_IMAGES = 8
# Pixels of one uncompressed thumbnail (EXIF's are 160x120; a big preview is never uncompressed).
MAX_RAW_PIXELS = 4_000_000

_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
_INTS = {1: "B", 3: "H", 4: "I", 8: "h", 9: "i", 13: "I", 16: "Q"}
_SUBIFDS, _EXIF_IFD = 0x014A, 0x8769
_COMPRESSION = {1: "uncompressed", 2: "CCITT", 3: "CCITT G3", 4: "CCITT G4", 5: "LZW", 7: "JPEG",
                8: "Deflate", 32773: "PackBits", 34712: "JPEG 2000", 34892: "lossy JPEG"}


class _Ifd:
    """One directory: its name ("IFD1", "SubIFD 1 of IFD0") and its entries."""

    def __init__(self, block: bytes, order: str, offset: int, name: str):
        self.block, self.order, self.name = block, order, name
        if offset + 2 > len(block):
            raise ImageError(f"EXIF {name} (at byte {offset}) is past the end of the EXIF block")
        (count,) = struct.unpack_from(order + "H", block, offset)
        if offset + 2 + 12 * count > len(block):
            raise ImageError(f"EXIF {name} is cut off: {count} entries do not fit in the EXIF block")
        self.entries = {}
        for i in range(count):
            tag, kind, n = struct.unpack_from(order + "HHI", block, offset + 2 + 12 * i)
            self.entries[tag] = (kind, n, offset + 2 + 12 * i + 8)
        at = offset + 2 + 12 * count
        self.next = struct.unpack_from(order + "I", block, at)[0] if at + 4 <= len(block) else 0

    def ints(self, tag: int) -> list[int] | None:
        """The integer values of a tag (SHORT, LONG, BYTE...), or None when absent."""
        if tag not in self.entries:
            return None
        kind, n, at = self.entries[tag]
        if kind not in _INTS or n > 1 << 16:
            raise ImageError(f"EXIF {self.name}: tag 0x{tag:04X} is not an integer list")
        size = _SIZES[kind] * n
        start = at if size <= 4 else struct.unpack_from(self.order + "I", self.block, at)[0]
        if start + size > len(self.block):
            raise ImageError(f"EXIF {self.name}: tag 0x{tag:04X} runs past the end of the EXIF block")
        return list(struct.unpack_from(f"{self.order}{n}{_INTS[kind]}", self.block, start))

    def int(self, tag: int, default: int | None = None) -> int | None:
        values = self.ints(tag)
        return values[0] if values else default


def directories(block: bytes, most: int = MAX_IFDS) -> list[_Ifd]:
    """Every IFD of the chain, every SubIFD, the Exif and Interop IFDs, each once (a loop, or more than
    `most`, raises)."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(block[:4])
    if order is None or len(block) < 8:
        return []  # not a TIFF structure: the EXIF readers report that themselves
    seen: set[int] = set()
    out: list[_Ifd] = []
    todo = [(struct.unpack_from(order + "I", block, 4)[0], "IFD0", True)]
    while todo:
        offset, name, chained = todo.pop(0)
        if offset in seen:
            raise ImageError(f"EXIF {name} points back to a directory already read (a loop)")
        if len(seen) >= most:
            raise ImageError(f"the EXIF block holds more than {most} directories: refused")
        seen.add(offset)
        ifd = _Ifd(block, order, offset, name)
        out.append(ifd)
        for i, sub in enumerate(ifd.ints(_SUBIFDS) or [], start=1):
            todo.append((sub, f"SubIFD {i} of {name}", False))
        exif_ifd = ifd.int(_EXIF_IFD)
        if exif_ifd:
            todo.append((exif_ifd, f"Exif IFD of {name}", False))
        interop = ifd.int(0xA005)  # the Interop IFD: a GPS pointer hung there is followed by exiftool (RT31-19)
        if interop and interop + 2 <= len(block):  # (one pointing past the block, as some cameras write: no directory)
            todo.append((interop, f"Interop IFD of {name}", False))
        if chained and ifd.next:
            todo.append((ifd.next, f"IFD{int(name[3:]) + 1}", True))
    return out


def gps_pointed_from(block: bytes) -> str | None:
    """The name of a directory other than IFD0 that points to a GPS directory (a SubIFD, the Interop
    IFD, IFD1), or None; a block whose directories cannot all be walked: what stops the walk."""
    try:
        ifds = directories(block, most=1024)
    except ImageError as exc:  # a GPS pointer may hang off the directory not read (RT32-3)
        return f"directories, which cannot all be read ({exc})"
    return next((ifd.name for ifd in ifds[1:] if 0x8825 in ifd.entries), None)


def exif_images(block: bytes) -> list[Embedded]:
    """Every picture the EXIF block points to, from any directory (see the module's docstring),
    and every JPEG or PNG lying in it that no directory lists: a maker note's preview (Nikon,
    Olympus and Canon keep one there, pointed to by their own private structures), or a picture
    hidden in the block for no viewer to be asked about."""
    found: list[Embedded] = []
    spans: set[tuple[int, int]] = set()
    for ifd in directories(block):
        for span, image in _images_of(ifd):
            if span in spans:
                continue  # the same bytes listed twice (JPEGInterchangeFormat and a strip)
            spans.add(span)
            found.append(image)
            _within_limit(found)
    for _, image in _unlisted(block, set(spans)):
        found.append(image)
        _within_limit(found)
    from screening.formats.textpictures import text_pictures  # (it reads text with picture_starts)

    # a picture written as text in any tag: ImageDescription, UserComment, XPComment (UTF-16)...
    return found + text_pictures(block, "EXIF block")


def _within_limit(found: list[Embedded]) -> None:
    if len(found) > MAX_IMAGES:
        raise ImageError(f"the EXIF block holds more than {MAX_IMAGES} pictures: refused")


def _unlisted(block: bytes, spans: set[tuple[int, int]]):
    """(offset, picture) of each JPEG (markers up to a frame header, so three bytes that only look
    like a JPEG's start in a maker note's numbers are not one) or PNG no directory lists."""
    for at in picture_starts(block, 1, spans):  # (the block itself starts with a TIFF header)
        yield at, Embedded(f"picture in the EXIF block at byte {at}, listed by no EXIF directory "
                           "(a maker note's preview, or hidden)", block[at:])


def pictures_in(blob: bytes, where: str) -> list[Embedded]:
    """Every picture lying in a blob (a segment, chunk, extension or tag value), each taken from its
    start to the blob's end; signature bytes that begin no decodable picture are not one."""
    return [Embedded(f"image in the {where} (offset {at})", blob[at:]) for at in picture_starts(blob, 0, set())]


def picture_starts(block: bytes, start: int, spans: set[tuple[int, int]], end: int | None = None):
    """Offsets of JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF/AVIF and JPEG 2000 pictures. A PNG's 8-byte
    signature counts whatever follows (chance hits are negligible), as a JP2 file's 12-byte signature
    box does; a GIF's 6 bytes count when a block follows the header as Pillow finds one; a JPEG's 3
    bytes count when their markers reach a frame header as libjpeg reads them; a BMP's 2 bytes count
    when a known DIB header with a sane size follows (RT18-8); an ISO BMFF `ftyp` box when it is whole
    and names a HEIF or AVIF brand (RT31-28); a JPEG 2000 codestream's SOC and SIZ markers when the SIZ
    segment is well formed. A hit that counts and then fails to decode (a JPEG 2000: no reader here) is
    an error for the caller. With `end`, only pictures that start before it are found, but each is
    judged on the whole block (a memory map of a file: what a decoder reading the file from there
    reads, carried._found_in)."""
    end = len(block) if end is None else end
    chains: dict[int, bool] = {}  # JPEG marker positions already followed (each byte walked once)
    for signature, is_image in ((b"\xff\xd8\xff", lambda b, a: _jpeg_headers_at(b, a, chains)),
                                (b"\x89PNG\r\n\x1a\n", lambda b, a: True),
                                (b"GIF87a", _gif_at), (b"GIF89a", _gif_at), (b"WEBP", _webp_at),
                                (b"II*\x00", _tiff_image_at), (b"MM\x00*", _tiff_image_at), (b"BM", _bmp_at),
                                (b"ftyp", _heif_at), (_JP2, lambda b, a: True), (b"\xff\x4f\xff\x51", _j2k_at)):
        back = _BEFORE.get(signature, 0)  # (WEBP: 8 bytes after RIFF; ftyp: 4 after the box size)
        reach = end + len(signature) - 1 + back
        at = block.find(signature, start, reach)
        while at >= 0:
            at -= back
            if start <= at < end and not any(a <= at < b for a, b in spans) and is_image(block, at):
                yield at
            at = block.find(signature, at + back + 1, reach)


_BEFORE = {b"WEBP": 8, b"ftyp": 4}
_JP2 = b"\x00\x00\x00\x0cjP  \r\n\x87\n"  # the JPEG 2000 signature box (JP2, JPX)
# ISO BMFF brands of a still image (HEIF, HEIC, AVIF, MIAF) in a `ftyp` box; a clip's (isom, mp42, qt) is none
_STILL_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"mif2", b"msf1",
                           b"miaf", b"avif", b"avis", b"avio"})


def _heif_at(block: bytes, at: int) -> bool:
    """A whole `ftyp` box (size 16 to 1024, whole brands) whose major or a compatible brand is a still
    image's: a HEIF or AVIF file, decoded as one (an unknown major brand: not decoded, an error)."""
    if at < 0 or at + 16 > len(block):
        return False
    size = int.from_bytes(block[at:at + 4], "big")
    if not 16 <= size <= 1024 or size % 4 or at + size > len(block):
        return False
    brands = [block[at + 8:at + 12]] + [block[p:p + 4] for p in range(at + 16, at + size, 4)]
    return any(brand in _STILL_BRANDS for brand in brands)


def _j2k_at(block: bytes, at: int) -> bool:
    """A JPEG 2000 codestream: SOC, then a SIZ segment whose length matches its 1-16384 components and
    whose image is larger than its offsets."""
    if at + 42 > len(block):
        return False
    length, _caps, width, height, x0, y0 = struct.unpack_from(">HHIIII", block, at + 4)
    (count,) = struct.unpack_from(">H", block, at + 40)
    return 1 <= count <= 16384 and length == 38 + 3 * count and width > x0 and height > y0


def _gif_at(block: bytes, at: int) -> bool:
    """A GIF header (any screen size, even 0x0) whose colour table is followed by an extension or an
    image before any trailer, stray bytes between them skipped (as Pillow skips them)."""
    if len(block) < at + 13:
        return False
    flags = block[at + 10]
    first = at + 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    found = [i for i in (block.find(c, first) for c in (b"!", b",", b";")) if i >= 0]
    return bool(found) and block[min(found)] != 0x3B  # ";": the trailer, no picture


def _webp_at(block: bytes, at: int) -> bool:
    return block[at:at + 4] == b"RIFF"


# DIB header sizes: BITMAPCOREHEADER, INFO, V2, V3, V4, V5 (what Pillow reads).
_DIB_SIZES = {12, 40, 52, 56, 64, 108, 124}  # 64: OS/2 2.x, which Pillow reads (RT19-2)


def _bmp_at(block: bytes, at: int) -> bool:
    """A BMP file header whose pixels start after a DIB header of a known size, with a known bit
    depth and a sane nonzero size. Pillow ignores the file size field and the planes (RT19-2), so
    neither is asked: a candidate that then does not decode makes its file an error."""
    if len(block) < at + 26:
        return False
    offset, dib = struct.unpack_from("<II", block, at + 10)
    if dib not in _DIB_SIZES or offset < 14 + dib or offset > len(block) - at:
        return False
    if dib == 12:
        width, height, _planes, bits = struct.unpack_from("<HHHH", block, at + 18)
    elif len(block) >= at + 30:
        width, height, _planes, bits = struct.unpack_from("<iiHH", block, at + 18)
    else:
        return False
    return 0 < width <= 1 << 16 and 0 < abs(height) <= 1 << 16 and bits in (1, 2, 4, 8, 16, 24, 32)


def _tiff_image_at(block: bytes, at: int) -> bool:
    """A TIFF header whose first directory describes an image (size and strips or tiles): a maker
    note's own TIFF structure (Nikon's) describes none."""
    order = "<" if block[at:at + 2] == b"II" else ">"
    try:  # (its offsets count from `at`; the block is not copied: it may be a file's memory map)
        ifd = _Ifd(block, order, at + struct.unpack_from(order + "I", block, at + 4)[0], "embedded TIFF")
    except (ImageError, struct.error):
        return False
    return {0x0100, 0x0101} <= set(ifd.entries) and bool({0x0111, 0x0144} & set(ifd.entries))


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Markers libjpeg skips by their length (DHT, DAC, DQT, DRI, DNL, APPn, COM...) or alone (RSTn, TEM).
_WITH_LENGTH = {0xC4, 0xC8, 0xCC, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xFE} | set(range(0xE0, 0xF0)) | set(range(0xF0, 0xFE))
_ALONE = {0x01} | set(range(0xD0, 0xD8))


def _jpeg_headers_at(block: bytes, at: int, chains: dict[int, bool] | None = None) -> bool:
    """True when a JPEG's markers, read from `at` the way libjpeg reads them (bytes that begin no
    marker skipped with a warning, fill FF bytes skipped), reach a well-formed frame header (SOFn).
    `chains` remembers the outcome from each marker reached, so overlapping candidates cost one walk."""
    chains = {} if chains is None else chains
    pos, walked, result = at + 2, [], False
    while True:
        pos = block.find(b"\xff", pos)
        while 0 <= pos < len(block) - 1 and block[pos + 1] in (0xFF, 0x00):
            pos = pos + 1 if block[pos + 1] == 0xFF else block.find(b"\xff", pos + 2)  # fill, or FF 00 junk
        if pos < 0 or pos + 1 >= len(block):
            break
        if pos in chains:
            result = chains[pos]
            break
        walked.append(pos)
        marker = block[pos + 1]
        if marker in _SOF:
            result = _frame_header_at(block, pos)
            break
        if marker in _ALONE:
            pos += 2
            continue
        if marker not in _WITH_LENGTH or pos + 4 > len(block):
            break  # SOI again, EOI, a scan before any frame, or an unknown marker: libjpeg stops
        (length,) = struct.unpack_from(">H", block, pos + 2)
        if length < 2 and (0xE0 <= marker <= 0xEF or marker == 0xFE):
            pos += 4  # libjpeg skips nothing of an APPn/COM this short and reads on (RT17-1)
            continue
        if length < 2 or pos + 2 + length > len(block):
            break
        pos += 2 + length
    chains.update(dict.fromkeys(walked, result))
    return result


def _frame_header_at(block: bytes, pos: int) -> bool:
    """A frame header libjpeg accepts: a size, 1-10 components, each sampled 1-4 times, length to match."""
    if pos + 10 > len(block):
        return False
    length, precision, height, width, count = struct.unpack_from(">HBHHB", block, pos + 2)
    if not (height and width and 1 <= count <= 10 and 2 <= precision <= 16 and length == 8 + 3 * count
            and pos + 2 + length <= len(block)):
        return False
    factors = [block[pos + 11 + 3 * i] for i in range(count)]
    return all(1 <= f >> 4 <= 4 and 1 <= f & 15 <= 4 for f in factors)


def _label(ifd: _Ifd, what: str) -> str:
    return "EXIF thumbnail" if ifd.name == "IFD1" and what == "JPEG" else f"{what} image in EXIF {ifd.name}"


def _images_of(ifd: _Ifd):
    start, size = ifd.int(0x0201, 0), ifd.int(0x0202, 0)
    if size and start:  # offset 0 is the TIFF header itself: no picture (Pillow's exif_gps.jpg)
        if start + size > len(ifd.block):
            raise ImageError(f"the {_label(ifd, 'JPEG')} ({size} bytes at {start}) runs past the EXIF block")
        yield (start, start + size), Embedded(_label(ifd, "JPEG"), ifd.block[start:start + size])
    offsets, counts = ifd.ints(0x0111), ifd.ints(0x0117)
    if offsets is None and counts is None:
        return
    if not offsets or not counts or len(offsets) != len(counts):
        raise ImageError(f"the strips of the image in EXIF {ifd.name} are malformed")
    if any(o + c > len(ifd.block) for o, c in zip(offsets, counts, strict=True)):
        raise ImageError(f"a strip of the image in EXIF {ifd.name} runs past the EXIF block")
    data = b"".join(ifd.block[o:o + c] for o, c in zip(offsets, counts, strict=True))
    span = (offsets[0], offsets[0] + len(data))
    compression = ifd.int(0x0103, 1)
    if compression in (6, 7):
        if len(offsets) != 1 or not data.startswith(b"\xff\xd8"):
            raise ImageError(f"the JPEG image in EXIF {ifd.name} is split over strips or lacks its own header: "
                             "it is not read")
        yield span, Embedded(_label(ifd, "JPEG"), data)
    elif compression == 1:
        yield span, Embedded(f"uncompressed image in EXIF {ifd.name}", _as_png(ifd, data))
    else:
        coding = _COMPRESSION.get(compression, f"compression {compression}")
        raise ImageError(f"a {coding} image in EXIF {ifd.name} is not read")


def _as_png(ifd: _Ifd, data: bytes) -> bytes:
    """An uncompressed 8-bit RGB, YCbCr (not subsampled) or grey strip image, as PNG bytes."""
    w, h = ifd.int(0x0100, 0), ifd.int(0x0101, 0)
    bits = set(ifd.ints(0x0102) or [1])
    photometric = ifd.int(0x0106, -1)
    samples = ifd.int(0x0115, 1)
    what = f"the uncompressed image in EXIF {ifd.name}"
    if not w or not h or w * h > MAX_RAW_PIXELS:
        raise ImageError(f"{what} has no size or is too large ({w}x{h})")
    subsampling = tuple(ifd.ints(0x0212) or [2, 2]) if photometric == 6 else (1, 1)
    if bits != {8} or ifd.int(0x011C, 1) != 1 or (photometric, samples) not in ((2, 3), (6, 3), (0, 1), (1, 1)) \
            or subsampling != (1, 1):
        raise ImageError(f"{what} (photometric {photometric}, {samples} samples of {sorted(bits)} bits, "
                         f"subsampling {subsampling}) is not read")
    if len(data) < w * h * samples:
        raise ImageError(f"{what} is cut off: {len(data)} bytes for {w}x{h}x{samples}")
    pixels = np.frombuffer(data[:w * h * samples], np.uint8).reshape(h, w, samples)
    if photometric == 6:
        pixels = _ycbcr_to_rgb(pixels)
    elif photometric == 0:
        pixels = 255 - pixels
    return as_png(pixels[..., 0] if samples == 1 else pixels)


def _ycbcr_to_rgb(pixels: np.ndarray) -> np.ndarray:
    y, cb, cr = (pixels[..., i].astype(np.float32) for i in range(3))
    rgb = np.stack([y + 1.402 * (cr - 128), y - 0.344136 * (cb - 128) - 0.714136 * (cr - 128),
                    y + 1.772 * (cb - 128)], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
