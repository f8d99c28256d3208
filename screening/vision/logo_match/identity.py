"""Which academy a placed crest is: the parts that tell academies of one layout apart.

Many trusts give every academy the same shield in its own colours, initials and emblem. A
photo of one of them fits all their references' pattern; what says whose crest it is are the
parts where their references differ. So a placement is compared, on exactly those parts,
with each academy that shares its layout (same canvas, same outline): pixel by pixel, which
of the two references is the photo nearer to there, after the colour cast measured on the
parts they share is taken out. A clear majority names one academy; a split vote names
neither alone (the finding then says "one of A, B"). Nothing here ever drops a finding.
"""

from __future__ import annotations

import cv2
import numpy as np

from screening.vision.logo_match.params import CHROMA_GAIN
from screening.vision.logo_match.reference import Placement, Reference, in_view

# Two references share a layout when their appearance views have the same size and their
# crest masks overlap at least this much (IoU).
SAME_LAYOUT_IOU = 0.9
# Reference pixels further apart than this (lightness counting half, chroma stretched as for
# the features) are a part where the two academies differ.
DIFFERENT = 18.0
# Less than this share of the crest differing: the two references are the same crest, and a
# photo of it cannot say which academy's it is.
MIN_DISTINCT = 0.02
# Of the differing pixels, a share at least this much nearer one reference names it over the other.
CLEAR_VOTE = 0.7
# The parts the references share must cover this share of the crest to measure a colour cast.
MIN_SHARED = 0.05


def same_layout(refs: list[Reference]) -> list[list[int]]:
    """For each reference, the references of other academies drawn on the same layout."""
    out: list[list[int]] = [[] for _ in refs]
    masks = [r.v_mask > 0 for r in refs]
    for i, a in enumerate(refs):
        for j in range(i + 1, len(refs)):
            b = refs[j]
            if a.academy == b.academy or a.v_mask.shape != b.v_mask.shape:
                continue
            union = (masks[i] | masks[j]).sum()
            if union and (masks[i] & masks[j]).sum() / union >= SAME_LAYOUT_IOU:
                out[i].append(j)
                out[j].append(i)
    return out


def view_of(p: Placement, grey: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """The photo under a placement, warped into its reference's appearance view, as (h, w, 3)."""
    g, c, _ = in_view(p, grey, ab)
    return _pattern(g, c)


def _pattern(grey: np.ndarray, ab: np.ndarray) -> np.ndarray:
    return np.dstack([0.5 * grey, ab * CHROMA_GAIN]).astype(np.float32)


def vote(view: np.ndarray, a: Reference, b: Reference, covered: np.ndarray | None = None) -> float:
    """Share (0..1) of the parts where a and b differ at which the photo's view is nearer a.

    0.5 when they do not differ enough to tell (the same crest under two academies), or when the
    parts where they differ are `covered` (the part of the view an occluder hides, logo_match.hidden).
    """
    parts = _parts_apart(a, b)
    if parts is None:
        return 0.5
    distinct, shared = parts
    if covered is not None:  # the occluder's pixels say nothing about whose crest it is
        distinct, shared = distinct & ~covered, None if shared is None else shared & ~covered
        if distinct.sum() < MIN_DISTINCT * (a.v_mask > 0).sum():
            return 0.5
        if shared is not None and shared.sum() < MIN_SHARED * (a.v_mask > 0).sum():
            shared = None
    ra, rb = _reference_pattern(a), _reference_pattern(b)
    q = view
    if shared is not None:  # the cast and shade, measured where both agree
        q = q - np.median(view[shared] - ra[shared], axis=0)
    da = np.linalg.norm(q[distinct] - ra[distinct], axis=1)
    db = np.linalg.norm(q[distinct] - rb[distinct], axis=1)
    return float((da < db).mean() + 0.5 * (da == db).mean())


def _reference_pattern(ref: Reference) -> np.ndarray:
    """_pattern of the reference's own view, kept in its memo."""
    pattern = ref.memo.get("pattern")
    if pattern is None:
        pattern = ref.memo["pattern"] = _pattern(ref.v_grey, ref.v_ab)
    return pattern


def _parts_apart(a: Reference, b: Reference) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(distinct, shared) of vote(): the parts where a and b differ, and those they share when
    enough to measure a cast on (else None); None when they do not differ enough to tell. Kept in
    a.memo per pair, as bits (2.3 KB a pair at the 96 px view: 40 academies of one layout, 8 MB)."""
    memo = a.memo.setdefault("apart", {})
    known = memo.get(id(b))
    if known is None or known[0] is not b:
        ra, rb = _reference_pattern(a), _reference_pattern(b)
        both = (a.v_mask > 0) & (b.v_mask > 0)
        apart = np.linalg.norm(ra - rb, axis=2) > DIFFERENT
        distinct = cv2.erode((apart & both).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        if distinct.sum() < MIN_DISTINCT * both.sum():
            packed = None
        else:
            shared = both & ~(cv2.dilate(apart.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0)
            enough = shared.sum() >= MIN_SHARED * both.sum()
            packed = (np.packbits(distinct), np.packbits(shared) if enough else None)
        known = memo[id(b)] = (b, packed)
    if known[1] is None:
        return None
    shape, size = a.v_mask.shape, a.v_mask.size
    distinct, shared = (None if bits is None else np.unpackbits(bits, count=size).view(bool).reshape(shape)
                        for bits in known[1])
    return distinct, shared


def name(p: Placement, rivals: list[Reference], grey: np.ndarray, ab: np.ndarray) -> tuple[Reference, list[Reference]]:
    """(the reference the crest is, others it may equally be) among p's reference and its rivals.

    Each rival is compared with the current choice on the parts where they differ; a rival
    the photo clearly prefers takes its place (at most once per rival), and the rivals the
    final choice does not clearly beat are returned with it: the crest may be theirs.
    """
    view = view_of(p, grey, ab)
    votes: dict[tuple[int, int], float] = {}

    def nearer(a: Reference, b: Reference) -> float:
        key = (id(a), id(b))
        if key not in votes:
            votes[key] = vote(view, a, b) if p.covered is None else vote(view, a, b, p.covered)
            votes[(id(b), id(a))] = 1.0 - votes[key]
        return votes[key]

    everyone = [p.reference, *[r for r in rivals if r is not p.reference]]
    chosen, tried = p.reference, {id(p.reference)}
    while True:
        untried = [r for r in everyone if id(r) not in tried and r.academy != chosen.academy]
        better = min(untried, key=lambda r: nearer(chosen, r), default=None)
        if better is None or nearer(chosen, better) > 1 - CLEAR_VOTE:
            break
        chosen = better
        tried.add(id(better))
    others = [r for r in everyone if r.academy != chosen.academy and nearer(chosen, r) < CLEAR_VOTE]
    return chosen, others
