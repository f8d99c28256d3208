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
from screening.vision.logo_match.verify import _chroma_corr, _ncc, _parts

SIDES = ("left", "right", "top", "bottom")
# A half's own pattern must vary at least this much (lightness and stretched chroma, std):
# a plain half (a shield's empty field) matches any cloth of its colour.
MIN_PATTERN = 12.0
# A half must hold at least this share of the crest's pixels (a crest's tip is not its half).
MIN_SHARE = 0.3


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


def find_halves(rgb: np.ndarray, refs, widths) -> list[HalfMatch]:
    """The best place of each reference's halves in `rgb`, for a crest `widths` pixels wide
    (the reference's appearance view scaled to each width in turn); best per reference first."""
    best: dict[int, HalfMatch] = {}
    for width in widths:
        views: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        for ref in refs:
            vh, vw = ref.v_grey.shape
            s = vw / float(width)
            if s not in views:
                size = (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s)))
                work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
                views[s] = appearance_channels(work)
            grey, ab = views[s]
            for side in SIDES:
                m = _match(ref, side, grey, ab, s)
                if m is not None and (id(ref) not in best or m.score > best[id(ref)].score):
                    best[id(ref)] = m
    return sorted(best.values(), key=lambda m: -m.score)


def _match(ref: Reference, side: str, grey: np.ndarray, ab: np.ndarray, s: float) -> HalfMatch | None:
    ys, xs = _half(ref, side)
    mask = ref.v_mask[ys, xs] > 0
    if mask.sum() < MIN_SHARE * (ref.v_mask > 0).sum():
        return None
    r = np.dstack([ref.v_grey[ys, xs], ref.v_ab[ys, xs] * CHROMA_GAIN]).astype(np.float32)
    if float(r[mask].std(axis=0).max()) < MIN_PATTERN:
        return None
    q = np.dstack([grey, ab * CHROMA_GAIN]).astype(np.float32)
    th, tw = mask.shape
    if q.shape[0] < th or q.shape[1] < tw:
        return None
    filled = np.where(mask[..., None], r, r[mask].mean(axis=0))  # outside the crest: no pattern (fast, unmasked)
    fit = cv2.matchTemplate(q, filled.astype(np.float32), cv2.TM_CCOEFF_NORMED)
    fit = np.nan_to_num(fit, nan=-1.0, posinf=-1.0, neginf=-1.0)
    _, _, _, (x, y) = cv2.minMaxLoc(fit)
    score, structure, chroma, parts = _alike(q[y:y + th, x:x + tw], ab[y:y + th, x:x + tw], ref, ys, xs, mask)
    vh, vw = ref.v_grey.shape
    x0, y0 = x - xs.start, y - ys.start  # the whole crest's corner in the working view
    box = (round(x0 / s), round(y0 / s), round(vw / s), round(vh / s))
    return HalfMatch(ref, side, box, float(score), structure, chroma, parts)


def _alike(patch, patch_ab, ref, ys, xs, mask) -> tuple[float, float, float, float]:
    """(appearance, structure, chroma, parts) of a patch against the reference's part (ys, xs), as
    the appearance check scores a whole crest."""
    r = np.dstack([ref.v_grey[ys, xs], ref.v_ab[ys, xs] * CHROMA_GAIN]).astype(np.float32)
    chroma = _chroma_corr(patch_ab[mask], ref.v_ab[ys, xs][mask])
    shift = float(np.linalg.norm(patch_ab[mask].mean(axis=0) - ref.v_ab[ys, xs][mask].mean(axis=0)))
    colour = min(1.0, chroma / CHROMA_AGREES) * float(np.clip((SHIFT_FAR - shift) / (SHIFT_FAR - SHIFT_CAST), 0, 1))
    structure = max(0.0, _ncc(patch[mask], r[mask]))
    parts = _parts(patch, r, mask.astype(np.uint8))
    return (0.4 * structure + 0.3 * chroma + 0.3 * parts) * colour, structure, chroma, parts
