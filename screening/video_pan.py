"""How far the camera moved between what a change gate screened and a new frame (video_gate.py):
a pan measured by phase correlation of the small copies' lightness, over the whole frame and in
tiles, and the reference, its known map and its pending cells moved with it."""

from __future__ import annotations

import numpy as np

# A pan is looked for on every frame (a pan left uncorrected while parts of the frame are looked
# at again makes a patchwork of the reference) and kept when phase correlation is at least this
# sure of it and it leaves fewer changed cells than no pan.
PAN_RESPONSE = 0.3
# A pan is measured to a fraction of a small-copy pixel (a slow pan moves a frame 2 px between two
# looks: half a pixel of the small copy); under this (small-copy pixels) it is no pan.
MIN_PAN = 0.1
# The pan is measured over the whole small copy and in this many tiles (columns, rows) of it, kept
# where more than half of the tiles sure of a shift agree to half a pixel.
PAN_TILES = (4, 3)


def lightness(planes: np.ndarray) -> np.ndarray:
    return planes.sum(axis=0, dtype=np.float32) / 3.0


def shifted(ref: np.ndarray, known: np.ndarray | None, dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
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


def measure_pan(ref: np.ndarray, known: np.ndarray | None, planes: np.ndarray) -> list[tuple[float, float]]:
    """The camera's shift (pixels of the small copy, to a fraction of one) from the reference to
    the frame, as measured by phase correlation of their lightness: over the whole frame, and
    where most of PAN_TILES tiles agree (whatever moves on its own, or stands still while the
    scene pans, a head, sways only the tiles it covers); none when neither is sure."""
    import cv2

    h, w = planes.shape[1:]
    if h < 8 or w < 8:
        return []
    ref_lightness = lightness(ref)
    if known is not None:
        ref_lightness[~known] = ref_lightness[known].mean() if known.any() else 0.0
    frame_lightness = lightness(planes)
    cols, rows = PAN_TILES
    tw, th = w // cols, h // rows
    grid = [(0, 0, w, h)] + ([(x, y, tw, th) for y in range(0, rows * th, th) for x in range(0, cols * tw, tw)]
                             if tw >= 16 and th >= 16 else [])
    shifts = []
    for x, y, cw, ch in grid:
        window = _WINDOWS.get((cw, ch))
        if window is None:
            window = _WINDOWS[(cw, ch)] = cv2.createHanningWindow((cw, ch), cv2.CV_32F)
        (fx, fy), response = cv2.phaseCorrelate(ref_lightness[y:y + ch, x:x + cw],
                                                frame_lightness[y:y + ch, x:x + cw], window)
        shifts.append((fx, fy) if response >= PAN_RESPONSE and abs(fx) < cw // 2 and abs(fy) < ch // 2 else None)
    out = [shifts[0]] if shifts[0] is not None else []
    tiles = [t for t in shifts[1:] if t is not None]
    if len(tiles) >= 2:
        fx, fy = float(np.median([t[0] for t in tiles])), float(np.median([t[1] for t in tiles]))
        if 2 * sum(abs(tx - fx) <= 0.5 and abs(ty - fy) <= 0.5 for tx, ty in tiles) > len(tiles):
            out.append((fx, fy))
    return [(float(fx), float(fy)) for fx, fy in out if max(abs(fx), abs(fy)) >= MIN_PAN]


def edge_unknown(known: np.ndarray | None, phase: tuple[int, int], shape) -> np.ndarray | None:
    """`known` without the small copy's last column (row) when the grid is moved across (down)
    the frame: the frame's copy holds pixels filled from its edge there."""
    if phase == (0, 0):
        return known
    out = np.ones(shape, bool) if known is None else known.copy()
    if phase[0]:
        out[:, -1] = False
    if phase[1]:
        out[-1, :] = False
    return out


def edge_slivers(phase: tuple[int, int], size: tuple[int, int], margin: int) -> list[tuple[int, int, int, int]]:
    """The strips of the frame a moved grid leaves out (its first `phase` columns or rows: in no
    cell, so never compared), each with `margin` px beside it, as regions (x0, y0, x1, y1): looked
    at on every look while the grid is moved. At most SCALE - 1 px wide, they hold nothing a check
    finds on its own; what is there was on screen, a pixel or three along, at the last look, and
    whatever reaches into the cells beside them is compared there."""
    w, h = size
    out = []
    if phase[0]:
        out.append((0, 0, min(w, phase[0] + margin), h))
    if phase[1]:
        out.append((0, 0, w, min(h, phase[1] + margin)))
    return out


def edge_to_edge(changed: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """The changed cells without the columns (rows) changed from edge to edge, and those as bands
    (x0, y0, x1, y1 in cells), one per run of neighbouring columns (rows)."""
    ch, cw = changed.shape
    cols, rows = changed.all(axis=0), changed.all(axis=1)
    if ch < 2 or cw < 2 or not (cols.any() or rows.any()):
        return changed, []
    bands = []
    for full, across in ((cols, True), (rows, False)):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], full.astype(np.int8), [0]))))
        for a, b in zip(edges[::2], edges[1::2]):
            bands.append((int(a), 0, int(b), ch) if across else (0, int(a), cw, int(b)))
    rest = changed.copy()
    rest[:, cols] = False
    rest[rows, :] = False
    return rest, bands


def join_overlapping(rects: list, size: tuple[int, int] | None = None) -> list:
    """The rectangles, those that overlap joined (their bounding box) until none do; with the
    frame's `size`, a rectangle the frame's full height (width) and one reaching across it (its span
    across holds the other's) are not joined: they cross (crossing)."""
    while True:
        joined = _join_once(rects, size)
        if len(joined) == len(rects):
            return joined
        rects = joined


def crossing(a, b, size: tuple[int, int] | None) -> bool:
    """Whether two overlapping rectangles (x0, y0, x1, y1) cross: one runs the frame's full height
    (width) and the other reaches across it. Any rectangle inside the two is then inside one of
    them (a point of it outside the long one lies in the other's span along the long one, and one
    outside the other lies in the long one's span across: their corner would lie in neither), so
    looking at each of the two whole sees whole everything their bounding box would hold inside
    them; the bounding box adds only its corners, where nothing changed within a margin. A column
    revealed by a pan and a head beside it: a rectangle the frame's height, its corners unchanged,
    was looked at by every check on every look with a head near the frame's edge."""
    if size is None:
        return False
    w, h = size
    for long, other in ((a, b), (b, a)):
        if long[1] <= 0 and long[3] >= h and other[0] <= long[0] and long[2] <= other[2]:
            return True
        if long[0] <= 0 and long[2] >= w and other[1] <= long[1] and long[3] <= other[3]:
            return True
    return False


def across_strips(rects: list, strips, size: tuple[int, int] | None = None) -> list:
    """The rectangles, each that meets an edge strip widened across it (the strip's own part at the
    rectangle's rows, or columns, is looked at with the rectangle), joined again where they then
    overlap.

    A strip runs the frame's length: joined to a rectangle as a bounding box (as it was), it
    made it a full-height column, and the two strips of a grid moved both ways made the whole frame
    (a diagonal pan was looked at whole on every look). Only the rectangle's span of the strip is
    joined to it; the rest of the strip is looked at as pieces (strip_pieces)."""
    while True:
        joined = join_overlapping([_across(r, strips) for r in rects], size)
        if joined == rects:
            return rects
        rects = joined


def _across(rect, strips):
    x0, y0, x1, y1 = rect
    for sx0, sy0, sx1, sy1 in strips:
        if x0 < sx1 and sx0 < x1 and y0 < sy1 and sy0 < y1:
            if sy1 - sy0 >= sx1 - sx0:  # a strip down the frame's first columns
                x0, x1 = min(x0, sx0), max(x1, sx1)
            else:  # along its first rows
                y0, y1 = min(y0, sy0), max(y1, sy1)
    return x0, y0, x1, y1


def strip_pieces(rects: list, strips, margin: int) -> list:
    """The parts of the edge strips no rectangle (nor an earlier strip) covers, each reaching
    `margin` px along the strip into what covers the rest (a sliver in the strip that crosses a cut
    is whole in the piece): each strip runs the frame's length, so it is cut across only."""
    pieces, taken = [], list(rects)
    for sx0, sy0, sx1, sy1 in strips:
        down = sy1 - sy0 >= sx1 - sx0
        lo, hi = (sy0, sy1) if down else (sx0, sx1)
        spans = sorted((max(lo, r[1] if down else r[0]), min(hi, r[3] if down else r[2])) for r in taken
                       if r[0] < sx1 and sx0 < r[2] and r[1] < sy1 and sy0 < r[3])
        at = lo
        for a, b in spans + [(hi, hi)]:
            if a > at:
                p0, p1 = max(lo, at - margin), min(hi, a + margin)
                pieces.append((sx0, p0, sx1, p1) if down else (p0, sy0, p1, sy1))
            at = max(at, b)
        taken.append((sx0, sy0, sx1, sy1))
    return pieces


def _join_once(rects: list, size: tuple[int, int] | None = None) -> list:
    out: list = []
    for r in rects:
        for i, o in enumerate(out):
            if r[0] < o[2] and o[0] < r[2] and r[1] < o[3] and o[1] < r[3] and not crossing(r, o, size):
                out[i] = (min(r[0], o[0]), min(r[1], o[1]), max(r[2], o[2]), max(r[3], o[3]))
                break
        else:
            out.append(r)
    return out


def shifted_cells(pending: np.ndarray | None, cells: tuple[int, int]) -> np.ndarray | None:
    """The pending cells moved by whole cells."""
    if pending is None or cells == (0, 0):
        return pending
    dx, dy = cells
    h, w = pending.shape
    moved = np.zeros_like(pending)
    moved[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)] = pending[max(0, -dy):h - max(0, dy),
                                                                          max(0, -dx):w - max(0, dx)]
    return moved


# Which pan a gate follows. Tried first: the pan it followed at its last look and one frame pixel
# either side of it across and down (a pan at a steady speed moves the frame about as far each
# look; phase correlation alone is pulled towards no pan by a head that stands still while the scene
# pans), then no pan; the pans phase correlation measures are tried as well when none of those leaves
# under MEASURE_SHARE of the cells changed and the best of them would have over MEASURE_LOOKED of the
# frame looked at (a pan starting, speeding up, a jolt: the scene's edges misaligned everywhere; a head
# coming on screen before a still camera is a compact place, which no pan explains). Each is scored by
# the area its changed cells would be looked at in (each group of them grown as the gate grows it):
# a head standing still in a pan is one compact group, the scene's edges left misaligned are dozens
# of scattered ones. The score is rough (the reference's lightness moved by a fraction of its pixel):
# it only picks the pan; the gate then compares the frame exactly, every channel, on the grid it
# picked, so a pan picked wrongly costs looks, never a change unseen.
MEASURE_SHARE = 0.01
MEASURE_LOOKED = 0.3
# The rough score looks at lightness (one channel, not the gate's three): a cell counts as changed
# from this share of the gate's limit (a misaligned edge changes lightness less than its colours).
ROUGH_LIMIT = 0.5


def choose_pan(ref: np.ndarray, known: np.ndarray | None, here: np.ndarray, last: tuple[int, int],
               limit: float, grid: tuple[int, int, int, int]) -> tuple[int, int]:
    """The pan (frame pixels) that leaves the least to look at. `ref`, `here`: the reference and the
    frame's small copy on the gate's grid (colour planes); `last`: the pan followed at the last look;
    `limit`: the change (0..255) a cell must exceed; `grid`: frame pixels per small-copy pixel,
    small-copy pixels per cell, and the margin and least side (cells) changed cells are grown by."""
    lx, ly = last
    tried = [last, (lx - 1, ly), (lx + 1, ly), (lx, ly - 1), (lx, ly + 1), (0, 0)]
    scores = _Scores(ref, here, limit, grid)
    if scores.of(last)[1] == 0:
        return last  # nothing changed: nothing explains the frame better
    best = min(dict.fromkeys(tried), key=scores.of)
    if scores.share(best) > MEASURE_SHARE and scores.looked_share(best) > MEASURE_LOOKED:
        scale = grid[0]
        for fx, fy in measure_pan(ref, known, here):
            cx, cy = round(fx * scale), round(fy * scale)
            for c in ((cx, cy), (cx - 1, cy), (cx + 1, cy)):
                if scores.of(c) < scores.of(best):
                    best = c
    return best


class _Scores:
    """Rough scores of pans, each worked out once: (cells looked at, cells changed, sum of the
    cells' changes, cells), away from the frame's edges, on lightness; what a pan brings in
    (nothing screened there yet) has changed."""

    def __init__(self, ref: np.ndarray, here: np.ndarray, limit: float, grid: tuple[int, int, int, int]):
        self.scale, self.step, margin, least = grid
        _, h, w = here.shape
        self.cells = (h // self.step, w // self.step)
        h, w = self.cells[0] * self.step, self.cells[1] * self.step
        self.ref, self.here = lightness(ref[:, :h, :w]), lightness(here[:, :h, :w])
        self.limit = limit
        # a changed cell is looked at with `margin` cells around it, at least `least` cells a side
        self.kernel = np.ones((max(least, 2 * margin + 1),) * 2, np.uint8)
        self.done: dict = {}

    def of(self, pan: tuple[int, int]) -> tuple:
        if pan not in self.done:
            self.done[pan] = self._score(pan)
        return self.done[pan]

    def share(self, pan: tuple[int, int]) -> float:
        _, changed, _, cells = self.of(pan)
        return changed / max(1, cells)

    def looked_share(self, pan: tuple[int, int]) -> float:
        looked, _, _, cells = self.of(pan)
        return looked / max(1, cells)

    def _score(self, pan: tuple[int, int]) -> tuple:
        import cv2

        ch, cw = self.cells
        if ch < 3 or cw < 3:
            return (0, 0, 0.0, 1)
        h, w = self.here.shape
        dx, dy = pan[0] / self.scale, pan[1] / self.scale
        moved = cv2.warpAffine(self.ref, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
        diff = cv2.absdiff(moved, self.here)
        # what the moved reference does not hold (brought in by the pan) has changed
        x0, x1 = max(0, int(np.ceil(dx))), min(w, w + int(np.floor(dx)))
        y0, y1 = max(0, int(np.ceil(dy))), min(h, h + int(np.floor(dy)))
        if x1 <= x0 or y1 <= y0:
            diff[:] = 255
        else:
            diff[:y0], diff[y1:], diff[:, :x0], diff[:, x1:] = 255, 255, 255, 255
        means = cv2.resize(diff, (cw, ch), interpolation=cv2.INTER_AREA)[1:-1, 1:-1]
        cells = means > self.limit * ROUGH_LIMIT
        looked = cv2.dilate(cells.astype(np.uint8), self.kernel)
        return (int(looked.sum()), int(cells.sum()), float(means.sum()), cells.size)
