"""Video containers, checked before decoding: recognised by content, their declared sizes
walked (MP4/MOV boxes, Matroska elements, AVI RIFF chunks), and the tracks that are neither
picture nor sound listed (formats/video.py refuses them: they are not screened).

A box or chunk that runs past the end of the file, a missing `moov`, bytes that are not a box
after the last one: the file is incomplete, VideoError.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Container names, as sniff() reports them (imaging.sniff recognises images only).
MP4, MATROSKA, AVI = "MP4", "MATROSKA", "AVI"
FORMATS = frozenset({MP4, MATROSKA, AVI})

# ftyp brands of still images (HEIF/AVIF), which imaging decodes as photos.
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
# First atoms of a QuickTime file written without an ftyp (old cameras, some editors).
_QT_FIRST = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
_EBML = b"\x1a\x45\xdf\xa3"

# Boxes read whole to find metadata (moov, meta, uuid) may be at most this large.
MAX_METADATA_BOX = 256 << 20


class VideoError(Exception):
    """The clip could not be decoded completely; the message says why in plain words."""


def sniff(head: bytes) -> str | None:
    """MP4, MATROSKA or AVI from the first bytes of a file, or None if not a video container."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return None if head[8:12] in _IMAGE_BRANDS else MP4
    if len(head) >= 8 and head[4:8] in _QT_FIRST and struct.unpack(">I", head[:4])[0] not in range(2, 8):
        return MP4
    if head.startswith(_EBML):
        return MATROSKA
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"AVIX"):
        return AVI
    return None


# ---------------------------------------------------------------- container structure


@dataclass(frozen=True)
class Box:
    """A top-level ISO BMFF box: type, offset of its header, header length, total size."""

    kind: bytes
    offset: int
    header: int
    size: int

    @property
    def body(self) -> int:
        return self.offset + self.header

    @property
    def end(self) -> int:
        return self.offset + self.size


def top_level_boxes(f, length: int) -> list[Box]:
    """Every top-level box of an ISO BMFF file, or VideoError where the structure breaks."""
    boxes = []
    pos = 0
    while pos < length:
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            if _zeros(f, pos, length):
                break
            raise VideoError(f"incomplete file: {length - pos} stray byte(s) after the last box at byte {pos}")
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            if len(head) < 16:
                raise VideoError(f"incomplete file: the `{_name(kind)}` box header at byte {pos} is cut off")
            (size,) = struct.unpack(">Q", head[8:16])
            header = 16
        elif size == 0:  # "to the end of the file"
            size = length - pos
        if not _box_name(kind):
            if _zeros(f, pos, length):
                break
            raise VideoError(f"not a complete video: unrecognised data where a box should start at byte {pos} "
                             f"({head[:8]!r})")
        if size < header:
            raise VideoError(f"damaged file: the `{_name(kind)}` box at byte {pos} declares {size} bytes")
        if pos + size > length:
            raise VideoError(f"truncated file: the `{_name(kind)}` box at byte {pos} declares {size} bytes, "
                             f"only {length - pos} are in the file")
        boxes.append(Box(kind, pos, header, size))
        pos += size
    kinds = [b.kind for b in boxes]
    if b"moov" not in kinds:
        raise VideoError("incomplete file: no `moov` box (the index a player needs; the recording was "
                         "probably interrupted)")
    if kinds.count(b"moov") > 1:
        raise VideoError("damaged file: more than one `moov` box")
    return boxes


def _box_name(kind: bytes) -> bool:
    """Box types are four printable characters (QuickTime's user data may start with ©)."""
    return all(32 <= c < 127 for c in kind[kind[:1] == b"\xa9":])


def _name(kind: bytes) -> str:
    return kind.decode("latin-1")


def _zeros(f, pos: int, length: int) -> bool:
    """Whether the rest of the file from pos is zero padding (some cameras pad their files)."""
    if length - pos > 1 << 20:
        return False
    f.seek(pos)
    return not f.read().strip(b"\x00")


def check_structure(path: Path, fmt: str) -> None:
    """The container's own declared sizes agree with the file: nothing cut off, nothing after."""
    length = path.stat().st_size
    with open(path, "rb") as f:
        if fmt == MP4:
            top_level_boxes(f, length)
        elif fmt == MATROSKA:
            _check_matroska(f, length)
        elif fmt == AVI:
            _check_riff(f, length)


def _ebml_number(f, what: str, strip_marker: bool) -> tuple[int, int]:
    """An EBML variable-length number (element ID or size) and its length in bytes."""
    first = f.read(1)
    if not first:
        raise VideoError(f"truncated file: the Matroska {what} is cut off")
    b = first[0]
    n = 1
    while n <= 8 and not b & (0x80 >> (n - 1)):
        n += 1
    if n > 8:
        raise VideoError(f"damaged file: invalid Matroska {what}")
    rest = f.read(n - 1)
    if len(rest) < n - 1:
        raise VideoError(f"truncated file: the Matroska {what} is cut off")
    value = (b & (0xFF >> n)) if strip_marker else b
    for c in rest:
        value = (value << 8) | c
    return value, n


def _check_matroska(f, length: int) -> None:
    pos = 0
    seen_segment = False
    while pos < length:
        f.seek(pos)
        element, id_len = _ebml_number(f, "element ID", strip_marker=False)
        size, size_len = _ebml_number(f, "element size", strip_marker=True)
        unknown = size == (1 << (7 * size_len)) - 1  # all ones: "until the end" (live recordings)
        body = pos + id_len + size_len
        if element == 0x18538067:
            seen_segment = True
        elif element != 0x1A45DFA3:
            if _zeros(f, pos, length):
                return
            raise VideoError(f"not a complete video: unrecognised data after the Matroska segment at byte {pos}")
        if unknown:
            return  # the decoder and the duration check find a cut-off end
        if body + size > length:
            raise VideoError(f"truncated file: the Matroska {'segment' if element == 0x18538067 else 'header'} "
                             f"declares {size} bytes, only {length - body} are in the file")
        pos = body + size
    if not seen_segment:
        raise VideoError("incomplete file: no Matroska segment after the header")


def _check_riff(f, length: int) -> None:
    pos = 0
    while pos < length:
        f.seek(pos)
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF":
            if _zeros(f, pos, length):
                return
            raise VideoError(f"not a complete video: unrecognised data after the AVI chunks at byte {pos}")
        (size,) = struct.unpack("<I", head[4:8])
        if pos + 8 + size > length:
            raise VideoError(f"truncated file: the AVI RIFF chunk at byte {pos} declares {size + 8} bytes, "
                             f"only {length - pos} are in the file")
        pos += 8 + size + (size & 1)


# ---------------------------------------------------------------- tracks other than picture and sound

# Keys of Apple timed metadata (`mebx` tracks of iPhone clips) that hold no position or name.
HARMLESS_MEBX_KEYS = frozenset({
    "com.apple.quicktime.video-orientation", "com.apple.quicktime.live-photo-info",
    "com.apple.quicktime.still-image-time", "com.apple.quicktime.scene-illuminance",
    "com.apple.quicktime.camera-debug-info", "com.apple.quicktime.live-photo.vitality-score",
    "com.apple.quicktime.live-photo.vitality-scoring-version",
})
_CONTAINERS = {b"trak", b"mdia", b"minf", b"stbl"}


def _moov(path: Path) -> bytes:
    length = path.stat().st_size
    with open(path, "rb") as f:
        moov = next(b for b in top_level_boxes(f, length) if b.kind == b"moov")
        if moov.size - moov.header > MAX_METADATA_BOX:
            raise VideoError(f"the `moov` box is {moov.size} bytes, too large to read")
        f.seek(moov.body)
        return f.read(moov.size - moov.header)


def mp4_edit_problem(path: Path) -> str | None:
    """Why a player would show an MP4/MOV's frames otherwise than the decoder gives them, or None.

    Frames are screened as stored, every one (edit lists are ignored when decoding, so an edit
    cannot hide one). One edit (with an empty edit before it: a start delay) only trims or delays
    what is shown. More edits can repeat a moment for as long as they like, or play ranges in another
    order, and an edit at another rate holds or slows a frame (RT10-14): such a clip is not screened.
    """
    for kind, trak in _mp4_children(_moov(path)):
        if kind != b"trak":
            continue
        for edts_kind, edts in _mp4_children(trak):
            if edts_kind != b"edts":
                continue
            for elst_kind, elst in _mp4_children(edts):
                if elst_kind == b"elst":
                    problem = _edit_list_problem(elst)
                    if problem:
                        return problem
    return None


def _edit_list_problem(elst: bytes) -> str | None:
    if len(elst) < 8:
        return "a damaged edit list (`elst`)"
    version, (count,) = elst[0], struct.unpack_from(">I", elst, 4)
    entry = ">QqhH" if version == 1 else ">IihH"
    size = struct.calcsize(entry)
    if len(elst) < 8 + count * size:
        return "a damaged edit list (`elst`): its entries do not fit"
    shown = 0
    for i in range(count):
        _, media_time, rate, _ = struct.unpack_from(entry, elst, 8 + i * size)
        if media_time == -1:  # an empty edit: nothing shown for a while (a start delay)
            continue
        shown += 1
        if rate != 1:
            return (f"an edit list that plays part of the clip at rate {rate} (a frame held or slowed): "
                    "players would not show the frames as they are stored")
    if shown > 1:
        return (f"an edit list of {shown} edits (parts of the clip repeated, reordered or skipped by players)")
    return None


def mp4_data_tracks(path: Path) -> dict[int, tuple[str, tuple[str, ...]]]:
    """{track ID: (sample format, Apple metadata keys)} of every track of an MP4/MOV, as the
    `tkhd` and the first `stsd` entry say (FFmpeg's DataStream.id is the track ID)."""
    body = _moov(path)
    tracks = {}
    for kind, trak in _mp4_children(body):
        if kind != b"trak":
            continue
        found: dict[bytes, bytes] = {}
        _collect(trak, found)
        tkhd, stsd = found.get(b"tkhd"), found.get(b"stsd")
        if tkhd is None or len(tkhd) < 24:
            raise VideoError("damaged file: a track has no readable `tkhd` box")
        track_id = struct.unpack_from(">I", tkhd, 20 if tkhd[0] == 1 else 12)[0]
        fmt, keys = "", ()
        if stsd is not None and len(stsd) >= 16:
            fmt = stsd[12:16].decode("latin-1")
            keys = tuple(_mebx_keys(stsd[8:])) if fmt == "mebx" else ()
        tracks[track_id] = (fmt, keys)
    return tracks


def _harmless_track(kind: str, keys: tuple[str, ...]) -> bool:
    """A QuickTime timecode track, or Apple timed metadata whose keys are all known to be harmless."""
    return kind == "tmcd" or (kind == "mebx" and bool(keys) and all(k in HARMLESS_MEBX_KEYS for k in keys))


def _track_name(kind: str, keys: tuple[str, ...]) -> str:
    if kind == "mebx":
        return f"a timed metadata track ({kind}: {', '.join(keys) or 'no keys'})"
    return f"a data track ({kind or 'unknown format'})"


def _mp4_children(body: bytes) -> Iterator[tuple[bytes, bytes]]:
    pos = 0
    while pos + 8 <= len(body):
        size, kind = struct.unpack_from(">I4s", body, pos)
        header = 8
        if size == 1 and pos + 16 <= len(body):
            (size,) = struct.unpack_from(">Q", body, pos + 8)
            header = 16
        elif size == 0:
            size = len(body) - pos
        if size < header or pos + size > len(body):
            raise VideoError(f"damaged file: the `{_name(kind)}` box inside `moov` does not fit")
        yield kind, body[pos + header:pos + size]
        pos += size


def _collect(body: bytes, found: dict[bytes, bytes]) -> None:
    for kind, child in _mp4_children(body):
        if kind in _CONTAINERS:
            _collect(child, found)
        else:
            found.setdefault(kind, child)


def _mebx_keys(entry: bytes) -> Iterator[str]:
    """Key names in the `keyd` boxes of a `mebx` sample entry (namespace + key)."""
    pos = entry.find(b"keyd")
    while pos >= 4:
        (size,) = struct.unpack_from(">I", entry, pos - 4)
        if size < 12 or pos - 4 + size > len(entry):
            raise VideoError("damaged file: a timed metadata key (`keyd`) does not fit")
        yield entry[pos + 8:pos - 4 + size].decode("utf-8", "replace")
        pos = entry.find(b"keyd", pos - 4 + size)


# Pixel shapes (sample aspect ratio) screened; beyond them a frame would be stretched past sense.
MAX_PIXEL_SHAPE = 4


def _shown_size(width: int, height: int, sar) -> tuple[int, int] | None:
    """The size players show a frame of non-square pixels at, never smaller than stored (the
    narrow side is stretched), or None for square pixels. An absurd pixel shape is an error."""
    if not sar or sar.numerator <= 0 or sar.denominator <= 0 or sar == 1:
        return None
    if not 1 / MAX_PIXEL_SHAPE <= sar <= MAX_PIXEL_SHAPE:
        raise VideoError(f"the clip's pixels are {sar.numerator}:{sar.denominator} (width:height), "
                         f"beyond the {MAX_PIXEL_SHAPE}:1 that is screened")
    if sar > 1:
        return round(width * sar), height
    return width, round(height / sar)

def _chapter_tags(container) -> dict[str, str]:
    """Every chapter's tags as "chapterN:key" (players list chapter titles; a chapter's tags may
    hold a place too, RT6-11). Chapters that cannot be read make the clip unscreenable."""
    try:
        chapters = container.chapters()
    except Exception as exc:  # noqa: BLE001 - whatever FFmpeg says, the clip is not cleared
        raise VideoError(f"the clip's chapters could not be read ({exc})") from exc
    out = {}
    for n, chapter in enumerate(chapters, 1):
        out.update({f"chapter{n}:{k}": str(v) for k, v in (chapter.get("metadata") or {}).items()})
    return out
