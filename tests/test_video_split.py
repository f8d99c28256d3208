"""A long clip split into keyframe-aligned segments screened at once: the same findings as one
pass, and the whole clip still seen to its end (any segment lost, failed or short: error)."""

from __future__ import annotations

import dataclasses

import pytest

from screening import pipeline, video_split
from screening.model import Check, Screening, Status
from screening.pool import screen_many

from .clips import Appearance, write_clip
from .test_video import RED, checks, config, screen  # noqa: F401 (config is a fixture)


def _split(path, config, faces=None, segments=2, shortest=2.0, parts=None):
    fmt = pipeline.video_format(path)
    plan = video_split.plan(path, fmt, segments, config.video, min_segment_s=shortest)
    assert plan is not None and len(plan.bounds) == segments + 1, plan
    det = checks(config, faces)
    got = parts(plan, det) if parts else [video_split.screen_segment(path, det, config.video, plan, k, timeout_s=60)
                                          for k in range(segments)]
    return plan, video_split.assemble(path.name, plan, got, config.video)


def _faces(s: Screening) -> list:
    (faces,) = [r for r in s.results if r.check is Check.FACES]
    return sorted((round(f.time, 2), f.box) for f in faces.findings)


def _status(s, config):
    from screening.policy import Rules, decide
    import datetime as dt
    return decide(s.results, Rules("website", dt.date(2026, 10, 1), people={})).status


def _clip(path, seconds, *shows):
    return write_clip(path, seconds, gop=25, appearances=tuple(Appearance(RED, s, d, at) for s, d, at in shows))


def test_a_face_straddling_the_boundary_is_one_appearance_first_seen_in_the_first_segment(tmp_path, config):
    clip = _clip(tmp_path / "a.mp4", 6.0, (2.5, 1.5, (100, 80)))
    plan, s = _split(clip, config)
    assert plan.bounds[1] == pytest.approx(3.0, abs=0.05)
    assert _faces(s) == [(2.72, (100, 80, 40, 40))]
    assert "on screen from 2.72 s to 3.96 s" in s.results[2].findings[0].detail
    assert _status(s, config) is not Status.CLEARED


@pytest.mark.parametrize("shows", [((0.3, 1.0, (20, 20)),), ((3.0, 0.5, (200, 100)),), ((2.9, 0.4, (60, 60)),),
                                   ((1.0, 1.0, (10, 150)), (4.2, 1.3, (250, 30)))])
def test_split_and_unsplit_give_the_same_findings(tmp_path, config, shows):
    clip = _clip(tmp_path / "a.mp4", 6.0, *shows)
    whole, _ = screen(clip, config)
    _, s = _split(clip, config)
    assert _faces(s) == _faces(whole) and _faces(s)
    assert _status(s, config) == _status(whole, config)


def test_a_segment_that_fails_makes_the_clip_an_error(tmp_path, config):
    clip = _clip(tmp_path / "a.mp4", 6.0)

    def one_fails(plan, det):
        good = video_split.screen_segment(clip, det, config.video, plan, 0, timeout_s=60)
        return [good, pipeline.crashed(clip, "a.mp4", "the worker process died while screening it")]

    def one_errs(plan, det):
        parts = [video_split.screen_segment(clip, det, config.video, plan, k, timeout_s=60) for k in range(2)]
        return [parts[0], dataclasses.replace(parts[1], error="decoding stopped at frame 3: boom")]

    def one_missing(plan, det):
        return [video_split.screen_segment(clip, det, config.video, plan, 0, timeout_s=60)]

    for parts, why in ((one_fails, "worker process died"), (one_errs, "boom"), (one_missing, "1 of the 2 segments")):
        _, s = _split(clip, config, parts=parts)
        assert s.results[0].error and why in s.results[0].error
        assert _status(s, config) is Status.ERROR


@pytest.mark.parametrize("suffix,why", [(".mp4", "frames decoded, the container declares"),
                                        (".mkv", "is not where the next began")])  # MKV declares no count
def test_segments_that_leave_a_gap_make_the_clip_an_error(tmp_path, config, suffix, why):
    clip = _clip(tmp_path / f"a{suffix}", 6.0)

    def gap(plan, det):  # segment 0 stops at 2 s, segment 1 starts at 3 s: a second never seen
        short = dataclasses.replace(plan, bounds=(0.0, 2.0, 3.0))
        return [video_split.screen_segment(clip, det, config.video, short, 0, timeout_s=60),
                video_split.screen_segment(clip, det, config.video, plan, 1, timeout_s=60)]

    _, s = _split(clip, config, parts=gap)
    assert why in s.results[0].error
    assert _status(s, config) is Status.ERROR


@pytest.mark.parametrize("keep", [0.5, 0.8, 0.97])
def test_a_truncated_clip_split_in_two_is_an_error(tmp_path, config, keep):
    clip = _clip(tmp_path / "a.mp4", 6.0)
    plan = video_split.plan(clip, "MP4", 2, config.video, min_segment_s=2.0)
    assert plan is not None
    clip.write_bytes(clip.read_bytes()[:int(clip.stat().st_size * keep)])  # cut after it was planned
    det = checks(config)
    parts = [video_split.screen_segment(clip, det, config.video, plan, k, timeout_s=60) for k in range(2)]
    s = video_split.assemble("a.mp4", plan, parts, config.video)
    assert s.results[0].error
    assert _status(s, config) is Status.ERROR


def test_a_short_clip_is_not_split(tmp_path, config):
    clip = _clip(tmp_path / "a.mp4", 6.0)
    assert video_split.plan(clip, "MP4", 2, config.video) is None  # under 2 x MIN_SEGMENT_S
    assert video_split.plan(clip, "MP4", 1, config.video, min_segment_s=2.0) is None  # one worker
    few_keys = write_clip(tmp_path / "b.mp4", 6.0)  # one keyframe: nowhere to cut
    assert video_split.plan(few_keys, "MP4", 2, config.video, min_segment_s=2.0) is None


def red_faces(config, gallery):
    return checks(config)


@pytest.mark.slow
def test_the_pool_splits_a_long_clip_and_finds_a_face_only_in_the_second_half(tmp_path, config):
    clip = _clip(tmp_path / "long.mp4", 17.0, (13.0, 1.0, (150, 60)))
    short = _clip(tmp_path / "short.mp4", 4.0, (1.0, 1.0, (20, 20)))
    got = {s.path: s for s in screen_many([(clip, "long.mp4"), (short, "short.mp4")], config, None, workers=2,
                                          factory=red_faces)}
    assert "2 segments screened at once" in got["long.mp4"].results[0].notes[0]
    assert _faces(got["long.mp4"]) == [(13.0, (150, 60, 40, 40))]
    assert "segments" not in got["short.mp4"].results[0].notes[0]
    assert _faces(got["short.mp4"]) == _faces(screen(short, config)[0])
    assert _status(got["long.mp4"], config) is not Status.CLEARED
