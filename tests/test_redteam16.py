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
PUBLIC = Path(__file__).resolve().parents[2] / "shared" / "data" / "public-domain"


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


@pytest.mark.xfail(strict=True, reason="RT16-1: the wheel's libvpx is built without high bit depth, so "
                   "every clean 10-bit VP9 clip (profile 2: YouTube HDR, phones) is refused as damaged")
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


@pytest.mark.xfail(strict=True, reason="RT16-2: each APP13 segment is parsed as Photoshop resources on its own, so "
                   "resources continued over two segments (Photoshop splits at 64 KB) fall back to a raw search that "
                   "finds the thumbnail cut at the segment end: a clean file is an error (0.7 cleared it)")
def test_rt16_2_photoshop_resources_split_inside_the_thumbnail_are_not_an_error(tmp_path, config):
    assert _decision(_photoshop_jpeg(tmp_path / "split.jpg", 2000), config).status is Status.CLEARED
