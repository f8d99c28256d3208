"""Which parts of a sampled frame a check must look at again: change gating for video.

Each pass of a check over the frames (video_passes.py) keeps a Gate: a small colour copy of
what it last screened at each place (the *reference*), and the findings it made there, in
full-frame pixels. A new frame is compared with the reference, cell by cell (CELL x CELL
frame pixels): a cell whose mean absolute change in any colour channel exceeds the threshold
has changed (a crest in colours of the wall's lightness changes no grey). A
camera pan is undone first, to the frame pixel: the shift between reference and frame is measured
by phase correlation (whole frame and tiles), the reference moved by whole pixels of its copy and
the grid the frame is compared on by the rest (`Gate.phase`); kept when it explains the frame
better than no shift.

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

from screening.video_pan import (across_strips, choose_pan, edge_slivers, edge_to_edge, edge_unknown, join_overlapping,
                                 shifted, shifted_cells, strip_pieces)
from screening.video_small import SCALE, Small, small_copy  # noqa: F401 (small_copy: the passes' and tests')

# Cells are CELL frame pixels square; the small copy compared is 1/SCALE of the frame (video_small.py).
CELL = 16
# Changed cells are screened with this much around them (frame pixels): the detectors see a
# face or a line of text that crosses into unchanged cells whole, with some context.
MARGIN_PX = 48
# Rectangles are at least this long on each side (frame pixels; the people detector needs 128).
MIN_SIDE = 160
# Rectangles covering more than this share of the frame: the whole frame is screened.
FULL_SHARE = 0.65
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
    # the last `pieces` regions are pieces of edge strips, which may overlap the regions before
    # them: what a piece finds wholly inside an earlier region was seen there whole (not twice)
    pieces: int = 0


class Gate:
    """One pass's memory of what it screened; `threshold` 0 screens every frame whole."""

    def __init__(self, threshold: float, rereads_touched: bool = True):
        self.threshold = threshold
        # a finding a change touches (or a region reaches) is looked at again whole: its box is
        # added to the regions; False: it is only dropped, the pass reads again what it needs of it
        # (the text pass: video_text.py)
        self.rereads_touched = rereads_touched
        self.reference: np.ndarray | None = None  # colour planes of what was screened at each place
        self.known: np.ndarray | None = None  # False where nothing was screened yet (None: all known)
        self.findings: tuple = ()
        self.pending: np.ndarray | None = None  # per cell: looks since it began to change, 0 if not
        self.pending_offset = (0, 0)  # how far (frame pixels) pending has yet to move with the pan
        # where the gate's grid lies on the frame (frame pixels, 0..SCALE-1): a pan of a few frame
        # pixels moves it, so the reference is always compared with the frame exactly where it was
        self.phase = (0, 0)
        self.last_pan = (0, 0)  # the pan followed at the last look (frame pixels): tried first at the next
        self.full = 0  # frames screened whole, and in part (for the clip's summary)
        self.partial = 0
        self.skipped = 0

    def reset(self) -> None:
        """A cut: nothing screened before it stands for what is on screen after it."""
        self.reference = None
        self.known = None
        self.findings = ()
        self.pending = None
        self.pending_offset = (0, 0)
        self.phase = (0, 0)
        self.last_pan = (0, 0)

    def _pending_moved(self, shift: tuple[int, int]) -> np.ndarray | None:
        """The pending cells moved with a pan: by whole cells, the rest carried to the next pan."""
        dx, dy = self.pending_offset[0] + shift[0], self.pending_offset[1] + shift[1]
        cells = (round(dx / CELL), round(dy / CELL))
        self.pending_offset = (dx - cells[0] * CELL, dy - cells[1] * CELL)
        return shifted_cells(self.pending, cells)

    def plan(self, grey: Small, size: tuple[int, int]) -> Plan:
        """What to screen in the frame whose small copy is `grey` and size (width, height) is `size`."""
        ref = self.reference
        if not self.threshold or ref is None or ref.shape != grey.planes.shape:
            return Plan(None, ())
        limit = self.threshold * 255.0
        # a pan, to the frame pixel: the reference moves by whole pixels of the small copy (exact)
        # and the grid by what is left, so the frame is compared on the grid the reference was made on
        known, phase, last = self.known, self.phase, self.last_pan
        shift = grey.worked_out("pan", (ref, known), (phase, last, limit), lambda: choose_pan(
            ref, known, grey.at(phase), last, limit, (SCALE, CELL // SCALE, MARGIN_PX // CELL, MIN_SIDE // CELL)))
        self.last_pan = shift
        if shift != (0, 0):
            px, py = self.phase[0] + shift[0], self.phase[1] + shift[1]
            self.reference, self.known = shifted(ref, self.known, px // SCALE, py // SCALE)
            self.phase = (px % SCALE, py % SCALE)
            self.pending = self._pending_moved(shift)
        moved, edge, grid = self.reference, edge_unknown(self.known, self.phase, ref.shape[1:]), self.phase
        changed = grey.worked_out("changed", (moved, edge), (grid, limit),
                                  lambda: _changed(moved, edge, grey.at(grid), limit)).copy()
        ox, oy = self.phase
        wholes = [(x + ox, y + oy, bw, bh) for x, y, bw, bh in self._pending_wholes(changed)]
        w, h = size
        slivers = edge_slivers(self.phase, size, MARGIN_PX)
        kept, dropped = [], []
        for f in self.findings:
            f = _moved(f, *shift)
            box = getattr(f, "box", None)
            if box is not None and not _inside(box, w, h):
                continue  # panned out of the frame
            (dropped if box is not None and _touches(changed, box, self.phase) else kept).append(f)
        if not changed.any() and not wholes and not slivers:
            return Plan((), tuple(kept), shift)
        while True:  # a kept finding that a region reaches into is looked at again, whole
            boxes = [f.box for f in dropped] if self.rereads_touched else []
            regions, pieces = _regions(changed, boxes + wholes, w, h, self.phase, tuple(slivers))
            reached = [f for f in kept if f.box is not None and any(_meets(f.box, r) for r in regions)]
            kept = [f for f in kept if f not in reached]
            dropped += reached
            if not reached or not self.rereads_touched:
                break
        if sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in regions) > FULL_SHARE * w * h:
            return Plan(None, (), shift)
        return Plan(tuple(regions), tuple(kept), shift, pieces)

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
            self.phase = (0, 0)
            self.full += 1
        else:
            if plan.regions:
                self.partial += 1
            else:
                self.skipped += 1
            planes, (ox, oy) = grey.at(self.phase), self.phase
            for x0, y0, x1, y1 in plan.regions:
                sl = np.s_[max(0, y0 - oy) // SCALE:-(-(y1 - oy) // SCALE),
                           max(0, x0 - ox) // SCALE:-(-(x1 - ox) // SCALE)]
                self.reference[(slice(None), *sl)] = planes[(slice(None), *sl)]
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


def _regions(changed: np.ndarray, boxes: list, w: int, h: int, phase: tuple[int, int] = (0, 0),
             strips: tuple = ()) -> tuple[list[tuple[int, int, int, int]], int]:
    """Rectangles (frame pixels) covering the changed cells with MARGIN_PX, and the boxes given,
    none overlapping another but where they cross, then the pieces of the edge strips they leave
    (`strips`: a moved grid's, edge_slivers), which may reach into them; and how many pieces end the
    list. `phase`: where the cells' grid lies on the frame.

    Columns (rows) of cells changed from edge to edge (what a pan reveals at the frame's edge) are
    rectangles of their own, and the other changed cells are grouped without them: a head beside the
    revealed column is its own rectangle crossing the column's (video_pan.crossing), not one group
    whose bounding box is the frame's height."""
    import cv2

    ox, oy = phase
    rest, bands = edge_to_edge(changed)
    count, _, stats, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=8)
    rects = [(x * CELL + ox, y * CELL + oy, (x + cw) * CELL + ox, (y + ch) * CELL + oy)
             for x, y, cw, ch, _ in stats[1:count]]
    rects += [(x0 * CELL + ox, y0 * CELL + oy, x1 * CELL + ox, y1 * CELL + oy) for x0, y0, x1, y1 in bands]
    rects += [(bx, by, bx + bw, by + bh) for bx, by, bw, bh in boxes]
    joined = across_strips(join_overlapping([_grown(r, w, h) for r in rects], (w, h)), strips, (w, h))
    pieces = strip_pieces(joined, strips, MARGIN_PX)
    return [_grown(r, w, h, 0) for r in joined] + pieces, len(pieces)



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


def _touches(changed: np.ndarray, box, phase: tuple[int, int] = (0, 0)) -> bool:
    x, y, bw, bh = box
    x, y = x - phase[0], y - phase[1]
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
