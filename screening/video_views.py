"""Pictures a clip carries in its boxes, screened as views of the clip.

A camera keeps a still beside the clip's frames: Canon's MOV in moov/udta/CNTH/CNDA, its MP4 in
the THMB box of its uuid box, others in moov/udta/thmb; a picture can also ride in a `free` box, or,
in any container, in bytes no frame or sound uses (an `mdat` gap, a Matroska `Void`, an AVI `JUNK`
chunk: formats/clip_gaps.py). formats/carried.py finds them all. A viewer, an exiftool or a file browser shows it, and it
need not be one of the clip's frames. So every photo check runs on it, as on a photo's EXIF
thumbnail: its findings name the view ("clip thumbnail (...)") and carry time 0 (a clip's
reasons carry `time`, SPEC). As a photo's thumbnail of itself (imaging.Picture.repeats), one that
is the clip's first frame shrunk to a thumbnail's size (formats/pixels.shown_already: it differs nowhere; the first
frame is always screened) has faces too small to identify: only the text check reads its pixels,
the location check its metadata; one that differs anywhere gets every check. One that does not decode, is cut off, or exceeds the limits (more
than carried.MAX_CARRIED pictures, the pixel budget, the time limit) makes the clip an error.
A clip split across workers (video_split.py) screens them once, in segment 0.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from screening import imaging
from screening.formats import carried, video
from screening.formats.common import Embedded, MetadataError
from screening.formats.pixels import Budget, shown_already
from screening.model import Check, CheckResult

# A carried picture's findings are numbered from VIEW_FRAMES * (its place + 1): a body in it is
# matched only with a face of the same picture (policy: a person whose face cannot be seen), never
# with one of the clip's frames (numbered from 0).
VIEW_FRAMES = 1_000_000
# The checks that still read a thumbnail that repeats the clip's first frame (as a photo's repeats).
_ON_REPEATS = (Check.TEXT, Check.LOCATION)
# The largest thumbnail taken for a repeat of the first frame (Canon's are 160 x 120).
THUMBNAIL_SIDE = 256


def screen_views(path: Path, fmt: str, detectors: dict, *, timeout_s: float,
                 max_frames: int = 64, tags: dict[str, str] | None = None) -> tuple[dict, str | None]:
    """({check: findings} on every picture the clip carries (and written across its text `tags`),
    why they could not all be screened or None). Never raises."""
    from screening.pipeline import CheckTimeout, _deadline, describe

    found: dict = {check: [] for check in detectors}
    try:
        with _deadline(timeout_s):
            budget = Budget(imaging.MAX_PIXELS)
            items = carried.clip_pictures(path, fmt, tags)
            first = _first_frame(path, fmt) if items else None
            for k, item in enumerate(items):
                _screen_one(path, item, detectors, found, max_frames, budget, first, (k + 1) * VIEW_FRAMES)
    except CheckTimeout:
        return found, f"timed out after {timeout_s:.0f} s screening the pictures the clip carries (its thumbnail)"
    except (imaging.ImageError, MetadataError) as exc:
        return found, str(exc)
    except Exception as exc:
        return found, f"screening a picture the clip carries (its thumbnail) failed: {describe(exc)}"
    return found, None


def _first_frame(path: Path, fmt: str):
    """The clip's first frame, upright (a camera's thumbnail is mostly that frame shrunk), or None."""
    from screening.pipeline import CheckTimeout

    try:
        with video.Clip(path, fmt) as clip:
            frames = clip.frames()
            first = next(frames, None)
            rgb = first.rgb() if first is not None else None
            frames.close()
            return rgb
    except CheckTimeout:
        raise
    except Exception:  # the clip's own decoding reports it; the thumbnail then gets every check
        return None


def _thumbnail_of(view, first) -> bool:
    """The view is the first frame shrunk to a camera thumbnail's size (at most THUMBNAIL_SIDE px
    and half the frame's side), where its faces are too small to identify; a larger view that
    matches the frame block by block on average can still show a face the frame does not, or
    another person's face of the same brightness (RT19-1/3)."""
    side = max(view.shape[:2])
    return side <= min(THUMBNAIL_SIDE, max(first.shape[:2]) / 2) and shown_already(view, [first])


def _screen_one(path: Path, item: Embedded, detectors: dict, found: dict, max_frames: int, budget: Budget,
                first, numbered: int) -> None:
    try:
        picture = imaging.load(path, item.data, max_frames, budget=budget, depth=1)
    except imaging.ImageError as exc:
        raise imaging.ImageError(f"the {item.where} cannot be screened: {exc}") from None
    repeat = first is not None and all(_thumbnail_of(frame, first) for frame in picture.frames)
    earlier: dict = {}
    for check, detector in detectors.items():
        if repeat and check not in _ON_REPEATS:
            continue
        own = detector.detect(picture, earlier)  # boxes in the view's pixels, as uniforms reads faces'
        earlier[check] = CheckResult(check, tuple(own))
        found[check] += [_as_view(f, picture, item.where, numbered) for f in own
                         if getattr(f, "sidecar", None) is None]


def _as_view(finding, picture: imaging.Picture, where: str, numbered: int):
    """The finding named for the carried picture (and its own view in it: its EXIF thumbnail...)."""
    if hasattr(finding, "view"):
        label = finding.view or picture.view(getattr(finding, "frame", 0))
        changes = {"view": f"{where}, {label}" if label else where}
        if hasattr(finding, "frame"):
            changes["frame"] = numbered + finding.frame
        if hasattr(finding, "time"):
            changes["time"] = 0.0
        return dataclasses.replace(finding, **changes)
    if hasattr(finding, "detail"):  # a location read from the carried picture's own metadata
        return dataclasses.replace(finding, detail=f"{finding.detail} (in the {where})")
    return finding


def merged(results: dict, found: dict, error: str | None, decode_check) -> None:
    """Add the views' findings to the clip's results; a view that could not be screened makes
    the decode check an error (the clip is then never cleared)."""
    for check, findings in found.items():
        if findings and check in results:
            results[check] = dataclasses.replace(results[check], findings=results[check].findings + tuple(findings))
        elif findings:
            results[check] = CheckResult(check, tuple(findings))
    if error:
        decode = results.get(decode_check) or CheckResult(decode_check)
        if decode.error is None:
            results[decode_check] = dataclasses.replace(decode, error=error)
