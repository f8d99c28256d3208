"""A degenerate affine fit no longer hides the crest's own matches (logo_match.placements, step
"degenerate"; issue 16, crestrecall6).

RANSAC keeps the affine transform most matches agree with. With few matches on a crest (a small
or ring-lettered one: bench 0323, a 118 px badge with 9 matches on it, and 0409, a 124 px badge
turned 30 degrees with 7) a transform collapsing the crest onto a line, which no crest could
have (not sane()), can gather more of them within the 4 px tolerance than the crest's true
placement. It was dropped, its inliers taken out, and what was left of the crest's matches no
longer agreed on anything: the crest had no placement at all. Now the similarity (turn, scale,
shift: it cannot collapse) most matches agree with is proposed instead, as when no affine fit
has enough inliers; the appearance check judges it as any other placement.

The correspondences here are drawn: a crest's matches (a similarity, 2 px of noise) among
clutter, on the bench's ring-lettered badge; the seeds are those of 3000 in which the plain fit
collapsed onto the crest (bench/logo_findings.py measures the step on the bench: docs/academies.md).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from screening.vision import logo_match as lm
from screening.vision.geometry import iou
from tests import crests

SIZE = (1400, 1000)
COLLAPSED = (144, 329, 1178, 2875)  # seeds whose plain affine fit is not sane and takes the crest's matches


@pytest.fixture(scope="module")
def ref() -> lm.Reference:
    return lm.make_reference("badge", "crest.png", np.asarray(crests.draw_other("badge", 41).convert("RGB")), False)


def _scene(ref: lm.Reference, seed: int):
    """(reference points, photo points, the crest's box): 6-9 matches of a crest 60-130 px across,
    turned up to 30 degrees, with 2 px of noise, among 4-15 matches of clutter."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 10))
    px, turn = rng.uniform(60, 130), np.deg2rad(rng.uniform(-30, 30))
    s = px / ref.size[0]
    rot = s * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    shift = rng.uniform([200, 200], [SIZE[0] - 200, SIZE[1] - 200])
    src = rng.uniform(20, ref.size[0] - 20, (n, 2)).astype(np.float32)
    dst = (src @ rot.T + shift + rng.normal(0, 2.0, (n, 2))).astype(np.float32)
    m = int(rng.integers(4, 16))
    src = np.vstack([src, rng.uniform(0, ref.size[0], (m, 2)).astype(np.float32)])
    dst = np.vstack([dst, rng.uniform([0, 0], SIZE, (m, 2)).astype(np.float32)])
    truth = lm.Placement(ref, np.vstack([np.hstack([rot, shift[:, None]]), [0, 0, 1]]), n, "features")
    return src, dst, truth.crest_box(), n


def _on_crest(ref, src, dst, box, degenerate: bool) -> list[lm.Placement]:
    found = lm.placements(ref, src, dst, SIZE, few_inliers=3, degenerate=degenerate)
    return [p for p in found if iou(p.crest_box(), box) >= 0.5]


@pytest.mark.parametrize("seed", COLLAPSED)
def test_a_crest_whose_plain_fit_collapses_is_placed_by_the_similarity(ref, seed):
    src, dst, box, n = _scene(ref, seed)
    A, inl = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0, maxIters=2000,
                                  confidence=0.995)
    # the trap: the fit with the most inliers is no placement a crest could have, and takes crest matches
    assert not lm.sane(np.vstack([A, [0, 0, 1]]), ref.size, SIZE)
    assert inl.ravel()[:n].sum() >= 2
    assert not _on_crest(ref, src, dst, box, degenerate=False)  # what it cost: no placement on the crest
    placed = _on_crest(ref, src, dst, box, degenerate=True)
    assert placed and all(lm.sane(p.H, ref.size, SIZE) for p in placed)
    assert max(p.inliers for p in placed) >= 3


def test_where_the_plain_fit_is_sane_the_step_changes_nothing(ref):
    checked = 0
    for seed in range(40):
        if seed in COLLAPSED:
            continue
        src, dst, _, _ = _scene(ref, seed)
        A, _ = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0, maxIters=2000,
                                    confidence=0.995)
        if A is None or not lm.sane(np.vstack([A, [0, 0, 1]]), ref.size, SIZE):
            continue
        plain = lm.placements(ref, src, dst, SIZE, few_inliers=3)
        step = lm.placements(ref, src, dst, SIZE, few_inliers=3, degenerate=True)
        assert [(p.inliers, p.H.tolist()) for p in plain] == [(p.inliers, p.H.tolist()) for p in step]
        checked += 1
    assert checked >= 20


def test_without_few_inliers_the_step_asks_nothing(ref, monkeypatch):
    """The similarity is a rough placement only where rough placements are asked for (few_inliers)."""
    from screening.vision.logo_match import index

    asked = []
    monkeypatch.setattr(index, "_similarity", lambda *a: asked.append(a) or (None, None))
    src, dst, _, _ = _scene(ref, COLLAPSED[0])
    step = lm.placements(ref, src, dst, SIZE, degenerate=True)
    assert not asked
    assert [(p.inliers, p.H.tolist()) for p in step] == \
        [(p.inliers, p.H.tolist()) for p in lm.placements(ref, src, dst, SIZE)]
    lm.placements(ref, src, dst, SIZE, few_inliers=3, degenerate=True)
    assert asked  # with few_inliers, this scene's collapsed fit asks for the similarity
