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
# The view the crests are looked for in: the smallest crest size this many pixels across.
VIEW_PX = 10
# A place is proposed when the shrunk crest correlates with it at least this much.
MIN_MATCH = 0.5
# At most this many windows per photo are searched again (each costs a small SIFT).
MAX_WINDOWS = 4

_LAB_WEIGHT = np.float32([0.5 / 2.55, 1, 1])


@dataclass
class Window:
    """A place a small crest may be: a box in working pixels and the academies proposing it."""

    box: tuple[float, float, float, float]
    score: float
    academies: set[str]


def templates(ref: Reference) -> tuple[np.ndarray, np.ndarray]:
    """(crest, mask) for windows(): the reference's crest (its mask's box) in weighted Lab, and its mask."""
    ys, xs = np.nonzero(ref.mask)
    crop = ref.rgb[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    mask = ref.mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    return cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32) * _LAB_WEIGHT, mask


def windows(work: np.ndarray, scale: float, refs: list[Reference], templates_of: dict) -> list[Window]:
    """The best MAX_WINDOWS places where one of `refs` may sit as a small crest, best first.

    `work` is the working image, `scale` working pixels per photo pixel, `templates_of[id(ref)]` the
    reference's templates(). For each reference and crest size (SMALL_SIZES, in photo pixels)
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
    found: list[Window] = []
    for ref in refs:
        tmpl, tmask = templates_of[id(ref)]
        th, tw = tmask.shape
        for size in sizes:
            k = size * view_scale / max(th, tw)
            w, h = max(4, round(tw * k)), max(4, round(th * k))
            if w >= lab.shape[1] or h >= lab.shape[0]:
                continue
            t = cv2.resize(tmpl, (w, h), interpolation=cv2.INTER_AREA)
            m = cv2.resize(tmask, (w, h), interpolation=cv2.INTER_AREA) > 127
            if m.any():  # outside the crest: its mean colour, which the correlation ignores
                t[~m] = t[m].mean(axis=0)
            res = cv2.matchTemplate(lab, t, cv2.TM_CCOEFF_NORMED)
            res = np.nan_to_num(res, nan=-1.0, posinf=-1.0, neginf=-1.0)
            _, best, _, (px, py) = cv2.minMaxLoc(res)
            if best < MIN_MATCH:
                continue
            found.append(Window(((px) / view_scale, py / view_scale, w / view_scale, h / view_scale),
                                float(best), {ref.academy}))
    return _merge(found)


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
