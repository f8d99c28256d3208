"""Screening a clip: every photo check on the sampled frames, findings merged over time.

The clip is decoded to its end one frame at a time (formats/video.py); the sampled frames
are screened by the checks' passes (video_passes.py), each on the regions that changed since
it last looked (video_gate.py), and each finding is stamped with the frame's time. What one
thing on screen produces over many frames is merged into one appearance (video_merge.py).
Location comes from the clip's metadata, once; a picture the clip carries in its boxes (a
camera's thumbnail) is screened as a view (video_views.py). A clip not seen to its end is an
error; the findings made before the break are still reported.
"""

from __future__ import annotations

import time as clock
from pathlib import Path

from screening.config import VideoSettings
from screening.digest import changed_since, fingerprint
from screening.formats import video, video_metadata
from screening.model import Check, CheckResult, Screening
from screening.video_merge import Appearances
from screening.video_passes import FrameScreener, build_passes, shrunk, stamped
from screening.video_views import merged as with_views
from screening.video_views import screen_views

__all__ = ["screen_clip", "shrunk", "stamped"]


def screen_clip(path: Path, fmt: str, detectors: dict, settings: VideoSettings, *, display: str,
                timeout_s: float, face_tolerance: float = 0.45):
    """Every check on one clip. Never raises: failures become incomplete checks."""
    from screening.pipeline import describe

    started = clock.monotonic()
    try:
        known = fingerprint(path)
    except OSError as exc:
        return Screening(display, None, (CheckResult(Check.DECODE, error=f"cannot be read: {exc.strerror or exc}"),),
                         seconds=clock.monotonic() - started)
    results: dict[Check, CheckResult] = {}
    clip = None
    try:
        video.check_structure(path, fmt)
        clip = video.Clip(path, fmt, max_duration_s=settings.max_duration_s)
    except video.VideoError as exc:
        results[Check.DECODE] = CheckResult(Check.DECODE, error=str(exc))
    except Exception as exc:
        results[Check.DECODE] = CheckResult(Check.DECODE, error=f"decoding failed: {describe(exc)}")
    tags = clip.probe.metadata if clip is not None else {}
    metadata_checks = {c: d for c, d in detectors.items() if hasattr(d, "detect_claims")}
    for check, detector in metadata_checks.items():
        try:
            found = detector.detect_claims(path, video_metadata.claims(path, fmt, tags))
            results[check] = CheckResult(check, tuple(found))
        except Exception as exc:
            results[check] = CheckResult(check, error=f"failed: {describe(exc)}")
    size = None
    if clip is not None:
        frame_checks = {c: d for c, d in detectors.items() if c not in metadata_checks}
        merged = {check: Appearances(face_tolerance) for check in frame_checks}
        with clip:
            results[Check.DECODE], failed = _screen_frames(path, clip, frame_checks, settings, merged, timeout_s)
            size = clip.size
        results.update(_frame_results(frame_checks, merged, failed, tags, path, fmt))
    if clip is not None:  # the pictures the clip carries in its boxes: views (video_views.py)
        with_views(results, *screen_views(path, fmt, detectors, timeout_s=timeout_s, tags=tags), Check.DECODE)
    changed = changed_since(path, known)
    if changed:  # what was decoded may not be what was hashed: never a verdict on that hash (RT26-3)
        results[Check.DECODE] = CheckResult(Check.DECODE, error=changed_while_screened(changed))
    order = [Check.DECODE, *detectors]
    return Screening(display, known.sha256, tuple(results[c] for c in order if c in results), size,
                     clock.monotonic() - started)


def changed_while_screened(why: str) -> str:
    return (f"the file changed while it was screened ({why}): what was screened may not be this file; "
            "screen it again once nothing is writing it")


def _screen_frames(path: Path, clip: video.Clip, checks: dict, settings: VideoSettings, merged: dict,
                   timeout_s: float) -> tuple[CheckResult, dict]:
    """Decode the clip to its end, screening the sampled frames: the decode check's result,
    and {check: why} of the checks that failed on a frame."""
    from screening.pipeline import CheckTimeout, _deadline, describe

    budget = timeout_s + (clip.probe.duration or 0.0) * settings.seconds_per_clip_second
    screener = FrameScreener(build_passes(path, checks, settings), settings, merged, describe)
    screened = 0
    with _deadline(budget):
        try:
            for sample in video.samples(clip.frames(), settings.sample_every_s, settings.scene_change,
                                        settings.min_gap_s):
                screened += 1
                if sample.why in ("first", "scene change"):
                    for appearances in merged.values():
                        appearances.cut()
                screener.screen(sample.time, sample.rgb, sample.why)
            return CheckResult(Check.DECODE, notes=(_summary(clip, screened, settings, screener),)), screener.failed
        except video.VideoError as exc:
            return CheckResult(Check.DECODE, error=str(exc)), screener.failed
        except CheckTimeout:
            return CheckResult(Check.DECODE, error=f"timed out after {budget:.0f} s, {screened} frames screened: "
                                                   "the clip was not seen to its end"), screener.failed
        except Exception as exc:
            return CheckResult(Check.DECODE, error=f"decoding failed: {describe(exc)}"), screener.failed


def _frame_results(checks: dict, merged: dict, failed: dict, tags: dict, path: Path,
                   fmt: str) -> dict[Check, CheckResult]:
    from screening.pipeline import describe

    results = {}
    for check, detector in checks.items():
        if check in failed:
            results[check] = CheckResult(check, error=failed[check])
            continue
        found = merged[check].close()
        if hasattr(detector, "detect_tags"):  # the text check also reads the clip's tags, XMP and sidecars
            try:
                found += detector.detect_tags(tags, path=path, fmt=fmt)
            except Exception as exc:
                results[check] = CheckResult(check, error=f"failed on the clip's tags: {describe(exc)}")
                continue
        results[check] = CheckResult(check, tuple(found))
    return results


def _summary(clip: video.Clip, screened: int, settings: VideoSettings, screener: FrameScreener) -> str:
    p = clip.probe
    w, h = clip.size
    turned = f", shown turned {clip.rotation} degrees" if clip.rotation else ""
    length = f"{p.duration:.2f} s" if p.duration is not None else "duration not declared"
    gate = screener.gates.get("faces") or next(iter(screener.gates.values()), None)
    parts = (f"; faces: {gate.full} whole, {gate.partial} in part, {gate.skipped} unchanged"
             if gate is not None and settings.change_threshold else "")
    return (f"{p.container} {p.codec} {w}x{h}{turned}, {length}: {screened} frames screened (every "
            f"{settings.sample_every_s:g} s, keyframes, scene changes and what showed between them; faces in each, the other checks "
            f"every {settings.other_checks_every_s:g} s; each check only where the frame changed since it "
            f"last looked{parts}); audio is not screened")
