"""The small-crest windows as they were before the view's tiles' spectra were shared (commit
bce8358): cv2.matchTemplate of the view's channels laid side by side, one call per reference and
size. Kept as the oracle the shared correlation (screening/vision/logo_match/small.py) must agree
with: tests/test_logo_small_oracle.py."""

from __future__ import annotations

import cv2
import numpy as np

from screening.vision.logo_match.small import (MIN_MATCH, SMALL_SIZES, SMALL_UP_TO, VIEW_PX, Window,
                                               _Correlation, _LAB_WEIGHT, _merge)


def opencv_best(corr: _Correlation, t: np.ndarray) -> tuple[float, tuple[int, int]]:
    """_Correlation.best as it was: one matchTemplate (TM_CCORR) per template, minMaxLoc."""
    h, w = t.shape[:2]
    dev = (t - t.reshape(-1, 3).mean(axis=0)).astype(np.float32)
    norm = float(np.sqrt((dev.astype(np.float64) ** 2).sum()))
    if norm < np.finfo(np.float64).eps:  # a flat template: OpenCV answers 1 everywhere
        return 1.0, (0, 0)
    res = cv2.matchTemplate(corr.flat, dev.reshape(h, -1), cv2.TM_CCORR)[:, ::3]
    res = res * (corr._inverse_spread(h, w) * np.float32(1 / norm))
    _, best, _, at = cv2.minMaxLoc(res)
    if best > 1:  # as OpenCV: rounding past +-1 (a near-flat window) is +-1 up to 1.125, beyond that 0
        res = np.where(np.abs(res) <= 1, res, np.where(np.abs(res) < 1.125, np.sign(res), 0)).astype(np.float32)
        _, best, _, at = cv2.minMaxLoc(res)
    return float(best), at


def opencv_raw_best(corr: _Correlation, t: np.ndarray) -> float:
    """The best before the past-1 rounding is folded back (to tell a test took that path)."""
    h, w = t.shape[:2]
    dev = (t - t.reshape(-1, 3).mean(axis=0)).astype(np.float32)
    norm = float(np.sqrt((dev.astype(np.float64) ** 2).sum()))
    res = cv2.matchTemplate(corr.flat, dev.reshape(h, -1), cv2.TM_CCORR)[:, ::3]
    return float((res * (corr._inverse_spread(h, w) * np.float32(1 / norm))).max())


def windows(work: np.ndarray, scale: float, refs, templates_of: dict) -> list[Window]:
    """small.windows() as it was (the same body, opencv_best for the correlation)."""
    sizes = [s * scale for s in SMALL_SIZES if s * scale < SMALL_UP_TO]
    if not sizes or not refs:
        return []
    view_scale = min(1.0, VIEW_PX / min(sizes))
    vw, vh = round(work.shape[1] * view_scale), round(work.shape[0] * view_scale)
    if min(vw, vh) <= VIEW_PX:
        return []
    view = cv2.resize(work, (vw, vh), interpolation=cv2.INTER_AREA) if view_scale < 1 else work
    lab = cv2.cvtColor(view, cv2.COLOR_RGB2LAB).astype(np.float32) * _LAB_WEIGHT
    correlate = _Correlation(lab)
    found: list[Window] = []
    for ref in refs:
        template = templates_of[id(ref)]
        th, tw = template.mask.shape
        for size in sizes:
            k = size * view_scale / max(th, tw)
            w, h = max(4, round(tw * k)), max(4, round(th * k))
            if w >= lab.shape[1] or h >= lab.shape[0]:
                continue
            best, (px, py) = opencv_best(correlate, template.at(w, h))
            if best < MIN_MATCH:
                continue
            found.append(Window(((px) / view_scale, py / view_scale, w / view_scale, h / view_scale),
                                float(best), {ref.academy}))
    return _merge(found)

