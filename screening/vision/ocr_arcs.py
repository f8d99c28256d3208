"""Lettering along an arc: a badge's ring, an arched sign over a gate (RT20-5).

Text detection (DB) marks text as regions of a probability map and boxes each region by its
smallest rectangle; a region that bends fills little of that rectangle, scores low there, and
is dropped, or is read in straight pieces ("ACADEVY"; "AMELI" and "HART"). Here the map's
regions are chained (ends close, of one thickness), a circle is fitted to each chain, and a
chain that follows its circle as a band, turning through ARC_MIN_TURN or more, is an arc. The
recogniser then reads the band unrolled (polar resampling around the circle) as one straight
line, from the full-resolution picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Regions smaller than this (map pixels) are specks, not letters.
MIN_AREA = 20
# Two regions chain when they meet end to end (the closest points of each lie at an end of its
# long axis) across a gap of at most this many times the thicker one's thickness (a word space
# of ring lettering spaced out round a badge), and their thicknesses are within this ratio.
CHAIN_GAP = 4.0
CHAIN_THICKNESS = 2.0
# A region on a chain's circle joins it up to this many degrees past its ends.
JOIN_TURN = 45.0
# A chain is an arc when it turns through at least this many degrees around its circle (a gentle
# arch over a gate turns 20-30: RT24-8) ...
ARC_MIN_TURN = 15.0
# ... keeps 90% of its outline within this many thicknesses of the circle ...
BAND = 0.9
# ... and the circle is no larger than this many thicknesses (a larger one is a straight line,
# which detection boxes well; a gate's arch of radius 500 px is 63).
MAX_RADIUS = 100.0
# The bands read: (radius + this many map thicknesses, plus or minus this many): the map marks a
# shrunk kernel of the text (DB grows its boxes by 1.6 in area), and where in the band the
# letters' middle lies depends on the lettering; each band is read as its own line.
BANDS = ((0.0, 1.2), (0.0, 1.6), (0.4, 1.6))
# The band is read this many map thicknesses past each end of the chain: a letter the map did not
# mark (an O turned steeply, RT20-5's "LIVER BENNETT") is still read.
END_MARGIN = 3.0
# Lettering turning through this many degrees or more is a whole ring: its seam (where the band
# is cut open, at its widest gap) may fall inside a name, and the regions of the lettering beside
# it may not have joined (RT24-5: 259 degrees found of a full ring), so it is read round one and a
# half turns from its start.
RING_TURN = 240.0
# At most this many pairs of arcs are fitted as one in a picture (a busy one may hold many arcs).
MAX_MERGE_TRIES = 200
# At most this many arcs are read in one picture.
MAX_ARCS = 8


@dataclass(frozen=True)
class Arc:
    """A band of text around a circle: centre, radius, the band's thickness in the map (pixels),
    and the angles (radians, image axes: y down, so increasing is clockwise) it runs between."""

    cx: float
    cy: float
    r: float
    thickness: float
    start: float
    end: float

    def scaled(self, sx: float, sy: float, dx: float = 0.0, dy: float = 0.0) -> Arc:
        """The arc in a picture `sx`, `sy` times larger, shifted by (dx, dy) first."""
        s = (sx + sy) / 2
        return Arc((self.cx + dx) * sx, (self.cy + dy) * sy, self.r * s, self.thickness * s, self.start, self.end)

    def quad(self) -> np.ndarray:
        """The band's bounding box as a quad (4x2 float), clockwise from top-left."""
        t = np.linspace(self.start, self.end, 16)
        out, inner = self.r + 2 * self.thickness, self.r - 1.6 * self.thickness  # the widest band read
        ring = np.concatenate([out * np.ones_like(t), inner * np.ones_like(t)])
        a = np.concatenate([t, t])
        xs, ys = self.cx + ring * np.cos(a), self.cy + ring * np.sin(a)
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def arcs_in(pred: np.ndarray, thresh: float) -> list[Arc]:
    """The arcs of lettering in a DB probability map (pixels of the map)."""
    mask = (pred > thresh).astype(np.uint8) * 255
    regions = []
    for c in cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0]:
        area = cv2.contourArea(c)
        if area < MIN_AREA:
            continue
        rect = cv2.minAreaRect(c)
        regions.append(_Region(c.reshape(-1, 2).astype(np.float64), rect, area / max(max(rect[1]), 1.0)))
    found, used = [], set()
    for chain in sorted(_chains(regions), key=len, reverse=True):
        if used.intersection(chain):
            continue
        arc = _fitted([regions[i] for i in chain])
        if arc is None:
            continue
        arc, members = _grown(arc, list(chain), regions, used)
        used.update(members)
        found.append((arc, members))
    # arcs of one circle fitted apart (a short chain's circle is a poor fit: a ring turned so that it
    # splits at or inside the name, RT24-5) are one arc when one circle fits them all
    merging, tries = True, MAX_MERGE_TRIES
    while merging and len(found) > 1:
        merging = False
        for a, b in ((a, b) for a in range(len(found)) for b in range(a + 1, len(found))):
            if not _agree(found[a][0], found[b][0]) or tries <= 0:
                continue
            tries -= 1
            arc = _fitted([regions[i] for i in found[a][1] + found[b][1]])
            if arc is not None:
                used.difference_update(found[a][1] + found[b][1])
                arc, members = _grown(arc, found[a][1] + found[b][1], regions, used)
                used.update(members)
                found = [f for k, f in enumerate(found) if k not in (a, b)] + [(arc, members)]
                merging = True
                break
    return sorted((arc for arc, _ in found), key=lambda a: -a.r * (a.end - a.start))[:MAX_ARCS]


def _agree(a: Arc, b: Arc) -> bool:
    """Whether two arcs' circles are near enough to be tried as one: centres at most the larger
    radius apart, radii within twice (RT24-5's pieces of one ring: 97 px and 1.7 times)."""
    return math.hypot(a.cx - b.cx, a.cy - b.cy) <= max(a.r, b.r) and max(a.r, b.r) <= 2 * min(a.r, b.r)


def _grown(arc: Arc, members: list[int], regions, used: set) -> tuple[Arc, list[int]]:
    """The arc with the regions on its circle joined, however wide the word space (lettering spread
    round a badge), fitted again to them all, until no more join (a whole ring, RT24-5)."""
    for _ in range(4):
        more = [k for k, r in enumerate(regions) if k not in members and k not in used and _on(arc, r)]
        if not more:
            break
        members = members + more
        arc = _fitted([regions[i] for i in members]) or arc
    return arc, members


def _on(arc: Arc, region: _Region) -> bool:
    """Whether a region lies on the arc's circle, of its thickness, within JOIN_TURN of its ends."""
    if max(arc.thickness, region.thickness) > CHAIN_THICKNESS * min(arc.thickness, region.thickness):
        return False
    p = region.points
    if np.quantile(np.abs(np.hypot(p[:, 0] - arc.cx, p[:, 1] - arc.cy) - arc.r), 0.9) > BAND * arc.thickness:
        return False
    mid = (arc.start + arc.end) / 2
    turn = np.abs((np.arctan2(p[:, 1] - arc.cy, p[:, 0] - arc.cx) - mid + math.pi) % (2 * math.pi) - math.pi)
    return bool(turn.max() <= (arc.end - arc.start) / 2 + math.radians(JOIN_TURN))


@dataclass
class _Region:
    points: np.ndarray  # its outline, (n, 2)
    rect: tuple  # cv2.minAreaRect
    thickness: float  # area over the long side

    def at_end(self, p: np.ndarray) -> bool:
        """Whether point p lies at an end of the region's long axis (within a thickness of it)."""
        (cx, cy), (w, h), angle = self.rect
        a = math.radians(angle if w >= h else angle + 90)
        along = abs((p[0] - cx) * math.cos(a) + (p[1] - cy) * math.sin(a))
        return along >= max(w, h) / 2 - 1.5 * self.thickness


def _chains(regions) -> list[list[int]]:
    """Groups of regions linked end to end (union of pairs close and of one thickness)."""
    n = len(regions)
    parent = list(range(n))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if n < 2:
        return [[i] for i in range(n)]
    # pairs whose bounding boxes are already too far apart are never measured point by point
    boxes = np.array([cv2.boundingRect(r.points.astype(np.int32)) for r in regions], np.float64)
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    dx = np.maximum(0, np.maximum(x0[:, None], x0[None, :]) - np.minimum(x1[:, None], x1[None, :]))
    dy = np.maximum(0, np.maximum(y0[:, None], y0[None, :]) - np.minimum(y1[:, None], y1[None, :]))
    t = np.array([r.thickness for r in regions])
    near = np.hypot(dx, dy) <= CHAIN_GAP * np.maximum(t[:, None], t[None, :])
    alike = np.maximum(t[:, None], t[None, :]) <= CHAIN_THICKNESS * np.minimum(t[:, None], t[None, :])
    for i, j in zip(*np.nonzero(np.triu(near & alike, 1))):
        a, b = regions[i], regions[j]
        gap, pa, pb = _gap(a.points, b.points)
        if gap <= CHAIN_GAP * max(a.thickness, b.thickness) and a.at_end(pa) and b.at_end(pb):
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _gap(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The shortest distance between two outlines (their points subsampled to at most 200 each),
    and the two points at its ends."""
    a = a[:: max(1, len(a) // 200)]
    b = b[:: max(1, len(b) // 200)]
    d = a[:, None, :] - b[None, :, :]
    d2 = (d * d).sum(axis=2)
    i, j = np.unravel_index(int(np.argmin(d2)), d2.shape)
    return float(np.sqrt(d2[i, j])), a[i], b[j]


def _fitted(regions) -> Arc | None:
    """The arc a chain of regions follows, or None when it is straight, too short or not a band."""
    points = np.concatenate([r.points for r in regions])
    thickness = float(np.median([r.thickness for r in regions]))
    if len(points) < 10 or thickness <= 0:
        return None
    circle = _circle(points)
    if circle is None:
        return None
    cx, cy, r = circle
    if r > MAX_RADIUS * thickness or r < 1.5 * thickness:
        return None
    off = np.abs(np.hypot(points[:, 0] - cx, points[:, 1] - cy) - r)
    if np.quantile(off, 0.9) > BAND * thickness:
        return None
    angles = np.sort(np.arctan2(points[:, 1] - cy, points[:, 0] - cx))
    gaps = np.diff(np.concatenate([angles, angles[:1] + 2 * math.pi]))
    k = int(np.argmax(gaps))  # the band runs from just after its widest gap round to just before it
    start = angles[(k + 1) % len(angles)]
    end = angles[k] + (2 * math.pi if k + 1 < len(angles) else 0.0)
    if end < start:
        end += 2 * math.pi
    if math.degrees(end - start) < ARC_MIN_TURN:
        return None
    margin = END_MARGIN * thickness / r
    return Arc(cx, cy, r, thickness, start - margin, end + margin)


def _circle(points: np.ndarray) -> tuple[float, float, float] | None:
    """The circle nearest the points: (cx, cy, r), None when they are collinear. The algebraic fit
    (Kasa) starts it, a few Gauss-Newton steps on the distances take out its bias on a short arc."""
    x, y = points[:, 0], points[:, 1]
    a = np.stack([x, y, np.ones_like(x)], axis=1)
    sol, *_ = np.linalg.lstsq(a, x * x + y * y, rcond=None)
    c = np.array([sol[0] / 2, sol[1] / 2])
    r2 = sol[2] + c @ c
    if not np.isfinite(r2) or r2 <= 0:
        return None
    r = math.sqrt(r2)
    for _ in range(10):
        dx, dy = x - c[0], y - c[1]
        d = np.maximum(np.hypot(dx, dy), 1e-9)
        jac = np.stack([-dx / d, -dy / d, -np.ones_like(d)], axis=1)
        step, *_ = np.linalg.lstsq(jac, -(d - r), rcond=None)
        if not np.all(np.isfinite(step)):
            return None
        c, r = c + step[:2], r + step[2]
        if abs(step).max() < 1e-3:
            break
    return (float(c[0]), float(c[1]), float(r)) if r > 0 else None


def unrolled(rgb: np.ndarray, arc: Arc) -> list[np.ndarray]:
    """The BANDS of `rgb` around the arc, each unrolled into a straight strip: letters upright when
    their tops face away from the centre (a ring's top, an arch), turned over when they face it (a
    ring's bottom, read clockwise); the recogniser reads both ways."""
    if arc.end - arc.start >= math.radians(RING_TURN):  # a whole ring: read on past its seam
        arc = Arc(arc.cx, arc.cy, arc.r, arc.thickness, arc.start, arc.start + 3 * math.pi)
    return [_strip(rgb, arc, arc.r + k * arc.thickness, h * arc.thickness) for k, h in BANDS]


def _strip(rgb: np.ndarray, arc: Arc, r: float, half: float) -> np.ndarray:
    height = max(8, math.ceil(2 * half))
    width = max(8, math.ceil(r * (arc.end - arc.start)))
    t = np.linspace(arc.start, arc.end, width, dtype=np.float32)[None, :]
    rho = np.linspace(r + half, max(1.0, r - half), height, dtype=np.float32)[:, None]
    map_x = (arc.cx + rho * np.cos(t)).astype(np.float32)
    map_y = (arc.cy + rho * np.sin(t)).astype(np.float32)
    strip = cv2.remap(rgb, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(strip)
