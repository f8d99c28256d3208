"""Bytes of a clip that no frame or sound accounts for, to be searched for pictures.

A player shows a clip's frames; the rest of the file is skipped by every decoder but carved out by
binwalk or a forensic tool, and a picture kept there is one anyone can see. So the frames' and
sound's bytes are set aside (a picture in a sound sample: a known limit) and every other region is
returned (adjacent ones merged), for carried.clip_pictures to search.

- MP4/MOV: the gaps in each `mdat` between the samples of the picture and sound tracks' tables
  (stco/co64, stsz/stz2, stsc) and `trun` boxes; other tracks' samples are searched (boxes: carried.py).
- Matroska/WebM: every element but the blocks (SimpleBlock, Block) of a declared track: the EBML
  header, `Void`, unknown IDs anywhere, Tags, Cues..., a block of a track no TrackEntry declares, and
  the rest of the file from where the elements can no longer be walked.
- AVI: every chunk but declared streams' frames and sound (`NNdc`, `NNdb`, `NNwb`); another RIFF.
Read through a memory map; more than MAX_SEARCHED bytes of regions is a MetadataError.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from screening.formats.avif import spans as _boxes
from screening.formats.common import MetadataError

# Bytes of a clip searched for pictures besides its top-level boxes (a camera leaves a few kB).
MAX_SEARCHED = 256 << 20
# Regions kept apart by what they are; past this many, adjacent ones are merged whatever they are.
MAX_NAMED = 4096
_AND_MORE = "several adjacent regions no frame or sound accounts for"

Region = tuple[int, int, str]  # (start, end, what the bytes are: "an `mdat` gap", "a Matroska `Void` element")


def regions(path: Path, fmt: str) -> list[Region]:
    """The regions of the clip that hold neither frames nor sound nor what carried.py searches."""
    from screening.formats.video_container import AVI, MATROSKA, MP4

    walk = {MP4: _mp4, MATROSKA: _matroska, AVI: _avi}.get(fmt)
    if walk is None or path.stat().st_size == 0:
        return []
    out: list[Region] = []
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for a, b, what in walk(mm):  # adjacent ones merged as they come (RT22-12: a million `Void`s)
            if b > a and out and out[-1][1] == a and (out[-1][2] == what or len(out) >= MAX_NAMED):
                out[-1] = (out[-1][0], b, out[-1][2] if out[-1][2] in (what, _AND_MORE) else _AND_MORE)
            elif b > a:
                out.append((a, b, what))
    if sum(b - a for a, b, _ in out) > MAX_SEARCHED:
        raise MetadataError(f"the clip holds more than {MAX_SEARCHED >> 20} MB that are not frames or "
                            "sound, too much to search for pictures")
    return out


# ---------------------------------------------------------------- MP4 / MOV


def _mp4(mm) -> Iterator[Region]:
    top = list(_boxes(mm, 0, len(mm)))
    mdats = [(body, end) for kind, body, end in top if kind == b"mdat"]
    if not mdats:
        return
    samples: list[tuple[int, int]] = []
    defaults: dict[int, int] = {}  # track ID -> default sample size (moov/mvex/trex)
    for kind, body, end in top:
        if kind == b"moov":
            for tkind, tbody, tend in _boxes(mm, body, end):
                if tkind == b"trak":
                    samples += _track_samples(mm, tbody, tend)
                elif tkind == b"mvex":
                    defaults.update(_trex_sizes(mm, tbody, tend))
        elif kind == b"moof":
            samples += _fragment_samples(mm, body - 8, body, end, defaults)
    samples.sort()
    for body, end in mdats:
        pos = body
        for a, b in samples:
            if b <= pos or a >= end:
                continue
            if a > pos:
                yield pos, a, "an `mdat` gap (bytes no sample of a picture or sound track points to)"
            pos = max(pos, b)
        if pos < end:
            yield pos, end, "an `mdat` gap (bytes no sample of a picture or sound track points to)"


def _trex_sizes(mm, body: int, end: int) -> dict[int, int]:
    out = {}
    for kind, b, e in _boxes(mm, body, end):
        if kind == b"trex" and e - b >= 24:
            track, _index, _duration, size = struct.unpack_from(">IIII", mm, b + 4)
            out[track] = size
    return out


def _fragment_samples(mm, moof: int, body: int, end: int, defaults: dict[int, int]) -> list[tuple[int, int]]:
    """(start, end) of the samples each `trun` of a movie fragment places (ISO 14496-12 8.8.7-8)."""
    out = []
    for kind, tbody, tend in _boxes(mm, body, end):
        if kind != b"traf":
            continue
        base, size, pos = moof, 0, None
        for child, b, e in _boxes(mm, tbody, tend):
            if child == b"tfhd" and e - b >= 8:
                flags, track = struct.unpack_from(">II", mm, b)
                flags &= 0xFFFFFF
                at = b + 8
                if flags & 0x1:
                    (base,) = struct.unpack_from(">Q", mm, at)
                    at += 8
                at += 4 * bool(flags & 0x2) + 4 * bool(flags & 0x8)
                size = struct.unpack_from(">I", mm, at)[0] if flags & 0x10 and at + 4 <= e else defaults.get(track, 0)
            elif child == b"trun" and e - b >= 8:
                flags, count = struct.unpack_from(">II", mm, b)
                flags &= 0xFFFFFF
                at = b + 8
                if flags & 0x1:
                    pos = base + struct.unpack_from(">i", mm, at)[0]
                    at += 4
                pos = base if pos is None else pos
                at += 4 * bool(flags & 0x4)
                fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
                start = pos
                if 0x200 not in fields:  # every sample the default size: one run, whatever the count (RT22-2)
                    pos += count * size
                else:  # sizes per sample, as many as the box holds
                    n = max(0, min(count, (e - at) // (4 * len(fields))))
                    table = np.frombuffer(mm, ">u4", n * len(fields), at)
                    pos += int(table[fields.index(0x200)::len(fields)].astype(np.int64).sum())
                out.append((start, pos))  # a run's samples follow one another
    return out


def _child(mm, body: int, end: int, path: tuple[bytes, ...]) -> tuple[int, int] | None:
    for kind, b, e in _boxes(mm, body, end):
        if kind == path[0]:
            return (b, e) if len(path) == 1 else _child(mm, b, e, path[1:])
    return None


def _track_samples(mm, body: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each chunk of samples of one picture or sound track, from its sample table.
    The samples of any other track (a timecode, timed metadata: not decoded, some allowed by
    video.Clip) are not accounted for: they are searched like a gap."""
    stbl = _child(mm, body, end, (b"mdia", b"minf", b"stbl"))
    hdlr = _child(mm, body, end, (b"mdia", b"hdlr"))
    if stbl is None or hdlr is None or mm[hdlr[0] + 8:hdlr[0] + 12] not in (b"vide", b"soun"):
        return []
    tables: dict[bytes, tuple[int, int]] = {}
    for kind, b, e in _boxes(mm, *stbl):
        tables.setdefault(kind, (b, e))  # a table given twice: FFmpeg reads the first (RT22-16)
    offsets = _chunk_offsets(mm, tables)
    sizes = _chunk_bytes(mm, tables, mm[hdlr[0] + 8:hdlr[0] + 12] == b"soun")
    stsc = tables.get(b"stsc")
    if stsc is None or not offsets:
        return []
    (n,) = struct.unpack_from(">I", mm, stsc[0] + 4)
    runs = [struct.unpack_from(">III", mm, stsc[0] + 8 + 12 * i)[:2] for i in range(min(n, (stsc[1] - stsc[0] - 8) // 12))]
    out, sample = [], 0
    for r, (first, per_chunk) in enumerate(runs):
        last = runs[r + 1][0] - 1 if r + 1 < len(runs) else len(offsets)
        for chunk in range(first, min(last, len(offsets)) + 1):
            out.append((offsets[chunk - 1], offsets[chunk - 1] + sizes(sample, per_chunk)))
            sample += per_chunk
    return out


def _chunk_offsets(mm, tables: dict) -> list[int]:
    """The chunk offsets of the first of stco/co64 in the sample table (FFmpeg reads that one)."""
    kinds = [k for k in tables if k in (b"stco", b"co64")]
    for kind, fmt, width in ((b"stco", ">I", 4), (b"co64", ">Q", 8)):
        if kinds and kind == kinds[0]:
            body, end = tables[kind]
            (n,) = struct.unpack_from(">I", mm, body + 4)
            n = min(n, (end - body - 8) // width)
            return list(struct.unpack_from(f">{n}{fmt[1]}", mm, body + 8))
    return []


def _chunk_bytes(mm, tables: dict, sound: bool):
    """(first sample, count) -> bytes of those samples (0 past the table: the walk never over-reaches).

    A sound track whose `stsz` gives every sample 1 byte is QuickTime's uncompressed (or fixed
    packet) sound: the size means nothing there, and a chunk's bytes come from the sound sample
    description (RT22-6: half or more of a PCM track's bytes were taken for gaps)."""
    if b"stsz" in tables:
        body, end = tables[b"stsz"]
        fixed, n = struct.unpack_from(">II", mm, body + 4)
        if fixed == 1 and sound and (unit := _sound_unit(mm, tables)) is not None:
            frames, size = unit
            return lambda first, count: -(-min(count, max(0, n - first)) // frames) * size
        if fixed:
            return lambda first, count: fixed * min(count, max(0, n - first))
        n = max(0, min(n, (end - body - 12) // 4))  # a table cut short: as far as it goes
        sizes = np.frombuffer(mm, ">u4", n, body + 12).astype(np.int64)
    elif b"stz2" in tables:
        body, end = tables[b"stz2"]
        field, n = mm[body + 7], struct.unpack_from(">I", mm, body + 8)[0]
        raw = np.frombuffer(mm, np.uint8, max(0, end - body - 12), min(body + 12, end))
        if field == 4:
            sizes = np.stack([raw >> 4, raw & 15], axis=1).reshape(-1)[:n].astype(np.int64)
        else:
            width = ">u2" if field == 16 else np.uint8
            n = min(n, len(raw) // np.dtype(width).itemsize)
            sizes = np.frombuffer(raw.tobytes(), width, n).astype(np.int64)
    else:
        return lambda first, count: 0
    total = np.concatenate([[0], np.cumsum(sizes)])
    return lambda first, count: int(total[min(first + count, len(sizes))] - total[min(first, len(sizes))])


MAX_FRAME_BYTES = 64 * 8


def _sound_unit(mm, tables: dict) -> tuple[int, int] | None:
    """(sample frames, bytes) of one unit of a QuickTime sound track, from its first sample
    description: version 0 (channels x sample size), 1 (samples per packet, bytes per frame) or
    2 (LPCM frames and bytes per packet). None when it cannot be read."""
    if b"stsd" not in tables:
        return None
    body, end = tables[b"stsd"]
    desc = body + 8 + 16  # full box header + count, then the entry's size, type, reserved, index
    if desc + 20 > end:
        return None
    version, = struct.unpack_from(">H", mm, desc)
    channels, bits = struct.unpack_from(">HH", mm, desc + 8)
    unit = None
    if version == 0 and channels and bits:
        unit = 1, channels * max(1, bits // 8)
    elif version == 1 and desc + 36 <= end:
        per_packet, _bytes_per_packet, per_frame = struct.unpack_from(">III", mm, desc + 20)
        unit = (per_packet, per_frame) if per_packet and per_frame else None
    elif version == 2 and desc + 56 <= end:
        size, frames = struct.unpack_from(">II", mm, desc + 48)
        unit = (frames, size) if frames and size else None
    # over MAX_FRAME_BYTES a sample frame (64 channels of 64 bits) is not believed (RT23-4)
    return unit if unit is not None and unit[1] <= MAX_FRAME_BYTES * unit[0] else None


# ---------------------------------------------------------------- Matroska / WebM

_EBML, _SEGMENT, _CLUSTER, _BLOCK_GROUP = 0x1A45DFA3, 0x18538067, 0x1F43B675, 0xA0
_FRAMES = {0xA3, 0xA1}  # SimpleBlock, Block (in a BlockGroup)
_VOID, _TRACKS = 0xEC, 0x1654AE6B
# IDs that end a Cluster of unknown size (the Segment's own children).
_SEGMENT_CHILDREN = {0x114D9B74, 0x1549A966, 0x1654AE6B, 0x1C53BB6B, _CLUSTER, 0x1043A770, 0x1254C367, 0x1941A469}
# Cluster and BlockGroup children: timestamp, position, previous size, silent tracks, encrypted
# block; block additions, duration, reference priority and block, codec state, discard padding.
_CLUSTER_CHILDREN = {0xE7, 0xA7, 0xAB, 0x5854, 0xAF, 0x75A1, 0x9B, 0xFA, 0xFB, 0xA4, 0x75A2}
_KNOWN = _SEGMENT_CHILDREN | _CLUSTER_CHILDREN | {_EBML, _SEGMENT, _VOID, 0xBF}


_VINT_LENGTH = bytes(next((i for i in range(1, 9) if c & (0x80 >> (i - 1))), 0) for c in range(256))


def _vint(mm, pos: int, marker: bool) -> tuple[int, int] | None:
    """(value, length) of an EBML number at pos, or None if it cannot be read."""
    n = _VINT_LENGTH[mm[pos]] if pos < len(mm) else 0  # a table: each element of a million costs little
    if not n or pos + n > len(mm):
        return None
    value = int.from_bytes(mm[pos:pos + n], "big")
    return (value & ((1 << (7 * n)) - 1) if marker else value), n


def _element(mm, pos: int) -> tuple[int, int, int | None] | None:
    """(ID, body start, body end or None for an unknown size) of the element at pos."""
    if pos + 1 < len(mm) and mm[pos] & 0x80 and mm[pos + 1] & 0x80:  # one-byte ID and size: most elements
        return mm[pos], pos + 2, None if mm[pos + 1] == 0xFF else pos + 2 + (mm[pos + 1] & 0x7F)
    ident = _vint(mm, pos, False)
    size = _vint(mm, pos + ident[1], True) if ident else None
    if size is None:
        return None
    body = pos + ident[1] + size[1]
    return ident[0], body, None if size[0] == (1 << (7 * size[1])) - 1 else body + size[0]  # all ones: unknown


def _element_name(ident: int) -> str:
    return "a Matroska `Void` element" if ident == _VOID else f"a Matroska element of ID 0x{ident:X}"


def _matroska(mm) -> Iterator[Region]:
    """Everything but the frames; from where elements stop making sense, the rest of the file."""
    pos, end = 0, len(mm)
    while pos < end:
        found = _element(mm, pos)
        if found is None or (found[2] is not None and found[2] > end):
            yield pos, end, "bytes of the Matroska file that are not an element"
            return
        ident, body, stop = found
        stop = end if stop is None else stop
        if ident == _SEGMENT:
            pos = yield from _matroska_children(mm, body, stop, False, set())
        else:
            yield pos, stop, ("the Matroska EBML header" if ident == _EBML else _element_name(ident))
            pos = stop


def _matroska_children(mm, body: int, end: int, in_cluster: bool, tracks: set[int]):
    """Regions of a Segment's or a Cluster's children; returns where it ends (a Cluster of unknown
    size ends at the next Segment-level element). `tracks`: the track numbers the Tracks declare (a
    block of another track is played by no one: searched)."""
    pos = body
    while pos < end:
        found = _element(mm, pos)
        if found is None or (found[2] is not None and found[2] > end):
            yield pos, len(mm), "bytes of the Matroska file that are not an element"
            return len(mm)
        ident, cbody, stop = found
        if in_cluster and ident in _SEGMENT_CHILDREN:
            return pos  # a Cluster of unknown size ends here
        if stop is None and ident != _CLUSTER:
            yield pos, len(mm), f"{_element_name(ident)} of unknown size"
            return len(mm)
        if ident == _CLUSTER:
            pos = yield from _matroska_children(mm, cbody, end if stop is None else stop, True, tracks)
        elif ident in _FRAMES and in_cluster:
            track = _vint(mm, cbody, True)
            if tracks and (track is None or track[0] not in tracks):
                yield pos, stop, f"a Matroska block of track {track[0] if track else '?'}, which no track entry declares"
            pos = stop  # a frame or a sound packet
        elif ident == _BLOCK_GROUP and in_cluster:
            pos = yield from _matroska_children(mm, cbody, stop, True, tracks)
        else:
            if ident == _TRACKS:
                tracks.update(_track_numbers(mm, cbody, stop))
            yield pos, stop, _element_name(ident) if ident not in _KNOWN or ident == _VOID else "Matroska metadata"
            pos = stop
    return end


def _track_numbers(mm, body: int, end: int) -> set[int]:
    """The TrackNumber of every video or audio TrackEntry of a Tracks element. A track of another
    type (a logo, 0x10, which FFmpeg skips without a stream: RT22-9) is not decoded, so its
    blocks are searched like any bytes no frame or sound accounts for."""
    out = set()
    for entry, ebody, estop in _elements(mm, body, end):
        if entry == 0xAE:
            fields = {ident: int.from_bytes(mm[b:s], "big") for ident, b, s in _elements(mm, ebody, estop)
                      if ident in (0xD7, 0x83)}
            if 0xD7 in fields and fields.get(0x83) in (1, 2):
                out.add(fields[0xD7])
    return out


def _elements(mm, pos: int, end: int) -> Iterator[tuple[int, int, int]]:
    while pos < end:
        found = _element(mm, pos)
        if found is None or found[2] is None or found[2] > end:
            return
        yield found
        pos = found[2]


# ---------------------------------------------------------------- AVI


def _chunks(mm, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(fourcc, header start, body start, body end) of each RIFF chunk between start and end."""
    pos = start
    while pos + 8 <= end:
        kind, size = struct.unpack_from("<4sI", mm, pos)
        yield kind, pos, pos + 8, min(pos + 8 + size, end)
        pos += 8 + size + (size & 1)
    if pos < end:
        yield b"", pos, pos, end


def _avi(mm) -> Iterator[Region]:
    streams = 0
    for kind, at, body, end in _chunks(mm, 0, len(mm)):
        form = mm[body:body + 4]
        if kind != b"RIFF" or form not in (b"AVI ", b"AVIX"):
            yield at, end, f"a RIFF {form.decode('latin-1')!r} chunk after the AVI" if kind == b"RIFF" else \
                "bytes after the AVI that are not a chunk"
            continue
        for ckind, cat, cbody, cend in _chunks(mm, body + 4, end):
            if ckind == b"LIST" and mm[cbody:cbody + 4] == b"hdrl":
                streams += sum(1 for k, _, b, _ in _chunks(mm, cbody + 4, cend) if k == b"LIST" and mm[b:b + 4] == b"strl")
                yield cat, cend, "the AVI's headers"
            elif ckind == b"LIST" and mm[cbody:cbody + 4] == b"movi":
                yield from _movi(mm, cbody + 4, cend, streams)
            else:
                yield cat, cend, _chunk_name(ckind)


def _chunk_name(kind: bytes) -> str:
    return f"an AVI `{kind.decode('latin-1')}` chunk" if kind else "bytes of the AVI that are not a chunk"


def _movi(mm, start: int, end: int, streams: int) -> Iterator[Region]:
    for kind, at, body, cend in _chunks(mm, start, end):
        if kind == b"LIST" and mm[body:body + 4] == b"rec ":
            yield from _movi(mm, body + 4, cend, streams)
        elif kind[:2].isdigit() and int(kind[:2]) < streams and kind[2:] in (b"dc", b"db", b"wb"):
            continue  # a frame or sound chunk of a declared stream
        else:
            yield at, cend, _chunk_name(kind)
