"""Colours judged with the photo's colour cast taken out, for crests whose colour pattern a cast breaks.

A weakly coloured crest (an embroidered badge in one thread colour, a near-grey shield with a
tint) has a colour pattern of a few Lab units. A colour cast multiplies each RGB channel, which
in Lab adds to a and b a part that grows with lightness: over a crest whose lightness spans 100
units that is as much as its own colour pattern, and the colour-pattern check (verify's chroma)
fails although the shapes, the mean colour and the parts agree (bench 0226: an embroidered crest
under a green cast, gains 0.89/1.15/0.92, chroma 0.36 as taken).

Only a reference whose own colour pattern a cast can break is concerned (fragile(): in the bench
trust, the embroidered and the black-and-white badge). The cast is measured on the photo as a whole
(its grey world, as the colour-and-outline cue's second view), never fitted to the reference: it cannot be bent to make another school's colours
look like the academy's. A placement whose colour pattern fails as taken while its mean colour
agrees as a cast allows, in a photo whose greys measure a cast (CAST_FROM), is judged again on
the balanced photo's chroma, by the same appearance check (and ECC alignment with its guard).
It replaces the placement only when it then scores better AND its fine detail agrees
(verify.detail >= DETAIL_AGREES): a crest of another school that keeps the academy's colours
and whose pattern the cast happened to break must not be let through by undoing the cast.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from screening.vision.logo_match.colour import balanced, grey_world
from screening.vision.logo_match.params import CHROMA_AGREES, DETAIL_AGREES, MIN_VISIBLE, SHIFT_CAST
from screening.vision.logo_match.reference import Placement, Reference, appearance_channels
from screening.vision.logo_match.verify import _chroma_corr, aligned, detail, verify

# The photo's greys measure a cast when a grey-world gain is this far from 1 (the bench's casts:
# gains 0.8-1.15 per channel); below it the balanced photo is the photo.
CAST_FROM = 0.03
# The photo's grey world is read on at most about this many pixels (a strided view).
GREY_WORLD_PX = 250_000
# The casts a reference is tried under (fragile()): each channel's gain 0.85, 1 or 1.15 (the bench's
# casts are 0.8-1.15), the three not alike.
CASTS = tuple(g for g in itertools.product((0.85, 1.0, 1.15), repeat=3) if max(g) - min(g) >= 0.15)


def fragile(ref: Reference) -> bool:
    """Whether a colour cast can break the reference's own colour pattern: its appearance view under
    one of CASTS correlates less than CHROMA_AGREES with itself (verify's colour pattern). Only such
    a crest can fail the colour check for a cast alone; measured on the 51 references of the bench's
    trusts: an embroidered badge 0.27, a black-and-white badge 0.36, 5 of the 40 same-layout crests
    0.00-0.58 (near-grey pairs); every other crest 0.67-0.99 (s202, weakly coloured: 0.78)."""
    h, w = ref.v_grey.shape
    view = cv2.resize(ref.rgb, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    m = ref.v_mask > 0
    for gains in CASTS:
        cast_ab = appearance_channels(np.clip(view * np.float32(gains), 0, 255).astype(np.uint8))[1]
        if _chroma_corr(cast_ab[m], ref.v_ab[m]) < CHROMA_AGREES:
            return True
    return False


class Balanced:
    """The working image's chroma with the photo's cast taken out, made when first asked (most photos
    never are). `photo` is the whole photo (the working image may be a window of it): its greys
    measure the cast."""

    def __init__(self, work: np.ndarray, photo: np.ndarray):
        self.work, self.photo = work, photo
        self._gains: np.ndarray | None = None
        self._ab: np.ndarray | None = None

    @property
    def gains(self) -> np.ndarray:
        if self._gains is None:
            h, w = self.photo.shape[:2]
            step = max(1, int(np.sqrt(h * w / GREY_WORLD_PX)))
            self._gains = grey_world(np.ascontiguousarray(self.photo[::step, ::step]))
        return self._gains

    @property
    def cast(self) -> bool:
        return float(np.abs(self.gains - 1.0).max()) >= CAST_FROM

    @property
    def ab(self) -> np.ndarray:
        if self._ab is None:
            self._ab = appearance_channels(balanced(self.work, self.gains))[1]
        return self._ab


def worth(p: Placement, below: float, cast: Balanced) -> bool:
    """Whether `p` may be a crest whose colour pattern the photo's cast broke: keypoints placed it,
    it scores below `below` (the threshold), is in view enough to be judged, its mean colour agrees
    as a cast allows (shift <= SHIFT_CAST) but its colour pattern does not (chroma < CHROMA_AGREES),
    and the photo's greys measure a cast. (The detector asks only for references a cast can break:
    fragile().) A placement by colour and outline is not judged again: colour is all it has, and
    another school's embroidered roundel in the same thread and cloth (a star for a tree), proposed
    by its outline and ECC aligned, scored 0.69 with its colours balanced (tests/test_logo_cast.py)."""
    return (p.source == "features" and p.score < below and p.visible >= MIN_VISIBLE
            and p.chroma < CHROMA_AGREES and p.shift <= SHIFT_CAST and cast.cast)


def cast_free(cand: Placement, p: Placement, grey: np.ndarray, cast: Balanced, src: np.ndarray,
              dst: np.ndarray, enough: float, refine_from: float, zoom: float = 1.0) -> Placement:
    """`p` (the candidate `cand` as judged on the photo as taken), or `cand` judged on the balanced
    photo's chroma (aligned by ECC when its appearance reaches `refine_from`, as verify.aligned keeps
    alignments) when that scores better and its fine detail agrees there."""
    q = verify(Placement(cand.reference, cand.H, cand.inliers, cand.source), grey, cast.ab, enough)
    if q.appearance >= refine_from:
        q = aligned(q, grey, cast.ab, src, dst, enough, zoom)
    if q.score <= p.score or detail(q, grey, cast.ab, zoom=zoom) < DETAIL_AGREES:
        return p
    return q
