"""The checks run over a clip's sampled frames, each as one or more passes with its own schedule
and its own change gate (video_gate.py).

A pass runs on a sampled frame when it is due (every sampled frame, or at least every [video]
other_checks_every_s), and then only on the regions that changed since it last screened them.
The face check is three passes: upright faces on every sampled frame, in full-resolution pixels
at the scale `[faces] min_face_search` needs; bodies (`person`) and turned faces on the slower
schedule. Logos, uniforms and text see the frame shrunk to [video] max_side; the text pass reads
again the lines it knows where a change reaches them (video_text.py). Detectors are fed crops;
boxes are mapped back to full-frame pixels.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from screening import imaging
from screening.config import VideoSettings
from screening.model import Check, CheckResult, FaceFinding
from screening.video_gate import Gate, Plan, small_copy
from screening.video_pan import crossing
from screening.video_text import TextMemo, moved
from screening.vision.geometry import iou
from screening.vision.face_engine import TURNED_SIDE, fine_scale


@dataclass
class Pass:
    """One kind of look at the frames: `run(pixels, earlier)` returns findings with boxes in
    `pixels`; `earlier` holds this frame's findings of the checks before it, in those pixels."""

    name: str
    check: Check
    every_frame: bool  # False: at [video] other_checks_every_s
    full_res: bool  # fed full-resolution pixels (else the frame shrunk to [video] max_side)
    run: Callable[[np.ndarray, dict], list]
    whole: tuple[int, int] = (0, 0)  # the size of the frame the pixels are cut from (set per frame)
    origin: tuple[int, int] = (0, 0)  # where the pixels' corner lies in them (set per crop)
    memo: object = None  # what the pass remembers across looks (FaceMemo, TextMemo); cleared at a cut
    frame: np.ndarray | None = None  # the pixels the crops are cut from (set per frame)
    rereads_touched: bool = True  # a touched finding's box is looked at again (False: the pass rereads it)


def build_passes(path: Path, detectors: dict, settings: VideoSettings) -> list[Pass]:
    """The passes of the frame checks, in the order the checks run."""
    passes = []
    for check, detector in detectors.items():
        if check is Check.FACES and all(hasattr(detector, a) for a in ("faces_in", "bodies_in", "turned_in")):
            passes += _face_passes(detector, settings)
        elif check is Check.LOGOS and hasattr(detector, "search") and hasattr(detector, "settings"):
            passes.append(_logo_pass(detector))
        elif check is Check.TEXT and hasattr(getattr(detector, "engine", None), "working_scale"):
            passes.append(_text_pass(detector))
        else:
            passes.append(Pass(check.value, check, check is Check.FACES, False, _as_photo(path, detector)))
    return passes


def _as_photo(path: Path, detector) -> Callable:
    def run(pixels: np.ndarray, earlier: dict) -> list:
        picture = imaging.Picture(path=path, data=b"", format="VIDEO FRAME", frames=[pixels])
        return detector.detect(picture, earlier)
    return run


def _logo_pass(detector) -> Pass:
    """Logos in a crop at the zoom the whole frame would be searched at (the photo path scales
    any image to [logos] max_side: a small crop would cost as much as the whole frame). The
    small-crest pass runs on whole looks only (the first and last frames, cuts, a frame mostly
    changed): on every changed crop it cost about a third of the logo pass."""
    def run(pixels, earlier):
        whole = max(logos.whole) or max(pixels.shape[:2])
        zoom = min(detector.settings.max_side / whole, detector.settings.max_zoom)
        return detector.search(pixels, max_side=round(max(pixels.shape[:2]) * zoom) or 1, max_zoom=zoom,
                               small_crests=max(pixels.shape[:2]) >= whole)

    logos = Pass(Check.LOGOS.value, Check.LOGOS, False, False, run)
    return logos


def _text_pass(detector) -> Pass:
    """Text in a crop at the scale the whole frame is worked on (OCR plans a small picture at full
    size: a crop would be searched finer, at a higher cost per pixel). Lines the crop reaches that
    the pass read before are read again whole where they lie (video_text.py)."""
    def run(pixels, earlier):
        whole = max(text.whole) or max(pixels.shape[:2])
        scale = detector.engine.working_scale(whole)
        size = {"width": pixels.shape[1], "height": pixels.shape[0]}  # names cut by its edges
        if text.frame is None or not hasattr(detector.engine, "read_at"):
            return detector.findings(detector.engine.read(pixels, scale=scale), **size)
        x0, y0 = text.origin
        lines = memo.read(detector.engine, text.frame, (x0, y0, x0 + pixels.shape[1], y0 + pixels.shape[0]), scale)
        return detector.findings([moved(line, -x0, -y0) for line in lines], **size)

    memo = TextMemo()
    text = Pass(Check.TEXT.value, Check.TEXT, False, False, run, memo=memo, rereads_touched=False)
    return text


def _face_passes(detector, settings: VideoSettings) -> list[Pass]:
    engine = video_face_engine(detector.engine, settings)

    def faces(pixels, earlier):
        # a crop is searched at the scale of the whole frame (a crop would otherwise be planned
        # on its own, finer: its size is under [faces] detail_side)
        detector.check_gallery()
        whole = faces_pass.whole if max(faces_pass.whole) else (pixels.shape[1], pixels.shape[0])
        return detector.faces_in(pixels, engine=_AtScale(engine, fine_scale(*whole, engine.settings)),
                                 memo=memo.at(faces_pass.origin))

    def turned(pixels, earlier):
        # at the scale the whole frame is searched at (the engine's TURNED_SIDE copy of it), so a
        # crop costs its share of the whole; upright faces only (a turned face in a body is one)
        zoom = min(1.0, TURNED_SIDE / max(max(turned_pass.whole), 1))
        found = earlier.get(Check.FACES)
        upright = [_placed(f, 0, 0, zoom) for f in (found.findings if found is not None else ())
                   if isinstance(f, FaceFinding)]
        small, _ = shrunk(pixels, max(1, round(max(pixels.shape[:2]) * zoom))) if zoom < 1 else (pixels, 1.0)
        return [_placed(f, 0, 0, 1 / zoom) for f in detector.turned_in(small, upright)]

    turned_pass = Pass("turned faces", Check.FACES, False, False, turned)
    memo = FaceMemo()
    faces_pass = Pass("faces", Check.FACES, True, True, faces, memo=memo)
    return [faces_pass,
            Pass("people", Check.FACES, False, False, lambda pixels, earlier: detector.bodies_in(pixels)),
            turned_pass]


# Video frames are searched for faces at the scale [faces] min_face_search needs (0.6 at the
# default 40 px: a 40 px face is 24 px, CenterFace's smallest reliable face, docs/faces.md), and
# frames up to this long at full size.
VIDEO_DETAIL_SIDE = 640


def video_face_engine(engine, settings: VideoSettings):
    """The face engine planned for video frames: the finest view is as coarse as [faces]
    min_face_search allows (a 1080p or 4K frame at 0.6), never under VIDEO_DETAIL_SIDE px long."""
    import copy

    video = copy.copy(engine)
    video.settings = dataclasses.replace(engine.settings, detail_side=VIDEO_DETAIL_SIDE)
    return video


# One face, one descriptor: a face located again in a later look (its box overlapping the earlier
# one's by MEMO_OVERLAP or more) whose aligned chip is nearly identical in pixels to the chip its
# descriptor was computed from (mean absolute difference at most MEMO_CHIP_MEAN of 255 over the
# chip and MEMO_CHIP_BLOCK in each of its MEMO_BLOCKS x MEMO_BLOCKS blocks) keeps that judgement;
# anything else (another person stepping into the place, a face that changed) is encoded again.
# The chip compared is always the one encoded, so a slow change adds up. Forgotten after
# MEMO_SECONDS without being seen, and at a cut.
MEMO_OVERLAP = 0.6
MEMO_CHIP_MEAN = 2.0
MEMO_CHIP_BLOCK = 4.0
MEMO_BLOCKS = 5
MEMO_SECONDS = 1.0


class FaceMemo:
    """The faces pass's memory of the faces it encoded (frame pixels), for FaceDetector.faces_in."""

    def __init__(self):
        # [box in frame pixels, chip, judged, last seen]; judged: what FaceDetector made of the
        # face, both recognisers' candidates (a borderline face's second opinion is reused too)
        self.entries: list[list] = []
        self.now = 0.0
        self.origin = (0, 0)
        self.recalled = self.encoded = 0

    def look(self, time: float, cut: bool = False) -> None:
        self.now = time
        self.entries = [] if cut else [e for e in self.entries if time - e[3] <= MEMO_SECONDS]

    def at(self, origin: tuple[int, int]) -> FaceMemo:
        self.origin = origin  # the crop's corner in the frame: boxes given are in the crop's pixels
        return self

    def _framed(self, box) -> tuple:
        return (box[0] + self.origin[0], box[1] + self.origin[1], box[2], box[3])

    def recall(self, box, chip: np.ndarray):
        box = self._framed(box)
        for entry in self.entries:
            if iou(box, entry[0]) >= MEMO_OVERLAP and same_chip(chip, entry[1]):
                entry[3] = self.now
                self.recalled += 1
                return entry[2]
        return None

    def remember(self, box, chip: np.ndarray, judged) -> None:
        self.encoded += 1
        box = self._framed(box)
        self.entries = [e for e in self.entries if iou(box, e[0]) < MEMO_OVERLAP]
        self.entries.append([box, chip, judged, self.now])


def same_chip(a: np.ndarray, b: np.ndarray) -> bool:
    """Two aligned face chips nearly identical in pixels: over the whole chip and in every block."""
    if a.shape != b.shape:
        return False
    import cv2

    diff = cv2.absdiff(a, b).astype(np.float32).mean(axis=2)
    if diff.mean() > MEMO_CHIP_MEAN:
        return False
    blocks = cv2.resize(diff, (MEMO_BLOCKS, MEMO_BLOCKS), interpolation=cv2.INTER_AREA)
    return bool(blocks.max() <= MEMO_CHIP_BLOCK)


class _AtScale:
    """A face engine whose search runs at a fixed finest scale (that of the whole frame)."""

    def __init__(self, engine, scale: float):
        self.engine, self.scale = engine, scale

    def locate(self, rgb):
        return self.engine.locate(rgb, scale=self.scale)


class FrameScreener:
    """Runs the passes on each sampled frame, as on a photo of its changed regions, and hands
    each check's findings (full-frame pixels, stamped with the time) to `merged`."""

    def __init__(self, passes: list[Pass], settings: VideoSettings, merged: dict, describe):
        self.passes, self.settings, self.merged, self.describe = passes, settings, merged, describe
        self.failed: dict[Check, str] = {}
        self.last_run: dict[str, float] = {}
        self.gates = {p.name: Gate(settings.change_threshold, p.rereads_touched) for p in passes}

    def due(self, p: Pass, time: float, why: str) -> bool:
        if p.every_frame or why in ("first", "scene change", "last") or p.name not in self.last_run:
            return True
        every = self.settings.other_checks_every_s
        # screened frames are at most sample_every_s apart: run when the next one would be late
        return time - self.last_run[p.name] >= every - self.settings.sample_every_s / 2

    def screen(self, time: float, rgb: np.ndarray, why: str) -> None:
        from screening.pipeline import CheckTimeout

        if why in ("first", "scene change"):
            for gate in self.gates.values():
                gate.reset()
        for p in self.passes:
            if p.memo is not None:
                p.memo.look(time, cut=why in ("first", "scene change"))
        grey = small_copy(rgb)
        small, scale = None, 1.0
        current: dict[Check, list] = {}
        for p in self.passes:
            if p.check in self.failed or not self.due(p, time, why):
                continue
            self.last_run[p.name] = time
            if not p.full_res and small is None:
                small, scale = shrunk(rgb, self.settings.max_side)
            pixels, at = (rgb, 1.0) if p.full_res else (small, scale)
            p.whole = (pixels.shape[1], pixels.shape[0])
            gate = self.gates[p.name]
            # the last frame is looked at whole by every check: what appeared there a piece at a
            # time and stays to the end is seen whole at least once
            plan = Plan(None, ()) if why == "last" else gate.plan(grey, (rgb.shape[1], rgb.shape[0]))
            if hasattr(p.memo, "panned"):
                p.memo.panned(plan.shift[0] * at, plan.shift[1] * at)
            if p.check is Check.UNIFORMS and plan.regions:
                plan = _with_wearers(plan, current.get(Check.FACES, ()), rgb.shape[1], rgb.shape[0])
            try:
                found = self._run(p, plan, pixels, at, current, (rgb.shape[1], rgb.shape[0]))
            except CheckTimeout:
                raise
            except Exception as exc:
                self.failed[p.check] = f"failed on the frame at {time:.2f} s: {self.describe(exc)}"
                continue
            findings = [stamped(f, time) for f in gate.commit(plan, grey, found)]
            current.setdefault(p.check, []).extend(findings)
            self.merged[p.check].add(time, findings)

    def _run(self, p: Pass, plan: Plan, pixels: np.ndarray, scale: float, current: dict,
             frame: tuple[int, int] | None = None) -> list:
        """The pass on the plan's regions (or the whole frame); boxes in full-frame pixels."""
        h, w = pixels.shape[:2]
        regions = [(0, 0, w, h)] if plan.regions is None else [
            (int(x0 * scale), int(y0 * scale), min(w, int(np.ceil(x1 * scale))), min(h, int(np.ceil(y1 * scale))))
            for x0, y0, x1, y1 in plan.regions]
        found, each = [], []
        first_piece = len(regions) - plan.pieces
        size = frame or (round(w / scale), round(h / scale))  # the frame's, as the plan's regions are
        p.frame = pixels
        for i, (x0, y0, x1, y1) in enumerate(regions):
            if x1 - x0 < 2 or y1 - y0 < 2:
                each.append([])
                continue
            crop = np.ascontiguousarray(pixels[y0:y1, x0:x1])
            p.origin = (x0, y0)
            placed = [_placed(f, x0, y0, 1 / scale) for f in p.run(crop, _earlier_in(current, x0, y0, x1, y1, scale))]
            if i and (i >= first_piece or any(crossing(plan.regions[i], r, size) for r in plan.regions[:i])):
                # a piece of an edge strip, or a rectangle crossing an earlier one (video_pan.crossing):
                # what an earlier region holds whole and found too is that region's
                placed = [f for f in placed if not _seen_before(f, plan.regions[:i], each)]
            each.append(placed)
            found += placed
        return found


def _seen_before(finding, regions, found: list[list]) -> bool:
    """A piece's finding that an earlier region (frame pixels) holds whole and found there too (a
    finding of its kind whose box overlaps it by intersection over union 0.5): one thing, once."""
    box = getattr(finding, "box", None)
    if box is None:
        return False
    x, y, w, h = box
    for (x0, y0, x1, y1), there in zip(regions, found):
        if x0 <= x and y0 <= y and x + w <= x1 and y + h <= y1 and any(
                type(g) is type(finding) and getattr(g, "box", None) is not None and iou(g.box, box) >= 0.5
                for g in there):
            return True
    return False


def _with_wearers(plan: Plan, faces, w: int, h: int) -> Plan:
    """The plan's regions, each joined with the face of anyone whose torso (below the face,
    about three faces high and two wide) it meets: the uniform check finds clothes below faces,
    so a coat opened under a still face needs the face in the crop too."""
    regions = list(plan.regions)
    for f in faces:
        if getattr(f, "box", None) is None:
            continue
        x, y, fw, fh = f.box
        torso = (max(0, x - fw // 2), min(h, y + fh), min(w, x + fw + fw // 2), min(h, y + 4 * fh))
        for i, (x0, y0, x1, y1) in enumerate(regions):
            if torso[0] < x1 and x0 < torso[2] and torso[1] < y1 and y0 < torso[3]:
                regions[i] = (min(x0, torso[0], x), min(y0, y), max(x1, torso[2]), max(y1, torso[3]))
    return dataclasses.replace(plan, regions=tuple(regions))


def _earlier_in(current: dict, x0: int, y0: int, x1: int, y1: int, scale: float) -> dict:
    """This frame's findings so far, by check, in the pixels of the crop (x0, y0)-(x1, y1) of the
    frame shrunk by `scale`: those that meet the crop, their boxes cut to it."""
    earlier = {Check.DECODE: CheckResult(Check.DECODE)}
    for check, findings in current.items():
        inside = [_clipped(_placed(f, -x0 / scale, -y0 / scale, scale), x1 - x0, y1 - y0)
                  for f in findings if _in_crop(f, x0, y0, x1, y1, scale)]
        earlier[check] = CheckResult(check, tuple(inside))
    return earlier


def _in_crop(finding, x0: int, y0: int, x1: int, y1: int, scale: float) -> bool:
    box = getattr(finding, "box", None)
    if box is None:
        return False
    bx, by, bw, bh = (v * scale for v in box)
    return bx < x1 and by < y1 and bx + bw > x0 and by + bh > y0


def _clipped(finding, w: int, h: int):
    """The finding with its box cut to a w x h crop (it is known to meet the crop)."""
    x, y, bw, bh = finding.box
    left, top = max(0, x), max(0, y)
    right, bottom = min(w, x + bw), min(h, y + bh)
    return dataclasses.replace(finding, box=(left, top, max(1, right - left), max(1, bottom - top)))


def _placed(finding, dx: float, dy: float, scale: float):
    """The finding with its box moved by (dx, dy), then scaled: from a crop to the frame
    (dx, dy: the crop's corner; scale: frame pixels per crop pixel), or the other way."""
    box = getattr(finding, "box", None) if dataclasses.is_dataclass(finding) else None
    if box is None:
        return finding
    x, y, bw, bh = box
    return dataclasses.replace(finding, box=(round((x + dx) * scale), round((y + dy) * scale),
                                             max(1, round(bw * scale)), max(1, round(bh * scale))))


def shrunk(rgb, max_side: int):
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
