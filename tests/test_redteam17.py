"""Red team 17: cases built only from what the rt16pic/rt16heif/halfcrest round changed. Each case
asserts the SAFE outcome next to a control; a case the product gets wrong is xfail(strict) with its
RT17 number."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from screening.formats.exif_images import picture_starts
from screening.model import Status

from .test_redteam6 import config, found_face, insert_segments, jpeg, segment, verdict, with_face, backdrop  # noqa: F401
from .test_redteam16 import _exif_hiding


# ------ a picture hidden in a segment whose own header holds a zero-length COM/APPn (libjpeg skips it)

def _empty_segment(data: bytes, marker: int, length: int) -> bytes:
    """FF <marker> with a length field below 2 right after SOI: libjpeg's skip_variable (and Pillow's
    marker parser) read the two length bytes, skip nothing and go on to the next marker."""
    return data[:2] + bytes([0xFF, marker]) + struct.pack(">H", length) + data[2:]


ALTERED = {"com_len0": (0xFE, 0), "com_len1": (0xFE, 1), "app5_len0": (0xE5, 0)}


def _hide(tmp_path, where: str, picture: bytes):
    if where == "exif":
        return _exif_hiding(tmp_path, "in_exif.jpg", picture)
    path = tmp_path / "in_app5.jpg"
    path.write_bytes(insert_segments(jpeg(backdrop()), segment(0xE5, b"VEND\x00" + picture)))
    return path


@pytest.mark.parametrize("name", sorted(ALTERED))
def test_rt17_control_libjpeg_decodes_the_altered_face_jpeg_and_a_plain_one_hidden_is_found(tmp_path, config, name):
    altered = _empty_segment(jpeg(with_face()), *ALTERED[name])
    img = Image.open(io.BytesIO(altered))
    img.load()  # libjpeg decodes it whole
    assert img.size == (320, 240)
    found_face(_hide(tmp_path, "app5", jpeg(with_face())), config)
    found_face(_hide(tmp_path, "exif", jpeg(with_face())), config)


def test_rt17_1_the_marker_walk_reads_on_past_a_too_short_segment_as_libjpeg_does():
    altered = _empty_segment(jpeg(with_face()), 0xFE, 0)
    assert list(picture_starts(b"\x00" + altered, 1, set())) == [1]  # it stopped at "length < 2" (RT17-1)
    assert list(picture_starts(b"\x00" + jpeg(with_face()), 1, set())) == [1]


@pytest.mark.parametrize("where", ["app5", "exif"])
@pytest.mark.parametrize("name", sorted(ALTERED))
def test_rt17_1_a_face_jpeg_with_a_zero_length_segment_hidden_in_a_segment_is_not_cleared(tmp_path, config, name, where):
    _, decision = verdict(_hide(tmp_path, where, _empty_segment(jpeg(with_face()), *ALTERED[name])), config)
    assert decision.status is not Status.CLEARED, decision


# ------ APP13 join: a thumbnail resource in the first segment whose body runs over the second one,
# which on its own is a whole resource list holding a face thumbnail (read per segment before 0.8.x)

def _thumb_resource(thumb: bytes, extra: bytes = b"", size: int | None = None) -> bytes:
    header = struct.pack(">IIIIIIHH", 1, 160, 120, 480, 480 * 120, len(thumb), 24, 1)
    body = header + thumb
    size = len(body) + len(extra) if size is None else size
    return b"8BIM" + struct.pack(">H", 0x040C) + b"\x00\x00" + struct.pack(">I", size) + body


def _app13(payload: bytes) -> bytes:
    return b"\xff\xed" + struct.pack(">H", 2 + 14 + len(payload)) + b"Photoshop 3.0\x00" + payload


def _small(pixels) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).resize((160, 120)).save(out, "JPEG", quality=90)
    return out.getvalue()


def _joined_app13(tmp_path, overlap: bool):
    clean, face = _small(backdrop()), jpeg(with_face())
    second = _thumb_resource(face)
    second += b"\x00" * (len(second) % 2)
    # the second segment's prefix "Photoshop 3.0\0" is stripped when joined: the first resource spans it
    first = _thumb_resource(clean, extra=second if overlap else b"")
    segs = _app13(first + (b"\x00" * (len(first) % 2) if not overlap else b"")) + _app13(second)
    data = jpeg(backdrop())
    path = tmp_path / ("overlap.jpg" if overlap else "two.jpg")
    path.write_bytes(data[:2] + segs + data[2:])
    return path


def test_rt17_control_two_self_contained_app13_thumbnails_one_with_a_face_are_found(tmp_path, config):
    found_face(_joined_app13(tmp_path, overlap=False), config)


# RT17-2 (safe): the thumbnail is screened with what follows its end-of-image marker
def test_rt17_2_a_face_thumbnail_hidden_by_an_app13_resource_spanning_two_segments_is_not_cleared(tmp_path, config):
    from screening.formats.common import photoshop_resources

    path = _joined_app13(tmp_path, overlap=True)
    data = path.read_bytes()
    (n1,) = struct.unpack(">H", data[4:6])
    (n2,) = struct.unpack(">H", data[6 + n1:8 + n1])
    seg2 = data[2 + 2 + n1 + 4 + 14:2 + 2 + n1 + 2 + n2]  # the second APP13 read on its own
    assert [rid for rid, _ in photoshop_resources(seg2)] == [0x040C]  # a whole resource list: the face thumbnail
    _, decision = verdict(path, config)
    assert decision.status is not Status.CLEARED, decision


# ------ VP9: the first packet decides (deep_vp9) that libvpx is not asked about the whole stream

def _vp9_stream(tmp_path, name: str, deep_first: bool, damage: bool, which: int = 0):
    """A keyframe (turned into profile 2 when `deep_first`), then the clip from its second keyframe on
    (8-bit, profile 0), its first inter frame over 60 bytes damaged as tests/test_video_damage.py damages it."""
    import av

    from .clips import write_clip
    from .vp9_profile2 import profile2_packet

    source = tmp_path / "source.webm"
    if not source.exists():
        write_clip(source, 2.0, size=(320, 240), codec="libvpx-vp9", gop=10)
    target = tmp_path / name
    with av.open(str(source)) as src, av.open(str(target), "w", format="webm") as out:
        stream = src.streams.video[0]
        width = stream.codec_context.width
        copy = out.add_stream_from_template(stream)
        packets = [p for p in src.demux(stream) if p.size]
        keys = [i for i, p in enumerate(packets) if p.is_keyframe]
        chosen = [0] + list(range(keys[1], len(packets)))
        hurt = [n for n, i in enumerate(chosen) if n > 1 and not packets[i].is_keyframe and packets[i].size > 60][which]
        for n, i in enumerate(chosen):
            data = bytes(packets[i])
            if n == 0 and deep_first:
                data = profile2_packet(data, width)
            if n == hurt and damage:
                data = bytearray(data)
                for k in range(len(data) // 3, len(data) // 3 + 24):
                    data[k] ^= 0xA5
                data = bytes(data)
            new = av.Packet(data)
            new.pts, new.dts, new.time_base = packets[i].pts, packets[i].dts, packets[i].time_base
            new.is_keyframe = packets[i].is_keyframe or n == 0
            new.stream = copy
            out.mux(new)
    return target


def _status(path, config):
    from .test_video import screen

    return screen(path, config)[1]


def test_rt17_control_the_8_bit_stream_damaged_is_an_error_and_one_changing_bit_depth_is_an_error(tmp_path, config):
    assert _status(_vp9_stream(tmp_path, "clean8.webm", False, False), config).status is Status.CLEARED
    bad = _status(_vp9_stream(tmp_path, "bad8.webm", False, True, which=2), config)
    assert bad.status is Status.ERROR and "reference decoder (libvpx-vp9) refuses" in bad.reasons[0].detail, bad
    # a stream that starts 10-bit and goes on 8-bit cannot be checked either way: an error (RT17-3)
    changed = _status(_vp9_stream(tmp_path, "clean_deep.webm", True, False), config)
    assert changed.status is Status.ERROR and "changes from 10/12-bit to 8-bit" in changed.reasons[0].detail


def test_rt17_3_damaged_8_bit_vp9_after_a_profile_2_first_frame_is_an_error(tmp_path, config):
    decision = _status(_vp9_stream(tmp_path, "bad_deep.webm", True, True, which=2), config)
    assert decision.status is Status.ERROR, decision


# ------ a tmap whose inputs list the primary twice (base and gain map the same photo: nothing unseen)

@pytest.fixture
def heic_with_gain_map():
    pytest.importorskip("pillow_heif")
    from .heif_boxes import relate, two_image_heic

    return relate(two_image_heic(with_face(), backdrop()), "auxl", "urn:com:apple:photo:2020:aux:hdrgainmap")


def test_rt17_4_a_tmap_listing_the_primary_twice_shows_only_the_screened_photo(tmp_path, config, heic_with_gain_map):
    from .test_tone_map_items import with_tmap

    path = tmp_path / "twice.heic"
    path.write_bytes(with_tmap(heic_with_gain_map, [1, 1], tmap_id=3))
    found_face(path, config)  # accepted, and the photo (its only pixels) is screened
    bad = tmp_path / "unknown_input.heic"
    bad.write_bytes(with_tmap(heic_with_gain_map, [1, 1, 7], tmap_id=3))
    _, decision = verdict(bad, config)
    assert decision.status is Status.ERROR, decision
