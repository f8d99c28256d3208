"""A long clip screened by the pool's workers at once (video_split.py does the video side).

Before a clip is queued, one worker plans its segments (the parent never opens a clip: a
hostile file may crash FFmpeg). Each segment is then an item of its own in the pool, with the
pool's crash and hang isolation; as they finish, the parent keeps their parts and, when the
last is in, assembles the clip's one Screening. A segment whose worker died or hung comes back
as an error Screening: the clip is then an error, never cleared.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from screening import video_split
from screening.config import Config, VideoSettings
from screening.pipeline import video_format


@dataclass(frozen=True)
class SegmentDone:
    """What came back for one segment item: a video_split.Part, or a Screening (its worker was lost)."""

    item: tuple
    result: Any


def split(screener: Any, items: Iterator) -> Iterator:
    """The items, with each clip long enough to split replaced by one item per segment:
    (path, display, (plan, k)). Anything that cannot be planned is screened whole."""
    for item in items:
        if (not isinstance(item, tuple) or screener.workers < 2 or not screener.split_clips
                or video_format(item[0]) is None):
            yield item
            continue
        try:  # (within the time a whole clip may take: planning only reads packets)
            plan = screener.pool.submit(_plan_clip, str(item[0]), screener.workers, screener.config.video).result(
                timeout=2 * (screener.config.scan.timeout_s + screener.config.video.max_duration_s))
        except Exception:  # a crash or a hang while planning: screened whole, where the pool isolates it
            plan = None
        if plan is None:
            yield item
            continue
        for k in range(len(plan.bounds) - 1):
            yield (item[0], item[1], (plan, k))


def _plan_clip(path: str, segments: int, settings: VideoSettings):
    fmt = video_format(Path(path))
    return video_split.plan(Path(path), fmt, segments, settings) if fmt is not None else None


def screen_segment(path: Path, detectors: dict, config: Config, plan: video_split.Plan, k: int):
    """In a worker: segment k of the clip."""
    return video_split.screen_segment(path, detectors, config.video, plan, k, timeout_s=config.scan.timeout_s)


def tagged(item: tuple, result: Any) -> Any:
    """A worker's result as the pool yields it: a segment's is tagged with its item."""
    return SegmentDone(item, result) if len(item) > 2 else result


def joined(done: SegmentDone, parts: dict, config: Config):
    """Keep a segment's part; the clip's Screening once all its segments are in, else None."""
    path, display, (plan, _) = done.item
    key = (str(path), display, plan)
    got = parts.setdefault(key, [])
    got.append(done.result)
    if len(got) < len(plan.bounds) - 1:
        return None
    del parts[key]
    return video_split.assemble(display, plan, got, config.video, face_tolerance=config.faces.tolerance,
                                path=Path(path))
