"""Pictures carried in the boxes of a HEIF/AVIF file or a clip, where no decoder of ours looks.

HEIF/AVIF: a viewer shows the image items libheif or Pillow decode (formats/heif.py, avif.py),
but a JPEG, PNG, GIF, WebP or TIFF can ride along in the file: in an `mdat` range no item points
to, in a `free`, `skip` or unknown box, in the `meta` box, after the last box. Exiftool and
forensic tools pull them out. As for JPEG, PNG and WebP (RT15-10), every box (`ftyp` too, past
its brands: RT18-1) is searched by signature (exif_images.picture_starts: a JPEG counts only when its markers reach a
frame header as libjpeg reads them) and each picture found is screened as a view of the file;
one that cannot be decoded makes the file an error. A video in the file (a Samsung motion
photo's `mpvd` box, a second `ftyp`: an MP4 appended, Google's motion photo) or a HEIF image
sequence (`moov`: pillow-heif decodes the items, not the track) is never screened: an error.

Clips (MP4/MOV): every top-level box but `mdat` (`moov` with its user data, `uuid`, `meta`,
`free`...) is searched the same way. Canon cameras keep a JPEG thumbnail there (MOV:
moov/udta/CNTH/CNDA; MP4: the THMB box of Canon's uuid box), others in moov/udta/thmb. Each
picture found is screened as a view of the clip (video_views.py); one that cannot be decoded,
is cut off or exceeds the limits makes the clip an error.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from pathlib import Path

from screening.formats.avif import boxes
from screening.formats.common import Embedded, ImageError, MetadataError
from screening.formats.exif_images import picture_starts
from screening.formats.jpeg import after_end
from screening.formats.textpictures import across, written

# Top-level boxes that hold a video (Samsung's motion photo) in a HEIF file.
_VIDEO_BOXES = {b"mpvd"}
# Pictures one HEIF file may carry outside its items before it is refused as hostile.
MAX_CARRIED = 16


def _top_level(data: bytes) -> tuple[list[tuple[bytes, int, int, int]], int]:
    """(type, offset, header length, size) of each top-level box (one cut off by the end of the
    file: what it holds), and where they stop: at the end, or where bytes that are not a box begin."""
    out, end = [], 0
    for kind, pos, header, size in boxes(data):
        if not all(32 <= c < 127 for c in kind):
            break
        out.append((kind, pos, header, size))
        end = pos + size
    return out, end


def heif_pictures(data: bytes, fmt: str, listed: list[Embedded]) -> list[Embedded]:
    """Every picture in the HEIF/AVIF file's boxes that `listed` (its EXIF thumbnail...) does not
    already hold, and any after the last box; a video or image sequence in it is an ImageError."""
    boxes, end = _top_level(data)
    for kind, at, _header, _size in boxes:
        if kind in _VIDEO_BOXES or (kind == b"ftyp" and at) or (kind == b"moov" and fmt == "HEIF"):
            what = ("an image sequence (a `moov` track; only the image items are decoded)" if kind == b"moov"
                    else f"a video (the `{kind.decode('latin-1')}` box at byte {at}: a motion photo?)")
            raise ImageError(f"the {fmt} file holds {what}, whose frames are not screened, so it cannot be cleared")
    found: list[Embedded] = []
    for kind, at, header, size in boxes:  # `ftyp` too: a picture after its brands (RT18-1)
        body = data[at + header:at + size]
        for start in picture_starts(body, 0, set()):
            where = at + header + start
            if any(data.startswith(item.data, where) for item in listed):
                continue  # the same bytes as a picture already listed (the EXIF thumbnail)
            found.append(Embedded(f"picture in the {fmt} `{kind.decode('latin-1')}` box at byte {where}, "
                                  "which no image item shows", body[start:]))
            if len(found) > MAX_CARRIED:
                raise ImageError(f"the {fmt} file carries more than {MAX_CARRIED} pictures outside its "
                                 "image items: refused")
    return found + after_end(data, end, [], f"{fmt} file's last box")


def clip_pictures(path: Path, fmt: str = "MP4", tags: dict[str, str] | None = None) -> list[Embedded]:
    """Every picture an MP4/MOV carries in its top-level boxes other than `mdat` (a camera's thumbnail:
    Canon's CNTH/CNDA or THMB, udta's thmb; a picture in a `free` box), and every picture in the bytes
    of any clip that no frame or sound accounts for (clip_gaps.regions: an `mdat` gap, a Matroska
    `Void`, an AVI `JUNK` chunk...), lying there or written as text (a comment tag in base64: RT22-8),
    each to be screened as a view of the clip; more than MAX_CARRIED is an ImageError, a box or region
    too large a MetadataError, a picture that begins there and runs on into the frames an ImageError.
    Also every picture written as text across the clip's text `tags` (as FFmpeg reads them), read one
    after another (base64 split between its title and comment tags: RT25-14)."""
    if path.stat().st_size == 0:
        return []
    found: list[Embedded] = across([v.encode("utf-8", "replace") for v in (tags or {}).values()
                                    if isinstance(v, str)], "joined text of the clip's text tags")
    _within_limit(found)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        if fmt == "MP4":
            for box in _searched_boxes(f, path):
                what = f"the clip's `{box.kind.decode('latin-1')}` box at byte {box.offset}"
                for start, data, how in _found_in(mm, box.body, box.offset + box.size, what):
                    found.append(Embedded(f"clip thumbnail (a picture {how}in the clip's `{box.kind.decode('latin-1')}` "
                                          f"box at byte {box.offset}, from byte {start})", data))
                    _within_limit(found)
        for start, what, data, how in _pictures_in_regions(mm, path, fmt):
            found.append(Embedded(f"picture {how}at byte {start} inside {what}, where no player looks", data))
            _within_limit(found)
    return found


def _found_in(mm, a: int, b: int, what: str) -> Iterator[tuple[int, bytes, str]]:
    """(byte, bytes from there to b, how it is written: "" or "written in base64 ") of every picture in
    the file's bytes a..b, lying there or written as text. A picture that begins there but counts only
    with bytes after b (a JPEG whose APP1 segment wraps the frames that follow, ending in a later gap:
    a decoder reading the file from its start decodes it, RT22-7) is cut off for this search: an
    ImageError, never a clip cleared."""
    data = mm[a:b]
    if not data.strip(b"\x00"):
        return
    inside = [a + at for at in picture_starts(data, 0, set())]
    beyond = sorted(set(picture_starts(mm, a, set(), end=b)) - set(inside))
    if beyond:
        raise ImageError(f"a picture begins at byte {beyond[0]} in {what} and runs on past its end (into the "
                         "clip's frames, as a decoder reading the file from there reads it): it cannot be screened")
    for at in inside:
        yield at, data[at - a:], ""
    for how, blob in written(data, what):
        yield a, blob, how + " "


def _within_limit(found: list) -> None:
    if len(found) > MAX_CARRIED:
        raise ImageError(f"the clip carries more than {MAX_CARRIED} pictures outside its frames: refused")


def _pictures_in_regions(mm, path: Path, fmt: str) -> Iterator[tuple[int, str, bytes, str]]:
    """(byte, what the bytes around it are, the bytes from there to the end of their run, how it is
    written) of every picture in the clip's regions that no frame or sound accounts for; adjacent
    regions are searched as one run, so a picture is found whatever element boundaries it crosses."""
    from screening.formats.clip_gaps import regions

    runs: list[list[tuple[int, int, str]]] = []
    for region in regions(path, fmt):
        if runs and runs[-1][-1][1] == region[0]:
            runs[-1].append(region)
        else:
            runs.append([region])
    for run in runs:
        for where, data, how in _found_in(mm, run[0][0], run[-1][1], run[0][2]):
            yield where, next(w for s, e, w in run if s <= where < e), data, how


def _searched_boxes(f, path: Path):
    """Every top-level box of an MP4/MOV but `mdat` (its gaps: clip_gaps; `ftyp` is searched too, RT18-2)."""
    from screening.formats.video_container import MAX_METADATA_BOX, top_level_boxes

    for box in top_level_boxes(f, path.stat().st_size):
        if box.kind == b"mdat":
            continue
        if box.size - box.header > MAX_METADATA_BOX:
            raise MetadataError(f"the `{box.kind.decode('latin-1')}` box is {box.size} bytes, too large to "
                                "search for pictures")
        yield box


# ---------------------------------------------------------------- TIFF: bytes no directory points to

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
_INTS = {3: "H", 4: "I", 13: "I", 16: "Q"}
# (offsets, byte counts) tags: strips, tiles, the JPEG thumbnail; tags pointing to more directories:
# SubIFDs, Exif, GPS, Interoperability (any integer type: a SHORT pointer is followed too, RT18-5).
_SPANS = ((273, 279), (324, 325), (513, 514))
POINTERS = (330, 34665, 34853, 40965)
# What the pixels' size is read from: width, length, bits, compression, samples, rows per strip,
# planar configuration, tile width and length.
_LAYOUT = (256, 257, 258, 259, 277, 278, 284, 322, 323)
_READ = {tag for pair in _SPANS for tag in pair} | set(POINTERS) | set(_LAYOUT)
MAX_DIRECTORIES = 1024


def tiff_directories(data: bytes, order: str) -> list[tuple[int, int, dict[int, list[int]]]]:
    """(offset, entry count, integer values of the tags read) of every directory of a TIFF file: the
    chain from each directory (the pages, and any directory's next) and every SubIFD, Exif, GPS and
    Interoperability directory. One walk for the covered bytes and the tags searched (RT18-4)."""
    out = []
    todo, seen = [struct.unpack_from(order + "I", data, 4)[0]], set()
    while todo:
        offset = todo.pop(0)
        if not offset or offset in seen or offset + 2 > len(data):
            continue
        if len(seen) >= MAX_DIRECTORIES:
            raise ImageError(f"the TIFF file holds more than {MAX_DIRECTORIES} directories: refused")
        seen.add(offset)
        (count,) = struct.unpack_from(order + "H", data, offset)
        values: dict[int, list[int]] = {}
        for entry in range(offset + 2, min(offset + 2 + 12 * count, len(data) - 11), 12):
            tag, kind, n = struct.unpack_from(order + "HHI", data, entry)
            size = _TYPE_SIZES.get(kind, 1) * n
            at = entry + 8 if size <= 4 else struct.unpack_from(order + "I", data, entry + 8)[0]
            if tag in _READ and kind in _INTS and n <= 1 << 20 and at + size <= len(data):
                values[tag] = list(struct.unpack_from(f"{order}{n}{_INTS[kind]}", data, at))
        out.append((offset, count, values))
        todo += [p for tag in POINTERS for p in values.get(tag, [])]
        at = offset + 2 + 12 * count
        if at + 4 <= len(data):
            todo.append(struct.unpack_from(order + "I", data, at)[0])
    return out


def tiff_pictures(data: bytes) -> list[Embedded]:
    """Every picture in a TIFF file's bytes that no directory points to (between its parts, or
    after them: a TIFF has no end marker); a picture in a tag's value is tags' (tiff.tag_images)."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(data[:4])
    if order is None or len(data) < 8:
        return []
    covered = _tiff_covered(data, order)
    found, pos = [], 8
    for start, end in sorted(covered) + [(len(data), len(data))]:
        if start > pos and data[pos:start].strip(b"\x00"):
            gap = data[pos:start]
            found += [Embedded(f"picture in the TIFF file at byte {pos + at}, which no directory points to",
                               gap[at:]) for at in picture_starts(gap, 0, set())]
        pos = max(pos, end)
    if len(found) > MAX_CARRIED:
        raise ImageError(f"the TIFF file carries more than {MAX_CARRIED} pictures no directory points to: refused")
    return found


def _tiff_covered(data: bytes, order: str) -> list[tuple[int, int]]:
    """(start, end) of every directory, tag value, the pixels of every strip and tile, and the JPEG
    thumbnail (tiff.tag_images screens it, RT18-3). Of uncompressed pixels only the bytes the image
    needs; of compressed ones only the first byte (so a strip's own JPEG start is not a find): bytes
    a decoder never reads are searched, however long a strip is declared (RT18-6)."""
    covered = [(0, 8)]
    for offset, count, values in tiff_directories(data, order):
        covered.append((offset, offset + 2 + 12 * count + 4))
        for entry in range(offset + 2, min(offset + 2 + 12 * count, len(data) - 11), 12):
            kind, n = struct.unpack_from(order + "HI", data, entry + 2)
            size = _TYPE_SIZES.get(kind, 1) * n
            if size > 4:
                at = struct.unpack_from(order + "I", data, entry + 8)[0]
                covered.append((at, at + size))
        needed = _pixel_bytes(values)
        for starts, counts in _SPANS:
            spans = zip(values.get(starts, []), values.get(counts, []), strict=False)
            if starts == 513:
                covered += [(s, s + c) for s, c in spans]
            else:
                covered += [(s, s + min(c, need)) for (s, c), need in zip(spans, needed(starts), strict=False)]
    return covered


def _pixel_bytes(values: dict[int, list[int]]):
    """For strips (273) or tiles (324): the bytes each one's pixels take when uncompressed, else 1."""
    def first(tag: int, default: int) -> int:
        return (values.get(tag) or [default])[0]

    width, height, samples = first(256, 0), first(257, 0), first(277, 1)
    bits = values.get(258) or [1]
    planar = first(284, 1) == 2
    if len(bits) < samples:
        bits = bits[:1] * samples
    pixel_bits = bits[0] if planar else sum(bits[:samples])

    def needed(starts: int) -> list[int]:
        n = len(values.get(starts, []))
        if first(259, 1) != 1:
            return [1] * n
        if starts == 324:
            tile = (first(322, 0) * pixel_bits + 7) // 8 * first(323, 0)
            return [tile] * n
        rows = max(1, min(first(278, height), height or 1))
        row = (width * pixel_bits + 7) // 8
        per_plane = max(1, -(-height // rows))
        return [row * max(0, min(rows, height - (i % per_plane) * rows)) for i in range(n)]
    return needed
