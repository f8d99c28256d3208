"""Pictures in the bytes of a clip that no frame or sound accounts for (formats/clip_gaps.py): an
`mdat` gap no sample points to, a Matroska `Void` element or one of an unknown ID (in the Segment, in
a Cluster), an AVI `JUNK` or unknown chunk, a frame chunk of a stream no header declares, a RIFF of
another form after the AVI. Each picture found is screened as a view of the clip (the stand-in face,
a pure red square, is reported in it); one cut off makes the clip an error; bytes that are not part
of the container after its end stay an error. Each hostile clip has its control beside it."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from screening.formats import carried, clip_gaps
from screening.model import Status

from .clips import write_clip
from .test_redteam6 import backdrop, jpeg, with_face
from .test_video import config, screen  # noqa: F401

FORMATS = {".mp4": "MP4", ".mov": "MP4", ".webm": "MATROSKA", ".mkv": "MATROSKA", ".avi": "AVI"}


def _face_jpeg() -> bytes:
    return jpeg(with_face((160, 120), (60, 40)))


def _encoded(pixels: np.ndarray, fmt: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, fmt)
    return out.getvalue()


def _plain(tmp_path, suffix: str) -> bytes:
    return write_clip(tmp_path / f"plain{suffix}", 1.0).read_bytes()


def _gap_faces(d, place: str):
    return [r for r in d.reasons if r.kind.value == "unknown_face" and place in r.extra.get("view", "")]


def _found(tmp_path, config, name: str, data: bytes, place: str):
    """The clip needs permission for the stand-in face seen in the picture at `place`, and nothing
    else went wrong (every check complete)."""
    path = tmp_path / name
    path.write_bytes(data)
    s, d = screen(path, config)
    assert d.status is Status.NEEDS_PERMISSION, (d.reasons, [r.error for r in s.results if r.error])
    (reason,) = _gap_faces(d, place)
    assert reason.time == 0.0 and reason.box == (60, 40, 40, 40), reason
    assert "where no player looks" in reason.extra["view"], reason.extra["view"]
    assert all(r.complete for r in s.results), [r.error for r in s.results]
    return path


def _cleared(tmp_path, config, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    s, d = screen(path, config)
    assert d.status is Status.CLEARED, (d.reasons, [r.error for r in s.results if r.error])
    return path


def _error(tmp_path, config, name: str, data: bytes, words: str):
    path = tmp_path / name
    path.write_bytes(data)
    s, d = screen(path, config)
    assert d.status is Status.ERROR, d.reasons
    assert any(words in (r.error or "") for r in s.results), [r.error for r in s.results]


# ---------------------------------------------------------------- MP4 / MOV: mdat gaps


def _top(data: bytes) -> list[tuple[bytes, int, int]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        out.append((kind, pos, size))
        pos += size
    return out


def _in_mdat(data: bytes, extra: bytes, at_start: bool) -> bytes:
    """The clip with `extra` at the start or end of its `mdat` body (PyAV writes mdat before moov);
    at the start every chunk offset (stco) moves by as much."""
    (_, pos, size), = [b for b in _top(data) if b[0] == b"mdat"]
    out = bytearray(data[:pos] + struct.pack(">I", size + len(extra)) + data[pos + 4:pos + 8])
    body = data[pos + 8:pos + size]
    out += (extra + body) if at_start else (body + extra)
    out += data[pos + size:]
    if at_start:
        stco = out.find(b"stco")
        while stco >= 0:
            (n,) = struct.unpack_from(">I", out, stco + 8)
            for i in range(n):
                (v,) = struct.unpack_from(">I", out, stco + 12 + 4 * i)
                struct.pack_into(">I", out, stco + 12 + 4 * i, v + len(extra))
            stco = out.find(b"stco", stco + 4)
    return bytes(out)


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
@pytest.mark.parametrize("at_start", [False, True], ids=["after the samples", "before the samples"])
def test_a_face_jpeg_in_an_mdat_gap_is_screened_as_a_view(tmp_path, config, suffix, at_start):
    data = _in_mdat(_plain(tmp_path, suffix), b"\0" * 8 + _face_jpeg() + b"\0" * 8, at_start)
    path = _found(tmp_path, config, f"gap{suffix}", data, "`mdat` gap")
    (item,) = carried.clip_pictures(path, "MP4")
    assert "no sample of a picture or sound track points to" in item.where


@pytest.mark.parametrize("at_start", [False, True], ids=["after the samples", "before the samples"])
def test_control_zero_padding_in_an_mdat_gap_is_cleared(tmp_path, config, at_start):
    path = _cleared(tmp_path, config, "padded.mp4", _in_mdat(_plain(tmp_path, ".mp4"), b"\0" * 4096, at_start))
    gaps = clip_gaps.regions(path, "MP4")
    assert sum(b - a for a, b, _ in gaps) == 4096  # the padding is the one gap, and was searched


def test_control_the_samples_of_a_clip_leave_no_gap(tmp_path):
    for suffix in (".mp4", ".mov"):
        path = write_clip(tmp_path / f"audio{suffix}", 1.0, audio="aac")
        assert clip_gaps.regions(path, "MP4") == []


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "BMP", "WEBP"])
def test_a_face_picture_of_any_format_in_an_mdat_gap_is_found(tmp_path, config, fmt):
    picture = _encoded(with_face((160, 120), (60, 40)), fmt)
    _found(tmp_path, config, "gap.mp4", _in_mdat(_plain(tmp_path, ".mp4"), picture, False), "`mdat` gap")


def test_a_cut_off_picture_in_an_mdat_gap_makes_the_clip_an_error(tmp_path, config):
    face = _face_jpeg()
    _error(tmp_path, config, "cut.mp4", _in_mdat(_plain(tmp_path, ".mp4"), face[:len(face) // 2], False),
           "`mdat` gap")


def test_a_face_jpeg_after_the_last_box_that_is_not_a_box_makes_the_clip_an_error(tmp_path, config):
    _error(tmp_path, config, "after.mp4", _plain(tmp_path, ".mp4") + _face_jpeg(), "unrecognised data")


def _fragmented(tmp_path, flags: str) -> bytes:
    """A 2 s clip written as movie fragments (moof + mdat every 10 frames), as screen recorders do."""
    import av

    from .clips import scene

    path = tmp_path / "fragmented.mp4"
    background = scene((320, 240))
    with av.open(str(path), "w", format="mp4", options={"movflags": flags}) as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.gop_size = 10
        for i in range(50):
            for packet in stream.encode(av.VideoFrame.from_ndarray(background(i / 25), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path.read_bytes()


FRAGMENTED = ["frag_keyframe+empty_moov", "frag_keyframe+empty_moov+default_base_moof"]


def test_a_face_jpeg_as_the_sample_of_a_timecode_track_is_screened_as_a_view(tmp_path, config):
    """A QuickTime timecode track is allowed (video.Clip) and never decoded: its samples are searched."""
    data = write_clip(tmp_path / "tc.mov", 1.0, metadata={"timecode": "01:00:00:00"}).read_bytes()
    face = _face_jpeg()
    (_, pos, size), = [b for b in _top(data) if b[0] == b"mdat"]
    out = bytearray(_in_mdat(data, face, False))
    stsd = out.find(b"stsd")
    while out[stsd + 16:stsd + 20] != b"tmcd":
        stsd = out.find(b"stsd", stsd + 4)
    stsz, stco = out.find(b"stsz", stsd), out.find(b"stco", stsd)
    assert struct.unpack_from(">II", out, stsz + 8) == (4, 1) and struct.unpack_from(">I", out, stco + 8) == (1,)
    struct.pack_into(">I", out, stsz + 8, len(face))  # the one sample: the face, at the end of mdat
    struct.pack_into(">I", out, stco + 12, pos + size)
    _found(tmp_path, config, "timecode.mov", bytes(out), "`mdat` gap")


@pytest.mark.parametrize("flags", FRAGMENTED)
def test_a_face_jpeg_in_an_mdat_gap_of_a_fragmented_clip_is_screened_as_a_view(tmp_path, config, flags):
    data = _fragmented(tmp_path, flags)
    assert b"moof" in data
    pos = data.rindex(b"mdat") - 4
    (size,) = struct.unpack_from(">I", data, pos)
    assert pos + size < len(data)  # an mfra box follows: only the mdat grows
    face = _face_jpeg()
    grown = data[:pos] + struct.pack(">I", size + len(face)) + data[pos + 4:pos + size] + face + data[pos + size:]
    _found(tmp_path, config, "fragmented_gap.mp4", grown, "`mdat` gap")


@pytest.mark.parametrize("flags", FRAGMENTED)
def test_control_the_fragments_of_a_fragmented_clip_leave_no_gap(tmp_path, flags):
    path = tmp_path / "f.mp4"
    path.write_bytes(_fragmented(tmp_path, flags))
    assert clip_gaps.regions(path, "MP4") == []


# ---------------------------------------------------------------- Matroska / WebM


def _ebml(ident: bytes, body: bytes) -> bytes:
    return ident + b"\x01" + len(body).to_bytes(7, "big") + body


def _grown(data: bytes, at: int, id_len: int, delta: int) -> bytes:
    """The element at `at` (its ID `id_len` bytes) declared `delta` bytes larger, same size length."""
    first = data[at + id_len]
    n = next(i for i in range(1, 9) if first & (0x80 >> (i - 1)))
    size = int.from_bytes(bytes([first & (0xFF >> n)]) + data[at + id_len + 1:at + id_len + n], "big") + delta
    raw = bytearray(size.to_bytes(n, "big"))
    raw[0] |= 0x80 >> (n - 1)
    return data[:at + id_len] + bytes(raw) + data[at + id_len + n:]


def _in_segment(data: bytes, element: bytes) -> bytes:
    """The clip with `element` at the end of its Segment (FFmpeg writes the Segment last)."""
    return _grown(data, data.index(b"\x18\x53\x80\x67"), 4, len(element)) + element


def _in_last_cluster(data: bytes, element: bytes) -> bytes:
    """The clip with `element` at the end of its last Cluster (what follows it moves)."""
    at = data.rindex(b"\x1f\x43\xb6\x75")
    first = data[at + 4]
    n = next(i for i in range(1, 9) if first & (0x80 >> (i - 1)))
    size = int.from_bytes(bytes([first & (0xFF >> n)]) + data[at + 5:at + 4 + n], "big")
    end = at + 4 + n + size
    grown = _grown(data[:end] + element + data[end:], at, 4, len(element))
    return _grown(grown, grown.index(b"\x18\x53\x80\x67"), 4, len(element))


PLACES = {
    "a Void element in the Segment": (lambda d, pic: _in_segment(d, _ebml(b"\xec", pic)), "`Void` element"),
    "an element of unknown ID in the Segment": (lambda d, pic: _in_segment(d, _ebml(b"\x7b\xcd", pic)), "ID 0x7BCD"),
    "a Void element in a Cluster": (lambda d, pic: _in_last_cluster(d, _ebml(b"\xec", pic)), "`Void` element"),
    "an element of unknown ID in a Cluster": (lambda d, pic: _in_last_cluster(d, _ebml(b"\x7b\xcd", pic)),
                                              "ID 0x7BCD"),
}


@pytest.mark.parametrize("suffix", [".webm", ".mkv"])
@pytest.mark.parametrize("place", PLACES)
def test_a_face_jpeg_in_a_matroska_element_no_player_reads_is_screened_as_a_view(tmp_path, config, suffix, place):
    put, label = PLACES[place]
    _found(tmp_path, config, f"hidden{suffix}", put(_plain(tmp_path, suffix), b"\0" * 5 + _face_jpeg()), label)


@pytest.mark.parametrize("suffix", [".webm", ".mkv"])
def test_a_face_jpeg_in_a_block_of_a_track_no_entry_declares_is_screened_as_a_view(tmp_path, config, suffix):
    """FFmpeg skips such a block (WebM: with a warning, which makes the clip an error anyway)."""
    data = _in_last_cluster(_plain(tmp_path, suffix), _ebml(b"\xa3", b"\x85\x00\x00\x80" + _face_jpeg()))
    path = tmp_path / f"track5{suffix}"
    path.write_bytes(data)
    s, d = screen(path, config)
    assert d.status is not Status.CLEARED
    (reason,) = _gap_faces(d, "block of track 5, which no track entry declares")
    assert reason.box == (60, 40, 40, 40)


@pytest.mark.parametrize("place", PLACES)
def test_control_a_matroska_element_of_zeros_or_a_plain_picture_is_cleared(tmp_path, config, place):
    put, _ = PLACES[place]
    _cleared(tmp_path, config, "zeros.webm", put(_plain(tmp_path, ".webm"), b"\0" * 2048))
    path = _cleared(tmp_path, config, "plain_picture.webm", put(_plain(tmp_path, ".webm"), jpeg(backdrop((160, 120)))))
    assert len(carried.clip_pictures(path, "MATROSKA")) == 1  # found, screened, nothing in it


def test_a_face_jpeg_after_the_last_matroska_segment_is_not_cleared(tmp_path, config):
    _error(tmp_path, config, "after.webm", _plain(tmp_path, ".webm") + _face_jpeg(), "after the Matroska segment")
    _error(tmp_path, config, "after_element.webm", _plain(tmp_path, ".webm") + _ebml(b"\xec", _face_jpeg()),
           "after the Matroska segment")


def test_a_face_jpeg_in_the_ebml_header_is_screened_as_a_view(tmp_path, config):
    data = _plain(tmp_path, ".webm")
    first = data[4]
    n = next(i for i in range(1, 9) if first & (0x80 >> (i - 1)))
    end = 4 + n + int.from_bytes(bytes([first & (0xFF >> n)]) + data[5:4 + n], "big")
    header = _ebml(data[:4], data[4 + n:end] + _ebml(b"\xec", _face_jpeg()))
    _found(tmp_path, config, "header.webm", header + data[end:], "EBML header")


# ---------------------------------------------------------------- AVI


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack("<4sI", kind, len(body)) + body + b"\0" * (len(body) & 1)


def _in_riff(data: bytes, chunk: bytes) -> bytes:
    (size,) = struct.unpack_from("<I", data, 4)
    assert 8 + size == len(data)
    return data[:4] + struct.pack("<I", size + len(chunk)) + data[8:] + chunk


def _in_movi(data: bytes, chunk: bytes) -> bytes:
    """The clip with `chunk` at the end of its `movi` list (idx1, after it, moves; its offsets do not)."""
    at = data.index(b"LIST", data.index(b"movi") - 12)
    (size,) = struct.unpack_from("<I", data, at + 4)
    end = at + 8 + size
    out = data[:at + 4] + struct.pack("<I", size + len(chunk)) + data[at + 8:end] + chunk + data[end:]
    (riff,) = struct.unpack_from("<I", out, 4)
    return out[:4] + struct.pack("<I", riff + len(chunk)) + out[8:]


AVI_PLACES = {
    "a JUNK chunk": (lambda d, pic: _in_riff(d, _chunk(b"JUNK", pic)), "`JUNK` chunk"),
    "an unknown chunk": (lambda d, pic: _in_riff(d, _chunk(b"zzzz", pic)), "`zzzz` chunk"),
    "a JUNK chunk in movi": (lambda d, pic: _in_movi(d, _chunk(b"JUNK", pic)), "`JUNK` chunk"),
    "a frame chunk of a stream no header declares": (lambda d, pic: _in_movi(d, _chunk(b"05dc", pic)), "`05dc` chunk"),
}


@pytest.mark.parametrize("place", AVI_PLACES)
def test_a_face_jpeg_in_an_avi_chunk_no_player_reads_is_screened_as_a_view(tmp_path, config, place):
    put, label = AVI_PLACES[place]
    _found(tmp_path, config, "hidden.avi", put(_plain(tmp_path, ".avi"), _face_jpeg()), label)


@pytest.mark.parametrize("place", AVI_PLACES)
def test_control_an_avi_chunk_of_zeros_or_a_plain_picture_is_cleared(tmp_path, config, place):
    put, _ = AVI_PLACES[place]
    _cleared(tmp_path, config, "zeros.avi", put(_plain(tmp_path, ".avi"), b"\0" * 2048))
    path = _cleared(tmp_path, config, "plain_picture.avi", put(_plain(tmp_path, ".avi"), jpeg(backdrop((160, 120)))))
    assert len(carried.clip_pictures(path, "AVI")) == 1


def test_a_face_webp_riff_after_the_avi_riff_is_screened_as_a_view(tmp_path, config):
    webp = _encoded(with_face((160, 120), (60, 40)), "WEBP")
    assert webp.startswith(b"RIFF")
    _found(tmp_path, config, "webp_after.avi", _plain(tmp_path, ".avi") + webp, "RIFF 'WEBP' chunk after the AVI")


def test_a_face_jpeg_after_the_avi_riff_that_is_not_a_chunk_is_not_cleared(tmp_path, config):
    _error(tmp_path, config, "after.avi", _plain(tmp_path, ".avi") + _face_jpeg(), "after the AVI chunks")


def test_control_clips_of_every_container_carry_no_picture(tmp_path):
    for suffix, fmt in FORMATS.items():
        path = write_clip(tmp_path / f"c{suffix}", 1.0, audio={".webm": "libopus", ".avi": "pcm_s16le"}.get(suffix, "aac"))
        assert carried.clip_pictures(path, fmt) == [], suffix


# ---------------------------------------------------------------- XMP base64 pictures


def _xmp_thumbnail(picture: bytes) -> bytes:
    from .test_png_text_pictures import xmp_thumbnail_packet

    return b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>' + xmp_thumbnail_packet(picture) + b'<?xpacket end="w"?>'


def test_a_face_as_an_xmp_thumbnail_in_a_matroska_void_is_screened_as_a_view(tmp_path, config):
    data = _in_segment(_plain(tmp_path, ".webm"), _ebml(b"\xec", _xmp_thumbnail(_face_jpeg())))
    _found(tmp_path, config, "xmp_void.webm", data, "written in base64")


def test_a_face_as_an_xmp_thumbnail_in_an_mdat_gap_is_screened_as_a_view(tmp_path, config):
    data = _in_mdat(_plain(tmp_path, ".mp4"), _xmp_thumbnail(_face_jpeg()), False)
    _found(tmp_path, config, "xmp_gap.mp4", data, "written in base64")


def test_a_face_as_an_xmp_thumbnail_in_a_clips_uuid_box_stays_an_error(tmp_path, config):
    """RT9-21 as it was: a clip's own XMP holding a picture is not cleared (an error naming it)."""
    from .test_video import _box

    xmp_uuid = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
    data = _plain(tmp_path, ".mp4") + _box(b"uuid", xmp_uuid + _xmp_thumbnail(_face_jpeg()))
    path = tmp_path / "xmp_uuid.mp4"
    path.write_bytes(data)
    s, d = screen(path, config)
    assert d.status is Status.ERROR and any("holds a picture" in (r.error or "") for r in s.results), d.reasons


def test_sample_tables_cut_short_give_what_they_hold_and_never_read_past_the_box():
    """A hostile `stsz`/`stz2` shorter than its header, or a `trun` with per-sample fields and no
    room for them: sizes end where the box ends (no negative counts handed to numpy)."""
    import struct

    from screening.formats import clip_gaps

    data = b"\x00" * 4 + struct.pack(">II", 0, 5) + b"\xff" * 8  # an stsz box ending at its count
    sizes = clip_gaps._chunk_bytes(data, {b"stsz": (0, 8)}, sound=False)
    assert sizes(0, 5) == 0  # the 0xff bytes after the box are not sizes
    stz2 = b"\x00" * 4 + b"\x00\x00\x00\x04" + struct.pack(">I", 9)
    assert clip_gaps._chunk_bytes(stz2, {b"stz2": (0, 6)}, sound=False)(0, 9) == 0
    moof = struct.pack(">I4s", 8 + 8 + 16, b"traf") + struct.pack(">I4s", 16, b"trun") + \
        struct.pack(">II", 0x201, 1000)  # per-sample sizes and a data offset, and no room for either
    runs = clip_gaps._fragment_samples(moof, 0, 0, len(moof), {})
    assert all(b - a == 0 for a, b in runs), runs
