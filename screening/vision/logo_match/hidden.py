"""A crest partly hidden by an occluder (a hand, another head, a bag, a lanyard), judged on the part in view.

The appearance check (verify) judges the whole crest: a patch of something else over a quarter of
it makes that quarter unlike the reference, and the pattern, the colour pattern and the parts all
fall (bench 0067: a shield with its top quarter under a patch of the photo, colour pattern 0.18;
0069: a black-and-white badge with a coloured patch over 15% of it, 0.51). A crest cut by the frame
is judged on the part inside it already; a crest cut by an occluder is judged here the same way,
when the evidence says that a part of it is covered:

- the crest's view is cut into CELLS x CELLS cells; a cell disagrees when its pattern does not
  correlate with the reference's there (textured cells, the threshold of verify's parts) or its
  mean colour is off by more than COLOUR_OFF from the offset most cells share (a cast moves
  every cell alike, an occluder one block);
- the largest block of disagreeing cells touching the crest's outline (an occluder comes from
  outside the crest) must hold at most MAX_HIDDEN of the crest; it is the hidden part, with the
  pixels of the cells beside it whose colour is off as much (the occluder's edge cuts them);
- the rest is judged by the same appearance check with the block left out (verify's `hidden`),
  and replaces the placement only when it scores better, its pattern agrees as a whole as each
  part of a crest must agree in verify's parts (structure > CELL_AGREES: an occluder the cells did
  not find, or a second block of disagreement, keeps it lower: a drawn crest under a grey sleeve
  whose cells did not show the sleeve, 0.35) and its fine detail agrees (verify.detail >=
  DETAIL_AGREES, on the part in view). Its colours are judged as any placement's: they cap the score.

Only placements by keypoints (at least MIN_SUPPORT inliers) are judged again: colour and outline
is all a proposal of the colour-and-outline cue has, and a block of it left out is an outline
made to fit. Another school's crest of the same shape keeps its other colours, initials and emblem
in the part left in view: its colours cap its score there as anywhere, and the fine detail is what
tells such crests apart elsewhere (verify.aligned, confirm). The part left out votes on nothing:
which academy of a shared layout it is, is asked on the part in view (identity.vote's `covered`).
"""

from __future__ import annotations

import cv2
import numpy as np

from screening.vision.logo_match.params import DETAIL_AGREES, MIN_SUPPORT, MIN_VISIBLE
from screening.vision.logo_match.reference import Placement, in_view
from screening.vision.logo_match.verify import _ncc, _stack, detail, verify

# The crest's view is judged in this many cells a side (the 96 px view: 12 px cells).
CELLS = 8
# A cell whose mean colour (Lab a/b) is this far from the offset the crest's cells share disagrees:
# chosen on the odd half's 0067 and 0069 (an occluder's cells 14-31 off, the crest's own under
# casts and JPEG 0-9).
COLOUR_OFF = 12.0
# The hidden block may hold at most this share of the crest (the bench's occluders cover 15-25% of
# the crest's box): more hidden leaves too little to tell one school's crest from another's.
MAX_HIDDEN = 1 / 3
# A textured cell agrees when its pattern correlates more than this (verify._parts' threshold).
CELL_AGREES = 0.5


def worth(p: Placement, below: float) -> bool:
    """Whether `p` may be a crest partly hidden: keypoints placed it (MIN_SUPPORT inliers or more),
    it scores below `below` (the threshold) and enough of it is in the frame to be judged."""
    return p.source == "features" and p.inliers >= MIN_SUPPORT and p.score < below and p.visible >= MIN_VISIBLE


def cells(p: Placement, grey: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray, list, np.ndarray]:
    """(used, disagree, slices, off): which cells of the crest's view hold enough of the crest (30%
    of the cell, as verify's parts), which of those disagree with the reference, each cell's slices
    of the view, and how far each pixel's colour is from the reference's there, less the offset the
    cells share (Lab a/b)."""
    ref = p.reference
    g, c, _ = in_view(p, grey, ab)
    q, r = _stack(g, c), _stack(ref.v_grey, ref.v_ab)
    m = ref.v_mask > 0
    vh, vw = m.shape
    used = np.zeros((CELLS, CELLS), bool)
    unlike = np.zeros((CELLS, CELLS), bool)
    offset = np.zeros((CELLS, CELLS, 2), np.float32)
    where = []
    for i in range(CELLS):
        for j in range(CELLS):
            ys, xs = slice(i * vh // CELLS, (i + 1) * vh // CELLS), slice(j * vw // CELLS, (j + 1) * vw // CELLS)
            where.append((ys, xs))
            mm = m[ys, xs]
            if mm.sum() < 0.3 * mm.size:
                continue
            used[i, j] = True
            rc = r[ys, xs][mm]
            if rc.std(axis=0).max() >= 6:  # a plain part's pattern says nothing (as verify's parts)
                unlike[i, j] = _ncc(q[ys, xs][mm], rc) <= CELL_AGREES
            offset[i, j] = c[ys, xs][mm].mean(axis=0) - ref.v_ab[ys, xs][mm].mean(axis=0)
    shared = np.median(offset[used], axis=0) if used.any() else np.zeros(2, np.float32)
    unlike |= np.linalg.norm(offset - shared, axis=2) > COLOUR_OFF
    return used, unlike & used, where, np.linalg.norm(c - ref.v_ab - shared, axis=2)


def hidden_part(p: Placement, grey: np.ndarray, ab: np.ndarray) -> np.ndarray | None:
    """The part of the crest's view an occluder covers (a boolean mask of the view), or None: the
    largest block of disagreeing cells (4-connected) that touches the crest's outline, when it holds
    at most MAX_HIDDEN of the crest."""
    used, unlike, where, off = cells(p, grey, ab)
    if not unlike.any():
        return None
    pad = np.pad(used, 1)
    inner = pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:]
    n, label = cv2.connectedComponents(unlike.astype(np.uint8), connectivity=4)
    blocks = [label == k for k in range(1, n) if ((label == k) & ~inner).any()]
    if not blocks:
        return None
    block = max(blocks, key=lambda b: int(b.sum()))
    m = p.reference.v_mask > 0
    hidden = np.zeros_like(m)
    near = cv2.dilate(block.astype(np.uint8), np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)) > 0
    for (ys, xs), on, edge in zip(where, block.ravel(), (near & used & ~block).ravel()):
        if on:
            hidden[ys, xs] = True
        elif edge:  # the occluder's edge runs through the cells beside the block: its colours there
            hidden[ys, xs] = off[ys, xs] > COLOUR_OFF
    if (hidden & m).sum() > MAX_HIDDEN * m.sum():
        return None
    return hidden


def uncovered(p: Placement, grey: np.ndarray, views, zoom: float = 1.0) -> Placement:
    """`p`, or `p` judged on the part of the crest in view (verify with the hidden part left out)
    when a part of it is hidden (hidden_part), its colours agree in full there, its fine detail
    agrees there and it scores better. `views`: the chromas to judge it on (the photo's as taken,
    and for a crest a cast can break, the photo's with the cast taken out: logo_match.cast)."""
    best = p
    for ab in views:
        hidden = hidden_part(p, grey, ab)
        if hidden is None:
            continue
        q = verify(Placement(p.reference, p.H, p.inliers, p.source, covered=hidden), grey, ab, hidden=hidden)
        if q.score <= best.score or q.structure <= CELL_AGREES:  # the part in view agrees as a part must
            continue
        if detail(q, grey, ab, zoom=zoom, hidden=hidden) >= DETAIL_AGREES:
            best = q
    return best
