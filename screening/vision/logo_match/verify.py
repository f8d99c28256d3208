"""The appearance check: a placement warped back into the reference frame and compared
(pattern, colours, parts), aligned first by ECC when worth it."""

from __future__ import annotations

import math

import cv2
import numpy as np

from screening.vision.logo_match.params import (
    ACHROMATIC, CHROMA_AGREES, CHROMA_GAIN, DETAIL_AGREES, MIN_SUPPORT, MIN_VISIBLE, SHIFT_CAST, SHIFT_FAR,
    UNMATCHED_PENALTY,
)
from screening.vision.logo_match.reference import Placement, in_view
from screening.vision.logo_match.index import sane


def verify(p: Placement, grey: np.ndarray, ab: np.ndarray, enough: float = 0.0,
           hidden: np.ndarray | None = None) -> Placement:
    """Warp the image back into the reference frame and score how alike they look (0..1).

    The score is the appearance, less UNMATCHED_PENALTY for a placement with no keypoints.
    When the colours alone show the appearance cannot reach `enough`, the pattern is not
    compared (appearance and score stay 0): most proposals end there, cheaply. `hidden` (a mask
    of the reference's view: the part an occluder covers, logo_match.hidden) is left out as a
    part cut off by the frame is; `p.hidden` says how much of the crest in the frame it was.
    """
    ref = p.reference
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    if enough > 0 and hidden is None and ref.glance is not None and _glance_fails(p, grey, ab, enough):
        return p  # the mean colour alone, on a tiny view: most proposals end here
    side = _reference_side(ref)
    vh, vw = ref.v_grey.shape
    # the chroma first, the lightness only for a placement whose colours let its pattern count
    Hv = p.H @ np.diag([ref.size[0] / vw, ref.size[1] / vh, 1.0])  # as in_view
    c = cv2.warpPerspective(ab, Hv, (vw, vh), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    m = side.mask
    inside = _inside(Hv, (vw, vh), (grey.shape[1], grey.shape[0]))
    if inside is not None:  # cut by the frame: judged on the part in view
        p.visible = float((m & inside).sum() / max(1, m.sum()))
        if p.visible < MIN_VISIBLE:
            return p
        m = m & inside
    if hidden is not None:  # and without the part an occluder covers
        p.hidden = 1.0 - float((m & ~hidden).sum() / max(1, m.sum()))
        m = m & ~hidden
    if m is not side.mask:
        r_ab = ref.v_ab[m]
        q_ab = c[m]
        q_mean = q_ab.mean(axis=0)
        p.chroma = _chroma_corr(q_ab, r_ab)
        p.shift = float(np.linalg.norm(q_mean - r_ab.mean(axis=0)))
    else:  # the whole crest: the reference's side as worked out once
        q_ab = c.reshape(-1, 2)[side.flat]
        q_mean = q_ab.mean(axis=0)
        p.chroma = _chroma_from(q_ab - q_mean, side.chroma)
        p.shift = float(np.linalg.norm(q_mean - side.ab_mean))
    # colours that disagree cap the score however well the pattern fits: another school's
    # crest of the same layout in other colours fits the pattern perfectly. The pattern of
    # colours (chroma) and the colours themselves (shift) are both asked.
    colour = colour_agreement(p)
    if (0.7 + 0.3 * p.chroma) * colour < enough:  # even a perfect pattern would not do
        return p
    g = cv2.warpPerspective(grey, Hv, (vw, vh), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    q = _stack(g, c)
    if m is side.mask:
        p.structure = max(0.0, _ncc_from(q.reshape(-1, 3)[side.flat], side.ncc))
        p.parts = _parts_from(q, side.parts)
    else:
        r = _stack(ref.v_grey, ref.v_ab)
        p.structure = max(0.0, _ncc(q[m], r[m]))
        p.parts = _parts(q, r, m)
    p.appearance = (0.4 * p.structure + 0.3 * p.chroma + 0.3 * p.parts) * colour
    p.score = p.appearance - (UNMATCHED_PENALTY if p.source == "colour-shape" else 0.0)
    return p


def _glance_fails(p: Placement, grey: np.ndarray, ab: np.ndarray, enough: float) -> bool:
    """Whether the crest's mean colour, on the reference's tiny view, already shows the colour check
    cannot reach `enough` (a margin: the tiny view blurs the colours); then p.shift is set."""
    ref = p.reference
    gh, gw = ref.glance[1].shape
    Hg = p.H @ np.diag([ref.size[0] / gw, ref.size[1] / gh, 1.0])
    cg = cv2.warpPerspective(ab, Hg, (gw, gh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REPLICATE)
    gm = ref.glance[1] > 0
    if _inside(Hg, (gw, gh), (grey.shape[1], grey.shape[0])) is None and gm.any():
        shift = float(np.linalg.norm(cg[gm].mean(axis=0) - ref.glance[0][gm].mean(axis=0)))
        if float(np.clip((SHIFT_FAR + 5 - shift) / (SHIFT_FAR - SHIFT_CAST), 0, 1)) < enough:
            p.shift = shift
            return True
    return False


class _ReferenceSide:
    """What verify() works out from the reference alone, for a crest wholly in view: its mask (and
    the mask's pixels as flat indices), its chroma's mean and deviations, its pattern's deviations
    and energy, and its textured parts (about 0.2 MB at the 96 px view). Worked out once per reference
    (Reference.memo) by the same functions on the same arrays, so every placement gets the values it
    got working them out itself."""

    def __init__(self, ref):
        self.mask = ref.v_mask > 0
        self.flat = np.flatnonzero(self.mask).astype(np.int32)
        r_ab = ref.v_ab[self.mask]
        self.ab_mean = r_ab.mean(axis=0)
        self.chroma = _chroma_side(r_ab)
        pattern = _stack(ref.v_grey, ref.v_ab)
        self.ncc = _ncc_side(pattern[self.mask])
        self.parts = _parts_side(pattern, self.mask)


def _reference_side(ref) -> _ReferenceSide:
    side = ref.memo.get("verify")
    if side is None:
        side = ref.memo["verify"] = _ReferenceSide(ref)
    return side


def colour_agreement(p: Placement) -> float:
    """How far the placement's colours allow its pattern to count (0..1): the pattern of colours
    (chroma) and the mean colour (shift) both asked; 1 when both agree as a cast allows."""
    return min(1.0, p.chroma / CHROMA_AGREES) * float(np.clip((SHIFT_FAR - p.shift) / (SHIFT_FAR - SHIFT_CAST), 0, 1))


def _inside(Hv: np.ndarray, ref_size: tuple[int, int], image_size: tuple[int, int]) -> np.ndarray | None:
    """Which pixels of the reference's view fall inside the image (None when all of them do)."""
    vw, vh = ref_size
    W, H = image_size
    q = cv2.perspectiveTransform(np.float32([[0, 0], [vw, 0], [vw, vh], [0, vh]]).reshape(-1, 1, 2), Hv)
    q = q.reshape(-1, 2)
    if q[:, 0].min() >= 0 and q[:, 1].min() >= 0 and q[:, 0].max() <= W - 1 and q[:, 1].max() <= H - 1:
        return None
    ys, xs = np.mgrid[0:vh, 0:vw].astype(np.float32)
    pts = cv2.perspectiveTransform(np.dstack([xs + 0.5, ys + 0.5]).reshape(-1, 1, 2), Hv).reshape(vh, vw, 2)
    return (pts[..., 0] >= 0) & (pts[..., 1] >= 0) & (pts[..., 0] <= W - 1) & (pts[..., 1] <= H - 1)


def support(p: Placement, src: np.ndarray, dst: np.ndarray) -> int:
    """How many keypoint correspondences agree with the placement (within 4% of the crest's size)."""
    if len(src) == 0:
        return 0
    projected = cv2.perspectiveTransform(src.reshape(-1, 1, 2).astype(np.float64), p.H).reshape(-1, 2)
    _, _, w, h = p.crest_box()
    return int((np.linalg.norm(projected - dst, axis=1) < 0.04 * math.hypot(w, h)).sum())


def refine(p: Placement, grey: np.ndarray) -> Placement | None:
    """The placement with its perspective fitted to the photo (ECC on lightness), or None.

    A placement proposed from a few matches or from an outline is only roughly right (the
    outline gives no perspective); aligning the reference to the photo pixel by pixel fixes
    that before the appearance check judges it.
    """
    ref = p.reference
    vh, vw = ref.v_grey.shape
    S = np.diag([ref.size[0] / vw, ref.size[1] / vh, 1.0])
    warp = (p.H @ S).astype(np.float32)
    warp /= warp[2, 2]
    try:
        warp = _ecc(ref.v_grey.astype(np.float32), grey, ref.v_mask, warp)
    except cv2.error:  # did not converge: the rough placement stands
        return None
    H = warp.astype(np.float64) @ np.linalg.inv(S)
    if not sane(H, ref.size, (grey.shape[1], grey.shape[0])):
        return None
    return Placement(ref, H, p.inliers, p.source)


def aligned(p: Placement, grey: np.ndarray, ab: np.ndarray, src: np.ndarray, dst: np.ndarray,
            enough: float = 0.0, zoom: float = 1.0) -> Placement:
    """`p` aligned to the photo by ECC (refine) when the alignment is to be believed, else `p`.

    ECC fits the reference's lightness to the photo's. Another school's crest drawn on the same
    layout (the shield, division, rim and scroll, in its own colours, with its own initials and
    emblem) has the same edges: aligned onto them it fits the pattern and the parts as well as
    the real crest (RT5-9: 0.56 as keypoints placed it, 0.86 aligned). So the aligned placement
    replaces `p` only when all of these hold, else `p` stands as keypoints or the outline placed it:
    - it scores better;
    - placed by keypoints, they still agree with it (min(inliers, MIN_SUPPORT)): ECC can pull a
      shield of the same outline onto its own edges (bench decoy 0220: 5 agreeing -> 2);
    - its colours agree in full (colour_agreement 1): alignment moves shapes, and must never be
      what lifts a score where the colours disagree;
    - its fine detail agrees (detail() >= DETAIL_AGREES): the lettering and emblem, which a
      shared layout does not share, at the scale the photo resolves (`zoom`: how much the
      working image `grey` was enlarged from the photo; see detail()).
    """
    better = refine(p, grey)
    if better is None or verify(better, grey, ab, enough).score <= p.score:
        return p
    if p.source == "features" and support(better, src, dst) < min(p.inliers, MIN_SUPPORT):
        return p
    if colour_agreement(better) < 1.0 or detail(better, grey, ab, zoom=zoom) < DETAIL_AGREES:
        return p
    return better


def detail(p: Placement, grey: np.ndarray, ab: np.ndarray, n: int = 4, zoom: float = 1.0,
           hidden: np.ndarray | None = None) -> float:
    """How alike the crest's fine detail is (mean correlation over an n x n grid of its parts).

    The photo under the placement and the reference, both in the reference's view, are band-passed
    (a difference of Gaussians) at the finest scale the photo resolves there: a crest 40 px across
    seen in a 96 px view has no detail finer than about 2.4 view pixels, so neither side is asked
    for it. The crest's outline and its band are left out (the mask eroded by the coarser blur):
    a same-layout crest shares them. Parts with little detail (under a tenth of the mean) say
    nothing and are skipped. 1.0 when no part has detail to compare (nothing to tell apart).

    `zoom` is how much the working image was enlarged from the photo (1 when it was not): the
    photo resolves what its own pixels hold, so a 41 px crest enlarged to 95 working pixels has no
    detail finer than 2.3 view pixels either. Asked for the enlargement's finer band, a real small
    crest correlated 0.26-0.34 (bench 0144, s101 41 px; the photo's own band: 0.54-0.77).
    """
    ref = p.reference
    vh, vw = ref.v_grey.shape
    g, c, _ = in_view(p, grey, ab)
    s = max(1.0, vw * max(1.0, zoom) / max(1.0, p.crest_box()[2]))  # view pixels per photo pixel
    fine, coarse = 0.5 * s, 2.0 * s

    def band(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (0, 0), fine) - cv2.GaussianBlur(x, (0, 0), coarse)

    q, r = band(_stack(g, c).astype(np.float32)), band(_stack(ref.v_grey, ref.v_ab).astype(np.float32))
    k = int(2 * coarse) | 1
    m = cv2.erode(ref.v_mask, np.ones((k, k), np.uint8)) > 0
    if hidden is not None:  # the part an occluder covers says nothing (verify's `hidden`)
        m &= ~hidden
    cells = []
    for i in range(n):
        for j in range(n):
            ys, xs = slice(i * vh // n, (i + 1) * vh // n), slice(j * vw // n, (j + 1) * vw // n)
            mm = m[ys, xs]
            if mm.sum() >= 0.3 * mm.size:
                rc, qc = r[ys, xs][mm], q[ys, xs][mm]
                cells.append((float((rc * rc).sum(axis=1).mean()), rc, qc))
    if not cells:
        return 1.0
    floor = 0.1 * float(np.mean([e for e, _, _ in cells]))
    corr = []
    for e, rc, qc in cells:
        d = math.sqrt(float((rc * rc).sum()) * float((qc * qc).sum()))
        if e >= floor:
            corr.append(float((rc * qc).sum()) / d if d > 1e-6 else 0.0)
    return float(np.mean(corr)) if corr else 1.0


def _ecc(template: np.ndarray, image: np.ndarray, mask: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """The homography (template frame -> image) that best aligns the template's masked pixels.

    The mask is the template's (the crest, not its background). findTransformECC's mask is the
    *input image's* (the photo's size): given the template's, it raised on every call, so no
    placement was ever refined. findTransformECCWithMask (newer OpenCV, as locked) takes the
    template's mask; an OpenCV without it aligns the whole template rectangle (no mask), and
    the aligned placement is kept only when it then scores better (LogoDetector._placed).
    """
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 40, 1e-4)
    if hasattr(cv2, "findTransformECCWithMask"):
        return cv2.findTransformECCWithMask(template, image, mask, None, warp, cv2.MOTION_HOMOGRAPHY,
                                            criteria, 5)[1]
    return cv2.findTransformECC(template, image, warp, cv2.MOTION_HOMOGRAPHY, criteria, None, 5)[1]


def _stack(grey: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Lightness and chroma as one (h, w, 3) pattern, chroma stretched as for the features."""
    return np.dstack([grey, ab * CHROMA_GAIN])


def _ncc(q: np.ndarray, r: np.ndarray) -> float:
    """Correlation of an image pattern `q` with the reference's `r`, (N, channels) each.

    Each channel is free of its own offset (a cast, a shade) and gain, and counts as much as
    the reference has pattern in it: the chroma of a crest's fine lettering is mostly JPEG's
    colour fringes, and must not dilute the agreement of its lightness. Whether the colours
    themselves agree is _chroma_corr's question.
    """
    return _ncc_from(q, _ncc_side(r))


def _ncc_side(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The reference's side of _ncc: its deviations, their energy per channel and in all."""
    r = r - r.mean(axis=0)
    energy_r = (r * r).sum(axis=0)
    return r, energy_r, float(energy_r.sum())


def _ncc_from(q: np.ndarray, side: tuple[np.ndarray, np.ndarray, float]) -> float:
    r, energy_r, total = side
    if total < 1e-6:
        return 0.0
    q = q - q.mean(axis=0)
    denom = np.sqrt((q * q).sum(axis=0) * energy_r)
    corr = np.where(denom > 1e-6, (q * r).sum(axis=0) / np.maximum(denom, 1e-6), 0.0)
    return float((corr * energy_r).sum() / total)


def _chroma_corr(q: np.ndarray, r: np.ndarray) -> float:
    """How alike the colour pattern is, free of a colour cast; 0..1."""
    return _chroma_from(q - q.mean(axis=0), _chroma_side(r))


def _chroma_side(r: np.ndarray) -> tuple[np.ndarray, float, np.float32]:
    """The reference's side of _chroma_corr: its deviations, their spread and their energy."""
    r_dev = r - r.mean(axis=0)
    r_sq = r_dev ** 2
    return r_dev, float(np.sqrt(r_sq.sum(axis=1).mean())), r_sq.sum()


def _chroma_from(q_dev: np.ndarray, side: tuple[np.ndarray, float, np.float32]) -> float:
    """_chroma_corr of the image's chroma deviations `q_dev` (from their mean) and the reference's side."""
    r_dev, r_norm, r_energy = side
    q_sq = q_dev ** 2
    q_norm = float(np.sqrt(q_sq.sum(axis=1).mean()))
    if r_norm < ACHROMATIC:  # an achromatic crest: the image should be achromatic there too
        return float(max(0.0, 1 - q_norm / 12))
    d = math.sqrt(float(q_sq.sum() * r_energy))
    corr = float((q_dev * r_dev).sum() / d) if d > 1e-6 else 0.0
    # the pattern's strength should be comparable too (a cast or a faded print shrinks it a little)
    strength = min(q_norm, r_norm) / max(q_norm, r_norm, 1e-6)
    return max(0.0, corr) * min(1.0, 0.5 + strength)


def _parts(g: np.ndarray, r: np.ndarray, mask: np.ndarray, n: int = 3) -> float:
    """Share of the crest's textured parts (an n x n grid) whose pattern agrees."""
    return _parts_from(g, _parts_side(r, mask, n))


def _parts_side(r: np.ndarray, mask: np.ndarray, n: int = 3) -> list:
    """The reference's side of _parts: each textured part's place, mask and _ncc side."""
    h, w = r.shape[:2]
    cells = []
    for i in range(n):
        for j in range(n):
            ys, xs = slice(i * h // n, (i + 1) * h // n), slice(j * w // n, (j + 1) * w // n)
            m = mask[ys, xs] > 0
            if m.sum() < 0.3 * m.size:
                continue
            rc = r[ys, xs][m]
            if rc.std(axis=0).max() < 6:  # a plain part says nothing
                continue
            cells.append((ys, xs, m, _ncc_side(rc)))
    return cells


def _parts_from(g: np.ndarray, cells: list) -> float:
    agree = sum(_ncc_from(g[ys, xs][m], side) > 0.5 for ys, xs, m, side in cells)
    return agree / len(cells) if cells else 0.0
