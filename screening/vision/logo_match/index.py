"""Photo features and matching: SIFT on the photo's channels, one labelled index of every
reference's descriptors (cost follows the photo, not the trust), and robust placements."""

from __future__ import annotations

import cv2
import numpy as np

from screening.vision.logo_match.params import (
    CHROMA_A, CHROMA_B, CHROMA_SCALE, ELSEWHERE_PX, FLANN_CHECKS, FLANN_TREES, GREY, GREY_SIDE, INDEX_K,
    RATIO,
)
from screening.vision.logo_match.reference import Placement, Reference, channel_images, sift


class ChannelFeatures:
    """SIFT keypoints of one channel of an image, with a search index built on first use."""

    def __init__(self, pts: np.ndarray, desc: np.ndarray):
        self.pts, self.desc = pts, desc
        self._index = None

    def nearest(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices, distances) of each query descriptor's k nearest image descriptors.

        A randomised k-d forest (FLANN): the photo's thousands of descriptors are indexed once
        and every reference queries it, where brute force compared every pair again per reference.
        """
        if self._index is None:
            cv2.setRNGSeed(0)  # the forest is random: seeded, a photo gets the same answer every run
            self._index = cv2.flann_Index(self.desc, {"algorithm": 1, "trees": FLANN_TREES})
        idx, d2 = self._index.knnSearch(query, k, params={"checks": FLANN_CHECKS})
        return idx, np.sqrt(np.maximum(d2, 0))


def image_features(rgb: np.ndarray, channels, photo: np.ndarray | None = None) -> dict[int, ChannelFeatures]:
    """SIFT features of an image on each requested channel; points in rgb's pixels.

    The grey channel is searched with its longer side at most GREY_SIDE (SIFT doubles its
    input, and the doubled scale is most of its work), the colour channels at CHROMA_SCALE.
    `photo`, when given, is what `rgb` was enlarged from: the grey channel is then searched on
    it at its own size (SIFT's doubled scale is then twice the photo's pixels; the enlarged
    image's doubled scale held only interpolated pixels, at 1/zoom**2 of the cost per pixel
    saved), its points scaled into rgb's pixels.
    """
    out = {}
    if GREY in channels:
        source = rgb if photo is None else photo
        scale = min(1.0, GREY_SIDE / max(source.shape[:2]))
        grey = cv2.cvtColor(source, cv2.COLOR_RGB2GRAY)
        if scale < 1:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        pts, desc = features(grey)
        if photo is not None:  # pixel centres of the photo into rgb's (per axis: sizes were rounded)
            k = np.float32([rgb.shape[1] / grey.shape[1], rgb.shape[0] / grey.shape[0]])
            pts = (pts + 0.5) * k - 0.5
        elif scale < 1:
            pts = (pts + 0.5) / scale - 0.5
        out[GREY] = ChannelFeatures(pts, desc)
    chroma = set(channels) - {GREY}
    if chroma:
        small = cv2.resize(rgb, None, fx=CHROMA_SCALE, fy=CHROMA_SCALE, interpolation=cv2.INTER_AREA)
        for c, plane in channel_images(small, chroma).items():
            pts, desc = features(plane)
            out[c] = ChannelFeatures(pts / CHROMA_SCALE, desc)
    return out


def features(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SIFT keypoint positions and descriptors of one channel of an image."""
    kps, desc = sift().detectAndCompute(grey, None)
    if desc is None:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
    return np.float32([k.pt for k in kps]), desc.astype(np.float32)


def match(ref: Reference, image: dict[int, ChannelFeatures]) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-tested correspondences (reference points, image points) over the reference's channels."""
    return match_all([ref], image)[0]


def match_all(refs: list[Reference], image: dict[int, ChannelFeatures]) -> list[tuple[np.ndarray, np.ndarray]]:
    """match() for many references: one query of the photo's index per channel for all of them."""
    out = [([], []) for _ in refs]
    for c, feats in image.items():
        owners = [(i, ref.chan == c) for i, ref in enumerate(refs) if c in ref.channels]
        if not owners:
            continue
        desc = np.concatenate([refs[i].desc[sel] for i, sel in owners])
        found = _nearest(desc, feats)
        start = 0
        for i, sel in owners:
            n = int(sel.sum())
            part = None if found is None else (found[0][start:start + n], found[1][start:start + n])
            s, d = _match_channel(refs[i].pts[sel], part, feats)
            out[i][0].append(s)
            out[i][1].append(d)
            start += n
    empty = np.zeros((0, 2), np.float32)
    return [(np.concatenate(s) if s else empty, np.concatenate(d) if d else empty) for s, d in out]


class ReferenceIndex:
    """Every reference's descriptors in one search index per channel, each labelled by its reference.

    The photo's descriptors query it once, whatever the number of academies: the cost of
    matching follows the photo, not the trust. The ratio test asks whether a photo feature's
    nearest reference feature is clearly nearer than any reference feature *elsewhere*: the
    same corner in another scale of the reference, or in another academy's crest drawn on the
    same layout (same canonical place), is not elsewhere, so academies that share a shield all
    keep the matches of its shared parts, and their colours decide later whose crest it is.
    """

    def __init__(self, refs: list[Reference]):
        self.refs = refs
        self._channels: dict[int, tuple] = {}
        for c in (GREY, CHROMA_A, CHROMA_B):
            owners = [(i, ref.chan == c) for i, ref in enumerate(refs) if c in ref.channels]
            if not owners:
                continue
            desc = np.ascontiguousarray(np.concatenate([refs[i].desc[sel] for i, sel in owners]), np.float32)
            label = np.concatenate([np.full(int(sel.sum()), i, np.int32) for i, sel in owners])
            pts = np.concatenate([refs[i].pts[sel] for i, sel in owners]).astype(np.float32)
            self._channels[c] = [desc, label, pts, None]

    def channels_of(self, refs) -> set[int]:
        return set().union(*(r.channels for r in refs)) if refs else set()

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
            rows, cols = rows[once], cols[once]
            # per reference, in that order (RANSAC's answer depends on it): grouped by a stable sort
            mine = lab[rows, cols]
            order = np.argsort(mine, kind="stable")
            refs, starts = np.unique(mine[order], return_index=True)
            for i, part in zip(refs.tolist(), np.split(order, starts[1:])):
                src[i].append(where[rows[part], cols[part]])
                dst[i].append(feats.pts[rows[part]])
        empty = np.zeros((0, 2), np.float32)
        return {i: (np.concatenate(src[i]).astype(np.float32).reshape(-1, 2) if src[i] else empty,
                    np.concatenate(dst[i]).astype(np.float32).reshape(-1, 2) if dst[i] else empty)
                for i in wanted}


def _apart(where: np.ndarray) -> np.ndarray:
    """(N, k, k): whether each two of a photo feature's k neighbours (positions (N, k, 2) in the
    canonical frame) lie more than ELSEWHERE_PX apart (|dx| + |dy|): two planes summed, the same
    values as a sum over an axis of two, which numpy reduces several times slower."""
    x, y = where[:, :, 0], where[:, :, 1]
    return np.abs(x[:, :, None] - x[:, None, :]) + np.abs(y[:, :, None] - y[:, None, :]) > ELSEWHERE_PX


def _nearest(desc: np.ndarray, image: ChannelFeatures):
    if len(desc) < 2 or len(image.desc) < 3:
        return None
    return image.nearest(desc, 3)


def _match_channel(ref_pts: np.ndarray, found, image: ChannelFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-tested correspondences on one channel.

    Each reference feature looks for its nearest image feature, and keeps it only when it
    is clearly nearer than any image feature elsewhere: a photo holds thousands of features,
    so this is the test that rejects chance matches in clutter. Each image feature is used
    once (the reference holds the same corner at several scales).
    """
    empty = np.zeros((0, 2), np.float32)
    if found is None or len(ref_pts) < 2:
        return empty, empty
    idx, dist = found
    pts = image.pts
    q = pts[idx[:, 0]]
    # the second candidate is the nearest one elsewhere (not the same corner found twice)
    elsewhere1 = np.abs(pts[idx[:, 1]] - q).sum(axis=1) > 3
    elsewhere2 = np.abs(pts[idx[:, 2]] - q).sum(axis=1) > 3
    second = np.where(elsewhere1, dist[:, 1], np.where(elsewhere2, dist[:, 2], np.inf))
    ok = np.flatnonzero(dist[:, 0] < RATIO * second)
    if len(ok) == 0:
        return empty, empty
    # each image feature once, kept for its nearest reference feature
    order = ok[np.argsort(dist[ok, 0], kind="stable")]
    _, first = np.unique(idx[order, 0], return_index=True)
    ri = order[first]
    return ref_pts[ri].reshape(-1, 2), pts[idx[ri, 0]].reshape(-1, 2)


def placements(ref: Reference, src: np.ndarray, dst: np.ndarray, image_size: tuple[int, int],
               min_inliers: int = 5, max_instances: int = 3, few_inliers: int = 0,
               degenerate: bool = False) -> list[Placement]:
    """Robust transforms from the correspondences, one per instance of the crest.

    With `few_inliers`, a similarity supported by that many matches is proposed when no
    affine transform has `min_inliers`; with `degenerate` too, also when the affine transform
    with the most inliers is not one a crest could have (not sane(): RANSAC counts the same
    photo point matched at several orientations once per match, so a fit collapsing the crest
    onto a line can outvote the crest's own).
    """
    found = []
    src, dst = src.copy(), dst.copy()
    for _ in range(max_instances):
        if len(src) < min_inliers:
            break
        tol = 4.0
        A, inl = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=tol,
                                      maxIters=2000, confidence=0.995)
        if (A is None or inl is None or inl.sum() < min_inliers) and few_inliers:
            # a flat crest gives a handful of matches: a similarity from three of them is a
            # rough placement that refine() and the appearance check then confirm or reject
            A, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=tol,
                                                 maxIters=2000, confidence=0.995)
            if A is not None and inl is not None and inl.sum() >= few_inliers:
                if sane(np.vstack([A, [0, 0, 1]]), ref.size, image_size):
                    found.append(Placement(ref, np.vstack([A, [0, 0, 1]]), int(inl.sum()), "features"))
            break
        if A is None or inl is None or inl.sum() < min_inliers:
            break
        inl = inl.ravel().astype(bool)
        H = np.vstack([A, [0, 0, 1]])
        if degenerate and few_inliers and not sane(H, ref.size, image_size):
            S, sin = _similarity(src, dst, tol)
            if S is not None and sin.sum() >= few_inliers and sane(S, ref.size, image_size):
                H, inl = S, sin
        if inl.sum() >= 10:  # enough matches to afford perspective
            Hh, hin = cv2.findHomography(src, dst, cv2.RANSAC, tol)
            if Hh is not None and hin.sum() >= inl.sum() and sane(Hh, ref.size, image_size):
                H, inl = Hh, hin.ravel().astype(bool)
        if sane(H, ref.size, image_size):
            found.append(Placement(ref, H, int(inl.sum()), "features"))
        src, dst = src[~inl], dst[~inl]
    return found


def _similarity(src: np.ndarray, dst: np.ndarray, tol: float) -> tuple[np.ndarray | None, np.ndarray]:
    """The similarity (turn, scale, shift) most correspondences agree with, as a 3x3 matrix, and
    its inliers; a similarity cannot collapse the crest as a degenerate affine transform can."""
    A, inl = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=tol,
                                         maxIters=2000, confidence=0.995)
    if A is None or inl is None:
        return None, np.zeros(len(src), bool)
    return np.vstack([A, [0, 0, 1]]), inl.ravel().astype(bool)


def sane(H: np.ndarray, ref_size: tuple[int, int], image_size: tuple[int, int]) -> bool:
    """A placement a real crest could have: not mirrored, not degenerate, not wildly skewed."""
    w, h = ref_size
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    q = cv2.perspectiveTransform(corners, H).reshape(-1, 2)
    if not np.isfinite(q).all():
        return False
    sides = np.linalg.norm(np.roll(q, -1, axis=0) - q, axis=1)
    if sides.min() < 8 or sides.max() > 3 * max(image_size):
        return False
    if max(sides[0] / sides[2], sides[2] / sides[0], sides[1] / sides[3], sides[3] / sides[1]) > 2.0:
        return False
    e = np.roll(q, -1, axis=0) - q  # edge vectors
    cross = e[:, 0] * np.roll(e, -1, axis=0)[:, 1] - e[:, 1] * np.roll(e, -1, axis=0)[:, 0]
    if not (all(c > 0 for c in cross)):  # convex and not mirrored (image y points down)
        return False
    aspect = (sides[0] + sides[2]) / (sides[1] + sides[3]) / (w / h)
    return 0.5 < aspect < 2.0
