"""Red team 16: cases built only from what 0.8 changed (VP8/VP9 compared with libvpx, the picture
search over every JPEG segment, ...). Each case asserts the SAFE outcome next to a control; a case
the product gets wrong is xfail(strict) with its RT16 number."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from screening.model import Status

from .clips import write_clip
from .test_video import TOML, screen

av = pytest.importorskip("av")
PUBLIC = Path(__file__).resolve().parents[1] / "samples" / "public-domain"  # the project's own copy: no ../shared needed


@pytest.fixture
def config(tmp_path):
    from screening.config import load_config

    (tmp_path / "screening.toml").write_text(TOML)
    return load_config(tmp_path / "screening.toml")


def _decision(path, config):
    _, decision = screen(path, config)
    return decision


# ------------------------------------------------- VP9 profile 2 (10-bit): libvpx in the wheel is 8-bit

@pytest.fixture
def vp9_10bit(tmp_path):
    from .vp9_profile2 import write_profile2

    source = write_clip(tmp_path / "eight.webm", 1.0, size=(160, 120), codec="libvpx-vp9", gop=1)
    return source, write_profile2(source, tmp_path / "ten.webm")


def test_rt16_control_the_10_bit_clip_is_whole_to_ffmpeg_and_cleared_without_the_crosscheck(vp9_10bit, config, monkeypatch):
    from screening.formats import video_check

    eight, ten = vp9_10bit
    with av.open(str(ten)) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == 25 and frames[0].format.name == "yuv420p10le"
    assert _decision(eight, config).status is Status.CLEARED
    monkeypatch.setattr(video_check, "REFERENCE", {"vp8": "libvpx"})  # 0.7: FFmpeg's decoder alone
    assert _decision(ten, config).status is Status.CLEARED


def test_rt16_1_a_clean_10_bit_vp9_clip_is_not_an_error(vp9_10bit, config):
    assert _decision(vp9_10bit[1], config).status is Status.CLEARED


# --------------------------------- Photoshop resources over two APP13 segments (Photoshop splits at 64 KB)

def _thumbnail() -> bytes:
    img = Image.open(PUBLIC / "camera.png").convert("RGB").resize((160, 160))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _resource(rid: int, body: bytes) -> bytes:
    return b"8BIM" + struct.pack(">H", rid) + b"\x00\x00" + struct.pack(">I", len(body)) + body + b"\x00" * (len(body) % 2)


def _photoshop_jpeg(path: Path, split: int | None) -> Path:
    """A JPEG whose Photoshop resources (60 KB of print settings, then the thumbnail) are cut into
    two APP13 segments at `split` bytes (from the thumbnail resource's start), or kept in one."""
    thumb = _thumbnail()
    header = struct.pack(">IIIIIIHH", 1, 160, 160, 480, 480 * 160, len(thumb), 24, 1)
    before = _resource(0x0425, b"\x00" * 16) + _resource(0x2710, b"\x00" * (60000 if split is not None else 20000))
    block = before + _resource(0x040C, header + thumb)
    at = len(before) + (split or 0)
    cut = [block] if split is None else [block[:at], block[at:]]
    buf = io.BytesIO()
    Image.fromarray(np.full((240, 320, 3), 128, np.uint8)).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    segments = b"".join(b"\xff\xed" + struct.pack(">H", 2 + 14 + len(c)) + b"Photoshop 3.0\x00" + c for c in cut)
    path.write_bytes(data[:2] + segments + data[2:])
    return path


def test_rt16_control_photoshop_resources_in_one_segment_are_cleared(tmp_path, config):
    assert _decision(_photoshop_jpeg(tmp_path / "one.jpg", None), config).status is Status.CLEARED


def test_rt16_control_photoshop_resources_split_before_the_thumbnail_are_cleared(tmp_path, config):
    assert _decision(_photoshop_jpeg(tmp_path / "early.jpg", 0), config).status is Status.CLEARED


# RT16-2 (fixed): resources continued over two segments were parsed per segment, fell back to a raw
# search and found the thumbnail cut at the segment end: a clean file was an error (0.7 cleared it)
def test_rt16_2_photoshop_resources_split_inside_the_thumbnail_are_not_an_error(tmp_path, config):
    assert _decision(_photoshop_jpeg(tmp_path / "split.jpg", 2000), config).status is Status.CLEARED


# ---------------------------- iPhone HEIC since iOS 18: Apple's gain map AND an ISO 21496-1 'tmap' item

GAIN_MAP = "urn:com:apple:photo:2020:aux:hdrgainmap"


def _with_tmap(data: bytes) -> bytes:
    """The HEIC with one more item, hidden, of type 'tmap' (iOS 18 writes one beside the gain map:
    its inputs are the photo and the same gain map; libheif #1190 'compatible brands: tmap').
    Its inputs are `dimg` references, as iOS 18 writes them (the first version of this fixture
    had none: a tmap naming no inputs stays an error, tests/test_auxiliary_images.py)."""
    from .test_tone_map_items import with_tmap

    return with_tmap(data, [1, 2], tmap_id=3)


@pytest.fixture
def iphone_heic(tmp_path):
    pytest.importorskip("pillow_heif")
    from .heif_boxes import relate, two_image_heic
    from .test_redteam6 import backdrop

    plain = relate(two_image_heic(backdrop(), np.full((240, 320, 3), 40, np.uint8)), "auxl", GAIN_MAP)
    (tmp_path / "ios17.heic").write_bytes(plain)
    (tmp_path / "ios18.heic").write_bytes(_with_tmap(plain))
    return tmp_path / "ios17.heic", tmp_path / "ios18.heic"


def test_rt16_control_an_iphone_heic_with_its_gain_map_is_cleared(iphone_heic):
    from screening import imaging
    import pillow_heif

    imaging.load(iphone_heic[0])
    assert pillow_heif.open_heif(str(iphone_heic[1])).info["aux"] == {GAIN_MAP: [2]}  # libheif reads it


# RT16-3 (fixed): any 'tmap' item made a HEIC an error, and iOS 18 writes one in every HDR photo
# (its inputs are the photo and the gain map 0.8 already screens)
def test_rt16_3_an_ios18_heic_with_a_tmap_item_is_not_an_error(iphone_heic):
    from screening import imaging

    imaging.load(iphone_heic[1])


# ------------------- a picture hidden in a JPEG's EXIF block: the new signature checks are stricter than Pillow

def _gif(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "GIF")
    return out.getvalue()


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def _gif_zero_screen(gif: bytes) -> bytes:
    """Logical screen 0x0: Pillow (and browsers) show the frame at its own size."""
    return gif[:6] + b"\x00\x00\x00\x00" + gif[10:]


def _gif_byte_before_image(gif: bytes) -> bytes:
    """A stray byte after the colour table: Pillow skips bytes that begin no block."""
    flags = gif[10]
    table = 3 * (2 << (flags & 7)) if flags & 0x80 else 0
    return gif[:13 + table] + b"\x00" + gif[13 + table:]


def _png_chunk_before_header(png: bytes) -> bytes:
    """A tEXt chunk before IHDR: Pillow reads it and decodes the picture."""
    import zlib

    body = b"Comment\x00hi"
    return png[:8] + struct.pack(">I", len(body)) + b"tEXt" + body + struct.pack(">I", zlib.crc32(b"tEXt" + body)) + png[8:]


def _exif_hiding(tmp_path, name: str, picture: bytes) -> Path:
    from .test_redteam6 import backdrop, jpeg

    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    path = tmp_path / name
    path.write_bytes(jpeg(backdrop(), exif=exif.tobytes() + picture))
    return path


HIDDEN = {"gif_zero_screen": ("RT16-4", lambda f: _gif_zero_screen(_gif(f))),
          "gif_byte_before_image": ("RT16-5", lambda f: _gif_byte_before_image(_gif(f))),
          "png_chunk_before_header": ("RT16-6", lambda f: _png_chunk_before_header(_png(f)))}


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_rt16_control_pillow_decodes_each_altered_picture_and_a_plain_one_in_exif_is_found(tmp_path, name, config):
    from .test_redteam6 import found_face, with_face

    altered = HIDDEN[name][1](with_face())
    assert Image.open(io.BytesIO(altered)).convert("RGB").size == (320, 240)
    plain = _gif(with_face()) if name.startswith("gif") else _png(with_face())
    found_face(_exif_hiding(tmp_path, "plain.jpg", plain), config)


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_rt16_4_to_6_a_face_picture_hidden_in_the_exif_block_is_not_cleared(tmp_path, name, config):
    from .test_redteam6 import verdict, with_face

    _, decision = verdict(_exif_hiding(tmp_path, f"{name}.jpg", HIDDEN[name][1](with_face())), config)
    assert decision.status is not Status.CLEARED


# ------------- a JPEG with a stray byte between its header segments (Pillow and libjpeg skip it)

def _jpeg_stray_byte(data: bytes) -> bytes:
    (n,) = struct.unpack(">H", data[4:6])  # after the APP0 (JFIF) segment
    return data[:4 + n] + b"\x00" + data[4 + n:]


def _hiding(tmp_path, where: str, picture: bytes) -> Path:
    from .test_redteam6 import backdrop, insert_segments, jpeg, segment

    if where == "exif":
        return _exif_hiding(tmp_path, "in_exif.jpg", picture)
    path = tmp_path / "in_app5.jpg"
    path.write_bytes(insert_segments(jpeg(backdrop()), segment(0xE5, b"VEND\x00" + picture)))
    return path


@pytest.mark.parametrize("where", ["app5", "exif"])
def test_rt16_control_a_plain_face_jpeg_in_an_app5_segment_or_the_exif_block_is_found(tmp_path, config, where):
    from .test_redteam6 import found_face, jpeg, with_face

    assert Image.open(io.BytesIO(_jpeg_stray_byte(jpeg(with_face())))).convert("RGB").size == (320, 240)
    found_face(_hiding(tmp_path, where, jpeg(with_face())), config)


@pytest.mark.parametrize("where", ["app5", "exif"])
def test_rt16_7_a_face_jpeg_with_a_stray_byte_hidden_in_a_segment_is_not_cleared(tmp_path, config, where):
    from .test_redteam6 import jpeg, verdict, with_face

    _, decision = verdict(_hiding(tmp_path, where, _jpeg_stray_byte(jpeg(with_face()))), config)
    assert decision.status is not Status.CLEARED


# ------------------------------------------------ variants of RT16-4..7 (the fix, branch rt16pic)

def _jpeg_between_segments(data: bytes, extra: bytes) -> bytes:
    (n,) = struct.unpack(">H", data[4:6])  # after the APP0 (JFIF) segment
    return data[:4 + n] + extra + data[4 + n:]


def test_rt16_variant_a_face_jpeg_with_a_restart_marker_and_fill_bytes_hidden_in_app5_is_found(tmp_path, config):
    """FF D0 (a parameterless marker) and fill FF bytes before the tables: libjpeg reads it silently."""
    from .test_redteam6 import found_face, jpeg, with_face

    found_face(_hiding(tmp_path, "app5", _jpeg_between_segments(jpeg(with_face()), b"\xff\xd0" + b"\xff" * 5)), config)


@pytest.mark.parametrize("where", ["app5", "exif"])
def test_rt16_variant_a_face_jpeg_with_junk_and_escaped_ff_between_segments_is_not_cleared(tmp_path, config, where):
    """Stray bytes and FF 00 pairs: libjpeg skips them (with a warning, which the decode check refuses)."""
    from .test_redteam6 import jpeg, verdict, with_face

    altered = _jpeg_between_segments(jpeg(with_face()), b"junk\xff\x00\x00")
    assert Image.open(io.BytesIO(altered)).convert("RGB").size == (320, 240)
    _, decision = verdict(_hiding(tmp_path, where, altered), config)
    assert decision.status is not Status.CLEARED, decision


@pytest.mark.parametrize("picture", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a\x00\x00\x00\x00\x00\x00\x00,junk"])
def test_rt16_variant_a_png_or_gif_signature_that_counts_but_does_not_decode_is_an_error(tmp_path, config, picture):
    from .test_redteam6 import verdict

    _, decision = verdict(_hiding(tmp_path, "app5", picture), config)
    assert decision.status is Status.ERROR, decision


def test_rt16_variant_jpeg_starts_in_binary_noise_do_not_count(tmp_path, config):
    """FF D8 FF sprinkled in 30 KB of random bytes (a maker note, an ICC table) reach no well-formed
    frame header even with stray bytes skipped: the photo is still cleared."""
    from screening.formats.exif_images import picture_starts

    from .test_redteam6 import verdict

    noise = bytearray(np.random.default_rng(16).integers(0, 256, 30000, dtype=np.uint8).tobytes())
    for at in range(100, 29000, 500):
        noise[at:at + 3] = b"\xff\xd8\xff"
    noise = bytes(noise).replace(b"\x89PNG", b"\x89PNx").replace(b"GIF8", b"GIFx")
    assert list(picture_starts(noise, 0, set())) == []
    _, decision = verdict(_hiding(tmp_path, "app5", noise), config)
    assert decision.status is Status.CLEARED, decision
