"""Finding one reference crest in an image: features, geometric check, appearance check.

Pure functions on numpy arrays; the detector (detectors/logos.py) owns the references and
the image handling. The steps, each measured in bench/bench_logos.py:

1. SIFT keypoints on the image; reference descriptors computed at several scales of the
   reference (a crest 60 px wide in a photo looks like the reference shrunk, not like the
   512 px original), matched through one FLANN index of the photo with a ratio test that
   ignores near-duplicate neighbours. A crest whose colours have nearly the same lightness
   (maroon on teal, blue on red) is almost blank in grey: such a reference also gets
   features on the opponent-colour channels (Lab a and b), and the image is searched on
   those channels too.
2. A robust transform (RANSAC similarity/affine from few matches, homography from many).
3. A colour-and-shape cue for flat crests that give too few keypoints: regions of the photo
   in the crest's colours whose outline has the crest's shape, or its field's shape, are
   proposed as placements. Without keypoints behind them they must look more alike, and a
   detailed crest placed this way needs some of its keypoints to agree.
4. Appearance: each placement is aligned (ECC), the photo is warped back into the reference
   frame and compared there: the pattern channel by channel (gain and offset free, so
   lighting does not matter), the colour pattern (shift free, so casts do not matter), the
   crest's mean colour (a cast moves it a little, another school's palette a lot) and the
   share of the crest's parts that agree (so another school's crest of the same shape does
   not pass). The colour checks cap the score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

CANONICAL = 320  # reference longer side for keypoints
VERIFY = 96  # reference longer side for the appearance check
REF_SCALES = (1.0, 0.5, 0.3, 0.18)
RATIO = 0.8
# Feature channels: 0 grey, 1 Lab a (green-red), 2 Lab b (blue-yellow).
GREY, CHROMA_A, CHROMA_B = 0, 1, 2
# a and b span a narrow range in 8-bit Lab; stretched so SIFT's contrast threshold sees their edges.
CHROMA_GAIN = 2.5
# A reference with fewer grey keypoints than this (at canonical size) is "thin" in grey...
THIN_GREY = 150
# ...and then also gets features on each colour channel whose stretched spread is at least this.
MIN_CHANNEL_STD = 20.0
# The image's colour channels are searched at this fraction of the working size: photos carry
# colour at half resolution anyway (JPEG 4:2:0), and it quarters their cost.
CHROMA_SCALE = 0.5
# The approximate nearest-neighbour search of image features: k-d trees and leaves checked.
FLANN_TREES = 4
FLANN_CHECKS = 64
# Colour agreement (_chroma_corr) below this scales the appearance down in proportion; real
# crests under casts and JPEG measured 0.68 and more, same-layout decoys in other colours 0.55.
CHROMA_AGREES = 0.65
# The crest's mean colour may be this far (Lab a/b) from the reference's, as a colour cast or
# faded print moves it, at full score; the score falls to nothing at SHIFT_FAR. Real crests
# under the bench's casts measured up to 25; an orange plate for a maroon one, 55.
SHIFT_CAST = 30.0
SHIFT_FAR = 50.0
# A reference whose chroma varies less than this (Lab a/b spread) is black-and-white.
ACHROMATIC = 4.0
# Colour-and-shape cue: colour tolerances (weighted ΔE) tried, loosest last, and how far
# (Hu-moment distance) a region's outline may be from the crest's: perspective bends it.
TOLERANCES = (8.0, 13.0, 18.0, 26.0)
MAX_SHAPE_DISTANCE = 0.45
MIN_REGION_PX = 150  # smaller regions (in the cue's coarse view) are not searched
# A placement proposed by colour and outline alone has no matching keypoints behind it, only
# its appearance: it must look this much more alike to score the same (bench/bench_logos.py:
# round blobs in a roundel's colours reached appearance 0.76, real flat crests 0.85-0.96).
UNMATCHED_PENALTY = 0.18
# A reference with this many grey keypoints (all scales) is detailed: a placement of it by
# colour and outline that fewer than MIN_SUPPORT keypoint matches agree with is another crest
# of the same outline and colours (bench: the real one had 14 agreeing, look-alike roundels 0-3).
DETAILED_KEYPOINTS = 150
MIN_SUPPORT = 5
_SIFT = None


def sift() -> cv2.SIFT:
    global _SIFT
    if _SIFT is None:
        _SIFT = cv2.SIFT_create(contrastThreshold=0.03)
    return _SIFT


@dataclass
class Reference:
    """One reference image of one academy's crest, with everything matching needs."""

    academy: str
    name: str
    rgb: np.ndarray  # canonical RGB, longer side CANONICAL
    mask: np.ndarray  # uint8 0/255: the crest (not its background)
    pts: np.ndarray  # (N, 2) float32 keypoint positions in canonical pixels
    desc: np.ndarray  # (N, 128) float32 SIFT descriptors
    chan: np.ndarray  # (N,) uint8 feature channel of each keypoint (GREY, CHROMA_A, CHROMA_B)
    # the appearance check's view of the reference, VERIFY px on the longer side
    v_grey: np.ndarray
    v_ab: np.ndarray
    v_mask: np.ndarray
    colours: np.ndarray  # (k, 3) Lab of the crest's main colours
    outline: np.ndarray  # the crest's outer contour in canonical pixels
    # the outline of the crest's largest region in its main colour (its field), canonical pixels:
    # where the rest of the crest melts into a background of its colours, the field still shows
    field: np.ndarray | None = None
    field_colour: int = 0  # index in `colours`

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]

    @property
    def detailed(self) -> bool:
        """Rich in keypoints: where such a crest really is, some of them match."""
        return int((self.chan == GREY).sum()) >= DETAILED_KEYPOINTS

    @property
    def channels(self) -> set[int]:
        return {int(c) for c in np.unique(self.chan)}


@dataclass
class Placement:
    """Where a reference sits in the image: H maps reference canonical pixels to image pixels."""

    reference: Reference
    H: np.ndarray
    inliers: int
    source: str  # "features" or "colour-shape"
    appearance: float = 0.0
    structure: float = 0.0
    chroma: float = 0.0
    support: int = 0  # keypoint matches that agree with the placement
    shift: float = 0.0  # how far the crest's mean colour is from the reference's (Lab a/b)
    parts: float = 0.0
    score: float = 0.0

    def quad(self) -> np.ndarray:
        w, h = self.reference.size
        corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(corners, self.H).reshape(-1, 2)

    def crest_box(self) -> tuple[float, float, float, float]:
        """Bounding box of the crest itself (its mask, not the reference canvas)."""
        ys, xs = np.nonzero(self.reference.mask)
        pts = np.float32([[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.max(), ys.max()],
                          [xs.min(), ys.max()]]).reshape(-1, 1, 2)
        q = cv2.perspectiveTransform(pts, self.H).reshape(-1, 2)
        x0, y0 = q.min(axis=0)
        x1, y1 = q.max(axis=0)
        return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


# ---------------------------------------------------------------- references


def make_reference(academy: str, name: str, rgba: np.ndarray, multiscale: bool = True) -> Reference:
    """A Reference from an RGB or RGBA image of the crest."""
    rgb, mask = _crest_and_mask(rgba)
    h, w = mask.shape
    s = CANONICAL / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    planes = channel_images(rgb, (GREY, CHROMA_A, CHROMA_B))
    inside = mask > 0
    used = [GREY]
    if len(_features_on_plane(planes[GREY], mask, 1.0)[0]) < THIN_GREY:
        used += [c for c in (CHROMA_A, CHROMA_B) if planes[c][inside].std() >= MIN_CHANNEL_STD]
    pts_all, desc_all, chan_all = [], [], []
    for c in used:
        plane = np.where(inside, planes[c], 128).astype(np.uint8)
        for scale in REF_SCALES if multiscale else (1.0,):
            pts, desc = _features_on_plane(plane, mask, scale)
            pts_all.append(pts)
            desc_all.append(desc)
            chan_all.append(np.full(len(pts), c, np.uint8))
    return reference_from_arrays(academy, name, rgb, mask, np.concatenate(pts_all), np.concatenate(desc_all),
                                 np.concatenate(chan_all))


def reference_from_arrays(academy: str, name: str, rgb: np.ndarray, mask: np.ndarray,
                          pts: np.ndarray, desc: np.ndarray, chan: np.ndarray) -> Reference:
    """A Reference from its canonical image, mask and features (what the disk cache holds)."""
    h, w = mask.shape
    vs = VERIFY / max(h, w)
    vsize = (max(8, round(w * vs)), max(8, round(h * vs)))
    vrgb = cv2.resize(rgb, vsize, interpolation=cv2.INTER_AREA)
    vmask = cv2.erode(cv2.resize(mask, vsize, interpolation=cv2.INTER_NEAREST), np.ones((3, 3), np.uint8))
    v_grey, v_ab = appearance_channels(vrgb)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    colours = main_colours(rgb, mask)
    field, field_colour = _field_outline(rgb, mask, colours)
    return Reference(academy, name, rgb, mask, pts, desc, chan, v_grey, v_ab, vmask,
                     colours, max(contours, key=cv2.contourArea), field, field_colour)


def _field_outline(rgb: np.ndarray, mask: np.ndarray, colours: np.ndarray) -> tuple[np.ndarray | None, int]:
    """(outline, colour index) of the largest one-colour region that is a shape of its own."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    nearest = np.stack([np.linalg.norm(lab - c, axis=2) for c in colours]).argmin(axis=0)
    crest_area = mask.sum() / 255
    best, best_area, best_index = None, 0.0, 0
    for i in range(len(colours)):
        region = ((nearest == i) & (mask > 0)).astype(np.uint8) * 255
        region = cv2.morphologyEx(region, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            continue
        c = max(contours, key=cv2.contourArea)
        area = cv2.contourArea(c)
        # a region that is the whole crest adds nothing; a sliver or a ring is no shape to search for
        if not 0.2 * crest_area <= area <= 0.8 * crest_area:
            continue
        if area / max(1.0, cv2.contourArea(cv2.convexHull(c))) < 0.8 or area <= best_area:
            continue
        best, best_area, best_index = c, area, i
    return best, best_index


def _crest_and_mask(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RGB and the crest's mask: alpha when there is one, else what differs from the border."""
    if img.ndim == 2:
        img = np.dstack([img] * 3)
    if img.shape[2] == 4:
        mask = (img[..., 3] > 127).astype(np.uint8) * 255
        rgb = np.ascontiguousarray(img[..., :3])
    else:
        rgb = np.ascontiguousarray(img[..., :3])
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.float32)
        bg = np.median(border, axis=0)
        if np.abs(border - bg).max(axis=1).mean() < 12:  # a plain background around the logo
            diff = np.abs(rgb.astype(np.float32) - bg).max(axis=2)
            mask = (diff > 30).astype(np.uint8) * 255
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            mask = np.zeros_like(mask)
            cv2.drawContours(mask, contours, -1, 255, cv2.FILLED)
        else:
            mask = np.full(rgb.shape[:2], 255, np.uint8)
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        raise ValueError("the image is empty (fully transparent or one plain colour)")
    pad = max(2, int(0.04 * max(np.ptp(xs), np.ptp(ys))))
    y0, y1 = max(0, ys.min() - pad), min(mask.shape[0], ys.max() + pad + 1)
    x0, x1 = max(0, xs.min() - pad), min(mask.shape[1], xs.max() + pad + 1)
    return rgb[y0:y1, x0:x1].copy(), mask[y0:y1, x0:x1].copy()


def channel_images(rgb: np.ndarray, channels) -> dict[int, np.ndarray]:
    """The requested feature channels of an RGB image, each uint8 (chroma stretched round 128)."""
    out = {}
    if GREY in channels:
        out[GREY] = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if CHROMA_A in channels or CHROMA_B in channels:
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
        for c in (CHROMA_A, CHROMA_B):
            if c in channels:
                plane = (lab[..., c].astype(np.float32) - 128) * CHROMA_GAIN + 128
                out[c] = np.clip(plane, 0, 255).astype(np.uint8)
    return out


def _features_on_plane(grey: np.ndarray, mask: np.ndarray, scale: float):
    if scale != 1.0:
        size = (max(8, round(grey.shape[1] * scale)), max(8, round(grey.shape[0] * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
    near = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    kps, desc = sift().detectAndCompute(grey, near)
    if desc is None:
        return np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32)
    pts = np.float32([k.pt for k in kps]) / scale
    return pts, desc.astype(np.float32)


def appearance_channels(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grey and Lab chroma (a, b), lightly blurred, as float32."""
    blur = cv2.GaussianBlur(rgb, (0, 0), 1.2)
    lab = cv2.cvtColor(blur, cv2.COLOR_RGB2LAB).astype(np.float32)
    return lab[..., 0], lab[..., 1:] - 128.0


def main_colours(rgb: np.ndarray, mask: np.ndarray, k: int = 3) -> np.ndarray:
    """Lab colours covering at least 10% of the crest, largest first."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).reshape(-1, 3)[mask.reshape(-1) > 0].astype(np.float32)
    lab = lab[:: max(1, len(lab) // 4000)]
    k = min(k, len(lab))
    cv2.setRNGSeed(0)  # k-means++ starts at random: seeded, every process gets the same colours
    _, labels, centres = cv2.kmeans(lab, k, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5),
                                    3, cv2.KMEANS_PP_CENTERS)
    share = np.bincount(labels.ravel(), minlength=k) / len(labels)
    order = np.argsort(-share)
    return centres[order][share[order] >= 0.1]


# ---------------------------------------------------------------- matching


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


def image_features(rgb: np.ndarray, channels) -> dict[int, ChannelFeatures]:
    """SIFT features of an image on each requested channel; points in rgb's pixels."""
    out = {}
    if GREY in channels:
        out[GREY] = ChannelFeatures(*features(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)))
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
    src, dst = [], []
    for c in ref.channels:
        sel = ref.chan == c
        s, d = _match_channel(ref.pts[sel], ref.desc[sel], image[c])
        src.append(s)
        dst.append(d)
    return np.concatenate(src), np.concatenate(dst)


def _match_channel(ref_pts: np.ndarray, ref_desc: np.ndarray, image: ChannelFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Ratio-tested correspondences on one channel.

    Each reference feature looks for its nearest image feature, and keeps it only when it
    is clearly nearer than any image feature elsewhere: a photo holds thousands of features,
    so this is the test that rejects chance matches in clutter. Each image feature is used
    once (the reference holds the same corner at several scales).
    """
    empty = np.zeros((0, 2), np.float32)
    if len(ref_desc) < 2 or len(image.desc) < 3:
        return empty, empty
    idx, dist = image.nearest(ref_desc, 3)
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
               min_inliers: int = 5, max_instances: int = 3, few_inliers: int = 0) -> list[Placement]:
    """Robust transforms from the correspondences, one per instance of the crest.

    With `few_inliers`, a similarity supported by that many matches is proposed when no
    affine transform has `min_inliers`.
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
                if _sane(np.vstack([A, [0, 0, 1]]), ref.size, image_size):
                    found.append(Placement(ref, np.vstack([A, [0, 0, 1]]), int(inl.sum()), "features"))
            break
        if A is None or inl is None or inl.sum() < min_inliers:
            break
        inl = inl.ravel().astype(bool)
        H = np.vstack([A, [0, 0, 1]])
        if inl.sum() >= 10:  # enough matches to afford perspective
            Hh, hin = cv2.findHomography(src, dst, cv2.RANSAC, tol)
            if Hh is not None and hin.sum() >= inl.sum() and _sane(Hh, ref.size, image_size):
                H, inl = Hh, hin.ravel().astype(bool)
        if _sane(H, ref.size, image_size):
            found.append(Placement(ref, H, int(inl.sum()), "features"))
        src, dst = src[~inl], dst[~inl]
    return found


def _sane(H: np.ndarray, ref_size: tuple[int, int], image_size: tuple[int, int]) -> bool:
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


# ---------------------------------------------------------------- appearance


def verify(p: Placement, grey: np.ndarray, ab: np.ndarray, enough: float = 0.0) -> Placement:
    """Warp the image back into the reference frame and score how alike they look (0..1).

    The score is the appearance, less UNMATCHED_PENALTY for a placement with no keypoints.
    When the colours alone show the appearance cannot reach `enough`, the pattern is not
    compared (appearance and score stay 0): most proposals end there, cheaply.
    """
    ref = p.reference
    vh, vw = ref.v_grey.shape
    S = np.diag([ref.size[0] / vw, ref.size[1] / vh, 1.0])
    Hv = p.H @ S
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    g = cv2.warpPerspective(grey, Hv, (vw, vh), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    c = cv2.warpPerspective(ab, Hv, (vw, vh), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    m = ref.v_mask > 0
    p.chroma = _chroma_corr(c[m], ref.v_ab[m])
    p.shift = float(np.linalg.norm(c[m].mean(axis=0) - ref.v_ab[m].mean(axis=0)))
    # colours that disagree cap the score however well the pattern fits: another school's
    # crest of the same layout in other colours fits the pattern perfectly. The pattern of
    # colours (chroma) and the colours themselves (shift) are both asked.
    colour = min(1.0, p.chroma / CHROMA_AGREES) * float(np.clip((SHIFT_FAR - p.shift) / (SHIFT_FAR - SHIFT_CAST), 0, 1))
    if (0.7 + 0.3 * p.chroma) * colour < enough:  # even a perfect pattern would not do
        return p
    q, r = _stack(g, c), _stack(ref.v_grey, ref.v_ab)
    p.structure = max(0.0, _ncc(q[m], r[m]))
    p.parts = _parts(q, r, ref.v_mask)
    p.appearance = (0.4 * p.structure + 0.3 * p.chroma + 0.3 * p.parts) * colour
    p.score = p.appearance - (UNMATCHED_PENALTY if p.source == "colour-shape" else 0.0)
    return p


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
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 40, 1e-4)
    try:
        _, warp = cv2.findTransformECC(ref.v_grey.astype(np.float32), grey, warp, cv2.MOTION_HOMOGRAPHY,
                                       criteria, ref.v_mask, 5)
    except cv2.error:  # did not converge: the rough placement stands
        return None
    H = warp.astype(np.float64) @ np.linalg.inv(S)
    if not _sane(H, ref.size, (grey.shape[1], grey.shape[0])):
        return None
    return Placement(ref, H, p.inliers, p.source)


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


# ---------------------------------------------------------------- colour and shape cue


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
    f = rgb.astype(np.float32)
    means = f.reshape(-1, 3).mean(axis=0)
    balanced = np.clip(f * (means.mean() / np.maximum(means, 1.0)), 0, 255).astype(np.uint8)
    return [ColourView(rgb), ColourView(balanced)]


def colour_shape_placements(ref: Reference, views: list[ColourView], max_candidates: int = 6,
                            tols: tuple[float, ...] = TOLERANCES) -> list[Placement]:
    """Placements of `ref` proposed by regions in its colours whose outline has its shape.

    `views` come from colour_views(). Each tolerance in `tols` gives its own regions: a loose
    one survives shade and casts, a tight one keeps a crest apart from skin or a wall of
    nearly its colour. Regions are compared with the whole crest (in any of its colours) and
    with its field alone (in the field's colour): a gold half of a shield on a gold curtain
    leaves only the red half standing out.
    """
    H, W = views[0].lab.shape[:2]
    colours = ref.colours.astype(np.float32) * _LAB_WEIGHT
    targets = []
    for view in views:
        near = [view.neg_dist2(colour) for colour in colours]
        targets.append((ref.outline, np.maximum.reduce(near)))
        if ref.field is not None:
            targets.append((ref.field, near[ref.field_colour]))
    scored = []
    for outline, closeness in targets:
        for tol in tols:
            _, region = cv2.threshold(closeness, -tol * tol, 255, cv2.THRESH_BINARY)
            region = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
            for c in cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]:
                area = cv2.contourArea(c)
                if area < MIN_REGION_PX or area > 0.5 * H * W:
                    continue
                if area / max(1.0, cv2.contourArea(cv2.convexHull(c))) < 0.7:
                    continue
                d = cv2.matchShapes(c, outline, cv2.CONTOURS_MATCH_I3, 0)
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
