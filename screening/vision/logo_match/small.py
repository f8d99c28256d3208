"""Where a small crest may be: places of a photo that look like a reference shrunk to 40-108 px.

A crest 40-60 px across in a photo larger than the working size is 20-45 working pixels: too
few for keypoints (0-2 matches), too few for the colour-and-outline cue's coarse view. Its
colours are still there, in its layout. This module only proposes places, cheaply: each
reference, shrunk to each small crest size on a view where the smallest is VIEW_PX across, is
correlated with the whole view (weighted Lab, each channel free of its offset, so a cast does
not matter) and its best place kept; the best MAX_WINDOWS places of all references are returned.
The view's part of the correlation (its tiles' spectra, its window sums) is made once per template
size and shared by every reference's template of that size (_Correlation), so a reference costs
one spectrum product and one inverse transform of about the view's size, not OpenCV's forward
and inverse of it; the windows are OpenCV's (tests/test_logo_small_oracle.py). The detector then searches each one
again at the photo's own resolution, enlarged, with the same matcher and the same appearance
check (detectors/logos.py, LogoDetector._small_crests). It reports places, never findings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import cv2
import numpy as np

from screening.vision.logo_match.reference import Reference

# Crest sizes (longer side, pixels of the photo as taken) the windows are sized for.
SMALL_SIZES = (40, 60, 90)
# ...but only those below this many working pixels: larger crests have keypoints enough there.
SMALL_UP_TO = 110
# The view the crests are looked for in: the smallest crest size this many pixels across.
VIEW_PX = 10
# A place is proposed when the shrunk crest correlates with it at least this much.
MIN_MATCH = 0.5
# At most this many windows per photo are searched again (each costs a small SIFT).
MAX_WINDOWS = 4

_LAB_WEIGHT = np.float32([0.5 / 2.55, 1, 1])
# A window whose squared deviations from its mean sum to less than this (weighted Lab) is flat:
# one step of 8-bit lightness on one pixel is 0.04, rounding of the window sums far below.
FLAT = 1e-3
# best() leaves a decision to OpenCV's own rounding when it hangs on less than this.
CLOSE = 1e-4
# Templates of one shape from which a view's tiles' spectra are shared (fewer: OpenCV's own, cheaper).
SHARED_FROM = 4


@dataclass
class Window:
    """A place a small crest may be: a box in working pixels and the academies proposing it."""

    box: tuple[float, float, float, float]
    score: float
    academies: set[str]


class Template:
    """A reference's crest for windows(): weighted Lab of its mask's box and the mask, and the
    crest shrunk to each size asked for (outside the mask its mean colour, which the correlation
    ignores), kept: photos of one size ask for the same few sizes, for every reference."""

    def __init__(self, crest: np.ndarray, mask: np.ndarray):
        self.crest, self.mask = crest, mask
        self._at: dict[tuple[int, int], np.ndarray] = {}

    def at(self, w: int, h: int) -> np.ndarray:
        if (w, h) not in self._at:
            t = cv2.resize(self.crest, (w, h), interpolation=cv2.INTER_AREA)
            m = cv2.resize(self.mask, (w, h), interpolation=cv2.INTER_AREA) > 127
            if m.any():
                t[~m] = t[m].mean(axis=0)
            self._at[(w, h)] = t
        return self._at[(w, h)]


def templates(ref: Reference) -> Template:
    """The reference's crest (its mask's box) in weighted Lab, and its mask, for windows()."""
    ys, xs = np.nonzero(ref.mask)
    crop = ref.rgb[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    mask = ref.mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    return Template(cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32) * _LAB_WEIGHT, mask)


def windows(work: np.ndarray, scale: float, refs: list[Reference], templates_of: dict) -> list[Window]:
    """The best MAX_WINDOWS places where one of `refs` may sit as a small crest, best first.

    `work` is the working image, `scale` working pixels per photo pixel, `templates_of[id(ref)]` the
    reference's templates() (a Template). For each reference and crest size (SMALL_SIZES, in photo pixels)
    the crest, shrunk to that size on a view where the smallest is VIEW_PX across, is compared
    with every place of the view (correlation of weighted Lab, free of each channel's offset:
    a cast), and its best place kept.
    """
    sizes = [s * scale for s in SMALL_SIZES if s * scale < SMALL_UP_TO]
    if not sizes or not refs:
        return []
    view_scale = min(1.0, VIEW_PX / min(sizes))
    vw, vh = round(work.shape[1] * view_scale), round(work.shape[0] * view_scale)
    if min(vw, vh) <= VIEW_PX:  # no room for even the smallest crest (and its search)
        return []
    view = cv2.resize(work, (vw, vh), interpolation=cv2.INTER_AREA) if view_scale < 1 else work
    lab = cv2.cvtColor(view, cv2.COLOR_RGB2LAB).astype(np.float32) * _LAB_WEIGHT
    correlate = _Correlation(lab)
    asked = []  # (academy, template shrunk) in the order the windows were always made
    for ref in refs:
        template = templates_of[id(ref)]
        th, tw = template.mask.shape
        for size in sizes:
            k = size * view_scale / max(th, tw)
            w, h = max(4, round(tw * k)), max(4, round(th * k))
            if w < lab.shape[1] and h < lab.shape[0]:
                asked.append((ref.academy, template.at(w, h)))
    # the view's tiles' spectra pay for themselves from SHARED_FROM templates of one shape on
    shapes = Counter(t.shape for _, t in asked)
    found: list[Window] = []
    made: list[np.ndarray] = []  # each window's template
    for academy, t in asked:
        shared = shapes[t.shape] >= SHARED_FROM
        best, (px, py) = correlate.best(t) if shared else correlate.opencv_best(t)
        if best < MIN_MATCH:
            continue
        h, w = t.shape[:2]
        found.append(Window((px / view_scale, py / view_scale, w / view_scale, h / view_scale), float(best), {academy}))
        made.append(t)
    _settle_ties(found, made, correlate, view_scale)
    return _merge(found)


class _Correlation:
    """cv2.matchTemplate(view, t, TM_CCOEFF_NORMED)'s best place, for many templates `t` of one view.

    The same correlation (weighted Lab, each channel free of its offset; the three channels
    summed and normalised together), worked out so the view's part is shared by every template:
    the window sums that normalise it are made once per template size (_inverse_spread), and so
    are the spectra of the view's tiles (_tiles), so a template's numerator is one product of
    spectra and one inverse transform (best, _numerator). opencv_best is the same correlation by
    one cv2.matchTemplate of the view's channels laid side by side (pixel by pixel, so every
    third column lines the channels up): the answer where best()'s rounding could decide
    otherwise than OpenCV's, and for shapes too few templates share. `flat` (that layout) and
    _inverse_spread also serve logo_match.halves.
    """

    def __init__(self, lab: np.ndarray):
        self.h, self.w = lab.shape[:2]
        # each channel's mean taken out (the correlation ignores it): the single-precision
        # correlation's rounding then follows the view's pattern, not Lab's offset of 128
        lab = (lab - lab.reshape(-1, 3).mean(axis=0)).astype(np.float32)
        self.flat = np.ascontiguousarray(lab).reshape(self.h, -1)
        self.sums, self.squares = cv2.integral2(lab, sdepth=cv2.CV_64F)
        self._inverse: dict = {}
        self._tiled: dict = {}

    def _inverse_spread(self, h: int, w: int) -> np.ndarray:
        """1 / sqrt of the sum over channels of each h x w window's squared deviation from its
        mean; 0 for a flat window (no pattern, only the sums' rounding left: it correlates with nothing)."""
        if (h, w) not in self._inverse:
            def box(s):
                return s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w]

            s1, s2 = box(self.sums), box(self.squares)
            var = (s2 - s1 * s1 / (h * w)).sum(axis=2)
            flat = var <= FLAT
            self._inverse[(h, w)] = np.where(flat, 0.0, 1.0 / np.sqrt(np.where(flat, 1.0, var))).astype(np.float32)
        return self._inverse[(h, w)]

    def best(self, t: np.ndarray) -> tuple[float, tuple[int, int]]:
        """(best correlation, its (x, y)) of template t (h, w, 3) over the view, as
        cv2.matchTemplate(view, t, TM_CCOEFF_NORMED) and minMaxLoc give them (the first best in
        raster order); a best below MIN_MATCH only as that (its place is not used).

        Worked out with the view's tiles' spectra shared (_numerator). Its rounding is not
        OpenCV's (both within about 1e-6 of the exact value on a textured window), so where a
        decision hangs on less than CLOSE, the answer is OpenCV's (opencv_best): a best within
        CLOSE of MIN_MATCH, a second place within CLOSE of the best (a tie: which one OpenCV's
        rounding picks), a best near 1 (OpenCV's folding of rounding past 1)."""
        h, w = t.shape[:2]
        dev = (t - t.reshape(-1, 3).mean(axis=0)).astype(np.float32)
        norm = float(np.sqrt((dev.astype(np.float64) ** 2).sum()))
        if norm < np.finfo(np.float64).eps:  # a flat template: OpenCV answers 1 everywhere
            return 1.0, (0, 0)
        res = self._numerator(dev) * (self._inverse_spread(h, w) * np.float32(1 / norm))
        at = int(np.argmax(res))
        best = float(res.flat[at])
        if MIN_MATCH - CLOSE <= best and (best > 1 - CLOSE or best < MIN_MATCH + CLOSE
                                          or _runner_up(res, at) > best - CLOSE):
            return self.opencv_best(t)
        y, x = divmod(at, res.shape[1])
        return best, (x, y)

    def opencv_best(self, t: np.ndarray) -> tuple[float, tuple[int, int]]:
        """best() by one cv2.matchTemplate of the view's channels laid side by side (the view's
        part redone on every call): the answer where best()'s own is too close to call."""
        h, w = t.shape[:2]
        dev = (t - t.reshape(-1, 3).mean(axis=0)).astype(np.float32)
        norm = float(np.sqrt((dev.astype(np.float64) ** 2).sum()))
        if norm < np.finfo(np.float64).eps:
            return 1.0, (0, 0)
        res = cv2.matchTemplate(self.flat, dev.reshape(h, -1), cv2.TM_CCORR)[:, ::3]
        res = res * (self._inverse_spread(h, w) * np.float32(1 / norm))
        _, best, _, at = cv2.minMaxLoc(res)
        if best > 1:  # as OpenCV: rounding past +-1 (a near-flat window) is +-1 up to 1.125, beyond that 0
            res = np.where(np.abs(res) <= 1, res, np.where(np.abs(res) < 1.125, np.sign(res), 0)).astype(np.float32)
            _, best, _, at = cv2.minMaxLoc(res)
        # (values past -1 only ever become -1 or 0: below MIN_MATCH, as the best then is)
        return float(best), at

    def _numerator(self, dev: np.ndarray) -> np.ndarray:
        """sum over channels of the view correlated with dev (h, w, 3), at every place the template
        fits whole: (H - h + 1, W - w + 1), float32. Overlap-save in tiles: the view's tiles' spectra
        are made once per template size (_tiles) and shared by every template of that size, whose
        own spectrum is only a tile's (cheap), so a template costs one product and one inverse
        transform of about the view's size, not OpenCV's forward and inverse of it laid out 3 wide."""
        h, w = dev.shape[:2]
        (fy, fx), (sy, sx), spectra = self._tiles(h, w)
        pad = np.zeros((3, fy, fx), np.float32)
        pad[:, :h, :w] = dev.transpose(2, 0, 1)
        t = np.conj(np.fft.rfft2(pad))
        product = spectra[0] * t[0]
        product += spectra[1] * t[1]
        product += spectra[2] * t[2]
        out = np.fft.irfft2(product, s=(fy, fx))[:, :, :sy, :sx]
        ny, nx = out.shape[:2]
        return out.transpose(0, 2, 1, 3).reshape(ny * sy, nx * sx)[:self.h - h + 1, :self.w - w + 1]

    def _tiles(self, h: int, w: int):
        """For templates h x w: the tile size, the step between tiles (each tile's places where the
        template fits whole), and the view's tiles' spectra (3, rows, columns, fy, fx // 2 + 1)."""
        if (h, w) not in self._tiled:
            fy, fx = _tile_sides(h, w, self.h, self.w)
            sy, sx = fy - h + 1, fx - w + 1
            ny, nx = -(-(self.h - h + 1) // sy), -(-(self.w - w + 1) // sx)
            view = np.zeros((3, (ny - 1) * sy + fy, (nx - 1) * sx + fx), np.float32)
            view[:, :self.h, :self.w] = self.flat.reshape(self.h, self.w, 3).transpose(2, 0, 1)
            c, r, q = view.strides
            tiles = np.lib.stride_tricks.as_strided(view, (3, ny, nx, fy, fx), (c, sy * r, sx * q, r, q))
            self._tiled[(h, w)] = ((fy, fx), (sy, sx), np.fft.rfft2(tiles))
        return self._tiled[(h, w)]


# Tile sides of the overlap-save correlation (numpy's FFT is fastest on these 2^a 3^b 5^c).
_TILE_SIDES = sorted(2 ** a * 3 ** b * 5 ** c for a in range(12) for b in range(7) for c in range(5)
                     if 8 <= 2 ** a * 3 ** b * 5 ** c <= 4096)
TILE_PER_TEMPLATE, TILE_SMALLEST, TILE_LARGEST = 4, 48, 128


def _tile_sides(h: int, w: int, view_h: int, view_w: int) -> tuple[int, int]:
    """The tile (rows, columns) for an h x w template on the view: about TILE_PER_TEMPLATE
    templates across, TILE_SMALLEST to TILE_LARGEST (numpy's FFT slows per point on larger tiles
    faster than the tiles' overlap costs on smaller ones: measured, docs/academies.md), and no
    larger than the view needs."""
    def side(t, n):
        want = min(max(TILE_SMALLEST, TILE_PER_TEMPLATE * t), max(TILE_LARGEST, 2 * t), n)
        return next(f for f in _TILE_SIDES if f >= want)

    return side(h, view_h), side(w, view_w)


def _runner_up(res: np.ndarray, at: int) -> float:
    """The best of res at any place but its flat index `at`."""
    flat = res.reshape(-1)
    return float(max(flat[:at].max(initial=-np.inf), flat[at + 1:].max(initial=-np.inf)))


def _settle_ties(found: list[Window], made: list[np.ndarray], correlate: _Correlation, view_scale: float) -> None:
    """Windows whose scores are within CLOSE of another's are scored again by OpenCV (in place):
    their order, which _merge keeps, is then OpenCV's rounding's, as it was."""
    order = sorted(range(len(found)), key=lambda i: found[i].score)
    close = {i for a, b in zip(order, order[1:]) if found[b].score - found[a].score < CLOSE for i in (a, b)}
    for i in close:
        t = made[i]
        best, (px, py) = correlate.opencv_best(t)
        found[i].score = float(best)
        found[i].box = (px / view_scale, py / view_scale, t.shape[1] / view_scale, t.shape[0] / view_scale)
    dropped = [i for i in close if found[i].score < MIN_MATCH]
    for i in sorted(dropped, reverse=True):
        del found[i]


def _merge(found: list[Window]) -> list[Window]:
    """Windows of one place (centres within half a window) become one, academies joined; the best few."""
    found.sort(key=lambda w: -w.score)
    kept: list[Window] = []
    for win in found:
        x, y, w, h = win.box
        for k in kept:
            kx, ky, kw, kh = k.box
            if abs((x + w / 2) - (kx + kw / 2)) < 0.5 * max(w, kw) and \
                    abs((y + h / 2) - (ky + kh / 2)) < 0.5 * max(h, kh):
                k.academies |= win.academies
                break
        else:
            kept.append(win)
        if len(kept) == MAX_WINDOWS:
            break
    return kept
