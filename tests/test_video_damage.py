"""A clip with a damaged frame is an error, never cleared (issue 18, RT15-12): bytes flipped in
the first or the last group of pictures, in a keyframe or not, for each codec; next to
controls (the same clips undamaged are cleared; a VP9 clip stored sideways still comes out
upright through the cross-check).

FFmpeg's VP8/VP9 decoders conceal damage; formats/video_check.py compares each frame with
libvpx's. HEVC has no second decoder in the wheel: some damage is still missed (xfail)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from screening.model import Status

from .clips import write_clip
from .test_video import TOML, screen

av = pytest.importorskip("av")

# codec: (suffix, encoder); a keyframe every 10 frames: 5 groups of pictures in 2 s.
CODECS = {"h264": (".mp4", None), "vp8": (".webm", None), "vp9": (".mkv", None), "mpeg4": (".avi", None),
          "av1": (".mkv", "libsvtav1"), "hevc": (".mov", "libx265")}
WHERE = ["first keyframe", "first GOP, not a keyframe", "last keyframe", "last GOP, not a keyframe"]


@pytest.fixture
def config(tmp_path):
    from screening.config import load_config

    (tmp_path / "screening.toml").write_text(TOML)
    return load_config(tmp_path / "screening.toml")


def _clip(tmp_path: Path, codec: str, **kw) -> Path:
    suffix, encoder = CODECS[codec]
    return write_clip(tmp_path / f"{codec}{suffix}", 2.0, codec=encoder, gop=10, **kw)


def _packet(clip: Path, where: str) -> tuple[int, int]:
    """(byte offset, size) of the video packet `where` names (packets over 60 bytes: picture data)."""
    with av.open(str(clip)) as c:
        packets = [(p.pos, p.size, p.is_keyframe) for p in c.demux(video=0) if p.size > 60]
    keys = [i for i, p in enumerate(packets) if p[2]]
    assert len(keys) >= 2, "the clip needs more than one group of pictures"
    first_other = next(i for i in range(keys[0] + 1, len(packets)) if not packets[i][2])
    index = {WHERE[0]: keys[0], WHERE[1]: first_other, WHERE[2]: keys[-1], WHERE[3]: len(packets) - 1}[where]
    assert packets[index][2] == ("keyframe" in where and "not" not in where)
    return packets[index][:2]


def damaged(clip: Path, where: str) -> Path:
    """The clip with 24 bytes flipped a third of the way into the packet `where` names."""
    pos, size = _packet(clip, where)
    data = bytearray(clip.read_bytes())
    for k in range(pos + size // 3, pos + size // 3 + 24):
        data[k] ^= 0xA5
    out = clip.with_name("damaged" + clip.suffix)
    out.write_bytes(bytes(data))
    return out


def _pictures(path: Path) -> list[np.ndarray]:
    """Every frame as FFmpeg's decoder conceals it, one thread, errors ignored: what a player shows."""
    out = []
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.codec_context.thread_count, stream.codec_context.thread_type = 1, "NONE"
        try:
            for frame in c.decode(stream):
                out.append(frame.to_ndarray(format="rgb24").astype(int))
        except av.FFmpegError:
            pass
    return out


@pytest.mark.parametrize("codec", list(CODECS))
def test_control_an_undamaged_clip_of_each_codec_is_cleared(tmp_path, config, codec):
    assert screen(_clip(tmp_path, codec), config)[1].status is Status.CLEARED


def test_control_a_sideways_vp9_clip_is_cleared_upright_through_the_cross_check(tmp_path, config):
    from screening.formats.video import MP4, Clip

    clip = write_clip(tmp_path / "turned.mp4", 1.0, codec="libvpx-vp9", rotation=90)
    with Clip(clip, MP4) as c:
        frames = list(c.frames())
        assert c.rotation == 270 and frames[0].rgb().shape[:2] == (240, 320)
    assert screen(clip, config)[1].status is Status.CLEARED


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("codec", ["h264", "vp8", "vp9", "mpeg4", "av1"])
def test_a_clip_with_a_damaged_frame_is_an_error(tmp_path, config, codec, where):
    clip = _clip(tmp_path, codec)
    bad = damaged(clip, where)
    status = screen(bad, config)[1]
    assert status.status is Status.ERROR, status


@pytest.mark.parametrize("codec", ["vp8", "vp9"])
def test_the_damage_caught_in_vp8_and_vp9_is_damage_a_viewer_sees(tmp_path, codec):
    """FFmpeg's decoder alone shows these clips, changed, without a word: what the cross-check is for."""
    clip = _clip(tmp_path, codec)
    bad = damaged(clip, WHERE[1])
    clean, shown = _pictures(clip), _pictures(bad)
    assert len(clean) == len(shown) == 50
    assert max(float(np.abs(a - b).mean()) for a, b in zip(clean, shown)) > 0.5


def test_a_damaged_vp8_frame_in_a_later_segment_of_a_split_clip_is_an_error(tmp_path):
    """A segment decoded from its keyframe (video_split.py) is cross-checked the same way."""
    from screening.formats.video import MATROSKA, Clip, VideoError, Window

    bad = damaged(_clip(tmp_path, "vp8"), WHERE[3])
    with Clip(bad, MATROSKA) as c, pytest.raises(VideoError, match="damaged picture data"):
        list(c.frames(Window(0.0, 1.2, 2.0, True, (0, False, 0))))


def test_control_an_undamaged_later_segment_decodes(tmp_path):
    from screening.formats.video import MATROSKA, Clip, Window

    with Clip(_clip(tmp_path, "vp8"), MATROSKA) as c:
        assert len(list(c.frames(Window(0.0, 1.2, 2.0, True, (0, False, 0))))) == 20


@pytest.mark.xfail(strict=True, reason="RT15-12 (HEVC): FFmpeg's HEVC decoder conceals damage inside a slice's "
                                       "entropy-coded data with no error, no log and no corrupt flag, even with "
                                       "err_detect explode; the wheel has no second HEVC decoder to compare with")
def test_a_hevc_clip_with_a_damaged_keyframe_is_an_error(tmp_path, config):
    bad = damaged(_clip(tmp_path, "hevc"), WHERE[0])
    assert screen(bad, config)[1].status is Status.ERROR
