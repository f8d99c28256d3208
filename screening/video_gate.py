"""Which parts of a sampled frame a check must look at again: change gating for video.

Each pass of a check over the frames (video_passes.py) keeps a Gate: a small colour copy of
what it last screened at each place (the *reference*), and the findings it made there, in
full-frame pixels. A new frame is compared with the reference, cell by cell (CELL x CELL
frame pixels): a cell whose mean absolute change in any colour channel exceeds the threshold
has changed (a crest in colours of the wall's lightness changes no grey). A
camera pan is undone first: the global shift between reference and frame is measured by
phase correlation, and kept when it explains the frame better than no shift.

- The changed cells, grown by MARGIN_PX, grouped into rectangles, are screened again; a
  finding whose box touches a changed cell is dropped and its box added to the rectangles
  (a face half in a changed cell is looked at whole).
- Every other finding is kept, moved by the pan, and its place is not screened again: it
  holds what was screened there (within the threshold).
- The first frame, a scene change, a cut, or changes over FULL_SHARE of the frame: the whole
  frame is screened. A place revealed by a pan (nothing screened there yet) has changed.

The reference is updated only where the pass screened, so a slow change (a fade, a drift)
adds up until it passes the threshold, and is then screened.

A thing that appears a piece at a time (a face uncovered strip by strip, a name written letter by
letter) is never whole inside one frame's changed cells. So the gate also keeps the cells that
changed since their place was last looked at whole (*pending*): a connected group of them is
screened whole, with its margin, as soon as it stops changing (settled) and at the latest
WHOLE_AFTER looks after it began to change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

# The grey copy is 1/SCALE of the frame on each side; cells are CELL frame pixels square.
SCALE = 4
CELL = 16
# Changed cells are screened with this much around them (frame pixels): the detectors see a
# face or a line of text that crosses into unchanged cells whole, with some context.
MARGIN_PX = 48
# Rectangles are at least this long on each side (frame pixels; the people detector needs 128).
MIN_SIDE = 160
# Rectangles covering more than this share of the frame: the whole frame is screened.
FULL_SHARE = 0.5
# A pan is looked for on every frame (a pan left uncorrected while parts of the frame are looked
# at again makes a patchwork of the reference) and kept when phase correlation is at least this
# sure of it and it leaves fewer changed cells than no pan.
PAN_RESPONSE = 0.3
# A place that keeps changing is looked at whole (all the cells that changed since it was last
# looked at whole) at least once in this many looks of its pass.
WHOLE_AFTER = 4


@dataclass(frozen=True)
class Plan:
    """What to screen in one frame: `regions` (x0, y0, x1, y1 frame pixels), or None for all of
    it; the findings kept from before (moved by the pan); the pan, in frame pixels."""

    regions: tuple[tuple[int, int, int, int], ...] | None
    kept: tuple
    shift: tuple[float, float] = (0.0, 0.0)


class Small:
    """A frame's small copy, as the gates compare it: colour planes (3 x h x w uint8, 1/SCALE of
    the frame on each side), and their lightness (for measuring a pan), made once per frame and
    shared by every pass's gate."""

    def __init__(self, planes: np.ndarray):
        self.planes = planes
        self._lightness: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.planes.shape[1:]

    def lightness(self) -> np.ndarray:
        if self._lightness is None:
            self._lightness = _lightness(self.planes)
        return self._lightness


def small_copy(rgb: np.ndarray) -> Small:
    """The frame's small colour copy the gates compare: colour, not grey, because a crest or a
    face in colours of the same lightness as the wall behind it changes nothing in grey."""
    import cv2

    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, w // SCALE), max(1, h // SCALE)), interpolation=cv2.INTER_AREA)
    return Small(np.ascontiguousarray(small.transpose(2, 0, 1)))


class Gate:
    """One pass's memory of what it screened; `threshold` 0 screens every frame whole."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.reference: np.ndarray | None = None  # colour planes of what was screened at each place
        self.known: np.ndarray | None = None  # False where nothing was screened yet (None: all known)
        self.findings: tuple = ()
        self.pending: np.ndarray | None = None  # per cell: looks since it began to change, 0 if not
        self.full = 0  # frames screened whole, and in part (for the clip's summary)
        self.partial = 0
        self.skipped = 0

    def reset(self) -> None:
        """A cut: nothing screened before it stands for what is on screen after it."""
        self.reference = None
        self.known = None
        self.findings = ()
        self.pending = None

    def plan(self, grey: Small, size: tuple[int, int]) -> Plan:
        """What to screen in the frame whose small copy is `grey` and size (width, height) is `size`."""
        ref = self.reference
        if not self.threshold or ref is None or ref.shape != grey.planes.shape:
            return Plan(None, ())
        limit = self.threshold * 255.0
        changed = _changed(ref, self.known, grey.planes, limit)
        shift = (0.0, 0.0)
        pan = _pan(ref, self.known, grey) if changed.any() else None
        if pan is not None:
            moved, known = _shifted(ref, self.known, *pan)
            changed_moved = _changed(moved, known, grey.planes, limit)
            if changed_moved.sum() < changed.sum():
                changed, shift = changed_moved, (pan[0] * SCALE, pan[1] * SCALE)
                self.reference, self.known = moved, known
                self.pending = _shifted_cells(self.pending, shift)
        wholes = self._pending_wholes(changed)
        w, h = size
        kept, dropped = [], []
        for f in self.findings:
            f = _moved(f, *shift)
            box = getattr(f, "box", None)
            if box is not None and not _inside(box, w, h):
                continue  # panned out of the frame
            (dropped if box is not None and _touches(changed, box) else kept).append(f)
        if not changed.any() and not wholes:
            return Plan((), tuple(kept), shift)
        while True:  # a kept finding that a region reaches into is looked at again, whole
            regions = _regions(changed, [f.box for f in dropped] + wholes, w, h)
            reached = [f for f in kept if f.box is not None and any(_meets(f.box, r) for r in regions)]
            if not reached:
                break
            kept = [f for f in kept if f not in reached]
            dropped += reached
        if sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in regions) > FULL_SHARE * w * h:
            return Plan(None, (), shift)
        return Plan(tuple(regions), tuple(kept), shift)

    def _pending_wholes(self, changed: np.ndarray) -> list:
        """Boxes (frame pixels) of the groups of pending cells to look at whole now: settled ones
        (no cell of the group changed this time) and those pending WHOLE_AFTER looks; their cells
        leave pending. Cells changed now join pending."""
        import cv2

        if self.pending is None or self.pending.shape != changed.shape:
            self.pending = np.zeros(changed.shape, np.int16)
        pending = self.pending
        pending[pending > 0] += 1
        pending[changed & (pending == 0)] = 1
        if not pending.any():
            return []
        count, labels, stats, _ = cv2.connectedComponentsWithStats((pending > 0).astype(np.uint8), connectivity=8)
        flat = labels.ravel()
        moving = np.bincount(flat, weights=changed.ravel(), minlength=count) > 0  # a cell of it changed now
        oldest = np.zeros(count, np.int32)
        np.maximum.at(oldest, flat, pending.ravel())
        due = ~moving | (oldest >= WHOLE_AFTER)
        due[0] = False  # the background (cells not pending)
        if not due.any():
            return []
        chosen = due[labels]
        settled = chosen & ~moving[labels]
        pending[settled] = 0
        pending[chosen & ~settled] = np.minimum(pending[chosen & ~settled], 1)
        return [(int(x * CELL), int(y * CELL), int(cw * CELL), int(ch * CELL)) for x, y, cw, ch, _ in stats[due]]

    def commit(self, plan: Plan, grey: Small, found: list) -> tuple:
        """After the pass ran on the plan's regions and found `found` (full-frame boxes): the
        reference holds the frame where it was screened; returns the frame's findings."""
        if plan.regions is None:
            self.reference = grey.planes.copy()
            self.known = None
            self.pending = None  # everything was looked at whole
            self.full += 1
        else:
            if plan.regions:
                self.partial += 1
            else:
                self.skipped += 1
            for x0, y0, x1, y1 in plan.regions:
                sl = np.s_[y0 // SCALE:-(-y1 // SCALE), x0 // SCALE:-(-x1 // SCALE)]
                self.reference[(slice(None), *sl)] = grey.planes[(slice(None), *sl)]
                if self.known is not None:
                    self.known[sl] = True
            if self.known is not None and self.known.all():
                self.known = None
        self.findings = tuple(plan.kept) + tuple(found)
        return self.findings


# A shift of the reference by one pixel of the small copy either way (what is left of a pan, a
# shaking hand): (dx, dy), no shift first.
_SHIFTS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, -1), (-1, 1), (1, 1))


def _changed(ref: np.ndarray, known: np.ndarray | None, planes: np.ndarray, limit: float) -> np.ndarray:
    """Boolean map of cells (CELL frame pixels) whose mean absolute change in some colour channel
    (0..255) is over `limit` however the reference is moved by up to one pixel of the small copy
    (SCALE frame pixels: what is left of a pan, a shaking hand); a place never screened
    (not `known`), or that a shift brings in from outside, has changed."""
    best = None
    for dx, dy in _SHIFTS:
        cells = _cell_means(_difference(ref, known, planes, dx, dy))
        best = cells if best is None else np.minimum(best, cells, out=best)
        if dx == dy == 0 and not (best > limit).any():
            break  # no cell changed without a shift: none can with one
    return best > limit


def _difference(ref: np.ndarray, known: np.ndarray | None, planes: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Per pixel of the small copy, the largest absolute change of its three colour channels
    between `planes` and the reference moved by (dx, dy) whole pixels; 255 where the moved
    reference holds nothing."""
    import cv2

    _, h, w = planes.shape
    out = np.full((h, w), 255, np.uint8)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    to = np.s_[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
    src = np.s_[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    d = cv2.absdiff(planes[0][to], ref[0][src])
    for c in (1, 2):
        np.maximum(d, cv2.absdiff(planes[c][to], ref[c][src]), out=d)
    if known is not None:
        d[~known[src]] = 255
    out[to] = d
    return out


_INSIDE: dict = {}


def _cell_means(diff: np.ndarray) -> np.ndarray:
    """Mean of `diff` (small-copy pixels) over each cell; a cell cut by the frame's edge: its mean
    over the part inside."""
    import cv2

    step = CELL // SCALE
    h, w = diff.shape
    ch, cw = -(-h // step), -(-w // step)
    if h % step or w % step:
        padded = np.zeros((ch * step, cw * step), np.float32)
        padded[:h, :w] = diff
    else:
        padded = diff.astype(np.float32)
    cells = cv2.resize(padded, (cw, ch), interpolation=cv2.INTER_AREA)
    if h % step or w % step:
        inside = _INSIDE.get((h, w))
        if inside is None:
            share = np.zeros_like(padded)
            share[:h, :w] = 1.0
            inside = _INSIDE[(h, w)] = np.maximum(cv2.resize(share, (cw, ch), interpolation=cv2.INTER_AREA), 1e-6)
        cells /= inside
    return cells


def _lightness(planes: np.ndarray) -> np.ndarray:
    return planes.sum(axis=0, dtype=np.float32) / 3.0


def _shifted(ref: np.ndarray, known: np.ndarray | None, dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference moved by (dx, dy) whole pixels, and where it now holds something."""
    _, h, w = ref.shape
    to = np.s_[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
    src = np.s_[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    moved = np.zeros_like(ref)
    moved[(slice(None), *to)] = ref[(slice(None), *src)]
    was = np.ones((h, w), bool) if known is None else known
    now = np.zeros((h, w), bool)
    now[to] = was[src]
    return moved, now


_WINDOWS: dict = {}


def _pan(ref: np.ndarray, known: np.ndarray | None, small: Small) -> tuple[int, int] | None:
    """The global shift (whole pixels of the small copy) from the reference to the frame, by
    phase correlation of their lightness; None when there is no sure one."""
    import cv2

    h, w = small.shape
    if h < 8 or w < 8:
        return None
    ref_lightness = _lightness(ref)
    if known is not None:
        ref_lightness[~known] = ref_lightness[known].mean() if known.any() else 0.0
    window = _WINDOWS.get((w, h))
    if window is None:
        window = _WINDOWS[(w, h)] = cv2.createHanningWindow((w, h), cv2.CV_32F)
    (fx, fy), response = cv2.phaseCorrelate(ref_lightness, small.lightness(), window)
    dx, dy = int(round(fx)), int(round(fy))
    if response < PAN_RESPONSE or (not dx and not dy) or abs(dx) > w // 2 or abs(dy) > h // 2:
        return None
    return dx, dy


def _shifted_cells(pending: np.ndarray | None, shift: tuple[float, float]) -> np.ndarray | None:
    """The pending cells moved with a pan (to the nearest cell)."""
    if pending is None:
        return None
    dx, dy = round(shift[0] / CELL), round(shift[1] / CELL)
    h, w = pending.shape
    moved = np.zeros_like(pending)
    moved[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)] = pending[max(0, -dy):h - max(0, dy),
                                                                          max(0, -dx):w - max(0, dx)]
    return moved


def _regions(changed: np.ndarray, boxes: list, w: int, h: int) -> list[tuple[int, int, int, int]] | None:
    """Rectangles (frame pixels) covering the changed cells with MARGIN_PX, and the boxes given."""
    import cv2

    count, _, stats, _ = cv2.connectedComponentsWithStats(changed.astype(np.uint8), connectivity=8)
    rects = [(x * CELL, y * CELL, (x + cw) * CELL, (y + ch) * CELL) for x, y, cw, ch, _ in stats[1:count]]
    rects += [(bx, by, bx + bw, by + bh) for bx, by, bw, bh in boxes]
    grown = [_grown(r, w, h) for r in rects]
    while True:  # join rectangles that overlap until none do
        joined = _join_once(grown)
        if len(joined) == len(grown):
            return [_grown(r, w, h, 0) for r in joined]
        grown = joined


def _grown(rect, w: int, h: int, margin: int = MARGIN_PX) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = rect
    x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
    for lo, hi, limit, axis in ((x0, x1, w, 0), (y0, y1, h, 1)):
        short = MIN_SIDE - (hi - lo)
        if short > 0:
            lo, hi = lo - short // 2, hi + short - short // 2
        lo, hi = max(0, lo), min(limit, hi)
        if axis == 0:
            x0, x1 = lo, hi
        else:
            y0, y1 = lo, hi
    return int(x0), int(y0), int(x1), int(y1)


def _join_once(rects: list) -> list:
    out: list = []
    for r in rects:
        for i, o in enumerate(out):
            if r[0] < o[2] and o[0] < r[2] and r[1] < o[3] and o[1] < r[3]:
                out[i] = (min(r[0], o[0]), min(r[1], o[1]), max(r[2], o[2]), max(r[3], o[3]))
                break
        else:
            out.append(r)
    return out


def _touches(changed: np.ndarray, box) -> bool:
    x, y, bw, bh = box
    ch, cw = changed.shape
    x0, y0 = max(0, int(x // CELL)), max(0, int(y // CELL))
    x1, y1 = min(cw, int(-(-(x + bw) // CELL))), min(ch, int(-(-(y + bh) // CELL)))
    return x1 <= x0 or y1 <= y0 or bool(changed[y0:y1, x0:x1].any())


def _meets(box, rect) -> bool:
    x, y, bw, bh = box
    return x < rect[2] and y < rect[3] and x + bw > rect[0] and y + bh > rect[1]


def _inside(box, w: int, h: int) -> bool:
    x, y, bw, bh = box
    return x < w and y < h and x + bw > 0 and y + bh > 0


def _moved(finding, dx: float, dy: float):
    """The finding with its box moved by (dx, dy) frame pixels (a pan)."""
    if (not dx and not dy) or getattr(finding, "box", None) is None:
        return finding
    x, y, bw, bh = finding.box
    return dataclasses.replace(finding, box=(round(x + dx), round(y + dy), bw, bh))
