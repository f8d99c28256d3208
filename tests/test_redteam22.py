"""Red team 22: clip gaps (formats/clip_gaps.py), pictures in PNG text (formats/png.py).
SAFE cases assert the safe outcome beside a control; UNSAFE ones are strict xfails (RT22-N)."""

from __future__ import annotations

import base64
import io
import struct
import subprocess
import sys
import textwrap
import zlib

import pytest
from PIL import Image, PngImagePlugin

from screening.formats import clip_gaps
from screening.model import Status

from .clips import write_clip
from .test_carried_gaps import _cleared, _found, _fragmented, _face_jpeg
from .test_redteam6 import backdrop, verdict
from .test_video import config, screen  # noqa: F401


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full(kind: bytes, flags: int, body: bytes) -> bytes:
    return _box(kind, struct.pack(">I", flags) + body)


# ---------------------------------------------------------------- (1) ordinary clips stay cleared


@pytest.mark.parametrize("suffix", [".mkv", ".avi", ".mov"])
def test_safe_ordinary_clip_with_sound_is_cleared(tmp_path, config, suffix):
    path = write_clip(tmp_path / f"sound{suffix}", 1.0, audio="aac" if suffix != ".avi" else "pcm_s16le")
    _cleared(tmp_path, config, f"copy{suffix}", path.read_bytes())


def test_safe_fragmented_clip_with_sidx_is_cleared(tmp_path, config):
    data = _fragmented(tmp_path, "frag_keyframe+empty_moov+default_base_moof+global_sidx")
    _cleared(tmp_path, config, "sidx.mp4", data)


# ---------------------------------------------------------------- RT22-6: QuickTime PCM, stsz size 1


def _legacy_pcm_mov(tmp_path) -> bytes:
    """A MOV with 'sowt' PCM sound whose stsz gives the legacy constant sample size 1 (QuickTime's
    uncompressed version-0/1 sound: a 'sample' is one PCM frame, its bytes come from the stsd);
    FFmpeg ignores the stsz size for it and plays the clip as before."""
    data = bytearray(write_clip(tmp_path / "pcm.mov", 1.0, audio="pcm_s16le").read_bytes())
    stsz = data.find(b"stsz", data.find(b"sowt"))
    assert struct.unpack_from(">I", data, stsz + 8)[0] == 2
    struct.pack_into(">I", data, stsz + 8, 1)
    return bytes(data)


def test_safe_legacy_pcm_mov_is_still_cleared(tmp_path, config):
    _cleared(tmp_path, config, "legacy.mov", _legacy_pcm_mov(tmp_path))


# RT22-6 (fixed: a QuickTime sound track's chunk bytes come from its sound description, clip_gaps._chunk_bytes)
def test_unsafe_legacy_pcm_sound_is_counted_as_gaps(tmp_path):
    path = tmp_path / "legacy.mov"
    path.write_bytes(_legacy_pcm_mov(tmp_path))
    assert clip_gaps.regions(path, "MP4") == []


# ---------------------------------------------------------------- (2) RT22-1: a trun of no track


def _foreign_fragment(picture: bytes, track: int = 99) -> bytes:
    """A moof + mdat whose one traf, of a track ID no trak declares, places `picture` as a sample.
    FFmpeg skips a traf of an unknown track; clip_gaps counts its samples as frames."""
    tfhd = _full(b"tfhd", 0x020000, struct.pack(">I", track))           # default-base-is-moof
    def moof(offset: int) -> bytes:
        trun = _full(b"trun", 0x000201, struct.pack(">Ii", 1, offset) + struct.pack(">I", len(picture)))
        return _box(b"moof", _full(b"mfhd", 0, struct.pack(">I", 999)) + _box(b"traf", tfhd + trun))
    size = len(moof(0))
    return moof(size + 8) + _box(b"mdat", picture)


def _before_mfra(data: bytes, extra: bytes) -> bytes:
    at = data.rindex(b"mfra") - 4
    return data[:at] + extra + data[at:]


def test_control_a_face_in_an_unclaimed_trailing_fragment_is_found(tmp_path, config):
    data = _fragmented(tmp_path, "frag_keyframe+empty_moov+default_base_moof")
    _found(tmp_path, config, "ctl.mp4", _before_mfra(data, _box(b"mdat", _face_jpeg())), "`mdat` gap")


def test_safe_face_jpeg_claimed_by_a_fragment_of_no_track_is_an_error(tmp_path, config):
    """clip_gaps counts a trun of a track no trak declares as frames, but FFmpeg refuses the file."""
    data = _fragmented(tmp_path, "frag_keyframe+empty_moov+default_base_moof")
    path = tmp_path / "foreign.mp4"
    path.write_bytes(_before_mfra(data, _foreign_fragment(_face_jpeg())))
    assert clip_gaps.regions(path, "MP4") == []  # the face is taken for frames...
    s, d = screen(path, config)
    assert d.status is Status.ERROR, d.reasons  # ...but the clip does not open


# ---------------------------------------------------------------- (3) RT22-2: trun count blow-up


_PROBE = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    from pathlib import Path
    from screening.formats import clip_gaps
    from screening.formats.common import MetadataError
    try:
        clip_gaps.regions(Path(sys.argv[1]), "MP4")
    except MetadataError:
        pass
    print("done")
""")


# RT22-2 (fixed: a trun is one run of bytes; no per-sample list)
def test_unsafe_trun_with_a_huge_count_and_no_fields(tmp_path):
    data = _fragmented(tmp_path, "frag_keyframe+empty_moov+default_base_moof")
    tfhd = _full(b"tfhd", 0x020010, struct.pack(">II", 1, 1))  # default sample size 1
    trun = _full(b"trun", 0, struct.pack(">I", 20_000_000))  # FFmpeg opens this clip (48 frames, 0.8 GB)
    path = tmp_path / "huge.mp4"
    path.write_bytes(_before_mfra(data, _box(b"moof", _full(b"mfhd", 0, struct.pack(">I", 999)) + _box(b"traf", tfhd + trun))
                     + _box(b"mdat", b"\0" * 16)))
    try:
        out = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, timeout=8)
    except subprocess.TimeoutExpired:
        pytest.fail("clip_gaps.regions still running after 8 s")
    assert "done" in out.stdout, out.stderr[-500:]


# ---------------------------------------------------------------- PNG text: base64 pictures


def _png_text(key: str, value: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _faces(tmp_path, config, data: bytes):
    path = tmp_path / "t.png"
    path.write_bytes(data)
    s, d = verdict(path, config)
    return d


def test_control_plain_base64_face_in_text_is_found(tmp_path, config):
    d = _faces(tmp_path, config, _png_text("Comment", base64.b64encode(_face_jpeg()).decode()))
    assert d.status is Status.NEEDS_PERMISSION, d.reasons


def test_safe_png_with_hash_like_tokens_is_cleared(tmp_path, config):
    import hashlib
    tokens = " ".join("Qk" + base64.b64encode(hashlib.sha512(bytes([i])).digest()).decode() for i in range(50))
    tokens += " SUkqA" + base64.b64encode(hashlib.sha256(b"x").digest() * 3).decode()
    d = _faces(tmp_path, config, _png_text("Comment", "sha512 " + tokens))
    assert d.status is Status.CLEARED, d.reasons


# RT22-3 (fixed: text is decoded in every alignment and searched for a picture anywhere, formats/textpictures.py)
def test_unsafe_base64_picture_not_at_the_start_of_the_decoded_bytes(tmp_path, config):
    d = _faces(tmp_path, config, _png_text("Comment", base64.b64encode(b"\x00" + _face_jpeg()).decode()))
    assert d.status is not Status.CLEARED, d.reasons


# RT22-4 (fixed: the URL-safe alphabet is read, formats/textpictures.py)
def test_unsafe_urlsafe_base64_picture(tmp_path, config):
    d = _faces(tmp_path, config, _png_text("Comment", base64.urlsafe_b64encode(_face_jpeg()).decode()))
    assert d.status is not Status.CLEARED, d.reasons


# RT22-5 (fixed: white space anywhere in the text is skipped, formats/textpictures.py)
def test_unsafe_base64_picture_in_indented_lines(tmp_path, config):
    text = base64.b64encode(_face_jpeg()).decode()
    d = _faces(tmp_path, config, _png_text("Comment", "\n  ".join(text[i:i + 76] for i in range(0, len(text), 76))))
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- RT22-7: a JPEG wrapped around the frames


def _straddling(tmp_path) -> bytes:
    """SOI + an APP1 segment whose body is every sample of the mdat, then the rest of a face JPEG:
    from its SOI the bytes are one valid JPEG (the frames are its APP1 payload, which decoders skip),
    as a carver (foremost, binwalk) or `dd` from the SOI recovers it; the mdat's two gaps each hold
    only part of it."""
    from .test_carried_gaps import _in_mdat, _top
    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    (_, _, size), = [b for b in _top(data) if b[0] == b"mdat"]
    samples = size - 8
    assert samples + 2 < 65536
    face = _face_jpeg()
    prefix = b"\xff\xd8\xff\xe1" + struct.pack(">H", samples + 2)
    grown = _in_mdat(_in_mdat(data, prefix, True), face[2:], False)
    start = grown.index(prefix)
    carved = grown[start:start + len(prefix) + samples + len(face) - 2]
    Image.open(io.BytesIO(carved)).load()  # the carved JPEG decodes: the face is there
    return grown


def test_control_the_face_jpeg_whole_in_one_gap_is_found(tmp_path, config):
    from .test_carried_gaps import _in_mdat
    _found(tmp_path, config, "whole.mp4", _in_mdat(write_clip(tmp_path / "p.mp4", 1.0).read_bytes(),
                                                   _face_jpeg(), False), "`mdat` gap")


# RT22-7 (fixed: a picture that begins in a gap and counts only with the bytes after it, as a decoder
# reading the file from there reads it, is cut off for the search: an error, carried._found_in)
def test_unsafe_jpeg_wrapped_around_the_frames(tmp_path, config):
    path = tmp_path / "wrapped.mp4"
    path.write_bytes(_straddling(tmp_path))
    s, d = screen(path, config)
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- base64 picture in a clip's tag


# RT22-8 (fixed: every box and region searched is read as text too, carried._found_in)
@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_unsafe_base64_face_in_a_clip_comment_tag(tmp_path, config, suffix):
    """PNG text is decoded from base64 (png._text_pictures); a clip's comment tag is not."""
    path = write_clip(tmp_path / f"tag{suffix}", 1.0,
                      metadata={"comment": base64.b64encode(_face_jpeg()).decode()})
    s, d = screen(path, config)
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- AVI: a PNG in a LIST chunk


def test_safe_face_png_in_an_avi_list_info_chunk_is_found(tmp_path, config):
    data = bytearray(write_clip(tmp_path / "p.avi", 1.0).read_bytes())
    out = io.BytesIO()
    from .test_redteam6 import with_face
    Image.fromarray(with_face((160, 120), (60, 40))).save(out, "PNG")
    body = b"INFO" + b"ICMT" + struct.pack("<I", len(out.getvalue())) + out.getvalue()
    body += b"\0" * (len(body) & 1)
    data += b"LIST" + struct.pack("<I", len(body)) + body
    struct.pack_into("<I", data, 4, len(data) - 8)
    _found(tmp_path, config, "list.avi", bytes(data), "LIST")


# ---------------------------------------------------------------- RT22-9: Matroska track FFmpeg drops


def _ebml_size(n: int) -> bytes:
    return bytes([0x01]) + n.to_bytes(7, "big")


def _el(ident: bytes, body: bytes) -> bytes:
    return ident + _ebml_size(len(body))


def _positions(data, pos: int):
    while pos < len(data):
        yield pos
        found = clip_gaps._element(data, pos)
        if found is None or found[2] is None:
            return
        pos = found[2]


def _mkv_with_block(tmp_path, picture: bytes, track_type: int | None, block_track: int = 2) -> bytes:
    """The clip with a TrackEntry (number 2, of `track_type`; none if None) added to its Tracks and a
    Cluster at the end whose one SimpleBlock (of `block_track`) is `picture`; the sizes of Tracks and
    Segment are rewritten (8-byte sizes), the positions after Tracks move (FFmpeg reads on)."""
    data = bytearray(write_clip(tmp_path / "plain.mkv", 1.0).read_bytes())
    seg = data.index(bytes.fromhex("18538067"))
    _, seg_body, _ = clip_gaps._element(data, seg)
    tracks = next(at for at in _positions(data, seg_body) if data[at:at + 4] == bytes.fromhex("1654AE6B"))
    if track_type is not None:
        entry = bytes.fromhex("D78102") + bytes.fromhex("73C58102") + bytes([0x83, 0x81, track_type]) + \
            bytes.fromhex("86") + bytes([0x80 | 6]) + b"L_LOGO"
        entry = bytes([0xAE, 0x80 | len(entry)]) + entry
        _, body, end = clip_gaps._element(data, tracks)
        size_at, width = tracks + 4, body - tracks - 4
        data[end:end] = entry
        data[size_at:body] = ((1 << (7 * width)) | (end - body + len(entry))).to_bytes(width, "big")
    block = bytes([0xA3]) + _ebml_size(4 + len(picture)) + bytes([0x80 | block_track]) + b"\0\0\x80" + picture
    cluster = bytes.fromhex("1F43B675") + _ebml_size(3 + len(block)) + bytes.fromhex("E78100") + block
    data += cluster
    _, body, _ = clip_gaps._element(data, seg)
    width = body - seg - 4
    data[seg + 4:body] = ((1 << (8 * width - width)) | (len(data) - body)).to_bytes(width, "big")
    return bytes(data)


def test_control_face_block_of_an_undeclared_track_is_found(tmp_path, config):
    path = tmp_path / "undeclared.mkv"
    path.write_bytes(_mkv_with_block(tmp_path, _face_jpeg(), None))
    s, d = screen(path, config)
    assert d.status is Status.ERROR and any("no track entry declares" in r.extra.get("view", "")
                                            for r in d.reasons if r.kind.value == "unknown_face"), d.reasons


# RT22-9 (fixed: only video and audio tracks' blocks count as frames, clip_gaps._track_numbers)
def test_unsafe_face_block_of_a_track_ffmpeg_skips(tmp_path, config):
    path = tmp_path / "logo.mkv"
    path.write_bytes(_mkv_with_block(tmp_path, _face_jpeg(), 0x10))
    s, d = screen(path, config)
    assert d.status is not Status.CLEARED, (d.reasons, [r.error for r in s.results if r.error])


# ---------------------------------------------------------------- RT22-10: a JPEG in a frame's filler NAL


def _sei(payload: bytes) -> bytes:
    """An SEI NAL with one user_data_unregistered message carrying `payload`."""
    body = b"\x00" * 16 + payload
    size, n = b"", len(body)
    while n >= 255:
        size, n = size + b"\xff", n - 255
    return b"\x06\x05" + size + bytes([n]) + body + b"\x80"


def _jpeg_in_first_sample(tmp_path, kind: str = "filler") -> bytes:
    """The first video sample grown by a leading H.264 filler-data NAL (type 12) whose payload is a
    face JPEG: decoders skip the NAL, clip_gaps counts it among the frame's bytes, a carver finds it."""
    from .test_carried_gaps import _in_mdat
    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    nal = b"\x0c" + _face_jpeg() if kind == "filler" else _sei(_face_jpeg())
    extra = struct.pack(">I", len(nal)) + nal
    out = bytearray(_in_mdat(data, extra, True))
    stco, stsz = out.find(b"stco"), out.find(b"stsz")
    (first,) = struct.unpack_from(">I", out, stco + 12)
    struct.pack_into(">I", out, stco + 12, first - len(extra))
    fixed, _n = struct.unpack_from(">II", out, stsz + 8)
    assert fixed == 0
    (size,) = struct.unpack_from(">I", out, stsz + 16)
    struct.pack_into(">I", out, stsz + 16, size + len(extra))
    return bytes(out)


@pytest.mark.parametrize("kind", ["filler", "sei"])
def test_safe_face_jpeg_in_a_nal_of_a_frame_is_an_error(tmp_path, config, kind):
    """clip_gaps counts the NAL among the frame's bytes (not searched), but a JPEG holds 00 00 0x
    runs that end a NAL for FFmpeg, which then reports damage: the clip is an error, not cleared."""
    path = tmp_path / "nal.mp4"
    path.write_bytes(_jpeg_in_first_sample(tmp_path, kind))
    assert clip_gaps.regions(path, "MP4") == []
    s, d = screen(path, config)
    assert d.status is Status.ERROR, (d.reasons, [r.error for r in s.results if r.error])


# ---------------------------------------------------------------- RT22-11: a second Segment


def _second_segment(tmp_path, picture: bytes) -> bytes:
    """The clip followed by a second Segment: a copy of its Tracks and a Cluster whose SimpleBlock
    of track 1 is `picture` (mkvmerge/mkvextract treat it as a linked segment; FFmpeg plays the first)."""
    data = write_clip(tmp_path / "plain.mkv", 1.0).read_bytes()
    seg = data.index(bytes.fromhex("18538067"))
    _, seg_body, _ = clip_gaps._element(data, seg)
    tracks = next(at for at in _positions(data, seg_body) if data[at:at + 4] == bytes.fromhex("1654AE6B"))
    tracks_end = clip_gaps._element(data, tracks)[2]
    block = bytes([0xA3]) + _ebml_size(4 + len(picture)) + b"\x81\0\0\x80" + picture
    cluster = bytes.fromhex("1F43B675") + _ebml_size(3 + len(block)) + bytes.fromhex("E78100") + block
    body = data[tracks:tracks_end] + cluster
    return data + bytes.fromhex("18538067") + _ebml_size(len(body)) + body


def test_safe_face_block_in_a_second_segment_is_an_error(tmp_path, config):
    """clip_gaps counts the block as a frame, but FFmpeg reads on into the second Segment and the
    VP9 decoder refuses the JPEG: an error."""
    path = tmp_path / "two.mkv"
    path.write_bytes(_second_segment(tmp_path, _face_jpeg()))
    s, d = screen(path, config)
    assert d.status is Status.ERROR, (d.reasons, [r.error for r in s.results if r.error])


# ---------------------------------------------------------------- RT22-12: millions of tiny elements


# RT22-12 (fixed: adjacent regions are merged as the walk yields them, clip_gaps.regions)
def test_unsafe_many_tiny_void_elements_make_as_many_regions(tmp_path):
    data = bytearray(write_clip(tmp_path / "plain.mkv", 1.0).read_bytes())
    voids = b"\xec\x80" * 200_000
    data += bytes.fromhex("1F43B675") + _ebml_size(3 + len(voids)) + bytes.fromhex("E78100") + voids
    seg = data.index(bytes.fromhex("18538067"))
    _, body, _ = clip_gaps._element(data, seg)
    width = body - seg - 4
    data[seg + 4:body] = ((1 << (7 * width)) | (len(data) - body)).to_bytes(width, "big")
    path = tmp_path / "voids.mkv"
    path.write_bytes(bytes(data))
    assert len(clip_gaps.regions(path, "MATROSKA")) < 1000


# ---------------------------------------------------------------- RT22-13/14: XMP data: URI, hex text


def _xmp_png(value: str) -> bytes:
    from .test_png_text_pictures import xmp_thumbnail_packet
    packet = xmp_thumbnail_packet(b"PLACEHOLDER").decode()
    packet = packet.replace(base64.b64encode(b"PLACEHOLDER").decode(), value)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet)
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def test_control_plain_base64_face_in_xmp_is_found(tmp_path, config):
    d = _faces(tmp_path, config, _xmp_png(base64.b64encode(_face_jpeg()).decode()))
    assert d.status is Status.NEEDS_PERMISSION, d.reasons


# RT22-13 (fixed: a base64 picture run inside an XMP property's text is read, xmp.xmp_images)
def test_unsafe_data_uri_face_in_xmp(tmp_path, config):
    d = _faces(tmp_path, config, _xmp_png("data:image/jpeg;base64," + base64.b64encode(_face_jpeg()).decode()))
    assert d.status is not Status.CLEARED, d.reasons


# RT22-14 (fixed: hex is read too, formats/textpictures.py)
def test_unsafe_hex_face_in_png_text(tmp_path, config):
    d = _faces(tmp_path, config, _png_text("Comment", _face_jpeg().hex()))
    assert d.status is not Status.CLEARED, d.reasons


_TINY_XMP = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
             '<rdf:Description/></rdf:RDF></x:xmpmeta>')


# RT22-15 (fixed: a chunk's whole text is searched, XMP packets and all)
def test_unsafe_base64_face_beside_a_tiny_xmp_packet_in_a_comment(tmp_path, config):
    d = _faces(tmp_path, config, _png_text("Comment", _TINY_XMP + "\n" + base64.b64encode(_face_jpeg()).decode()))
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- RT22-16: stco and co64 both


def _parse(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        out.append((kind, data[pos + 8:pos + size]))
        pos += size
    return out


def _decoy_stco(tmp_path) -> bytes:
    """A face JPEG at the end of the mdat; the video track's stbl gets a decoy `stco` whose chunks all
    start at the JPEG, after its real offsets as a `co64` (FFmpeg keeps the first table, ignoring a
    duplicated one)."""
    from .test_carried_gaps import _in_mdat, _top
    plain = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    (_, pos, size), = [b for b in _top(plain) if b[0] == b"mdat"]
    face = _face_jpeg()
    data = _in_mdat(plain, face, False)
    jpeg_at = pos + size

    def rebuild(kind: bytes, body: bytes) -> bytes:
        if kind in (b"moov", b"trak", b"mdia", b"minf"):
            body = b"".join(rebuild(k, b) for k, b in _parse(body))
        elif kind == b"stbl":
            kids = _parse(body)
            (stco,) = [b for k, b in kids if k == b"stco"]
            (n,) = struct.unpack_from(">I", stco, 4)
            offsets = struct.unpack_from(f">{n}I", stco, 8)
            decoy = _full(b"stco", 0, struct.pack(">I", n) + struct.pack(">I", jpeg_at) * n)
            real = _full(b"co64", 0, struct.pack(">I", n) + b"".join(struct.pack(">Q", o) for o in offsets))
            body = b"".join(_box(k, b) for k, b in kids if k != b"stco") + real + decoy
        return _box(kind, body)

    (_, moov_at, moov_size), = [b for b in _top(data) if b[0] == b"moov"]
    assert moov_at > pos  # moov after mdat: no offset moves
    moov = rebuild(b"moov", data[moov_at + 8:moov_at + moov_size])
    return data[:moov_at] + moov + data[moov_at + moov_size:]


def test_control_face_jpeg_at_the_end_of_the_mdat_is_found(tmp_path, config):
    from .test_carried_gaps import _in_mdat
    _found(tmp_path, config, "end.mp4", _in_mdat(write_clip(tmp_path / "p.mp4", 1.0).read_bytes(),
                                                 _face_jpeg(), False), "`mdat` gap")


# RT22-16 (fixed: the first of stco/co64 is read, as FFmpeg reads it)
def test_unsafe_decoy_stco_beside_the_real_co64(tmp_path, config):
    path = tmp_path / "decoy.mp4"
    path.write_bytes(_decoy_stco(tmp_path))
    s, d = screen(path, config)
    assert d.status is not Status.CLEARED, (d.reasons, [r.error for r in s.results if r.error])


# ---------------------------------------------------------------- RT22-17: a second moov


def _second_moov(tmp_path) -> bytes:
    """A face JPEG at the end of the mdat and, after the real moov, a copy of it whose chunks all
    start at the JPEG (FFmpeg: 'Found duplicated MOOV Atom. Skipped it'; clip_gaps reads every moov)."""
    from .test_carried_gaps import _in_mdat, _top
    plain = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    (_, pos, size), = [b for b in _top(plain) if b[0] == b"mdat"]
    data = _in_mdat(plain, _face_jpeg(), False)
    jpeg_at = pos + size

    def rebuild(kind: bytes, body: bytes) -> bytes:
        if kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
            body = b"".join(rebuild(k, b) for k, b in _parse(body))
        elif kind == b"stco":
            (n,) = struct.unpack_from(">I", body, 4)
            body = body[:8] + struct.pack(">I", jpeg_at) * n
        return _box(kind, body)

    (_, moov_at, moov_size), = [b for b in _top(data) if b[0] == b"moov"]
    return data + rebuild(b"moov", data[moov_at + 8:moov_at + moov_size])


def test_safe_second_moov_claiming_the_face_is_an_error(tmp_path, config):
    """clip_gaps takes the second moov's samples (the face is not searched), but video_container
    refuses a file with more than one moov."""
    path = tmp_path / "twomoov.mp4"
    path.write_bytes(_second_moov(tmp_path))
    assert clip_gaps.regions(path, "MP4") == []
    s, d = screen(path, config)
    assert d.status is Status.ERROR, (d.reasons, [r.error for r in s.results if r.error])


# ---------------------------------------------------------------- RT22-18: a duplicated stsz


def _decoy_stsz(tmp_path) -> bytes:
    """A face JPEG at the end of the mdat; the video stbl gets, after its real `stsz`, a second one
    whose last sample also spans the JPEG (clip_gaps' dict keeps the last; so does FFmpeg)."""
    from .test_carried_gaps import _in_mdat, _top
    plain = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    face = _face_jpeg()
    data = _in_mdat(plain, face, False)

    def rebuild(kind: bytes, body: bytes) -> bytes:
        if kind in (b"moov", b"trak", b"mdia", b"minf"):
            body = b"".join(rebuild(k, b) for k, b in _parse(body))
        elif kind == b"stbl":
            kids = _parse(body)
            (stsz,) = [b for k, b in kids if k == b"stsz"]
            decoy = bytearray(stsz)
            (last,) = struct.unpack_from(">I", decoy, len(decoy) - 4)
            struct.pack_into(">I", decoy, len(decoy) - 4, last + len(face))
            body = b"".join(_box(k, b) for k, b in kids) + _box(b"stsz", bytes(decoy))
        return _box(kind, body)

    (_, moov_at, moov_size), = [b for b in _top(data) if b[0] == b"moov"]
    return data[:moov_at] + rebuild(b"moov", data[moov_at + 8:moov_at + moov_size]) + data[moov_at + moov_size:]


def test_safe_duplicated_stsz_over_the_face_is_an_error(tmp_path, config):
    """Both readers take the second stsz: the JPEG joins the last H.264 sample and decoding fails."""
    path = tmp_path / "stsz.mp4"
    path.write_bytes(_decoy_stsz(tmp_path))
    s, d = screen(path, config)
    assert d.status is Status.ERROR, (d.reasons, [r.error for r in s.results if r.error])
