"""Fine-detail confirmation of a placement that scores only a little above the floor.

Another school's crest drawn on an academy's layout (the same shield, division, rim and scroll,
in its own colours, initials and emblem) fits the pattern and the parts nearly as well as the
academy's own crest: where keypoints of the shared parts place it well, it scored 0.70-0.75 with
no alignment at all (north's shield in navy and orange at 35% of the width, in teal and pale gold
at 22%: tests/test_redteam5.py). What tells them apart is the fine detail (verify.detail): the
lettering and emblem. ECC alignments are kept only where it agrees (verify.aligned); here every
placement scoring below CONFIRM_BELOW whose crest is large enough for its detail to be resolved
(CONFIRM_FROM_PX at the photo's own resolution) and that fewer than CONFIRM_INLIERS keypoints placed
(more have matched its lettering and emblem already) is asked the same, as it stands or aligned, and
scores UNMATCHED_PENALTY less when neither agrees: as a placement with no keypoint behind it.
Measured: those decoys' detail 0.28-0.31 as placed, 0.44-0.49 aligned (8-13 inliers, or an
outline); real crests of that layout at 137-476 working px 0.74-0.94; a real wordmark a quarter
hidden, in shade and a cast, 0.33, but placed by 45 inliers (bench 0060).
"""

from __future__ import annotations

from screening.vision.logo_match.params import (
    CONFIRM_BELOW, CONFIRM_FROM_PX, CONFIRM_INLIERS, DETAIL_AGREES, UNMATCHED_PENALTY,
)
from screening.vision.logo_match.reference import Placement
from screening.vision.logo_match.verify import detail, refine, verify


def asked(p: Placement, zoom: float = 1.0) -> bool:
    """Whether `p` must show its fine detail: it scores below CONFIRM_BELOW, fewer than CONFIRM_INLIERS
    keypoints placed it, and its crest is at least CONFIRM_FROM_PX across at the photo's own
    resolution (working pixels over `zoom`, the enlargement)."""
    if not 0.0 < p.score < CONFIRM_BELOW or p.inliers >= CONFIRM_INLIERS:
        return False
    _, _, w, h = p.crest_box()
    return max(w, h) / max(1.0, zoom) >= CONFIRM_FROM_PX


def confirmed(p: Placement, grey, ab, zoom: float = 1.0) -> Placement:
    """`p`, scoring UNMATCHED_PENALTY less when asked() and its fine detail agrees (DETAIL_AGREES)
    neither as placed nor aligned to the photo by ECC (verify.refine). Never raises the score."""
    if not asked(p, zoom) or detail(p, grey, ab, zoom=zoom) >= DETAIL_AGREES:
        return p
    better = refine(p, grey)
    if better is not None:
        verify(better, grey, ab)
        if better.score >= p.score - UNMATCHED_PENALTY and detail(better, grey, ab, zoom=zoom) >= DETAIL_AGREES:
            return p  # aligned, the detail is there: the placement was only rough
    p.score = max(0.0, p.score - UNMATCHED_PENALTY)
    return p
