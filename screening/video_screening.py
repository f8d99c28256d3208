"""Screening a clip: every photo check on the sampled frames, findings merged over time.

The clip is decoded to its end one frame at a time (formats/video.py); the sampled frames are
handed to the same detectors as photos, one Picture per frame, and each finding is stamped
with the frame's time. What one thing on screen produces over many frames is merged into one
appearance (a face is reported once, when first seen; a consented face is matched on its best
frame). Location comes from the clip's metadata, once. A clip not seen to its end is an
error; the findings made before the break are still reported.
"""

from __future__ import annotations

import dataclasses
import time as clock
from collections.abc import Iterable
from pathlib import Path

from screening import imaging
from screening.config import VideoSettings
from screening.digest import sha256_file
from screening.formats import video, video_metadata
from screening.model import Check, CheckResult, FaceFinding, Screening
from screening.vision.geometry import iou

# Two findings in screened frames this close in time may be one appearance...
LINK_GAP_S = 1.0
# ...when their boxes overlap this much (intersection over union).
LINK_IOU = 0.3
# A face whose best frame matched someone within tolerance is a different person in a frame
# where its distance to that person is this much beyond the tolerance (tracks never mix people).
IDENTITY_SLACK = 0.15


def screen_clip(path: Path, fmt: str, detectors: dict, settings: VideoSettings, *, display: str,
                timeout_s: float, face_tolerance: float = 0.45):
    """Every check on one clip. Never raises: failures become incomplete checks."""
    from screening.pipeline import CheckTimeout, _deadline
    from screening.pipeline import describe as _describe

    started = clock.monotonic()
    try:
        sha = sha256_file(path)
    except OSError as exc:
        return Screening(display, None, (CheckResult(Check.DECODE, error=f"cannot be read: {exc.strerror or exc}"),),
                         seconds=clock.monotonic() - started)

    results: dict[Check, CheckResult] = {}
    size = None
    clip = None
    try:
        video.check_structure(path, fmt)
        clip = video.Clip(path, fmt, max_duration_s=settings.max_duration_s)
    except video.VideoError as exc:
        results[Check.DECODE] = CheckResult(Check.DECODE, error=str(exc))
    except Exception as exc:
        results[Check.DECODE] = CheckResult(Check.DECODE, error=f"decoding failed: {_describe(exc)}")

    tags = clip.probe.metadata if clip is not None else {}
    metadata_checks = {c: d for c, d in detectors.items() if hasattr(d, "detect_claims")}
    for check, detector in metadata_checks.items():
        try:
            found = detector.detect_claims(path, video_metadata.claims(path, fmt, tags))
            results[check] = CheckResult(check, tuple(found))
        except Exception as exc:
            results[check] = CheckResult(check, error=f"failed: {_describe(exc)}")
    if clip is None:
        return Screening(display, sha, tuple(results.values()), None, clock.monotonic() - started)

    frame_checks = {c: d for c, d in detectors.items() if c not in metadata_checks}
    budget = timeout_s + (clip.probe.duration or 0.0) * settings.seconds_per_clip_second
    screened = 0
    with clip, _deadline(budget):
        merged = {check: Appearances(face_tolerance) for check in frame_checks}
        screener = _FrameScreener(path, frame_checks, settings, merged, _describe)
        try:
            for sample in video.samples(clip.frames(), settings.sample_every_s, settings.scene_change,
                                        settings.min_gap_s):
                screened += 1
                if sample.why in ("first", "scene change"):
                    for appearances in merged.values():
                        appearances.cut()
                screener.screen(sample)
            results[Check.DECODE] = CheckResult(Check.DECODE, notes=(_summary(clip, screened, settings),))
        except video.VideoError as exc:
            results[Check.DECODE] = CheckResult(Check.DECODE, error=str(exc))
        except CheckTimeout:
            results[Check.DECODE] = CheckResult(
                Check.DECODE, error=f"timed out after {budget:.0f} s, {screened} frames screened: the clip was "
                                    "not seen to its end")
        except Exception as exc:
            results[Check.DECODE] = CheckResult(Check.DECODE, error=f"decoding failed: {_describe(exc)}")
        size = clip.size
    for check, detector in frame_checks.items():
        if check in screener.failed:
            results[check] = CheckResult(check, error=screener.failed[check])
            continue
        found = merged[check].close()
        if hasattr(detector, "detect_tags"):  # the text check also reads the title/comment tags
            try:
                found += detector.detect_tags(tags)
            except Exception as exc:
                results[check] = CheckResult(check, error=f"failed on the clip's tags: {_describe(exc)}")
                continue
        results[check] = CheckResult(check, tuple(found))
    order = [Check.DECODE, *detectors]
    return Screening(display, sha, tuple(results[c] for c in order if c in results), size,
                     clock.monotonic() - started)


# Checks that run on every screened frame; the others at [video] other_checks_every_s.
EVERY_FRAME = frozenset({Check.FACES})


class _FrameScreener:
    """Runs the frame checks on each sampled frame, as on a photo of it, and merges the findings."""

    def __init__(self, path: Path, checks: dict, settings: VideoSettings, merged: dict, describe):
        self.path, self.checks, self.settings, self.merged, self.describe = path, checks, settings, merged, describe
        self.failed: dict[Check, str] = {}
        self.last_run: dict[Check, float] = {}

    def due(self, check: Check, sample: video.Sample) -> bool:
        if check in EVERY_FRAME or sample.why in ("first", "scene change", "last") or check not in self.last_run:
            return True
        every = self.settings.other_checks_every_s
        # screened frames are at most sample_every_s apart: run when the next one would be late
        return sample.time - self.last_run[check] >= every - self.settings.sample_every_s / 2

    def screen(self, sample: video.Sample) -> None:
        from screening.pipeline import CheckTimeout

        pixels, scale = _shrunk(sample.rgb, self.settings.max_side)
        picture = imaging.Picture(path=self.path, data=b"", format="VIDEO FRAME", frames=[pixels])
        earlier: dict[Check, CheckResult] = {Check.DECODE: CheckResult(Check.DECODE)}
        for check, detector in self.checks.items():
            if check in self.failed or not self.due(check, sample):
                continue
            self.last_run[check] = sample.time
            try:
                found = detector.detect(picture, dict(earlier))
            except CheckTimeout:
                raise
            except Exception as exc:
                self.failed[check] = f"failed on the frame at {sample.time:.2f} s: {self.describe(exc)}"
                continue
            earlier[check] = CheckResult(check, tuple(found))
            self.merged[check].add(sample.time, [stamped(f, sample.time, scale) for f in found])


def _shrunk(rgb, max_side: int):
    """The frame with its longest side at most max_side (0: as it is), and the scale used."""
    longest = max(rgb.shape[:2])
    if not max_side or longest <= max_side:
        return rgb, 1.0
    import cv2

    scale = max_side / longest
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), scale


def stamped(finding, seconds: float, scale: float = 1.0):
    """The finding with its video time set and its box in full-size pixels (a finding type
    without a `time` or `box` field is kept as it is there)."""
    if not dataclasses.is_dataclass(finding):
        return finding
    names = {f.name for f in dataclasses.fields(finding)}
    changes = {}
    if "time" in names:
        changes["time"] = round(seconds, 3)
    if "box" in names and scale != 1.0 and finding.box is not None:
        changes["box"] = tuple(round(v / scale) for v in finding.box)
    return dataclasses.replace(finding, **changes) if changes else finding


def _summary(clip: video.Clip, screened: int, settings: VideoSettings) -> str:
    p = clip.probe
    w, h = clip.size
    turned = f", shown turned {clip.rotation} degrees" if clip.rotation else ""
    length = f"{p.duration:.2f} s" if p.duration is not None else "duration not declared"
    return (f"{p.container} {p.codec} {w}x{h}{turned}, {length}: {screened} frames screened (every "
            f"{settings.sample_every_s:g} s, keyframes and scene changes; faces in each, the other checks "
            f"every {settings.other_checks_every_s:g} s); audio is not screened")


# ---------------------------------------------------------------- merging over time


@dataclasses.dataclass
class _Track:
    findings: list  # in time order
    last_time: float


class Appearances:
    """One check's findings over consecutive screened frames, joined into appearances.

    Findings of the same kind (same academy, same type) whose boxes overlap in frames at most
    LINK_GAP_S apart are one appearance; a scene change ends every appearance. A finding with
    no box is kept once per distinct content. Memory holds the open appearances and one
    finding per closed appearance, whatever the clip's length.
    """

    def __init__(self, face_tolerance: float):
        self.tolerance = face_tolerance
        self.open: list[_Track] = []
        self.done: list = []
        self.unboxed: dict = {}

    def add(self, seconds: float, findings: Iterable) -> None:
        stale = [t for t in self.open if seconds - t.last_time > LINK_GAP_S]
        for track in stale:
            self._finish(track)
        taken: set[int] = set()
        for finding in findings:
            box = getattr(finding, "box", None)
            if box is None:
                self.unboxed.setdefault(_content_key(finding), finding)
                continue
            track = self._best_track(finding, taken)
            if track is None:
                track = _Track([], seconds)
                self.open.append(track)
            taken.add(id(track))
            track.findings.append(finding)
            track.last_time = seconds

    def cut(self) -> None:
        """A scene change: nothing on screen before it continues after it."""
        for track in list(self.open):
            self._finish(track)

    def close(self) -> list:
        self.cut()
        return self.done + list(self.unboxed.values())

    def _finish(self, track: _Track) -> None:
        self.open.remove(track)
        self.done.append(merge(track.findings))

    def _best_track(self, finding, taken: set[int]) -> _Track | None:
        best, best_iou = None, LINK_IOU
        for track in self.open:
            if id(track) in taken:
                continue
            last = track.findings[-1]
            if type(last) is not type(finding) or _identity(last) != _identity(finding):
                continue
            overlap = iou(last.box, finding.box)
            if overlap >= best_iou and self._same_person(track.findings, finding):
                best, best_iou = track, overlap
        return best

    def _same_person(self, findings: list, finding) -> bool:
        """Never join two faces that the register tells apart (see IDENTITY_SLACK)."""
        if not isinstance(finding, FaceFinding):
            return True
        best = _best_face(findings)
        for a, b in ((best, finding), (finding, best)):
            if not (a.identifiable and a.candidates and b.identifiable and b.candidates):
                continue
            person, distance = a.candidates[0]
            if distance > self.tolerance:
                continue
            theirs = dict(b.candidates).get(person)
            if theirs is None or theirs > self.tolerance + IDENTITY_SLACK:
                return False
        return True


def merge(findings: list):
    """One finding for an appearance: where and when it was first seen, with its best evidence."""
    first = findings[0]
    if isinstance(first, FaceFinding):
        best = _best_face(findings)
    else:
        best = max(findings, key=lambda f: (bool(getattr(f, "crest", False)), getattr(f, "score", 0) or 0,
                                            getattr(f, "similarity", 0) or 0, getattr(f, "ocr_score", 0) or 0))
    last = findings[-1]
    span = (f"on screen from {_t(first)} to {_t(last)} ({len(findings)} screened frames)"
            if len(findings) > 1 else f"seen at {_t(first)}")
    if best is not first:
        span += f"; best frame at {_t(best)}"
    names = {f.name for f in dataclasses.fields(best)}
    changes = {}
    if "detail" in names:  # a finding type without a detail field (TextFinding) keeps its own text
        changes["detail"] = f"{best.detail}; {span}" if best.detail else span
    if hasattr(first, "box"):
        changes["box"] = first.box
    if hasattr(first, "time"):
        changes["time"] = first.time
    return dataclasses.replace(best, **changes)


def _best_face(findings: list) -> FaceFinding:
    """The frame the face is best identified in: the lowest distance to anyone enrolled."""
    readable = [f for f in findings if f.identifiable and f.candidates]
    if not readable:
        return findings[0]
    return min(readable, key=lambda f: f.candidates[0][1])


def _t(finding) -> str:
    seconds = getattr(finding, "time", None)
    return "?" if seconds is None else f"{seconds:.2f} s"


# (text: what the OCR read, and how well, varies from frame to frame; the name it matched does not)
_VOLATILE = {"box", "score", "detail", "frame", "time", "candidates", "identifiable", "crest",
             "text", "ocr_score", "height", "similarity"}


def _identity(finding) -> tuple:
    """What must be equal for two findings to be the same thing (academy, text...), not where."""
    if not dataclasses.is_dataclass(finding):
        return (type(finding).__name__,)
    return tuple((f.name, repr(getattr(finding, f.name))) for f in dataclasses.fields(finding)
                 if f.name not in _VOLATILE)


def _content_key(finding) -> tuple:
    if not dataclasses.is_dataclass(finding):
        return (repr(finding),)
    return (type(finding).__name__,) + tuple((f.name, repr(getattr(finding, f.name)))
                                             for f in dataclasses.fields(finding) if f.name not in ("time", "frame"))
