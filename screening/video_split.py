"""One long clip screened by several worker processes at once: split into keyframe-aligned
segments, each decoded and screened by its own worker, the appearances merged as one pass would.

- plan() (in a worker: only workers open clips) reads the clip's first frame (its time and
  display turn) and the keyframes' times (packets only, nothing decoded), and cuts the clip at
  the keyframes nearest to equal parts of at least MIN_SEGMENT_S. Short clips are not split.
- screen_segment() decodes from the keyframe that starts its segment, screens the sampled frames
  (its first sampled frame whole, as after a cut) and records what each check found in each
  frame, in order; segment 0 also runs the metadata checks, reads the tags and screens the
  pictures the clip carries in its boxes (a thumbnail: video_views.py), once.
- assemble() (in the parent) replays the segments' records, in time order, into one Appearances
  per check (video_merge.py): a face that straddles a boundary is one appearance, first seen in
  the earlier segment, matched on its best frame in either. The segments must tile the clip:
  every one decoded to its end, starting where the previous ended, the frames adding up to the
  declared count, the last one reaching the declared duration. Anything else is an error.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from screening.config import VideoSettings
from screening.digest import changed_since, fingerprint
from screening.formats import video, video_metadata
from screening.model import Check, CheckResult, Screening
from screening.video_merge import Appearances
from screening.video_passes import FrameScreener, build_passes
from screening.video_views import merged as with_views
from screening.video_views import screen_views

# A clip is split only into segments at least this long (seconds): each segment pays for its
# first frame screened whole, and for decoding from its keyframe.
MIN_SEGMENT_S = 8.0


@dataclass(frozen=True)
class Plan:
    """Where a clip is cut: segment k runs from bounds[k] to bounds[k + 1] (seconds from origin)."""

    fmt: str
    origin: float
    turn: tuple[int, bool, int]
    bounds: tuple[float, ...]

    def window(self, k: int) -> video.Window:
        last = k == len(self.bounds) - 2
        return video.Window(self.origin, self.bounds[k], self.bounds[k + 1], last, self.turn)


@dataclass
class Part:
    """What one segment's worker hands back (picklable)."""

    index: int
    error: str | None = None
    kept: int = 0  # frames decoded in the segment
    first_at: float | None = None  # the time of its first frame, and of the frame it stopped at
    stopped_at: float | None = None
    screened: int = 0
    events: dict = field(default_factory=dict)  # {check: [(time, findings) or None (a cut)]}
    failed: dict = field(default_factory=dict)  # {check: why}
    head: np.ndarray | None = None  # grey thumbnails of the first and last frames kept
    tail: np.ndarray | None = None
    sha: str | None = None  # segment 0 only: the file's digest, metadata and tag results
    known: object = None  # segment 0 only: the file's digest.Fingerprint
    results: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)  # {check: findings or error string}
    views: tuple = ({}, None)  # segment 0 only: the carried pictures' ({check: findings}, error or None)
    probe: video.Probe | None = None
    size: tuple[int, int] | None = None
    seconds: float = 0.0
    order: list = field(default_factory=list)  # the checks, in the order they run


def plan(path: Path, fmt: str, segments: int, settings: VideoSettings,
         min_segment_s: float = MIN_SEGMENT_S) -> Plan | None:
    """Where to cut the clip into at most `segments` parts, or None: not worth splitting (or it
    cannot be planned: then it is screened whole, which reports why)."""
    if segments < 2:
        return None
    try:
        with video.Clip(path, fmt, max_duration_s=settings.max_duration_s) as clip:
            duration = clip.probe.duration
            if not duration or duration < 2 * min_segment_s:
                return None
            stream = clip.stream
            frames = clip.frames()
            first = next(frames, None)
            origin, turn = (first._frame.time, clip.turn) if first is not None else (None, None)
            frames.close()
            if origin is None:
                return None
            clip.container.seek(0, stream=stream, backward=True, any_frame=False)
            keys = sorted(float(p.pts * stream.time_base) - origin for p in clip.container.demux(stream)
                          if p.is_keyframe and p.pts is not None)
    except Exception:
        return None
    return _cut(fmt, origin, turn, keys, duration, segments, min_segment_s)


def _cut(fmt: str, origin: float, turn, keys: list[float], duration: float, segments: int,
         shortest: float) -> Plan | None:
    n = max(1, min(segments, int(duration // shortest)))
    bounds = [0.0]
    for k in range(1, n):
        want = duration * k / n
        near = min((t for t in keys if t > bounds[-1] + shortest / 2), key=lambda t: abs(t - want),
                   default=None)
        if near is not None and near < duration - shortest / 2:
            bounds.append(near)
    if len(bounds) < 2:
        return None
    return Plan(fmt, origin, turn, (*bounds, float("inf")))


class _Recorder:
    """Stands for an Appearances in a segment: records what would be added, in order."""

    def __init__(self):
        self.events: list = []

    def add(self, seconds: float, findings) -> None:
        self.events.append((seconds, list(findings)))

    def cut(self) -> None:
        self.events.append(None)


def screen_segment(path: Path, detectors: dict, settings: VideoSettings, the_plan: Plan, k: int, *,
                   timeout_s: float, face_tolerance: float = 0.45) -> Part:
    """Decode and screen segment k of the clip. Never raises: a failure is the part's error."""
    from screening.pipeline import describe

    started = clock.monotonic()
    part = Part(k, order=list(detectors))
    metadata_checks = {c: d for c, d in detectors.items() if hasattr(d, "detect_claims")}
    frame_checks = {c: d for c, d in detectors.items() if c not in metadata_checks}
    try:
        if k == 0:
            part.known = fingerprint(path)
            part.sha = part.known.sha256
            video.check_structure(path, the_plan.fmt)
        with video.Clip(path, the_plan.fmt, max_duration_s=settings.max_duration_s) as clip:
            part.probe = clip.probe
            if k == 0:
                _head_checks(path, clip, metadata_checks, frame_checks, part)
                part.views = screen_views(path, the_plan.fmt, detectors, timeout_s=timeout_s,
                                          tags=clip.probe.metadata)
            _screen_window(path, clip, the_plan.window(k), frame_checks, settings, part, timeout_s)
            part.size = clip.size
    except video.VideoError as exc:
        part.error = str(exc)
    except Exception as exc:
        part.error = f"decoding failed: {describe(exc)}"
    part.seconds = clock.monotonic() - started
    return part


def _head_checks(path: Path, clip: video.Clip, metadata_checks: dict, frame_checks: dict, part: Part) -> None:
    """Segment 0: the checks on the clip's metadata, and the tags the text check reads."""
    from screening.pipeline import describe

    tags = clip.probe.metadata
    for check, detector in metadata_checks.items():
        try:
            found = detector.detect_claims(path, video_metadata.claims(path, clip.fmt, tags))
            part.results[check] = CheckResult(check, tuple(found))
        except Exception as exc:
            part.results[check] = CheckResult(check, error=f"failed: {describe(exc)}")
    for check, detector in frame_checks.items():
        if hasattr(detector, "detect_tags"):
            try:
                part.tags[check] = list(detector.detect_tags(tags, path=path, fmt=clip.fmt))
            except Exception as exc:
                part.tags[check] = f"failed on the clip's tags: {describe(exc)}"


def _screen_window(path: Path, clip: video.Clip, window: video.Window, checks: dict, settings: VideoSettings,
                   part: Part, timeout_s: float) -> None:
    from screening.pipeline import CheckTimeout, _deadline, describe

    length = (clip.probe.duration or 0.0) if window.last else window.end
    budget = timeout_s + max(0.0, length - window.start) * settings.seconds_per_clip_second
    recorders = {check: _Recorder() for check in checks}
    screener = FrameScreener(build_passes(path, checks, settings), settings, recorders, describe)
    with _deadline(budget):
        try:
            for sample in video.samples(_thumbed(clip.frames(window), part), settings.sample_every_s,
                                        settings.scene_change, settings.min_gap_s):
                part.screened += 1
                if sample.why == "scene change" or (sample.why == "first" and window.start == 0):
                    for recorder in recorders.values():
                        recorder.cut()
                screener.screen(sample.time, sample.rgb, sample.why)  # "first": screened whole
        except CheckTimeout:
            part.error = (f"timed out after {budget:.0f} s, {part.screened} frames screened in the segment "
                          f"from {window.start:.2f} s: the clip was not seen to its end")
        finally:  # what was found before a break is still reported (with the clip an error)
            part.kept = getattr(clip, "kept", 0)
            part.first_at, part.stopped_at = getattr(clip, "first_at", None), getattr(clip, "stopped_at", None)
            part.events = {check: r.events for check, r in recorders.items()}
            part.failed = dict(screener.failed)


def _thumbed(frames, part: Part):
    """The frames, keeping the grey thumbnails of the first and the last (a cut at a boundary)."""
    last = None
    for frame in frames:
        if part.head is None:
            part.head = frame.grey_thumb()
        last = frame
        yield frame
    if last is not None:
        part.tail = last.grey_thumb()


def assemble(display: str, the_plan: Plan, parts: list, settings: VideoSettings,
             face_tolerance: float = 0.45, path: Path | None = None) -> Screening:
    """One Screening from the segments' parts (or from a part that is a Screening: a worker lost).
    With the clip's `path`, it must still be the file segment 0 hashed (digest.changed_since)."""
    count = len(the_plan.bounds) - 1
    parts = sorted(parts, key=lambda p: getattr(p, "index", -1))
    head = parts[0] if parts and isinstance(parts[0], Part) and parts[0].index == 0 else None
    error = _tiling_error(the_plan, parts, count)
    if error is None and path is not None and head is not None and head.known is not None:
        changed = changed_since(path, head.known)
        if changed:
            from screening.video_screening import changed_while_screened

            error = changed_while_screened(changed)
    detectors_order = next((p.order for p in parts if isinstance(p, Part)), [])
    checks = {c for p in parts if isinstance(p, Part) for c in p.events}
    merged = {check: Appearances(face_tolerance) for check in detectors_order if check in checks}
    failed: dict = {}
    for part in (p for p in parts if isinstance(p, Part)):
        previous = next((p for p in parts if isinstance(p, Part) and p.index == part.index - 1), None)
        if previous is not None and _cut_between(previous, part, settings.scene_change):
            for appearances in merged.values():
                appearances.cut()
        for check, events in part.events.items():
            for event in events:
                merged[check].cut() if event is None else merged[check].add(*event)
        for check, why in part.failed.items():
            failed.setdefault(check, why)
    return _screening(display, the_plan, parts, head, error, merged, failed, detectors_order)


def _tiling_error(the_plan: Plan, parts: list, count: int) -> str | None:
    """Why the segments do not add up to the whole clip seen to its end, or None."""
    lost = [p for p in parts if isinstance(p, Screening)]
    if lost:
        return next((r.error for r in lost[0].results if r.error), "a segment's worker was lost")
    errors = [p for p in parts if p.error]
    if errors:
        return errors[0].error
    if sorted(p.index for p in parts) != list(range(count)):
        return f"{len(parts)} of the {count} segments of the clip were screened: the clip was not seen to its end"
    try:
        video.check_count(parts[0].probe, sum(p.kept for p in parts))
    except video.VideoError as exc:
        return str(exc)
    if any(p.kept == 0 for p in parts):
        return "a segment of the clip held no frame: the clip was not seen to its end"
    for before, after in zip(parts, parts[1:]):
        if before.stopped_at is None or after.first_at is None or abs(before.stopped_at - after.first_at) > 1e-6:
            return (f"the segment ending at {the_plan.bounds[after.index]:.2f} s stopped at a frame "
                    f"({before.stopped_at}) that is not where the next began ({after.first_at}): a gap")
    return None


def _cut_between(previous: Part, part: Part, scene_change: float) -> bool:
    """A scene change at the boundary: the next segment's first frame against the last before it."""
    if previous.tail is None or part.head is None:
        return True
    return float(np.abs(part.head - previous.tail).mean()) / 255.0 >= scene_change


def _screening(display: str, the_plan: Plan, parts: list, head: Part | None, error: str | None, merged: dict,
               failed: dict, order: list) -> Screening:
    results: dict = {}
    done = [p for p in parts if isinstance(p, Part)]
    screened = sum(p.screened for p in done)
    results[Check.DECODE] = CheckResult(Check.DECODE, error=error) if error else CheckResult(
        Check.DECODE, notes=(f"{the_plan.fmt} {head.probe.codec} {head.size[0]}x{head.size[1]}, "
                             f"{head.probe.duration:.2f} s: {screened} frames screened, in {len(done)} "
                             f"segments screened at once (cut at keyframes: "
                             f"{', '.join(f'{b:.2f}' for b in the_plan.bounds[1:-1])} s); audio is not screened",))
    if head is not None:
        results.update(head.results)
    for check, appearances in merged.items():
        if check in failed:
            results[check] = CheckResult(check, error=failed[check])
            continue
        found = appearances.close()
        tags = head.tags.get(check, []) if head is not None else []
        if isinstance(tags, str):
            results[check] = CheckResult(check, error=tags)
            continue
        results[check] = CheckResult(check, tuple(found + tags))
    for check in order:
        results.setdefault(check, CheckResult(check, error="not run: a segment of the clip was lost"))
    with_views(results, *(head.views if head is not None else ({}, None)), Check.DECODE)
    sha = head.sha if head is not None else None
    size = head.size if head is not None else None
    seconds = max((p.seconds for p in done), default=0.0)
    return Screening(display, sha, tuple(results[c] for c in [Check.DECODE, *order] if c in results), size, seconds)
