"""PNG (and APNG): chunk walk, completeness, metadata (inflation bounded), data after IEND."""

from __future__ import annotations

import struct
import zlib

from screening.formats.common import Embedded, Found, ImageError, MetadataError, inflate, photoshop_blocks, xmp_packets
from screening.formats.jpeg import after_end, images_in
from screening.formats.textpictures import across
from screening.formats.thumbnails import photoshop_thumbnails


def chunks(data: bytes):
    """(kind, body, offset) of every chunk up to and including IEND; a cut-off chunk raises."""
    pos, n = 8, len(data)
    while pos + 8 <= n:
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4:pos + 8]
        if pos + 12 + length > n:
            raise ImageError(f"truncated PNG: chunk {kind!r} at byte {pos} runs past the end of the file")
        yield kind, data[pos + 8:pos + 8 + length], pos
        if kind == b"IEND":
            return
        pos += 12 + length
    raise ImageError("truncated PNG: no IEND chunk")


def all_chunks(data: bytes):
    """chunks(), then the chunks written after IEND, as exiftool reads them ('[Trailer] Comment':
    RT31-26): while the bytes there read as chunks (a length, a four-letter kind, the body within the
    file); anything else there (another image, padding) ends the walk (jpeg.after_end looks in it)."""
    end = 8
    for kind, body, pos in chunks(data):
        yield kind, body, pos
        end = pos + 12 + len(body)
    while end + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, end)
        kind = data[end + 4:end + 8]
        if not kind.isalpha() or not kind.isascii() or end + 12 + length > len(data):
            return
        yield kind, data[end + 8:end + 8 + length], end
        end += 12 + length


def check(data: bytes) -> int:
    """The offset just after IEND, or ImageError for a cut-off or corrupted file.

    Every chunk's CRC is checked: Pillow does not check the image data's (IDAT), so a
    corrupted byte there would decode to other pixels without a word.
    """
    declared, frames = None, 0
    for kind, body, pos in chunks(data):
        (crc,) = struct.unpack_from(">I", data, pos + 8 + len(body))
        if zlib.crc32(kind + body) != crc:
            raise ImageError(f"corrupt PNG: chunk {kind.decode('latin-1')!r} at byte {pos} fails its CRC check")
        if kind == b"cICP":
            _check_cicp(body, pos)
        elif kind == b"acTL" and declared is None and len(body) >= 4:
            declared = struct.unpack_from(">I", body)[0]
        elif kind == b"fcTL":
            frames += 1
        if kind == b"IEND":
            if frames != (declared if declared is not None else 0):  # RT29-21: a frame decoders disagree on
                raise ImageError(f"APNG declares {declared or 0} frames (acTL) but holds {frames} (fcTL): a frame "
                                 "past the count is shown by some viewers and not decoded here")
            return pos + 12
    raise ImageError("truncated PNG: no IEND chunk")  # pragma: no cover - chunks() raises first


# cICP transfer functions a browser shows much as the stored values read (BT.709, BT.601, sRGB,
# BT.2020): the picture screened is the picture shown. Linear, PQ, HLG and the rest remap the
# tones (a linear transfer lifts the darkest levels about five times), and no view models them.
_CICP_SHOWN_AS_STORED = {1, 6, 13, 14, 15}


def _check_cicp(body: bytes, pos: int) -> None:
    """A PNG whose cICP chunk tells browsers to show its tones otherwise than they are stored."""
    if len(body) != 4:
        raise ImageError(f"corrupt PNG: cICP chunk at byte {pos} is {len(body)} bytes, not 4")
    transfer = body[1]
    if transfer not in _CICP_SHOWN_AS_STORED:
        raise ImageError(f"PNG cICP chunk at byte {pos} gives transfer function {transfer}: browsers show its "
                         "tones otherwise than they are stored, and that view is not screened")


# Chunks not searched for pictures: the pixels (compressed), and eXIf (its pictures are read as EXIF's).
# Every other chunk is, text and known ones included (RT15-10).
_PIXELS = {b"IDAT", b"fdAT", b"eXIf"}


def embedded(data: bytes, end: int) -> list[Embedded]:
    """Images inside any chunk but the pixels (a C2PA `caBX` manifest's thumbnails, a private chunk),
    and anything image-like after IEND."""
    found = [image for kind, body, pos in chunks(data) if kind not in _PIXELS
             for image in images_in(body, f"PNG {kind.decode('latin-1')!r} chunk at byte {pos}")]
    return (found + _photoshop_images(data) + _text_pictures(data) + _across_texts(data)
            + after_end(data, end, [], "PNG's IEND chunk"))


def _across_texts(data: bytes) -> list[Embedded]:
    """Pictures written as text across the PNG's text chunks, read one after another (base64 split
    between two tEXt chunks, the first too short to be read alone: RT25-12)."""
    texts = []
    for kind, body, pos in chunks(data):
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            try:
                texts.append(_text(kind, body, pos)[1])
            except MetadataError:
                continue  # the location check reports a text chunk it cannot read
    return across(texts, "joined text of the PNG's text chunks")


def _text_pictures(data: bytes) -> list[Embedded]:
    """Pictures in compressed text chunks as a reader of the text gets them: in the inflated text of
    a zTXt or compressed iTXt chunk (the raw chunk holds only deflate data), lying there or written as
    text (base64, hex: images_in reads both). An uncompressed chunk's text is its raw body, read by
    embedded() like every chunk. XMP and ImageMagick's "Raw profile" chunks are read too: a picture
    also listed by their own readers (the EXIF thumbnail of a hex profile) is screened once
    (formats.distinct)."""
    found = []
    for kind, body, pos in chunks(data):
        if kind not in (b"zTXt", b"iTXt"):
            continue
        keyword = body.partition(b"\x00")[0]
        if kind == b"iTXt" and body[len(keyword) + 1:len(keyword) + 2] != b"\x01":
            continue  # not compressed
        try:
            _name, text = _text(kind, body, pos)
        except MetadataError:
            continue  # the location check reports a text chunk it cannot read
        found += images_in(text, f"PNG {kind.decode()} chunk {keyword[:40].decode('latin-1')!r} at byte {pos}, inflated")
    return found


def _photoshop_images(data: bytes) -> list[Embedded]:
    """The Photoshop thumbnail of ImageMagick's "Raw profile type 8bim" (or app13) text chunk."""
    found = []
    for kind, body, pos in chunks(data):
        if kind in (b"tEXt", b"zTXt", b"iTXt") and body.startswith(b"Raw profile type "):
            try:
                keyword, text = _text(kind, body, pos)
                name = keyword[17:].lower()
                if name in ("8bim", "app13"):
                    blob = _profile_blob(name, text)
                    blob = blob[blob.find(b"8BIM"):] if b"8BIM" in blob else blob  # app13: "Photoshop 3.0\0" first
                    found += photoshop_thumbnails(blob, f"PNG 'Raw profile type {name}' chunk at byte {pos}")
            except MetadataError as exc:
                raise ImageError(str(exc)) from None
    return found


def blocks(data: bytes, found: Found) -> None:
    try:
        for kind, body, pos in all_chunks(data):  # text after IEND too (RT31-26)
            if kind == b"iCCP":  # the colour profile's name, shown by exiftool and Preview (RT29-33)
                found.comments.append((f"PNG iCCP chunk's profile name at byte {pos}", body.split(b"\x00")[0]))
            if kind.lower() in (b"exif", b"zxif"):
                found.exif.append(_exif_chunk(kind, body, pos))
            elif kind in (b"tEXt", b"zTXt", b"iTXt"):
                keyword, text = _text(kind, body, pos)
                if keyword == "XML:com.adobe.xmp":
                    found.xmp.extend(xmp_packets(text))
                elif keyword.startswith("Raw profile type "):
                    _raw_profile(keyword[17:].lower(), text, found)
                else:
                    if kind != b"tEXt":  # XMP in a compressed chunk of another name is still read
                        found.xmp.extend(xmp_packets(text, required=False))
                    if keyword.lower() not in NOT_CAPTIONS:
                        found.comments.append((f"PNG {kind.decode()} chunk {keyword[:40]!r}", text))
    except ImageError as exc:
        raise MetadataError(str(exc)) from None


def _exif_chunk(kind: bytes, body: bytes, pos: int) -> bytes:
    """The EXIF of an eXIf chunk (or ImageMagick's exIf, an "Exif\\0\\0" header taken off), or of a
    compressed one as exiftool reads it (zxIf, or an eXIf starting with a 0 byte: the method, the
    length, zlib data: RT29-11); another spelling is an error."""
    name = kind.decode("latin-1")
    if kind not in (b"eXIf", b"exIf", b"zxIf"):  # exIf: ImageMagick's before the standard (RT30-10)
        raise MetadataError(f"PNG chunk {name!r} at byte {pos} names EXIF in a spelling no standard has: "
                            "it cannot be read")
    if kind != b"zxIf" and body[:1] != b"\x00":
        return body[6:] if body.startswith(b"Exif\x00\x00") else body  # (a header ImageMagick wrote by accident)
    if body[:1] != b"\x00" or len(body) < 5:
        raise MetadataError(f"PNG {name} chunk at byte {pos} is not compressed EXIF as exiftool reads it")
    return inflate(body[5:], f"PNG {name} chunk at byte {pos}")


# Text chunk keywords that say who made the file and with what, not what it shows (as EXIF Artist
# and XMP dc:creator are not read): every other chunk, before or after the image data, is read.
NOT_CAPTIONS = frozenset({"author", "copyright", "software", "creation time", "disclaimer", "source",
                          "date:create", "date:modify", "date:timestamp", "signature"})


def _text(kind: bytes, body: bytes, pos: int) -> tuple[str, bytes]:
    keyword, sep, rest = body.partition(b"\x00")
    if not sep:
        raise MetadataError(f"PNG {kind.decode()} chunk at byte {pos} has no keyword terminator")
    what = f"PNG {kind.decode()} chunk {keyword[:80]!r} at byte {pos}"
    name = keyword.decode("latin-1")
    if kind == b"tEXt":
        return name, rest
    if kind == b"zTXt":
        return name, inflate(rest[1:], what)
    if len(rest) < 2:
        raise MetadataError(f"{what} is cut off")
    compressed = rest[0]
    _lang, _, rest = rest[2:].partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    return name, inflate(text, what) if compressed else text


def _raw_profile(name: str, text: bytes, found: Found) -> None:
    """ImageMagick's hex-encoded profiles: "\\nname\\n   length\\nhex lines..."."""
    blob = _profile_blob(name, text)
    if name in ("exif", "app1"):
        found.exif.append(blob)
    elif name == "xmp":
        found.xmp.extend(xmp_packets(blob))
    elif name in ("iptc", "8bim"):
        if blob.startswith(b"8BIM"):
            photoshop_blocks(blob, found)  # IPTC, and EXIF resources 0x0422/0x0423 (RT15-5)
        else:
            found.iptc.append(blob)


def _profile_blob(name: str, text: bytes) -> bytes:
    lines = text.lstrip(b"\n").split(b"\n", 2)
    try:
        length = int(lines[1])
        blob = bytes.fromhex(lines[2].decode("ascii"))
    except (IndexError, ValueError, UnicodeDecodeError):
        raise MetadataError(f"PNG 'Raw profile type {name}' is not a readable hex profile") from None
    if len(blob) != length:
        raise MetadataError(f"PNG 'Raw profile type {name}' declares {length} bytes but holds {len(blob)}")
    return blob


def frame_count(data: bytes) -> int:
    """The number of frames an APNG declares (1 for a still PNG)."""
    for kind, body, _pos in chunks(data):
        if kind == b"acTL" and len(body) >= 4:
            return struct.unpack_from(">I", body)[0]
        if kind == b"IDAT":
            break
    return 1
