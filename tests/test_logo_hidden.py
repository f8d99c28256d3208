"""A crest partly hidden by an occluder is judged on the part in view (logo_match.hidden, step "hidden";
issue 16, crestrecall7).

A hand, a sleeve or a bag over a quarter of a crest makes that quarter unlike the reference, and the
appearance check, which judged the whole crest, scored it under the threshold (bench 0067: colour
pattern 0.18; 0069: a coloured patch over a black-and-white badge, 0.51). Now a block of the crest's
cells that disagrees, touching its outline and holding at most a third of it, is left out as a part
cut off by the frame is, and the rest must agree in its colours and its fine detail. Another
school's crest hidden the same way must stay unflagged: its visible part disagrees.

The crests are the bench's drawings (bench/make_logo_set.py); the occluders are blocks of skin or
clothing colour with a little shading and noise, or a patch of the photo (as the bench's).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from screening.vision import logo_match as lm
from screening.vision.logo_match import hidden
from screening.vision.logo_match.identity import vote
from tests import crests
from tests.test_logo_degenerate import bench_trust  # noqa: F401  (the bench's 11 academies)

PHOTOS = Path(__file__).resolve().parents[1] / "samples" / "public-domain"
SKIN, NAVY, KNIT = (224, 172, 140), (32, 40, 72), (120, 120, 124)
MIN_SCORE = 0.62
S202 = crests.style_from_seed(202)


def cover(im: Image.Image, box, frac: float, side: int, colour, seed: int = 0) -> Image.Image:
    """`im` with `frac` of the box covered from one side (0 left, 1 right, 2 top, 3 bottom) by a block
    of `colour`, shaded across and with a little noise: a hand, a sleeve, a bag."""
    rng = np.random.default_rng(seed)
    x, y, w, h = box
    x0, y0, x1, y1 = ((x, y, x + int(w * frac), y + h), (x + w - int(w * frac), y, x + w, y + h),
                      (x, y, x + w, y + int(h * frac)), (x, y + h - int(h * frac), x + w, y + h))[side]
    a = np.asarray(im.convert("RGB")).astype(np.float32).copy()
    n = (x1 - x0) if side < 2 else (y1 - y0)
    shade = np.linspace(0.85, 1.1, max(1, n))
    shade = shade[None, :, None] if side < 2 else shade[:, None, None]
    a[y0:y1, x0:x1] = np.clip(np.float32(colour) * shade + rng.normal(0, 5, (y1 - y0, x1 - x0, 3)), 0, 255)
    return Image.fromarray(a.astype(np.uint8))


def _scene(crest: Image.Image, frac: float = 0.15, side: int = 2, colour=SKIN, gains=None,
           photo: str = "camera") -> tuple[np.ndarray, tuple]:
    bg = Image.open(PHOTOS / f"{photo}.png").convert("RGB").resize((900, 900))
    box = crests.composite(bg, crest, width_frac=frac, centre=(0.62, 0.6), angle=0, tilt=0, shade=0.95,
                           occlude=0, seed=1, yaw=0)
    if colour is not None:
        bg = cover(bg, box, 0.25, side, colour)
    if gains:
        bg = crests.colour_cast(bg, gains)
    return np.asarray(crests.jpeg(bg, 85)), box


def _placement(ref: lm.Reference, box, crest: Image.Image) -> lm.Placement:
    """The reference placed exactly on the crest `composite` drew upright into `box` (as keypoint
    inliers would place it): the reference is the crest's canvas cropped to its mask and a margin."""
    alpha = np.asarray(crest.convert("RGBA"))[..., 3] > 127
    ys, xs = np.nonzero(alpha)
    pad = max(2, int(0.04 * max(np.ptp(xs), np.ptp(ys))))
    x0, y0 = max(0, xs.min() - pad), max(0, ys.min() - pad)
    x1 = min(alpha.shape[1], xs.max() + pad + 1)
    y1 = min(alpha.shape[0], ys.max() + pad + 1)
    to_canvas = max(x1 - x0, y1 - y0) / lm.CANONICAL  # canvas pixels per reference pixel
    s = box[2] / alpha.shape[1] * to_canvas
    H = np.array([[s, 0, box[0] + x0 * box[2] / alpha.shape[1]], [0, s, box[1] + y0 * box[3] / alpha.shape[0]],
                  [0, 0, 1.0]])
    return lm.Placement(ref, H, 12, "features")


def _judged(ref, rgb, box, crest):
    grey, ab = lm.appearance_channels(rgb)
    p = lm.verify(_placement(ref, box, crest), grey, ab)
    return p, hidden.uncovered(p, grey, [ab]), grey, ab


@pytest.fixture(scope="module")
def s202() -> lm.Reference:
    return lm.make_reference("s202", "crest.png", np.asarray(crests.draw_crest(S202, 512)), False)


@pytest.mark.parametrize("side, colour", [(2, SKIN), (0, SKIN), (1, SKIN), (3, SKIN)])
def test_a_crest_a_quarter_hidden_is_judged_on_the_part_in_view(s202, side, colour):
    crest = crests.draw_crest(S202, 512)
    rgb, box = _scene(crest, side=side, colour=colour)
    p, q, grey, ab = _judged(s202, rgb, box, crest)
    assert p.score < MIN_SCORE  # judged whole, the occluder fails it
    assert q is not p and q.score >= MIN_SCORE and 0.1 <= q.hidden <= hidden.MAX_HIDDEN
    covered = q.covered & (s202.v_mask > 0)
    rows, cols = np.nonzero(covered)
    h, w = covered.shape
    # the block left out is the side the occluder came from
    assert {0: cols.mean() < w / 3, 1: cols.mean() > 2 * w / 3, 2: rows.mean() < h / 3,
            3: rows.mean() > 2 * h / 3}[side]
    assert lm.detail(q, grey, ab, hidden=q.covered) >= lm.DETAIL_AGREES


def test_a_whole_crest_has_nothing_hidden(s202):
    crest = crests.draw_crest(S202, 512)
    rgb, box = _scene(crest, colour=None)
    p, q, grey, ab = _judged(s202, rgb, box, crest)
    assert p.score >= MIN_SCORE
    assert hidden.hidden_part(p, grey, ab) is None


def test_only_placements_by_keypoints_below_the_threshold_are_judged_again(s202):
    p = lm.Placement(s202, np.eye(3), 12, "features", score=0.5)
    assert hidden.worth(p, MIN_SCORE)
    for field, value in (("source", "colour-shape"), ("inliers", lm.MIN_SUPPORT - 1), ("score", MIN_SCORE),
                         ("visible", lm.MIN_VISIBLE - 0.01)):
        assert not hidden.worth(replace(p, **{field: value}), MIN_SCORE), field


@pytest.mark.parametrize("keep_colours", [True, False])
@pytest.mark.parametrize("side, colour", [(2, SKIN), (0, NAVY)])
def test_a_same_shape_crest_of_another_school_hidden_the_same_way_stays_under(s202, keep_colours, side, colour):
    """Hostile: the academy's shield in its own or other colours, other initials and emblem, a quarter
    hidden: leaving the block out gains it nothing near the threshold."""
    for seed in (7001, 7002, 7003):
        other = crests.draw_crest(crests.decoy_of(S202, seed=seed, keep_colours=keep_colours), 512)
        rgb, box = _scene(other, side=side, colour=colour)
        p, q, _, _ = _judged(s202, rgb, box, other)
        assert q.score < MIN_SCORE, seed


def test_another_schools_badge_hidden_the_same_way_stays_under(s202):
    for kind, seed in (("badge", 7011), ("wordmark", 7012), ("shaded", 7013)):
        other = crests.draw_other(kind, seed)
        rgb, box = _scene(other, colour=SKIN)
        p, q, _, _ = _judged(s202, rgb, box, other)
        assert q.score < MIN_SCORE, kind


def test_a_covered_part_does_not_vote_on_whose_crest_it_is():
    a = lm.make_reference("a", "a.png", np.asarray(crests.draw_crest(S202, 512)), False)
    b = lm.make_reference("b", "b.png", np.asarray(crests.draw_crest(crests.decoy_of(S202, seed=7001,
                                                                                   keep_colours=True), 512)), False)
    view = np.dstack([0.5 * a.v_grey, a.v_ab * lm.CHROMA_GAIN]).astype(np.float32)  # a, exactly
    assert vote(view, a, b) > 0.9
    assert vote(view, a, b, covered=np.ones_like(a.v_mask, bool)) == 0.5  # all covered: cannot tell


# The whole check on drawn photos with the bench's 11 academies: (crest, width, photo, side, colour, cast)
# FOUND: missed without the step (a black-and-white badge whose colour pattern the occluder broke);
# MISSED: an s202 shield under a grey sleeve, its top quarter hidden, under a cast: the sleeve's cells
# are as plain as the shield's field there and only 8 units off in colour, so the cells do not show it,
# and the rest's pattern (0.35) is not good enough to be judged alone. It must name no other academy.
FOUND = [("badge", 0.15, "astronaut", 0, NAVY, (1.09, 0.88, 0.99)),
         ("badge", 0.12, "camera", 2, SKIN, (1.09, 0.88, 0.99))]
MISSED = [("s202", 0.2, "astronaut", 2, KNIT, (0.9, 1.0, 1.1))]


def _photo_of(root, academy, frac, photo, side, colour, gains, decoy=0):
    crest = Image.open(root / "logos" / academy / "crest.png").convert("RGBA") if not decoy else (
        crests.draw_other(academy, 7000 + decoy) if academy in crests.OTHER_STYLES else
        crests.draw_crest(crests.decoy_of(S202, seed=7000 + decoy, keep_colours=decoy % 2 == 0), 512))
    bg = Image.open(PHOTOS / f"{photo}.png").convert("RGB").resize((1000, 1000))
    box = crests.composite(bg, crest, width_frac=frac, centre=(0.6, 0.62), angle=5, tilt=0.1, shade=0.9,
                           occlude=0, seed=3, yaw=0)
    bg = cover(bg, box, 0.25, side, colour, seed=3)
    return crests.jpeg(crests.colour_cast(bg, gains) if gains else bg, 85)


def _named(detector, im) -> set[str]:
    from screening.config import LogoSettings

    from tests.academy_trust import FakePicture

    found = detector.detect(FakePicture(im), {})
    return {a for f in found if f.score >= LogoSettings().min_score for a in (f.academy, *f.also)}


@pytest.mark.slow
@pytest.mark.parametrize("academy, frac, photo, side, colour, gains", FOUND)
def test_the_logo_check_finds_a_crest_a_quarter_hidden(bench_trust, academy, frac, photo, side,  # noqa: F811
                                                       colour, gains):
    from screening.detectors.logos import STEPS, LogoDetector

    detector, root, _ = bench_trust
    im = _photo_of(root, academy, frac, photo, side, colour, gains)
    assert _named(detector, im) == {academy}
    before = LogoDetector(detector_config(root), cache=root / "cache", steps=STEPS - {"hidden"})
    assert academy not in _named(before, im)  # missed without the step


@pytest.mark.slow
@pytest.mark.parametrize("academy, frac, photo, side, colour, gains", FOUND)
@pytest.mark.parametrize("decoy", [1, 2])
def test_the_logo_check_passes_over_another_schools_crest_hidden_the_same_way(bench_trust, academy, frac,  # noqa: F811
                                                                              photo, side, colour, gains, decoy):
    detector, root, _ = bench_trust
    assert _named(detector, _photo_of(root, academy, frac, photo, side, colour, gains, decoy=decoy)) == set()


def detector_config(root):
    from screening.config import load_config

    return load_config(root / "screening.toml")


@pytest.mark.slow
@pytest.mark.parametrize("academy, frac, photo, side, colour, gains", MISSED)
def test_a_crest_whose_occluder_the_cells_do_not_show_names_no_other_academy(bench_trust, academy, frac,  # noqa: F811
                                                                              photo, side, colour, gains):
    detector, root, _ = bench_trust
    assert _named(detector, _photo_of(root, academy, frac, photo, side, colour, gains)) <= {academy}


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 16: an occluder as plain as the crest's field and near its colour "
                   "is not seen by the cells; the rest's pattern does not agree well enough alone")
@pytest.mark.parametrize("academy, frac, photo, side, colour, gains", MISSED)
def test_a_crest_under_a_sleeve_the_cells_do_not_show_missed_today(bench_trust, academy, frac, photo,  # noqa: F811
                                                                    side, colour, gains):
    detector, root, _ = bench_trust
    assert academy in _named(detector, _photo_of(root, academy, frac, photo, side, colour, gains))
