"""The logo matcher's appearance check, naming vote and index bookkeeping as they were before
they kept the reference's side of their work (issue 16, verifycost): the oracle the faster code
is compared with (tests/test_logo_verifycost.py). Copied unchanged; not used by the product."""

from __future__ import annotations

import math

import cv2
import numpy as np

from screening.vision.logo_match.identity import DIFFERENT, MIN_DISTINCT, MIN_SHARED
from screening.vision.logo_match.params import (
    ACHROMATIC, CHROMA_GAIN, ELSEWHERE_PX, FLANN_CHECKS, FLANN_TREES, INDEX_K, MIN_VISIBLE,
    RATIO, SHIFT_CAST, SHIFT_FAR, UNMATCHED_PENALTY,
)
from screening.vision.logo_match.index import ChannelFeatures
from screening.vision.logo_match.reference import Placement, Reference, in_view
from screening.vision.logo_match.verify import _inside, colour_agreement


def verify(p: Placement, grey: np.ndarray, ab: np.ndarray, enough: float = 0.0) -> Placement:
    """Warp the image back into the reference frame and score how alike they look (0..1).

    The score is the appearance, less UNMATCHED_PENALTY for a placement with no keypoints.
    When the colours alone show the appearance cannot reach `enough`, the pattern is not
    compared (appearance and score stay 0): most proposals end there, cheaply.
    """
    ref = p.reference
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    if enough > 0 and ref.glance is not None:  # the mean colour alone, on a tiny view: most proposals end here
        gh, gw = ref.glance[1].shape
        Hg = p.H @ np.diag([ref.size[0] / gw, ref.size[1] / gh, 1.0])
        cg = cv2.warpPerspective(ab, Hg, (gw, gh), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        gm = ref.glance[1] > 0
        if _inside(Hg, (gw, gh), (grey.shape[1], grey.shape[0])) is None and gm.any():
            shift = float(np.linalg.norm(cg[gm].mean(axis=0) - ref.glance[0][gm].mean(axis=0)))
            # the colour check cannot reach `enough` (a margin: the tiny view blurs the colours)
            if float(np.clip((SHIFT_FAR + 5 - shift) / (SHIFT_FAR - SHIFT_CAST), 0, 1)) < enough:
                p.shift = shift
                return p
    vh, vw = ref.v_grey.shape
    g, c, Hv = in_view(p, grey, ab)
    m = ref.v_mask > 0
    inside = _inside(Hv, (vw, vh), (grey.shape[1], grey.shape[0]))
    if inside is not None:  # cut by the frame: judged on the part in view
        p.visible = float((m & inside).sum() / max(1, m.sum()))
        if p.visible < MIN_VISIBLE:
            return p
        m = m & inside
    p.chroma = _chroma_corr(c[m], ref.v_ab[m])
    p.shift = float(np.linalg.norm(c[m].mean(axis=0) - ref.v_ab[m].mean(axis=0)))
    # colours that disagree cap the score however well the pattern fits: another school's
    # crest of the same layout in other colours fits the pattern perfectly. The pattern of
    # colours (chroma) and the colours themselves (shift) are both asked.
    colour = colour_agreement(p)
    if (0.7 + 0.3 * p.chroma) * colour < enough:  # even a perfect pattern would not do
        return p
    q, r = _stack(g, c), _stack(ref.v_grey, ref.v_ab)
    p.structure = max(0.0, _ncc(q[m], r[m]))
    p.parts = _parts(q, r, m)
    p.appearance = (0.4 * p.structure + 0.3 * p.chroma + 0.3 * p.parts) * colour
    p.score = p.appearance - (UNMATCHED_PENALTY if p.source == "colour-shape" else 0.0)
    return p


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
    q = q - q.mean(axis=0)
    r = r - r.mean(axis=0)
    energy_r = (r * r).sum(axis=0)
    total = float(energy_r.sum())
    if total < 1e-6:
        return 0.0
    denom = np.sqrt((q * q).sum(axis=0) * energy_r)
    corr = np.where(denom > 1e-6, (q * r).sum(axis=0) / np.maximum(denom, 1e-6), 0.0)
    return float((corr * energy_r).sum() / total)


def _chroma_corr(q: np.ndarray, r: np.ndarray) -> float:
    """How alike the colour pattern is, free of a colour cast; 0..1."""
    r_dev = r - r.mean(axis=0)
    q_dev = q - q.mean(axis=0)
    r_norm = float(np.sqrt((r_dev ** 2).sum(axis=1).mean()))
    q_norm = float(np.sqrt((q_dev ** 2).sum(axis=1).mean()))
    if r_norm < ACHROMATIC:  # an achromatic crest: the image should be achromatic there too
        return float(max(0.0, 1 - q_norm / 12))
    d = math.sqrt(float((q_dev ** 2).sum() * (r_dev ** 2).sum()))
    corr = float((q_dev * r_dev).sum() / d) if d > 1e-6 else 0.0
    # the pattern's strength should be comparable too (a cast or a faded print shrinks it a little)
    strength = min(q_norm, r_norm) / max(q_norm, r_norm, 1e-6)
    return max(0.0, corr) * min(1.0, 0.5 + strength)


def _parts(g: np.ndarray, r: np.ndarray, mask: np.ndarray, n: int = 3) -> float:
    """Share of the crest's textured parts (an n x n grid) whose pattern agrees."""
    h, w = r.shape[:2]
    agree = total = 0
    for i in range(n):
        for j in range(n):
            ys, xs = slice(i * h // n, (i + 1) * h // n), slice(j * w // n, (j + 1) * w // n)
            m = mask[ys, xs] > 0
            if m.sum() < 0.3 * m.size:
                continue
            rc = r[ys, xs][m]
            if rc.std(axis=0).max() < 6:  # a plain part says nothing
                continue
            total += 1
            agree += _ncc(g[ys, xs][m], rc) > 0.5
    return agree / total if total else 0.0
def _pattern(grey: np.ndarray, ab: np.ndarray) -> np.ndarray:
    return np.dstack([0.5 * grey, ab * CHROMA_GAIN]).astype(np.float32)


def vote(view: np.ndarray, a: Reference, b: Reference) -> float:
    """Share (0..1) of the parts where a and b differ at which the photo's view is nearer a.

    0.5 when they do not differ enough to tell (the same crest under two academies).
    """
    ra, rb = _pattern(a.v_grey, a.v_ab), _pattern(b.v_grey, b.v_ab)
    both = (a.v_mask > 0) & (b.v_mask > 0)
    apart = np.linalg.norm(ra - rb, axis=2) > DIFFERENT
    distinct = cv2.erode((apart & both).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if distinct.sum() < MIN_DISTINCT * both.sum():
        return 0.5
    shared = both & ~(cv2.dilate(apart.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)
    q = view
    if shared.sum() >= MIN_SHARED * both.sum():  # the cast and shade, measured where both agree
        q = q - np.median(view[shared] - ra[shared], axis=0)
    da = np.linalg.norm(q[distinct] - ra[distinct], axis=1)
    db = np.linalg.norm(q[distinct] - rb[distinct], axis=1)
    return float((da < db).mean() + 0.5 * (da == db).mean())



# ReferenceIndex.match, as a function of the index (self)
def match(self, image: dict[int, ChannelFeatures], wanted: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Ratio-tested correspondences (reference points, image points) for the wanted references."""
    want = np.zeros(len(self.refs), bool)
    want[wanted] = True
    src: dict[int, list] = {i: [] for i in wanted}
    dst: dict[int, list] = {i: [] for i in wanted}
    for c, feats in image.items():
        if c not in self._channels or len(feats.desc) == 0:
            continue
        entry = self._channels[c]
        desc, label, pts, index = entry
        if len(desc) < INDEX_K + 1:
            k = max(1, len(desc) - 1)
        else:
            k = INDEX_K
        if index is None:
            cv2.setRNGSeed(0)  # the forest is random: seeded, a photo gets the same answer every run
            index = entry[3] = cv2.flann_Index(desc, {"algorithm": 1, "trees": FLANN_TREES})
        idx, d2 = index.knnSearch(feats.desc, k, params={"checks": FLANN_CHECKS})
        idx = np.asarray(idx).reshape(len(feats.desc), k)
        dist = np.sqrt(np.maximum(np.asarray(d2).reshape(len(feats.desc), k), 0))
        idx = np.where(idx < 0, 0, idx)
        lab, where = label[idx], pts[idx]  # (N, k), (N, k, 2)
        # the nearest reference feature elsewhere (another place in the canonical frame)
        far = _apart(where)  # (N, k, k)
        second = np.where(far, dist[:, None, :], np.inf).min(axis=2)
        second = np.where(np.isinf(second), dist[:, -1:], second)
        # each reference keeps only its nearest feature for a photo feature
        first = np.ones_like(lab, bool)
        for j in range(1, k):
            first[:, j] = ~(lab[:, :j] == lab[:, j:j + 1]).any(axis=1)
        ok = first & (dist < RATIO * second) & want[lab]
        rows, cols = np.nonzero(ok)
        # each reference feature once too, kept for its nearest photo feature
        order = np.argsort(dist[rows, cols], kind="stable")
        rows, cols = rows[order], cols[order]
        _, once = np.unique(idx[rows, cols], return_index=True)
        for r, col in zip(rows[once].tolist(), cols[once].tolist()):
            i = int(lab[r, col])
            src[i].append(where[r, col])
            dst[i].append(feats.pts[r])
    empty = np.zeros((0, 2), np.float32)
    return {i: (np.float32(src[i]).reshape(-1, 2) if src[i] else empty,
                np.float32(dst[i]).reshape(-1, 2) if dst[i] else empty) for i in wanted}




def _apart(where: np.ndarray) -> np.ndarray:
    x, y = where[:, :, 0], where[:, :, 1]
    return np.abs(x[:, :, None] - x[:, None, :]) + np.abs(y[:, :, None] - y[:, None, :]) > ELSEWHERE_PX
