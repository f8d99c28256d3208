"""Which decoded frames are screened: the first, one at least every `every_s` seconds,
keyframes, scene changes, frames held on screen, and the last (formats/video.py decodes them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from screening.formats import video_flash as flash
from screening.formats.video import Frame

@dataclass(frozen=True)
class Sample:
    """A frame chosen for screening, upright."""

    number: int
    time: float
    rgb: np.ndarray
    why: str  # "first", "interval", "held", "keyframe", "scene change", "between", "last", "other field"


def _looked(frame: Frame, why: str) -> Iterator[Sample]:
    """The samples of a chosen frame: one, or for a combed interlaced frame one per field, the
    second "other field" (Frame.looks: what a player shows of each field, RT27-5)."""
    for i, rgb in enumerate(frame.looks()):
        yield Sample(frame.number, frame.time, rgb, why if i == 0 else "other field")


class _Between:
    """The frames decoded since the last screened one that differ from it, held until the next
    screened frame shows whether they showed something neither does (video_flash): those are
    screened too, as "between" samples, before it."""

    def __init__(self):
        self.last: tuple[float, np.ndarray] | None = None  # (time, fine thumbnail) of the last screened
        self.previous: np.ndarray | None = None  # fine thumbnail of the previous decoded frame
        self.held: list[tuple[Frame, np.ndarray, np.ndarray | None]] = []  # (frame, thumbnail, previous's)
        self.early: list[np.ndarray] = []  # thumbnails of held frames screened early (too many held)

    def offer(self, frame: Frame, fine: np.ndarray) -> Iterator[Sample]:
        """A frame not chosen: held when it differs from the last screened one."""
        previous, self.previous = self.previous, fine
        if self.last is None or not flash.differs(fine, self.last[1]):
            return
        self.held.append((frame, fine, previous))
        if len(self.held) > flash.most_held(frame.pixels):  # memory stays bounded
            thumbs = [thumb for _, thumb, _ in self.held]
            same = flash.repeated(thumbs)
            if same is not None:  # a frame its successor repeats (a high frame rate): the successor stands for it
                _, _, before = self.held.pop(same)
                if same < len(self.held):
                    f, t, _ = self.held[same]
                    self.held[same] = (f, t, before)
                return
            old, thumb, _ = self.held.pop(0)  # else the oldest is screened now
            self.early.append(thumb)
            yield from _looked(old, "between")

    def settle(self, frame: Frame, fine: np.ndarray) -> Iterator[Sample]:
        """The held frames that `frame` (about to be screened) and the last screened one do not explain."""
        if self.last is not None and self.held:
            between = flash.Between(self.last, (frame.time, fine))
            between.screened += self.early
            for held, thumb, previous in self.held:
                if held.number < frame.number and between.unseen(thumb, held.time, previous):
                    between.screened.append(thumb)
                    yield from _looked(held, "between")
        self.last, self.previous, self.held, self.early = (frame.time, fine), fine, [], []


def samples(frames: Iterator[Frame], every_s: float, scene_change: float, min_gap_s: float) -> Iterator[Sample]:
    """The frames to screen (see _chosen), the clip's very last frame marked "last" whatever else
    chose it: the checks look at it whole (an interval sample that happened to fall on the last
    frame was gated like any other)."""
    held: Sample | None = None
    for sample in _chosen(frames, every_s, scene_change, min_gap_s):
        if held is not None:
            yield held
        held = sample
    if held is not None:
        yield held if held.why == "last" else replace(held, why="last")


def _chosen(frames: Iterator[Frame], every_s: float, scene_change: float, min_gap_s: float) -> Iterator[Sample]:
    """The frames to screen: the first, one at least every `every_s` seconds, keyframes and
    scene changes (no closer than `min_gap_s` to the previous one) and the last.

    Screened frames are never more than `every_s` apart (to the nearest frame), so anything on
    screen for `every_s` plus one frame is in at least one of them; and a frame that stays on
    screen for `every_s` or longer (variable frame rate: a frame held after a sampled one) is
    screened itself, once the next frame's time shows how long it was held ("held"). Only chosen
    frames are converted to RGB, so the cost of decoding the rest stays small.
    """
    last_time: float | None = None
    last_thumb: np.ndarray | None = None
    pending: Frame | None = None  # the newest frame not sampled, kept to sample it if held, or as the last
    pending_thumb: np.ndarray | None = None
    pending_fine: np.ndarray | None = None
    step = 0.0  # the latest gap between frames
    previous = None
    previous_key = False
    between = _Between()
    for frame in frames:
        if previous is not None:
            step = max(0.0, frame.time - previous)
        previous = frame.time
        if pending is not None and frame.time - pending.time >= every_s - 1e-6:
            last_time, last_thumb = pending.time, pending_thumb
            yield from between.settle(pending, pending_fine)
            yield from _looked(pending, "held")
            pending = None
        # a keyframe marks a new shot only among frames that are not (all-intra codecs: MJPEG...)
        marks_shot = frame.key and not previous_key
        previous_key = frame.key
        thumb = frame.grey_thumb()
        fine = frame.fine_thumb()
        why = None
        if last_time is None:
            why = "first"
        elif frame.time + step / 2 >= last_time + every_s - 1e-6:  # the frame nearest the due time, not after
            why = "interval"
        elif frame.time - last_time >= min_gap_s:
            if marks_shot:
                why = "keyframe"
            elif last_thumb is not None and float(np.abs(thumb - last_thumb).mean()) / 255.0 >= scene_change:
                why = "scene change"
        if why is None:
            pending, pending_thumb, pending_fine = frame, thumb, fine
            yield from between.offer(frame, fine)
            continue
        pending = None
        last_time, last_thumb = frame.time, thumb
        yield from between.settle(frame, fine)
        yield from _looked(frame, why)
    if pending is not None:
        yield from between.settle(pending, pending_fine)
        yield from _looked(pending, "last")
