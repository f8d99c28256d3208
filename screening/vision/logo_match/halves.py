"""Half a crest: a chest badge cut at its middle by the frame, or with half of it covered (a
hand, an arm, another head), judged on the half in view.

The keypoint matcher cannot place half a crest reliably (too few of its keypoints are left,
and the appearance check counts the covered half as unlike the reference). Here each
reference's left, right, top and bottom halves are looked for directly, as patterns (lightness
and chroma, each free of its offset and gain), over the few sizes a chest badge has, and the
best place of each half is judged as the appearance check judges a whole crest: its pattern,
its colours (a crest of the same layout in another school's colours fails here) and its parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from screening.vision.logo_match.params import CHROMA_AGREES, CHROMA_GAIN, SHIFT_CAST, SHIFT_FAR
from screening.vision.logo_match.reference import Reference, appearance_channels
from screening.vision.logo_match.small import _Correlation
from screening.vision.logo_match.verify import _chroma_corr, _ncc, _parts

SIDES = ("left", "right", "top", "bottom")
# A half's own pattern must vary at least this much (lightness and stretched chroma, std):
# a plain half (a shield's empty field) matches any cloth of its colour.
MIN_PATTERN = 12.0
# A half must hold at least this share of the crest's pixels (a crest's tip is not its half).
MIN_SHARE = 0.3
# Where a half fits best is found at half resolution first (a quarter of the positions, each a
# quarter of the work), then exactly around the COARSE_PEAKS best coarse places, REFINE_PX
# around each; a template smaller than COARSE_MIN at half resolution is matched whole. The
# coarse correlations of one view share its window sums (small._Correlation: every half
# template of a size, every academy's, normalised by the same sums).
COARSE_PEAKS = 3
REFINE_PX = 3
COARSE_MIN = 12


@dataclass
class HalfMatch:
    reference: Reference
    side: str
    box: tuple[int, int, int, int]  # the whole crest's box where the half was found, pixels of the image
    score: float  # the half's appearance, 0..1
    structure: float
    chroma: float
    parts: float


def _half(ref: Reference, side: str) -> tuple[slice, slice]:
    vh, vw = ref.v_grey.shape
    return {"left": (slice(0, vh), slice(0, vw // 2)), "right": (slice(0, vh), slice(vw - vw // 2, vw)),
            "top": (slice(0, vh // 2), slice(0, vw)), "bottom": (slice(vh - vh // 2, vh), slice(0, vw))}[side]


def find_halves(rgb: np.ndarray, refs, widths, floor=0.0) -> list[HalfMatch]:
    """The best place of each reference's halves in `rgb`, for a crest `widths` pixels wide
    (the reference's appearance view scaled to each width in turn); best per reference first.

    Only halves scoring at least `floor` are returned (a number, or a function of the
    reference: each academy its own): a place whose pattern and colours alone cannot reach it
    (its parts counted as all agreeing) is not scored further.
    """
    best: dict[int, HalfMatch] = {}
    views: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray, _Correlation]] = {}
    for width in widths:
        for ref in refs:
            s = ref.v_grey.shape[1] / float(width)
            at_least = floor(ref) if callable(floor) else floor
            for side, half in half_templates(ref).items():
                if half is None:
                    continue
                if s not in views:  # the photo at this scale, once for every reference and half
                    size = (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s)))
                    work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
                    grey, ab = appearance_channels(work)
                    q = np.dstack([grey, ab * CHROMA_GAIN]).astype(np.float32)
                    coarse = _halved(q)
                    views[s] = (q, ab, coarse, _Correlation(coarse))
                q, ab, coarse, shared = views[s]
                m = _match(ref, side, half, (q, coarse, shared), ab, s, at_least)
                if m is not None and (id(ref) not in best or m.score > best[id(ref)].score):
                    best[id(ref)] = m
    return sorted(best.values(), key=lambda m: -m.score)


def half_templates(ref: Reference) -> dict[str, _Half | None]:
    """The reference's four half templates (_template), made once and kept on the reference:
    every torso of every photo asks for the same ones."""
    kept = ref.__dict__.get("_half_templates")
    if kept is None:
        kept = {side: _template(ref, side) for side in SIDES}
        ref.__dict__["_half_templates"] = kept
    return kept


@dataclass
class _Half:
    ys: slice
    xs: slice
    mask: np.ndarray  # the crest's pixels in the half
    pattern: np.ndarray  # lightness and stretched chroma of the half, (h, w, 3) float32
    filled: np.ndarray  # the pattern with the mean outside the crest (the template matched)
    coarse: np.ndarray | None  # `filled` at half resolution (None, or smaller than COARSE_MIN: matched whole)


def _template(ref: Reference, side: str) -> _Half | None:
    """The half's pattern, or None when it is too small or too plain to be judged on its own."""
    ys, xs = _half(ref, side)
    mask = ref.v_mask[ys, xs] > 0
    if mask.sum() < MIN_SHARE * (ref.v_mask > 0).sum():
        return None
    r = np.dstack([ref.v_grey[ys, xs], ref.v_ab[ys, xs] * CHROMA_GAIN]).astype(np.float32)
    if float(r[mask].std(axis=0).max()) < MIN_PATTERN:
        return None
    filled = np.where(mask[..., None], r, r[mask].mean(axis=0))  # outside the crest: no pattern (fast, unmasked)
    filled = filled.astype(np.float32)
    return _Half(ys, xs, mask, r, filled, _halved(filled))


def _halved(img: np.ndarray) -> np.ndarray:
    return cv2.resize(img, (max(1, img.shape[1] // 2), max(1, img.shape[0] // 2)), interpolation=cv2.INTER_AREA)


def _fit(q: np.ndarray, template: np.ndarray) -> np.ndarray:
    fit = cv2.matchTemplate(q, template, cv2.TM_CCOEFF_NORMED)
    if not np.isfinite(fit.sum()):  # (one pass over the values instead of nan_to_num's several)
        fit = np.nan_to_num(fit, nan=-1.0, posinf=-1.0, neginf=-1.0)  # a flat window: no fit
    return fit


def _shared_fit(view: _Correlation, template: np.ndarray) -> np.ndarray:
    """cv2.matchTemplate(the view, template, TM_CCOEFF_NORMED), the view's window sums shared by
    every template of a size (small._Correlation): the same values to single-precision rounding,
    flat windows fitting nothing (0), values past +-1 as OpenCV clamps them."""
    h, w = template.shape[:2]
    dev = (template - template.reshape(-1, 3).mean(axis=0)).astype(np.float32)
    norm = float(np.sqrt((dev.astype(np.float64) ** 2).sum()))
    if norm < np.finfo(np.float64).eps:  # a flat template: OpenCV answers 1 everywhere
        return np.ones((view.h - h + 1, view.w - w + 1), np.float32)
    fit = cv2.matchTemplate(view.flat, dev.reshape(h, -1), cv2.TM_CCORR)[:, ::3]
    fit = fit * (view._inverse_spread(h, w) * np.float32(1 / norm))
    past = np.abs(fit) > 1
    if past.any():  # rounding past +-1 (a near-flat window): +-1 up to 1.125, beyond that 0
        fit = np.where(past, np.where(np.abs(fit) < 1.125, np.sign(fit), 0), fit).astype(np.float32)
    return fit


def _best_place(q: np.ndarray, coarse_q: np.ndarray, half: _Half, shared: _Correlation | None = None) -> tuple[int, int]:
    """The top-left corner where the half's pattern fits `q` best (normalised correlation):
    among the best places at half resolution (`shared`: coarse_q's window sums, made once for
    every template), refined exactly at full resolution."""
    th, tw = half.filled.shape[:2]
    if half.coarse is None or min(th, tw) < 2 * COARSE_MIN or coarse_q.shape[0] < half.coarse.shape[0] \
            or coarse_q.shape[1] < half.coarse.shape[1]:
        _, _, _, (x, y) = cv2.minMaxLoc(_fit(q, half.filled))
        return x, y
    fit = _shared_fit(shared if shared is not None else _Correlation(coarse_q), half.coarse)
    best, place = -2.0, (0, 0)
    for _ in range(COARSE_PEAKS):
        _, value, _, (cx, cy) = cv2.minMaxLoc(fit)
        if value <= -1.0:
            break
        fit[max(0, cy - th // 4):cy + th // 4 + 1, max(0, cx - tw // 4):cx + tw // 4 + 1] = -1.0  # this peak done
        x0 = min(max(0, 2 * cx - REFINE_PX), q.shape[1] - tw)
        y0 = min(max(0, 2 * cy - REFINE_PX), q.shape[0] - th)
        x1 = min(q.shape[1] - tw, 2 * cx + REFINE_PX + 1)
        y1 = min(q.shape[0] - th, 2 * cy + REFINE_PX + 1)
        near = _fit(q[y0:y1 + th, x0:x1 + tw], half.filled)
        _, value, _, (x, y) = cv2.minMaxLoc(near)
        if value > best:
            best, place = value, (x0 + x, y0 + y)
    return place


def _match(ref: Reference, side: str, half: _Half | None, views, ab: np.ndarray, s: float,
           floor: float = 0.0) -> HalfMatch | None:
    if half is None:
        return None
    q, coarse, shared = views
    th, tw = half.mask.shape
    if q.shape[0] < th or q.shape[1] < tw:
        return None
    x, y = _best_place(q, coarse, half, shared)
    scored = _alike(q[y:y + th, x:x + tw], ab[y:y + th, x:x + tw], ref, half, floor)
    if scored is None:
        return None
    score, structure, chroma, parts = scored
    vh, vw = ref.v_grey.shape
    x0, y0 = x - half.xs.start, y - half.ys.start  # the whole crest's corner in the working view
    box = (round(x0 / s), round(y0 / s), round(vw / s), round(vh / s))
    return HalfMatch(ref, side, box, float(score), structure, chroma, parts)


def _alike(patch, patch_ab, ref, half: _Half, floor: float = 0.0) -> tuple[float, float, float, float] | None:
    """(appearance, structure, chroma, parts) of a patch against the reference's half, as the
    appearance check scores a whole crest; None when it cannot reach `floor` whatever its parts.

    The cheapest test that can rule the place out comes first: the mean colour's shift (a cast
    is allowed, another palette is not), then the colour pattern, then the lightness pattern,
    each bounding the score with what is still unknown counted as all agreeing; the same answers
    as scoring everything.
    """
    mask, ys, xs = half.mask, half.ys, half.xs
    ref_ab = ref.v_ab[ys, xs][mask]
    ab = patch_ab[mask]
    shift = float(np.linalg.norm(ab.mean(axis=0) - ref_ab.mean(axis=0)))
    far = float(np.clip((SHIFT_FAR - shift) / (SHIFT_FAR - SHIFT_CAST), 0, 1))
    if far < floor:  # the score is at most the colour factor, itself at most `far`
        return None
    chroma = _chroma_corr(ab, ref_ab)
    colour = min(1.0, chroma / CHROMA_AGREES) * far
    if (0.4 + 0.3 * chroma + 0.3) * colour < floor:  # structure and parts are at most 1
        return None
    structure = max(0.0, _ncc(patch[mask], half.pattern[mask]))
    if (0.4 * structure + 0.3 * chroma + 0.3) * colour < floor:  # parts are at most 1
        return None
    parts = _parts(patch, half.pattern, mask.astype(np.uint8))
    return (0.4 * structure + 0.3 * chroma + 0.3 * parts) * colour, structure, chroma, parts
