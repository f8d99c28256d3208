"""JPEG: the segment walk, completeness (entropy data that covers the frame), metadata, embedded images.

A JPEG cut short and given a new end-of-image marker decodes with grey fill in every
library; libjpeg only warns. So the scans are checked against the frame (every component,
every coefficient of a progressive file down to full precision) and libjpeg's warnings are
read back from a second decoder: either one failing makes the file an error.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from screening.formats.exif_images import exif_images, pictures_in
from screening.formats.native import captured_stderr, corruption
from screening.formats.strings import strings_text
from screening.formats.textpictures import across, text_pictures
from screening.formats.thumbnails import jfif_thumbnails, photoshop_thumbnails
from screening.formats.common import (Embedded, Found, ImageError, MetadataError, ifd0_raw, photoshop_blocks,
                                       photoshop_exif, photoshop_resources, xmp_packets)

_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
_XMP_APP1 = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_EXT_APP1 = b"http://ns.adobe.com/xmp/extension/\x00"
_PHOTOSHOP_APP13 = b"Photoshop 3.0\x00"
# APPn segments read by a reader of their own (EXIF, XMP, ICC, MPF, JUMBF, Photoshop's, Adobe's
# colour transform, JFIF and its thumbnails); every other one's text is read as a comment.
_READ_ELSEWHERE = {0xE0: (b"JFIF\x00", b"JFXX\x00"), 0xE1: (b"Exif\x00", _XMP_APP1, _XMP_EXT_APP1),
                   0xE2: (b"ICC_PROFILE\x00", b"MPF\x00"), 0xEB: (b"JP",), 0xED: (_PHOTOSHOP_APP13,),
                   0xEE: (b"Adobe",)}


@dataclass
class Layout:
    """Where things are in a JPEG: header segments, the frame, its scans, the end marker."""

    segments: list[tuple[int, bytes, int]] = field(default_factory=list)  # marker, payload, offset
    sof: tuple[int, bytes] | None = None
    scans: list[bytes] = field(default_factory=list)  # SOS headers
    comments: list[tuple[bytes, int]] = field(default_factory=list)  # COM segments anywhere: text, offset
    later: list[tuple[int, bytes, int]] = field(default_factory=list)  # segments after the frame header
    end: int = 0  # offset just after the end-of-image marker


def walk(data: bytes) -> Layout:
    """Every segment of the primary image up to its end-of-image marker, or ImageError."""
    layout = Layout()
    pos, n = 2, len(data)
    while True:
        m = _MARKER.search(data, pos)
        if m is None or m.start() + 2 > n:
            raise ImageError("truncated JPEG: no end-of-image marker")
        marker = data[m.start() + 1]
        if marker == 0xD9:
            layout.end = m.end()
            return layout
        if marker == 0x01:
            pos = m.end()
            continue
        if m.start() + 4 > n:
            raise ImageError("truncated JPEG: a segment header is cut off")
        (length,) = struct.unpack_from(">H", data, m.start() + 2)
        seg_end = m.start() + 2 + length
        if length < 2 or seg_end > n:
            raise ImageError("truncated JPEG: a segment runs past the end of the file")
        payload = data[m.start() + 4:seg_end]
        if marker == 0xFE:
            layout.comments.append((payload, m.start()))
        if marker in _SOF and layout.sof is None:
            layout.sof = (marker, payload)
        elif marker == 0xDA:
            layout.scans.append(payload)
        elif layout.sof is None:
            layout.segments.append((marker, payload, m.start()))
        else:
            layout.later.append((marker, payload, m.start()))
        pos = seg_end  # after SOS the entropy data follows: the marker search skips stuffed bytes


def check(data: bytes) -> Layout:
    """The file holds a complete JPEG: a frame, scans that cover it, no libjpeg corruption warning."""
    layout = walk(data)
    if layout.sof is None or not layout.scans:
        raise ImageError("JPEG has no frame header or no image data")
    _check_scans(*layout.sof, layout.scans)
    warning = libjpeg_warning(data[:layout.end])
    if warning:
        raise ImageError(f"corrupt JPEG data: the image data is damaged or cut short (libjpeg: {warning})")
    return layout


def _check_scans(sof: int, frame: bytes, scans: list[bytes]) -> None:
    if len(frame) < 6:
        raise ImageError("JPEG frame header is too short")
    components = [frame[6 + 3 * i] for i in range(frame[5]) if 6 + 3 * i < len(frame)]
    precision = {c: [None] * 64 for c in components}  # lowest successive-approximation bit seen
    for sos in scans:
        count = sos[0] if sos else 0
        if len(sos) < 1 + 2 * count + 3:
            raise ImageError("JPEG scan header is too short")
        ids = [sos[1 + 2 * i] for i in range(count)]
        ss, se, a = sos[1 + 2 * count:4 + 2 * count]
        if sof not in _PROGRESSIVE:
            ss, se, a = 0, 63, 0
        for c in ids:
            for k in range(ss, min(se, 63) + 1):
                seen = precision.get(c)
                if seen is not None and (seen[k] is None or (a & 0x0F) < seen[k]):
                    seen[k] = a & 0x0F
    for c, seen in precision.items():
        if any(v != 0 for v in seen):
            missing = sum(v is None for v in seen)
            raise ImageError(f"incomplete JPEG: the scans do not cover component {c} in full "
                             f"({missing} of 64 coefficients never sent, or not to full precision): "
                             "a progressive file holding only its first scans")


def libjpeg_warning(data: bytes) -> str:
    """libjpeg's corrupt-data warning for these bytes, if it gives one (read from its stderr).

    Pillow swallows libjpeg's warnings; OpenCV's copy prints them. An eighth-size grey decode
    still reads every entropy-coded bit, at a fraction of the cost of a full decode.
    """
    import cv2
    import numpy as np

    with captured_stderr() as lines:
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    problems = corruption(lines).replace("Corrupt JPEG data: ", "")
    if decoded is None and not problems:
        return "the JPEG decoder refused the data"
    return problems


# ---------------------------------------------------------------- metadata blocks


def blocks(data: bytes, found: Found) -> None:
    photoshop = b""
    for marker, payload, where in header_segments(data):
        if marker == 0xE1 and payload.startswith(b"Exif\x00"):
            found.exif.append(payload[6:])
        elif marker == 0xE1 and payload.startswith(_XMP_APP1):
            found.xmp.extend(xmp_packets(payload[len(_XMP_APP1):]))
        elif marker == 0xED and payload.startswith(_PHOTOSHOP_APP13):
            photoshop += payload[len(_PHOTOSHOP_APP13):]  # continues over consecutive APP13s
        elif 0xE0 <= marker <= 0xEF and not payload.startswith(_READ_ELSEWHERE.get(marker, ())):
            text = strings_text(payload)  # Ducky, PictureInfo, Media Jukebox...: its words (RT29-14)
            if text:
                name = payload[:12].split(b"\x00")[0].decode("latin-1")
                found.comments.append((f"JPEG APP{marker - 0xE0} segment {name!r} at byte {where}", text.encode()))
    for joined in extended_xmp(data):
        found.xmp.extend(xmp_packets(joined))
    if photoshop:
        photoshop_blocks(photoshop, found)
    found.comments.extend(comments(data))


def extended_xmp(data: bytes) -> list[bytes]:
    """Each extended XMP of a JPEG, joined from its APP1 segments in the order of their offsets
    (a packet over 64 KB is cut into such segments, anywhere: one name may span two)."""
    extended: dict[bytes, dict[int, bytes]] = {}
    for marker, payload, where in header_segments(data):
        if marker == 0xE1 and payload.startswith(_XMP_EXT_APP1):
            body = payload[len(_XMP_EXT_APP1):]
            if len(body) < 40:
                raise MetadataError(f"extended XMP segment at byte {where} is too short")
            (offset,) = struct.unpack_from(">I", body, 36)
            extended.setdefault(body[:32], {})[offset] = body[40:]
    return [b"".join(parts[k] for k in sorted(parts)) for parts in extended.values()]


def comments(data: bytes) -> list[tuple[str, bytes]]:
    """Every comment (COM) segment: before the frame, between the scans of a progressive file..."""
    try:
        found = walk(data).comments
    except ImageError:  # a cut-off file (the decode check makes it an error): what its header holds
        found = [(payload, at) for marker, payload, at in header_segments(data) if marker == 0xFE]
    return [(f"JPEG comment at byte {at}", payload) for payload, at in found]


def header_segments(data: bytes):
    """(marker, payload, offset) of each segment before the image data; cut-off ones raise."""
    pos = 2
    n = len(data)
    while pos < n:
        if data[pos] != 0xFF:  # stray bytes between segments: resynchronise, as decoders do
            pos = data.find(b"\xff", pos)
            if pos < 0:
                return
            continue
        marker = data[pos + 1] if pos + 1 < n else 0xD9
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD9, 0xDA):
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


# ---------------------------------------------------------------- embedded images


def embedded(data: bytes, layout: Layout) -> list[Embedded]:
    """The EXIF pictures (thumbnail, previews), JFIF/JFXX and Photoshop thumbnails, MPF pictures,
    images inside other segments and anything image-like after the end-of-image marker."""
    found: list[Embedded] = []
    covered: list[tuple[int, int]] = []
    photoshop = b"".join(p[len(_PHOTOSHOP_APP13):] for m, p, _ in layout.segments
                         if m == 0xED and p.startswith(_PHOTOSHOP_APP13))
    found.extend(photoshop_thumbnails(photoshop, "APP13 segment") if photoshop else [])
    try:
        found.extend(image for block in photoshop_exif(photoshop) for image in exif_images(block))
    except MetadataError:
        pass  # the location check reports resources it cannot read
    for marker, payload, offset in layout.segments:
        if marker == 0xE1 and payload.startswith(b"Exif\x00"):
            found.extend(exif_images(payload[6:]))
        elif marker == 0xE0 and payload.startswith((b"JFIF\x00", b"JFXX\x00")):
            found.extend(jfif_thumbnails(payload, offset))
            if payload.startswith(b"JFIF\x00") and len(payload) >= 14:  # anything after the header's thumbnail
                found.extend(images_in(payload[14 + 3 * payload[12] * payload[13]:], f"JFIF APP0 segment at byte {offset}"))
        elif marker == 0xE2 and payload.startswith(b"MPF\x00"):
            for i, (start, size) in enumerate(_mpf_entries(payload[4:]), start=1):
                base = offset + 8 + start
                if start and base + size <= len(data):
                    found.append(Embedded(f"MPF picture {i} (byte {base})", data[base:base + size]))
                    covered.append((base, base + size))
                elif start:
                    raise ImageError(f"MPF picture {i} runs past the end of the file")
    found.extend(_in_other_segments(layout.segments, layout.later))
    found.extend(across([p for m, p, _ in layout.segments if m == 0xFE], "joined text of the JPEG's comment segments"))
    found.extend(after_end(data, layout.end, covered, "JPEG end-of-image marker"))
    return found


# Segments whose payloads are read above (EXIF pictures, JFIF/JFXX thumbnails, the MPF index), and the
# frame/scan headers. Every other segment is searched, wherever it is (RT15-10: a comment, an ICC
# profile, an XMP segment, an APPn between the scans): entropy-coded data cannot hold FF D8, so a
# JPEG's start found in a segment is a JPEG someone put there.
_SEARCHED_ELSEWHERE = (b"Exif\x00", b"MPF\x00", b"JFIF\x00", b"JFXX\x00")


def _in_other_segments(header, later) -> list[Embedded]:
    """Images inside every other segment (APPn of any kind, COM, tables), Photoshop resources other
    than the thumbnails, and C2PA/JUMBF manifests (APP11, split over several segments): Content
    Credentials viewers show their thumbnails. The header's Photoshop APP13s are read joined, as
    embedded() reads their thumbnails (Photoshop splits resources at 64 KB); one after the frame
    header is searched whole, thumbnails included."""
    found: list[Embedded] = []
    photoshop = [(payload[len(_PHOTOSHOP_APP13):], offset) for marker, payload, offset in header
                 if marker == 0xED and payload.startswith(_PHOTOSHOP_APP13)]
    joined = {offset for _, offset in photoshop}
    if photoshop:
        found.extend(in_photoshop(b"".join(p for p, _ in photoshop), f"APP13 segment at byte {photoshop[0][1]}"
                                  + (f" and {len(photoshop) - 1} more" if len(photoshop) > 1 else "")))
    for marker, payload, offset in header + later:
        name = "comment" if marker == 0xFE else f"APP{marker - 0xE0}" if 0xE0 <= marker <= 0xEF else f"0x{marker:02X}"
        where = f"{name} segment at byte {offset}"
        if marker == 0xEB or (0xE0 <= marker <= 0xE2 and payload.startswith(_SEARCHED_ELSEWHERE)):
            continue
        if offset not in joined:
            found.extend(images_in(payload, where))
    for en, blob in jumbf_boxes(header + later).items():
        found.extend(images_in(blob, f"C2PA/JUMBF manifest {en}"))
    return found


def in_photoshop(resources: bytes, where: str) -> list[Embedded]:
    """Images in Photoshop resources other than the thumbnails (screened as thumbnails)."""
    try:
        bodies = [(rid, body) for rid, body in photoshop_resources(resources) if rid not in (0x0409, 0x040C, 0x0422, 0x0423)]
    except MetadataError:
        return images_in(resources, where)  # unreadable resources: searched whole
    return [image for rid, body in bodies for image in images_in(body, f"Photoshop resource 0x{rid:04X} of the {where}")]


def jumbf_boxes(segments) -> dict[int, bytes]:
    """JUMBF superboxes of APP11 (ISO 19566-5), each joined from its segments in sequence order."""
    parts: dict[int, dict[int, bytes]] = {}
    for marker, payload, _ in segments:
        if marker == 0xEB and payload[:2] == b"JP" and len(payload) >= 8:
            en, z = struct.unpack_from(">HI", payload, 2)
            parts.setdefault(en, {})[z] = payload[8:] if not parts.get(en) else payload[16:]
    return {en: b"".join(p[k] for k in sorted(p)) for en, p in parts.items()}


def images_in(blob: bytes, where: str) -> list[Embedded]:
    """Every picture inside a blob (JPEG, PNG, GIF, WebP, TIFF, BMP), each taken from there to the blob's
    end, and every picture written in it as text (base64, hex: formats/textpictures.py)."""
    return pictures_in(blob, where) + text_pictures(blob, where)


def _mpf_entries(block: bytes) -> list[tuple[int, int]]:
    """(offset from the MPF header, size) of every picture an MPF index lists."""
    try:
        raw = ifd0_raw(block, (0xB002,))
    except MetadataError as exc:
        raise ImageError(f"the MPF index cannot be read: {exc}") from None
    entries = raw.get(0xB002, b"")
    order = "<" if block[:2] == b"II" else ">"
    return [struct.unpack_from(order + "II", entries, i + 4)[::-1] for i in range(0, len(entries) - 15, 16)]


_IMAGE_STARTS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_WEBP = re.compile(rb"RIFF....WEBP", re.S)
_VIDEO = (b"ftyp", b"MotionPhoto_Data", b"mpvd", b"\x1a\x45\xdf\xa3")  # MP4/MOV/HEIF, motion photos, WebM/MKV
# Other containers a player shows: AVI anywhere; QuickTime without ftyp (its first atom), JPEG XL,
# MPEG program and transport streams where the appended data starts.
_VIDEO_ANYWHERE = re.compile(rb"RIFF....AVI[ X]", re.S)
_VIDEO_AT_START = re.compile(rb"[\x00\xff\r\n \t]*?(?:....(moov|mdat|wide|pnot)|\x00\x00\x00\x0cJXL \r\n\x87\n"
                             rb"|\xff\x0a|\x00\x00\x01\xba|\x47.{187}\x47.{187}\x47)", re.S)


def after_end(data: bytes, end: int, covered: list[tuple[int, int]], what: str) -> list[Embedded]:
    """Images hidden after a container's end; a video there (motion photo) cannot be cleared."""
    tail = data[end:]
    if not tail.strip(b"\x00\xff\r\n \t"):
        return []
    if (any(v in tail for v in _VIDEO) or _VIDEO_ANYWHERE.search(tail)
            or _VIDEO_AT_START.match(tail)):
        raise ImageError(f"a video is stored after the {what} ({len(tail)} bytes, a motion photo?): "
                         "its frames are not screened, so the file cannot be cleared")
    found = []
    starts = sorted({i for sig in _IMAGE_STARTS for i in _all(tail, sig)} | {m.start() for m in _WEBP.finditer(tail)})
    for i in starts:
        at = end + i
        if any(a <= at < b for a, b in covered):
            continue
        found.append(Embedded(f"image after the {what} (byte {at})", data[at:]))
        covered.append((at, len(data)))  # its own container check finds what follows it
    return found


def _all(blob: bytes, needle: bytes):
    i = blob.find(needle)
    while i >= 0:
        yield i
        i = blob.find(needle, i + 1)
