"""Reference crests: the canonical image, its mask, keypoints on grey and colour channels,
the appearance check's views, main colours and outlines; and the Placement of one in a photo."""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field

import cv2
import numpy as np

from screening.vision.logo_match.params import (
    CANONICAL, CHROMA_A, CHROMA_B, CHROMA_GAIN, DETAILED_KEYPOINTS, GLANCE, GREY, MIN_CHANNEL_STD,
    REF_SCALES, SHIFT_FAR, THIN_GREY, VERIFY,
)

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
    corners: np.ndarray | None = None  # (4, 1, 2) the crest mask's bounding corners, canonical pixels
    glance: tuple[np.ndarray, np.ndarray] | None = None  # (chroma, mask) GLANCE px across: the quick colour look
    # what the appearance check and the naming work out from the reference alone, kept on first use
    # (verify._reference_side, identity._pair): the same values every placement would work out again
    memo: dict = dataclass_field(default_factory=dict, repr=False, compare=False)

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
    visible: float = 1.0  # share of the crest inside the image (a crest cut by the frame is less)
    hidden: float = 0.0  # share of the crest in the frame judged hidden by an occluder (logo_match.hidden)
    covered: np.ndarray | None = dataclass_field(default=None, repr=False, compare=False)  # that part, in the view
    score: float = 0.0
    also: tuple[str, ...] = ()  # other academies this crest may equally be (identity.name)

    @property
    def colour_fit(self) -> float:
        """How well the crest's colours agree with this reference's, 0..1: which academy of a
        shared layout it is. The mean colour decides first (a cast moves it a little, another
        academy's palette a lot), the pattern of colours second."""
        return (1.0 - min(self.shift, SHIFT_FAR) / SHIFT_FAR) * (0.5 + 0.5 * min(1.0, self.chroma))

    def quad(self) -> np.ndarray:
        w, h = self.reference.size
        corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(corners, self.H).reshape(-1, 2)

    def crest_box(self) -> tuple[float, float, float, float]:
        """Bounding box of the crest itself (its mask, not the reference canvas)."""
        q = cv2.perspectiveTransform(self.reference.corners, self.H).reshape(-1, 2)
        x0, y0 = q.min(axis=0)
        x1, y1 = q.max(axis=0)
        return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def in_view(p: Placement, grey: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The photo's lightness and chroma under a placement, warped into its reference's appearance
    view, and the homography (view to photo) that did it."""
    ref = p.reference
    vh, vw = ref.v_grey.shape
    Hv = p.H @ np.diag([ref.size[0] / vw, ref.size[1] / vh, 1.0])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    g = cv2.warpPerspective(grey, Hv, (vw, vh), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    c = cv2.warpPerspective(ab, Hv, (vw, vh), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    return g, c, Hv


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
                          pts: np.ndarray, desc: np.ndarray, chan: np.ndarray,
                          colours: np.ndarray | None = None, field: np.ndarray | None = None,
                          field_colour: int | None = None) -> Reference:
    """A Reference from its canonical image, mask and features (what the disk cache holds).

    `colours`, `field` and `field_colour` are derived from the image (main_colours,
    _field_outline) when not given; the cache keeps them too (an empty `field`: none), so a
    worker process starts without working them out again for every academy.
    """
    h, w = mask.shape
    vs = VERIFY / max(h, w)
    vsize = (max(8, round(w * vs)), max(8, round(h * vs)))
    vrgb = cv2.resize(rgb, vsize, interpolation=cv2.INTER_AREA)
    vmask = cv2.erode(cv2.resize(mask, vsize, interpolation=cv2.INTER_NEAREST), np.ones((3, 3), np.uint8))
    v_grey, v_ab = appearance_channels(vrgb)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if colours is None or field_colour is None:
        colours = main_colours(rgb, mask)
        field, field_colour = _field_outline(rgb, mask, colours)
    elif field is not None and len(field) == 0:
        field = None
    ys, xs = np.nonzero(mask)
    corners = np.float32([[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.max(), ys.max()],
                          [xs.min(), ys.max()]]).reshape(-1, 1, 2)
    gs = GLANCE / max(h, w)
    gsize = (max(4, round(w * gs)), max(4, round(h * gs)))
    glance = (appearance_channels(cv2.resize(rgb, gsize, interpolation=cv2.INTER_AREA))[1],
              cv2.erode(cv2.resize(mask, gsize, interpolation=cv2.INTER_AREA), np.ones((2, 2), np.uint8)))
    return Reference(academy, name, rgb, mask, pts, desc, chan, v_grey, v_ab, vmask,
                     colours, max(contours, key=cv2.contourArea), field, field_colour, corners, glance)


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
    # split while 8-bit, then float (the same values as converting all of Lab first, in 0.6x the time);
    # contiguous: OpenCV copies a strided view whole on every call, and every placement of every
    # academy warps from these (a 1400 px photo's lightness copied per warp was most of its cost)
    lightness, a, b = cv2.split(cv2.cvtColor(blur, cv2.COLOR_RGB2LAB))
    ab = cv2.merge((a, b)).astype(np.float32)
    ab -= 128.0
    return lightness.astype(np.float32), ab


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
