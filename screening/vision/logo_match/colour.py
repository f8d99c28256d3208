"""Colour: the photo's colour views, the colour prefilter that rules academies out cheaply,
and the colour-and-shape cue that proposes placements of flat crests."""

from __future__ import annotations

import math

import cv2
import numpy as np

from screening.vision.logo_match.params import (
    COLOUR_STEP, MAX_SHAPE_DISTANCE, MIN_REGION_PX, PALETTE_FROM, PALETTE_STEP, PREFILTER_CELL,
    PREFILTER_TOL, TOLERANCES,
)
from screening.vision.logo_match.reference import Placement, Reference


# Colour distances weigh lightness half (shade and light vary it); Lab in OpenCV's 8-bit scale.
_LAB_WEIGHT = np.float32([0.5 / 2.55, 1, 1])


class ColourView:
    """One view of a photo for the colour-and-shape cue: weighted Lab and its squared norm."""

    def __init__(self, rgb: np.ndarray):
        self.lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32) * _LAB_WEIGHT
        self.sq = cv2.transform(self.lab * self.lab, np.ones((1, 3), np.float32))

    def neg_dist2(self, colour: np.ndarray) -> np.ndarray:
        """Minus the squared weighted distance of every pixel to a weighted colour."""
        dot = cv2.transform(self.lab, 2 * colour.reshape(1, 3).astype(np.float32))
        return dot - self.sq - float(colour @ colour)


def colour_views(rgb: np.ndarray) -> list[ColourView]:
    """A photo's views for the colour-and-shape cue: as taken, and white-balanced.

    The grey-world balance undoes a colour cast but misleads in a scene of one warm colour
    (an orange suit and skin), so both are searched.
    """
    return [ColourView(rgb), ColourView(balanced(rgb, grey_world(rgb)))]


def grey_world(rgb: np.ndarray) -> np.ndarray:
    """The gains (float32, one per RGB channel) that make the photo's mean grey: a colour cast's inverse
    where the scene is neutral on average."""
    means = np.add.reduce(rgb.reshape(-1, 3), axis=0, dtype=np.float32) / np.float32(rgb.shape[0] * rgb.shape[1])
    return means.mean() / np.maximum(means, 1.0)


def balanced(rgb: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """The photo with each channel multiplied by its gain (grey_world()'s), clipped to 8 bits."""
    # each channel's 256 values balanced once (float32, clipped, truncated), then looked up
    table = np.clip(np.arange(256, dtype=np.float32)[:, None] * gains[None, :], 0, 255).astype(np.uint8)
    return cv2.LUT(np.ascontiguousarray(rgb), table.reshape(256, 1, 3))


class ColourPresence:
    """Where each academy colour is in a photo's colour views, worked out once per colour.

    Every reference asks the same photo; references share colours (a trust's gold, its
    white), so each colour's closeness map, its cells and its regions are computed once and
    reused by every reference that has that colour: the cost follows the photo and the
    trust's distinct colours, not the number of references.
    """

    def __init__(self, views: list[ColourView]):
        self.views = views
        self._near: dict = {}
        self._cells: dict = {}
        self._regions: dict = {}
        self._palette: dict = {}
        self._grown: dict = {}
        self._counts: dict = {}
        self._outline_hu: dict = {}

    @staticmethod
    def _key(colour: np.ndarray) -> tuple:
        return tuple(_quantised(colour).tolist())

    def closeness(self, v: int, colour: np.ndarray, key: tuple | None = None) -> np.ndarray:
        """Minus the squared weighted distance of view v's pixels to a weighted colour (`key`: its
        _key, when the caller has it)."""
        key = (v, self._key(colour) if key is None else key)
        if key not in self._near:
            self._near[key] = self.views[v].neg_dist2(np.float32(key[1]))
        return self._near[key]

    def cells(self, v: int, colour: np.ndarray) -> np.ndarray:
        """Cells of view v (PREFILTER_CELL px, and their neighbours) holding the colour.

        The first PALETTE_FROM colours of a view are looked for pixel by pixel (their maps
        serve the colour-and-shape cue too); further ones (a large trust's many colours) in
        the view's palette (which colour boxes each cell holds, _palette_of): a cell counts
        when any of its boxes comes within PREFILTER_TOL of the colour. Every pixel within the
        tolerance lies in such a box, so no cell that holds the colour is ever missed (a few
        more may count), and each colour costs a look at the palette, not at the photo.
        """
        key = (v, self._key(colour))
        if key not in self._cells and sum(k[0] == v for k in self._cells) < PALETTE_FROM:
            there = (self.closeness(v, colour) > -PREFILTER_TOL ** 2).astype(np.uint8)
            h, w = there.shape
            gh, gw = -(-h // PREFILTER_CELL), -(-w // PREFILTER_CELL)
            padded = np.zeros((gh * PREFILTER_CELL, gw * PREFILTER_CELL), np.uint8)
            padded[:h, :w] = there
            self._cells[key] = cv2.dilate(_cell_max(padded, gh, gw), np.ones((3, 3), np.uint8)) > 0
        elif key not in self._cells:
            pair_cell, pair_bin, lo, shape = self._palette_of(v)
            q = _quantised(colour)
            nearest = np.clip(q[None, :], lo, lo + PALETTE_STEP)
            near = ((nearest - q[None, :]) ** 2).sum(axis=1) < PREFILTER_TOL ** 2
            grid = np.zeros(shape[0] * shape[1], np.uint8)
            grid[pair_cell[near[pair_bin]]] = 1
            self._cells[key] = cv2.dilate(grid.reshape(shape), np.ones((3, 3), np.uint8)) > 0
        return self._cells[key]

    def _palette_of(self, v: int):
        """View v's palette: (cell of each (cell, colour box) pair present, its box's index,
        the boxes' lower corners (weighted Lab), the cell grid's shape)."""
        if v not in self._palette:
            lab = self.views[v].lab
            h, w = lab.shape[:2]
            gh, gw = -(-h // PREFILTER_CELL), -(-w // PREFILTER_CELL)
            box = (lab * (1 / PALETTE_STEP)).astype(np.int64)  # weighted 8-bit Lab: 0..255, boxes < 256
            code = (box[..., 0] * 256 + box[..., 1]) * 256 + box[..., 2]
            cell = (np.arange(h)[:, None] // PREFILTER_CELL) * gw + np.arange(w)[None, :] // PREFILTER_CELL
            pairs = _distinct((cell * (1 << 24) + code).ravel())
            codes = pairs & ((1 << 24) - 1)
            order = np.argsort(codes, kind="stable")
            first = np.ones(len(order), bool)
            first[1:] = codes[order][1:] != codes[order][:-1]
            pair_bin = np.empty(len(order), np.int64)
            pair_bin[order] = np.cumsum(first) - 1
            bins = codes[order][first]
            lo = np.stack([bins >> 16, (bins >> 8) & 255, bins & 255], axis=1).astype(np.float32)
            self._palette[v] = (pairs >> 24, pair_bin, lo * PALETTE_STEP, (gh, gw))
        return self._palette[v]

    def possible(self, ref: Reference) -> bool:
        """Whether the photo has the reference's main colours side by side somewhere.

        A crest is its colours next to each other; where the photo never has them together
        (in either view, within a loose tolerance), none of the reference's proposals could
        pass the appearance check's colour caps, so it is not searched for at all.
        """
        colours = ref.colours.astype(np.float32) * _LAB_WEIGHT
        for v in range(len(self.views)):
            grids = [self.cells(v, c) for c in colours]
            if len(grids) == 1 and grids[0].any():
                return True
            if any((grids[0] & g).any() for g in grids[1:]):
                return True
        return False

    def regions(self, v: int, colours: np.ndarray, tol: float,
                keys: tuple | None = None) -> tuple[list[tuple[np.ndarray, float]], np.ndarray]:
        """[(contour, area)] of the regions of view v within `tol` of any of `colours`, and their
        shape signatures (_log_hu), so each reference compares its outline with all at once.
        `keys`: the colours' _key, when the caller has them.

        A region is a part of the photo within `tol` of the nearest of the colours, closed (3x3)
        and with its outer outline. The pixels within `tol` of any colour are those within it of
        one of them, and a closing is a dilation then an erosion, where the dilation of a union is
        the union of the dilations: so each colour's pixels, dilated, are worked out once per
        view and tolerance (_grown) and shared by every academy with that colour (a trust's gold,
        its white); only the union, its erosion and its outlines are per set of colours, and those
        only within the box that holds the set's pixels (nothing outside it can be a region).
        """
        keys = tuple(self._key(c) for c in colours) if keys is None else keys
        key = (v, keys, tol)
        if key not in self._regions:
            parts = {}
            for k in keys:
                grown = self._grown_of(v, k, tol)
                if grown is not None:
                    parts[grown[2]] = grown
            # the same pixels make the same regions: a set whose other colours are absent at this
            # tolerance is its present colours' set, and a colour with no more pixels at a looser
            # tolerance than at a tighter one has the same pixels at both
            same = (v, tuple(sorted(parts)))
            if same not in self._regions:
                self._regions[same] = self._outlined(v, list(parts.values()))
            self._regions[key] = self._regions[same]
        return self._regions[key]

    def _outlined(self, v: int, parts: list) -> tuple[list[tuple[np.ndarray, float]], np.ndarray]:
        """regions() of the union of dilated colour pixels `parts` (_grown_of's)."""
        H, W = self.views[v].lab.shape[:2]
        found = []
        if parts:
            x0 = max(0, min(b[0] for _, b, _ in parts) - 1)
            y0 = max(0, min(b[1] for _, b, _ in parts) - 1)
            x1 = min(W, max(b[0] + b[2] for _, b, _ in parts) + 1)
            y1 = min(H, max(b[1] + b[3] for _, b, _ in parts) + 1)
            union = parts[0][0][y0:y1, x0:x1]
            for grown, _, _ in parts[1:]:
                union = cv2.bitwise_or(union, grown[y0:y1, x0:x1])
            # the margin of one empty pixel erodes the box's edge as the whole photo would
            closed = cv2.erode(union, _K3)
            outlines = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x0, y0))[0]
            found = _kept(outlines, H * W)
        return found, _log_hu([c for c, _ in found])

    def _grown_of(self, v: int, key: tuple, tol: float):
        """(view v's pixels within `tol` of the colour `key`, dilated 3x3 (uint8 0/255), the box
        (x, y, w, h) holding them, what names these pixels), or None where there are none: once
        per colour and tolerance. The name is (key, the tightest tolerance with the same pixels):
        the pixels within a tolerance hold those within a tighter one, so the same count is the
        same pixels."""
        k = (v, key, tol)
        if k not in self._grown:
            grown = cv2.dilate(cv2.compare(self.closeness(v, None, key), -tol * tol, cv2.CMP_GT), _K3)
            box = cv2.boundingRect(grown)
            if box[2] == 0:
                self._grown[k] = None
            else:
                count = cv2.countNonZero(grown)
                counts = self._counts.setdefault((v, key), {})
                name = (key, min((t for t, n in counts.items() if n == count and t < tol), default=tol))
                counts[tol] = count
                self._grown[k] = (grown, box, name)
        return self._grown[k]

    def outline_hu(self, outline: np.ndarray) -> np.ndarray:
        """The shape signature (_log_hu) of a reference's outline, once per photo."""
        if id(outline) not in self._outline_hu:
            self._outline_hu[id(outline)] = (outline, _log_hu([outline])[0])
        return self._outline_hu[id(outline)][1]


_K3 = np.ones((3, 3), np.uint8)


def _kept(outlines, photo_area: int) -> list[tuple[np.ndarray, float]]:
    """[(contour, area)] of the outlines worth comparing: at least MIN_REGION_PX, at most half the
    photo, and solid (at least 0.7 of their convex hull)."""
    found = []
    for c, area in zip(outlines, map(cv2.contourArea, outlines)):
        if MIN_REGION_PX <= area <= 0.5 * photo_area and \
                area / max(1.0, cv2.contourArea(cv2.convexHull(c))) >= 0.7:
            found.append((c, area))
    return found


def _cell_max(padded: np.ndarray, gh: int, gw: int) -> np.ndarray:
    """The maximum of each PREFILTER_CELL-square cell of a (gh, gw)-cell image: as
    padded.reshape(gh, C, gw, C).max(axis=(1, 3)), row by row of a cell (numpy reduces the two
    short strided axes twenty times slower)."""
    rows = padded.reshape(gh, PREFILTER_CELL, gw * PREFILTER_CELL)
    across = np.maximum.reduce([rows[:, i] for i in range(PREFILTER_CELL)]).reshape(gh, gw, PREFILTER_CELL)
    return np.maximum.reduce([across[..., i] for i in range(PREFILTER_CELL)])


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array (np.unique, by sorting: faster here)."""
    values = np.sort(values)
    keep = np.ones(len(values), bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _quantised(colour: np.ndarray) -> np.ndarray:
    """A weighted colour on a grid of COLOUR_STEP: the same gold in two academies' crests (k-means
    centres a fraction apart) is then one colour, mapped once."""
    return (np.round(np.asarray(colour, np.float32) / COLOUR_STEP) * COLOUR_STEP).astype(np.float32)


def colour_shape_placements(ref: Reference, presence: ColourPresence, max_candidates: int = 6,
                            tols: tuple[float, ...] = TOLERANCES) -> list[Placement]:
    """Placements of `ref` proposed by regions in its colours whose outline has its shape.

    `presence` holds the photo's views (colour_views()). Each tolerance in `tols` gives its
    own regions: a loose one survives shade and casts, a tight one keeps a crest apart from
    skin or a wall of nearly its colour. Regions are compared with the whole crest (in any
    of its colours) and with its field alone (in the field's colour): a gold half of a
    shield on a gold curtain leaves only the red half standing out.
    """
    colours = ref.colours.astype(np.float32) * _LAB_WEIGHT
    keys = tuple(map(tuple, _quantised(colours).tolist()))
    targets = []
    for v in range(len(presence.views)):
        targets.append((ref.outline, v, colours, keys))
        if ref.field is not None:
            targets.append((ref.field, v, colours[ref.field_colour:ref.field_colour + 1],
                            keys[ref.field_colour:ref.field_colour + 1]))
    signatures = {id(ref.outline): presence.outline_hu(ref.outline)}
    if ref.field is not None:
        signatures[id(ref.field)] = presence.outline_hu(ref.field)
    scored = []
    for outline, v, target_colours, target_keys in targets:
        for tol in tols:
            found, hu = presence.regions(v, target_colours, tol, target_keys)
            if not found:
                continue
            for (c, area), d in zip(found, _shape_distance(hu, signatures[id(outline)])):
                if d <= MAX_SHAPE_DISTANCE:
                    scored.append((d, c, area, outline))
    scored.sort(key=lambda t: t[0])
    out, seen = [], []
    for _, c, area, outline in scored:
        m = cv2.moments(c)
        cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
        if any(abs(cx - x) < 3 and abs(cy - y) < 3 and 0.8 < area / a < 1.25 for x, y, a in seen):
            continue  # the same region again, from another tolerance
        seen.append((cx, cy, area))
        rm = cv2.moments(outline)
        rcx, rcy = rm["m10"] / rm["m00"], rm["m01"] / rm["m00"]
        s = math.sqrt(area / cv2.contourArea(outline))
        tilt = cv2.minAreaRect(c)[2] % 90  # the outline's turn, known modulo 90 degrees
        tilt = tilt - 90 if tilt > 45 else tilt
        for angle in {0.0, tilt, -tilt}:
            t = math.radians(angle)
            R = np.array([[s * math.cos(t), -s * math.sin(t)], [s * math.sin(t), s * math.cos(t)]])
            off = np.array([cx, cy]) - R @ np.array([rcx, rcy])
            Hm = np.vstack([np.hstack([R, off[:, None]]), [0, 0, 1]])
            out.append(Placement(ref, Hm, 0, "colour-shape"))
        if len(seen) == max_candidates:
            break
    return out


def _log_hu(contours) -> np.ndarray:
    """(n, 7) signed log10 Hu moments of contours, as cv2.matchShapes compares them (0 where too small)."""
    out = np.zeros((len(contours), 7))
    for i, c in enumerate(contours):
        h = cv2.HuMoments(cv2.moments(c)).ravel()
        big = np.abs(h) > 1e-5
        out[i, big] = np.sign(h[big]) * np.log10(np.abs(h[big]))
    return out


def _shape_distance(regions: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """cv2.matchShapes(region, outline, CONTOURS_MATCH_I3) for many regions at once."""
    both = (regions != 0) & (outline != 0)[None, :]
    rel = np.where(both, np.abs((regions - outline[None, :]) / np.where(regions != 0, regions, 1.0)), 0.0)
    return rel.max(axis=1)
