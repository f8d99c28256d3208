"""Where a small crest may be: places of a photo that look like a reference shrunk to 40-108 px.

A crest 40-60 px across in a photo larger than the working size is 20-45 working pixels: too
few for keypoints (0-2 matches), too few for the colour-and-outline cue's coarse view. Its
colours are still there, in its layout. This module only proposes places, cheaply: each
reference, shrunk to each small crest size on a view where the smallest is VIEW_PX across, is
correlated with the whole view (weighted Lab, each channel free of its offset, so a cast does
not matter; one FFT-based matchTemplate per reference and size) and its best place kept; the
best MAX_WINDOWS places of all references are returned. The detector then searches each one
again at the photo's own resolution, enlarged, with the same matcher and the same appearance
check (detectors/logos.py, LogoDetector._small_crests). It reports places, never findings.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from screening.vision.logo_match.reference import Reference

# Crest sizes (longer side, pixels of the photo as taken) the windows are sized for.
SMALL_SIZES = (40, 60, 90)
# ...but only those below this many working pixels: larger crests have keypoints enough there.
SMALL_UP_TO = 110
# On a photo so large that the working image shrinks it more than 3 times (a phone panorama, a 48 MP
# photo), crests larger than SMALL_SIZES are too small at the working size for keypoints too (under
# 45 working px: issue 16's 40-60 px misses were 24-45): sizes beyond, each 1.5 times the last, are
# asked for while under this many working pixels, and the view is made from the photo itself (RT13-8:
# a 52 px crest on an 8000 px panorama was 9 working pixels, its templates 7 px, never proposed).
KEYPOINTS_FROM = 45
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


def sizes_at(scale: float) -> list[float]:
    """The crest sizes (photo pixels) windows() looks for at `scale` working pixels per photo pixel."""
    sizes = [float(s) for s in SMALL_SIZES if s * scale < SMALL_UP_TO]
    size = float(SMALL_SIZES[-1])
    while (size := size * 1.5) * scale < KEYPOINTS_FROM:
        sizes.append(size)
    return sizes


def windows(work: np.ndarray, scale: float, refs: list[Reference], templates_of: dict,
            photo: np.ndarray | None = None, each_first: bool = True) -> list[Window]:
    """The best MAX_WINDOWS places where one of `refs` may sit as a small crest, best first.

    `work` is the working image, `scale` working pixels per photo pixel, `templates_of[id(ref)]` the
    reference's templates() (a Template). For each reference and crest size (sizes_at(scale), in photo
    pixels) the crest, shrunk to that size on a view where the smallest is VIEW_PX across, is compared
    with every place of the view (correlation of weighted Lab, free of each channel's offset:
    a cast), and its best place kept. Sizes the working image holds in fewer than VIEW_PX pixels are
    looked for in a view made from `photo` (what `work` was shrunk from), when given (_views).
    `each_first`: each academy's best place is taken before any academy's place at another size
    (_merge); without it, the best places by score alone.
    """
    sizes = [s * scale for s in sizes_at(scale)]
    if not sizes or not refs:
        return []
    views = _views(work, sizes, photo)
    found: list[Window] = []
    for ref in refs:
        template = templates_of[id(ref)]
        th, tw = template.mask.shape
        for size in sizes:
            if size not in views:
                continue
            view_scale, correlate = views[size]
            k = size * view_scale / max(th, tw)
            w, h = max(4, round(tw * k)), max(4, round(th * k))
            if w >= correlate.w or h >= correlate.h:
                continue
            best, (px, py) = correlate.best(template.at(w, h))
            if best < MIN_MATCH:
                continue
            found.append(Window(((px) / view_scale, py / view_scale, w / view_scale, h / view_scale),
                                float(best), {ref.academy}))
    return _merge(found, each_first)


def _views(work: np.ndarray, sizes: list[float], photo: np.ndarray | None) -> dict:
    """Per crest size (working pixels): (view pixels per working pixel, the view's _Correlation).

    The sizes of at least VIEW_PX working pixels share a view of the working image where the smallest
    of them is VIEW_PX across (never enlarged). Smaller ones, on a photo the working image shrank that
    much, share a view made from the photo where the smallest of them is VIEW_PX across. A view with no
    room for its smallest crest (and its search) has no sizes.
    """
    fine = [s for s in sizes if s < VIEW_PX] if photo is not None else []
    out = {}
    for group, source in ((fine, photo), ([s for s in sizes if s not in fine], work)):
        if not group:
            continue
        view_scale = VIEW_PX / min(group) if source is photo else min(1.0, VIEW_PX / min(group))
        vw, vh = round(work.shape[1] * view_scale), round(work.shape[0] * view_scale)
        if min(vw, vh) <= VIEW_PX:
            continue
        view = source if (vw, vh) == (source.shape[1], source.shape[0]) else \
            cv2.resize(source, (vw, vh), interpolation=cv2.INTER_AREA)
        correlate = _Correlation(cv2.cvtColor(view, cv2.COLOR_RGB2LAB).astype(np.float32) * _LAB_WEIGHT)
        out.update({s: (view_scale, correlate) for s in group})
    return out


class _Correlation:
    """cv2.matchTemplate(view, t, TM_CCOEFF_NORMED)'s best place, for many templates `t` of one view.

    The same correlation (weighted Lab, each channel free of its offset; the three channels
    summed and normalised together), worked out so the view's part is shared by every template:
    OpenCV redoes the window sums of the view on every call, and correlates three channels at
    several times the cost of one. Here the numerator is one single-channel correlation of the
    view's channels laid side by side (pixel by pixel, so every third column lines the channels
    up), and the window sums that normalise it are made once per template size.
    """

    def __init__(self, lab: np.ndarray):
        self.h, self.w = lab.shape[:2]
        # each channel's mean taken out (the correlation ignores it): the single-precision
        # correlation's rounding then follows the view's pattern, not Lab's offset of 128
        lab = (lab - lab.reshape(-1, 3).mean(axis=0)).astype(np.float32)
        self.flat = np.ascontiguousarray(lab).reshape(self.h, -1)
        self.sums, self.squares = cv2.integral2(lab, sdepth=cv2.CV_64F)
        self._inverse: dict = {}

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
        """(best correlation, its (x, y)) of template t (h, w, 3) over the view, as minMaxLoc gives
        them; a best below MIN_MATCH only as that (its place is not used)."""
        h, w = t.shape[:2]
        dev = (t - t.reshape(-1, 3).mean(axis=0)).astype(np.float32)
        norm = float(np.sqrt((dev.astype(np.float64) ** 2).sum()))
        if norm < np.finfo(np.float64).eps:  # a flat template: OpenCV answers 1 everywhere
            return 1.0, (0, 0)
        res = cv2.matchTemplate(self.flat, dev.reshape(h, -1), cv2.TM_CCORR)[:, ::3]
        res = res * (self._inverse_spread(h, w) * np.float32(1 / norm))
        _, best, _, at = cv2.minMaxLoc(res)
        if best > 1:  # as OpenCV: rounding past +-1 (a near-flat window) is +-1 up to 1.125, beyond that 0
            res = np.where(np.abs(res) <= 1, res, np.where(np.abs(res) < 1.125, np.sign(res), 0)).astype(np.float32)
            _, best, _, at = cv2.minMaxLoc(res)
        # (values past -1 only ever become -1 or 0: below MIN_MATCH, as the best then is)
        return float(best), at


def _merge(found: list[Window], each_first: bool = True) -> list[Window]:
    """Windows of one place (centres within half a window) become one, academies joined; the best
    few, each academy's best place first: an academy's place at a second crest size is taken only
    when every academy proposing a place has its best one in (issue 16, recall33: a flat crest's two
    sizes' places, neither a crest, pushed the embroidered academy's best place, a 61 px crest, out
    of MAX_WINDOWS)."""
    found.sort(key=lambda w: -w.score)
    first: list[Window] = []
    seen: set[str] = set()
    for win in found if each_first else ():  # each academy's best place, best first (a place may hold several academies')
        if not win.academies <= seen:
            first.append(win)
            seen |= win.academies
    rest = [w for w in found if all(w is not f for f in first)]
    kept: list[Window] = []
    for win in first + rest:
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
