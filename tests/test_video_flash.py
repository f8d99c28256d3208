"""Something shown between two screened frames (a few frames, under the sampling interval) is
screened too: formats/video_flash.py decides, formats/video_sampling.py holds the frames.

The stand-in face check (a pure red square is a face) of tests/test_video.py stands in for the
real one; the clips are drawn (tests/clips.py)."""

from __future__ import annotations

import numpy as np
import pytest

from screening.formats import video, video_flash as flash
from screening.model import FaceFinding

from .clips import Appearance, write_clip
from .test_redteam6 import config, found_face, verdict  # noqa: F401  (config: the fixture)
from .test_video import RED

av = pytest.importorskip("av")

FPS = 25


def red(w=40, h=40) -> np.ndarray:
    return np.full((h, w, 3), RED, np.uint8)


def whys(path) -> list[str]:
    with video.Clip(path, video.MP4 if path.suffix == ".mp4" else video.MATROSKA) as clip:
        return [s.why for s in video.samples(clip.frames(), 0.25, 0.12, 0.04)]


def face_boxes(path, config) -> set[tuple]:
    s, _ = verdict(path, config)
    return {f.box for r in s.results for f in r.findings if isinstance(f, FaceFinding)}


# ---------------------------------------------------------------- the decision, on thumbnails


def _scene(seed=1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.kron(rng.uniform(30, 220, (18, 32)), np.ones((4, 4))).astype(np.float32)  # 128 x 72, 4 px blocks


def test_a_still_scene_explains_its_frames_and_a_flash_in_it_does_not():
    still = _scene()
    flashed = still.copy()
    flashed[30:36, 60:66] = 255.0
    assert not flash.Between((0.0, still), (0.25, still)).unseen(still, 0.1, None)
    assert flash.Between((0.0, still), (0.25, still)).unseen(flashed, 0.1, None)


def test_a_pan_and_an_exposure_ramp_are_explained():
    """A pan (the scene shifted, the frame in between shifted part way) and a brightness ramp
    (values in between) are what a clip does between two samples: nothing new is shown."""
    wide = _scene()
    before, mid, after = (np.ascontiguousarray(np.roll(wide, -s, axis=1)) for s in (0, 4, 8))
    assert not flash.Between((0.0, before), (0.25, after)).unseen(mid, 0.125, None)
    dark, half, light = (np.clip(wide * g, 0, 255) for g in (0.8, 0.9, 1.0))
    assert not flash.Between((0.0, dark), (0.25, light)).unseen(half, 0.125, None)


def test_a_flash_during_a_pan_is_not_explained_by_the_pan():
    wide = _scene()
    before, mid, after = (np.ascontiguousarray(np.roll(wide, -s, axis=1)) for s in (0, 4, 8))
    mid = mid.copy()
    mid[20:26, 40:46] = 255.0
    assert flash.Between((0.0, before), (0.25, after)).unseen(mid, 0.125, None)


def test_a_frame_like_one_already_screened_in_between_is_not_screened_again():
    still = _scene()
    flashed = still.copy()
    flashed[30:36, 60:66] = 255.0
    between = flash.Between((0.0, still), (0.25, still))
    between.screened.append(flashed.copy())
    assert not between.unseen(flashed, 0.12, None)


# ---------------------------------------------------------------- the frames screened, end to end


def test_a_clip_without_flashes_gets_no_extra_samples(tmp_path):
    """The cost side: a panning scene and a head on screen for 0.6 s add no "between" sample."""
    path = write_clip(tmp_path / "plain.mp4", 2.0, fps=FPS, pan=8.0,
                      appearances=(Appearance(red(), 0.5, 0.6, (140, 100)),))
    assert "between" not in whys(path)


def test_a_brightening_clip_gets_no_extra_samples(tmp_path):
    path = write_clip(tmp_path / "ramp.mp4", 2.0, fps=FPS, pan=0.0,
                      frame_hook=lambda t, px: np.clip(px.astype(np.float32) * (0.6 + 0.4 * t / 2.0), 0, 255)
                      .astype(np.uint8))
    assert "between" not in whys(path)


def test_a_face_flashed_during_a_fast_pan_is_found(tmp_path, config):
    path = write_clip(tmp_path / "pan.mp4", 2.0, fps=FPS, pan=60.0,
                      appearances=(Appearance(red(), 1.06, 2 / FPS, (140, 100)),))
    found_face(path, config)


def test_two_faces_flashed_in_one_interval_at_two_places_are_both_found(tmp_path, config):
    path = write_clip(tmp_path / "two.mp4", 2.0, fps=FPS, pan=0.0,
                      appearances=(Appearance(red(), 1.04, 2 / FPS, (40, 40)),
                                   Appearance(red(), 1.12, 2 / FPS, (220, 150))))
    boxes = face_boxes(path, config)
    assert any(b[0] < 160 and b[1] < 120 for b in boxes), boxes
    assert any(b[0] >= 160 and b[1] >= 120 for b in boxes), boxes


def test_a_flash_covered_at_once_by_something_that_stays_is_found(tmp_path, config):
    """A face for two frames, then a blue card over the same place until the end: the next sample
    shows the card, which does not explain the face."""
    blue = np.zeros((40, 40, 3), np.uint8)
    blue[..., 2] = 255
    path = write_clip(tmp_path / "cover.mp4", 2.0, fps=FPS, pan=0.0,
                      appearances=(Appearance(red(), 1.04, 2 / FPS, (140, 100)),
                                   Appearance(blue, 1.04 + 2 / FPS, 1.0, (140, 100))))
    found_face(path, config)


def test_a_red_face_flashed_on_a_grey_of_the_same_brightness_is_found(tmp_path, config):
    """The thumbnails carry colour (Y, U, V): in grey alone the face would not show."""
    luma = round(0.299 * 255)

    def grey(t, px):
        out = np.full_like(px, luma)
        red_now = (px[..., 0] > 200) & (px[..., 1] < 60) & (px[..., 2] < 60)
        out[red_now] = (255, 0, 0)
        return out

    path = write_clip(tmp_path / "grey.mp4", 2.0, fps=FPS, pan=0.0, frame_hook=grey,
                      appearances=(Appearance(red(), 1.06, 2 / FPS, (140, 100)),))
    found_face(path, config)


def test_a_flash_in_a_high_frame_rate_panning_clip_is_found(tmp_path, config):
    """100 fps: 25 frames between two samples, more than are held (MAX_HELD); the oldest are
    screened as they overflow, and the flash is still found."""
    assert 0.25 * 100 > flash.most_held(320 * 240)
    path = write_clip(tmp_path / "fast.mp4", 1.0, fps=100, pan=80.0,
                      appearances=(Appearance(red(), 0.53, 2 / 100, (140, 100)),))
    found_face(path, config)


def test_a_face_flashed_in_the_second_segment_of_a_split_clip_is_found(tmp_path, config):
    """The segments of a split clip sample as one pass does (video_split uses the same samples())."""
    from screening import pipeline, video_split

    from .test_video import checks

    path = write_clip(tmp_path / "long.mp4", 6.0, fps=FPS, pan=0.0, gop=25,
                      appearances=(Appearance(red(), 4.06, 2 / FPS, (140, 100)),))
    plan = video_split.plan(path, pipeline.video_format(path), 2, config.video, min_segment_s=2.0)
    det = checks(config, None)
    parts = [video_split.screen_segment(path, det, config.video, plan, k, timeout_s=60) for k in range(2)]
    s = video_split.assemble(path.name, plan, parts, config.video)
    assert plan.bounds[1] < 4.0
    times = [f.time for r in s.results for f in r.findings if isinstance(f, FaceFinding)]
    assert times and all(4.0 < t < 4.2 for t in times), times


def test_fewer_large_frames_are_held_than_small_ones():
    """Memory stays bounded whatever the frame size: 16 frames of 1080p, 7 of 4K, 2 of 8K."""
    assert flash.most_held(1920 * 1080) == 16
    assert flash.most_held(3840 * 2160) == 7
    assert flash.most_held(7680 * 4320) == 2
