"""Screen one file: read it, decode it, run every check, under one deadline.

Nothing that happens to one file can make it `cleared`: a check that raises or runs out of
time is recorded as not complete, and decide() refuses to clear. Many files: see pool.py.
"""

from __future__ import annotations

import signal
import time
import traceback
from pathlib import Path

from typing import Any

from screening import imaging
from screening.config import Config, VideoSettings
from screening.detectors import Detector
from screening.digest import regular_file_bytes, sha256_bytes, sha256_file
from screening.model import Check, CheckResult, Screening


class CheckTimeout(Exception):
    pass


def screen_file(path: Path, detectors: dict[Check, Detector], *, display: str | None = None,
                timeout_s: float = 300.0, max_frames: int = 64, video: VideoSettings | None = None,
                face_tolerance: float = 0.45) -> Screening:
    """Run every check on one file. Never raises: failures become incomplete checks."""
    started = time.monotonic()
    shown = display or str(path)
    fmt = video_format(path)
    if fmt is not None:
        from screening.video_screening import screen_clip

        return screen_clip(path, fmt, detectors, video or VideoSettings(), display=shown, timeout_s=timeout_s,
                           face_tolerance=face_tolerance)
    try:
        data = imaging.read_file(path)
    except imaging.ImageError as exc:
        return Screening(shown, None, (CheckResult(Check.DECODE, error=str(exc)),),
                         seconds=time.monotonic() - started)
    sha = sha256_bytes(data)
    results: dict[Check, CheckResult] = {}
    picture = None
    with _deadline(timeout_s):
        try:
            picture = imaging.load(path, data, max_frames=max_frames)
            results[Check.DECODE] = CheckResult(Check.DECODE)
        except imaging.ImageError as exc:
            results[Check.DECODE] = CheckResult(Check.DECODE, error=str(exc))
        except CheckTimeout:
            results[Check.DECODE] = CheckResult(Check.DECODE, error=f"decoding took longer than {timeout_s:.0f} s")
        except Exception as exc:  # a decoder bug is still just a file we could not screen
            results[Check.DECODE] = CheckResult(Check.DECODE, error=f"decoding failed: {describe(exc)}")

        for check, detector in detectors.items():
            if picture is None:
                results[check] = _run_without_pixels(check, detector, path, data)
                continue
            try:
                findings = _with_views(detector.detect(picture, dict(results)), picture)
                results[check] = CheckResult(check, tuple(findings))
            except CheckTimeout:
                results[check] = CheckResult(check, error=f"timed out: the image took longer than {timeout_s:.0f} s")
                break
            except Exception as exc:
                results[check] = CheckResult(check, error=f"failed: {describe(exc)}")
    size = picture.size if picture is not None else None
    return Screening(shown, sha, tuple(results.values()), size, time.monotonic() - started)


def not_read(path: Path, display: str, why: str) -> Screening:
    """The record of a file of the batch that is deliberately not read (see files.select)."""
    return Screening(display or str(path), None, (CheckResult(Check.DECODE, error=why),))


def file_options(config: Config) -> dict[str, Any]:
    """screen_file's limits and settings from the config (the same in every kind of worker)."""
    return {"timeout_s": config.scan.timeout_s, "max_frames": config.scan.max_frames, "video": config.video,
            "face_tolerance": config.faces.tolerance}


def video_format(path: Path) -> str | None:
    """The video container of the file, from its first bytes, or None (not a video, or unreadable)."""
    from screening.formats import video

    head = regular_file_bytes(path, 32)  # a FIFO in the batch must not hang the parent (RT11b-30)
    if head is None:
        return None  # read_file then says what it is
    return None if imaging.sniff(head) is not None else video.sniff(head)


def _with_views(findings: list, picture: imaging.Picture) -> list:
    """Each finding of an extra view (thumbnail, transparency, embedded image) says which one."""
    import dataclasses

    return [dataclasses.replace(f, view=picture.view(f.frame))
            if getattr(f, "frame", 0) and hasattr(f, "view") and not f.view else f for f in findings]


def _run_without_pixels(check: Check, detector: Detector, path: Path, data: bytes) -> CheckResult:
    """Metadata checks still run on a file whose pixels did not decode, so the report says all."""
    metadata_only = getattr(detector, "detect_undecoded", None)
    if metadata_only is None:
        return CheckResult(check, error="not run: the image could not be decoded", undecoded=True)
    try:
        return CheckResult(check, tuple(metadata_only(path, data)))
    except CheckTimeout:
        return CheckResult(check, error="timed out: the file's metadata took longer than the time limit")
    except Exception as exc:
        return CheckResult(check, error=f"failed: {describe(exc)}")


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (in {Path(frame[0].filename).name}:{frame[0].lineno})" if frame else ""
    return f"{type(exc).__name__}: {text}{where}"


class _deadline:
    """Raise CheckTimeout in this (main) thread after `seconds`; a no-op where SIGALRM is absent."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.usable = hasattr(signal, "SIGALRM") and seconds > 0 and _in_main_thread()

    def __enter__(self):
        if self.usable:
            self.previous = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False

    @staticmethod
    def _fire(signum, frame):
        raise CheckTimeout()


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()




def crashed(path: Path, display: str, why: str) -> Screening:
    """The record of a file whose worker died or hung: an error, never cleared."""
    try:
        sha = sha256_file(path)
    except OSError:
        sha = None
    return Screening(display, sha, (CheckResult(Check.DECODE, error=why),))
