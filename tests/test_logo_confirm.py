"""Fine detail at the photo's own resolution (verify.detail's `zoom`, _few_points_large's), and the
fine-detail confirmation of placements near the floor (logo_match.confirm): issue 16, crestrecall4.

A crest searched in an enlarged image (a small photo enlarged to the working size, a small-crest
window enlarged up to 4x) has no finer detail than the photo's own pixels hold; asked for the
enlargement's finer band, real small crests failed (bench 0144: 0.26-0.34, 0324: 3 keypoints on a
56 px wordmark counted as a 176 px crest's). And a crest of an academy's layout in another
school's colours, initials and emblem is told apart by that detail wherever it scores near the floor.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from screening.detectors.logos import _few_points_large
from screening.vision import logo_match as lm
from screening.vision.logo_match import confirm
from tests import crests


@pytest.fixture(scope="module")
def refs():
    family = crests.template_family(4, "north", seed=3)
    out = {"north": lm.make_reference("north", "c.png", np.asarray(crests.preset("north", 512)), False)}
    for k in (0, 3):
        out[f"f{k}"] = lm.make_reference(f"f{k}", "c.png", np.asarray(crests.draw_crest(family[k], 512)), False)
    return out


def _photo(rgb: np.ndarray, px: int, zoom: float, quality: int = 85) -> tuple[np.ndarray, float]:
    """The reference image shrunk so its longer side is `px` (the photo), JPEG, then enlarged `zoom`
    times (the working image); and the scale from the reference's canonical pixels to it."""
    s = px / max(rgb.shape[:2])
    small = cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    small = np.asarray(crests.jpeg(Image.fromarray(small), quality))
    return cv2.resize(small, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC), s * zoom


def _placed(ref: lm.Reference, scale: float, inliers: int = 10, score: float = 0.0) -> lm.Placement:
    p = lm.Placement(ref, np.diag([scale, scale, 1.0]), inliers, "features")
    p.score = score
    return p


def test_an_enlarged_small_crest_shows_its_detail_at_the_photos_own_resolution(refs):
    ref = refs["north"]
    work, scale = _photo(ref.rgb, 48, 3.0)
    grey, ab = lm.appearance_channels(work)
    p = _placed(ref, scale)
    own, enlarged = lm.detail(p, grey, ab, zoom=3.0), lm.detail(p, grey, ab)
    assert own >= lm.DETAIL_AGREES and own > enlarged + 0.1


def test_zoom_one_is_the_detail_as_before(refs):
    ref = refs["north"]
    work, scale = _photo(ref.rgb, 200, 1.0)
    grey, ab = lm.appearance_channels(work)
    p = _placed(ref, scale)
    assert lm.detail(p, grey, ab, zoom=1.0) == lm.detail(p, grey, ab) >= lm.DETAIL_AGREES
    assert lm.detail(p, grey, ab, zoom=0.5) == lm.detail(p, grey, ab)  # a shrunk photo: the working pixels


def test_a_crest_is_large_at_the_photos_own_resolution_not_the_enlargements(refs):
    ref = refs["north"]
    assert ref.detailed
    big = _placed(ref, 176 / ref.size[0], inliers=3)
    assert _few_points_large(big) and _few_points_large(big, 1.0)
    assert not _few_points_large(big, 3.2)  # a 55 px crest searched 3.2x enlarged
    assert not _few_points_large(_placed(ref, 176 / ref.size[0], inliers=12), 1.0)


@pytest.mark.parametrize("k", [0, 3])
def test_a_same_layout_crest_near_the_floor_loses_the_penalty_when_its_detail_disagrees(refs, k):
    work, scale = _photo(refs[f"f{k}"].rgb, 300, 1.0)
    grey, ab = lm.appearance_channels(work)
    p = confirm.confirmed(_placed(refs["north"], scale, score=0.72), grey, ab)
    assert p.score == pytest.approx(0.72 - lm.UNMATCHED_PENALTY)


def test_the_academys_own_crest_near_the_floor_keeps_its_score(refs):
    work, scale = _photo(refs["north"].rgb, 300, 1.0, quality=70)
    grey, ab = lm.appearance_channels(work)
    assert confirm.confirmed(_placed(refs["north"], scale, score=0.72), grey, ab).score == 0.72


def test_who_is_asked(refs):
    ref = refs["north"]
    large, small = 300 / ref.size[0], 100 / ref.size[0]
    assert confirm.asked(_placed(ref, large, score=0.7))
    assert not confirm.asked(_placed(ref, large, score=lm.CONFIRM_BELOW))  # sure enough already
    assert not confirm.asked(_placed(ref, large, score=0.0))  # nothing to take off
    assert not confirm.asked(_placed(ref, small, score=0.7))  # too small for its detail to be resolved
    assert not confirm.asked(_placed(ref, large, score=0.7), zoom=3.0)  # 300 working px, 100 in the photo
    assert confirm.asked(_placed(ref, large, score=0.7), zoom=0.5)  # a shrunk photo: its working size counts


def test_a_placement_off_the_photo_is_penalised_not_raised(refs):
    work, scale = _photo(refs["f0"].rgb, 300, 1.0)
    grey, ab = lm.appearance_channels(work)
    p = _placed(refs["north"], scale, score=0.7)
    p.H = p.H @ np.array([[1, 0, 5000], [0, 1, 5000], [0, 0, 1.0]])  # wholly outside the photo
    assert confirm.confirmed(p, grey, ab).score <= 0.7


def test_a_crest_placed_by_many_keypoints_is_not_asked(refs):
    """Its lettering and emblem have matched already (bench 0060: a wordmark a quarter hidden, in shade
    and a cast, detail 0.33, 45 inliers)."""
    ref = refs["north"]
    assert confirm.asked(_placed(ref, 300 / ref.size[0], inliers=lm.CONFIRM_INLIERS - 1, score=0.7))
    assert not confirm.asked(_placed(ref, 300 / ref.size[0], inliers=lm.CONFIRM_INLIERS, score=0.7))
