"""An enlarged photo's grey keypoints taken from the photo as taken (issue 16, siftcost; step "photo-grey").

A photo smaller than the working size is enlarged (up to [logos] max_zoom) before the search, and
OpenCV's SIFT doubles its input again: the finest scale of the enlarged image held only pixels
interpolated twice, at most of SIFT's cost. The grey channel is now searched on the photo itself
(its doubled scale is twice the photo's pixels, as a full-size photo's is), the points scaled into
the working image. What this could lose is a small crest in a small photo, whose matches came from
that interpolated scale: each case here was found before the change and must stay found, alone
(RT18-7 in tests/test_redteam18.py is the soft, turned one).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from screening.config import LogoSettings
from screening.detectors.logos import STEPS, LogoDetector
from screening.vision import logo_match as lm
from tests import crests

from .academy_trust import FakePicture, backdrop, make_trust

MIN_SCORE = LogoSettings().min_score


def test_points_from_the_photo_land_in_working_pixels():
    """A disc in a 160 x 120 photo, enlarged 2x: its keypoint from the photo, scaled, is where the
    enlarged image has the disc (pixel centres: (x + 0.5) * 2 - 0.5)."""
    photo = np.full((120, 160, 3), 40, np.uint8)
    cv2.circle(photo, (50, 70), 6, (230, 230, 230), -1)
    work = cv2.resize(photo, (320, 240), interpolation=cv2.INTER_CUBIC)
    feats = lm.image_features(work, {lm.GREY}, photo=photo)[lm.GREY]
    assert len(feats.pts)
    near = np.linalg.norm(feats.pts - np.float32([100.5, 140.5]), axis=1)
    assert near.min() < 1.5, feats.pts
    # and the photo's points never fall outside the working image
    assert (feats.pts >= -0.5).all() and (feats.pts[:, 0] < 320).all() and (feats.pts[:, 1] < 240).all()


def test_without_a_photo_the_grey_channel_is_searched_as_before():
    work = np.asarray(backdrop(2, (400, 300)))
    a = lm.image_features(work, {lm.GREY})[lm.GREY]
    kps, desc = lm.sift().detectAndCompute(cv2.cvtColor(work, cv2.COLOR_RGB2GRAY), None)
    assert np.array_equal(a.pts, np.float32([k.pt for k in kps])) and np.array_equal(a.desc, desc)


@pytest.fixture(scope="module")
def detectors(tmp_path_factory):
    root = tmp_path_factory.mktemp("photogrey")
    trust = make_trust(root)
    return (LogoDetector(trust, cache=root / "cache"),
            LogoDetector(trust, cache=root / "cache", steps=STEPS - {"photo-grey"}))


def _small_photo(academy: str, px: int, turn: int, size: tuple[int, int], quality: int, seed: int) -> np.ndarray:
    im = backdrop(seed, size)
    crests.composite(im, crests.preset(academy, 512), width_frac=px / size[0], centre=(0.55, 0.4),
                     angle=turn, tilt=0.05, shade=0.95, seed=seed)
    return np.asarray(crests.jpeg(im, quality).convert("RGB"))


def _named(detector, rgb) -> set[str]:
    return {a for f in detector.detect(FakePicture(Image.fromarray(rgb)), {}) if f.score >= MIN_SCORE
            for a in (f.academy, *f.also)}


# (academy, crest px, turn, photo size, JPEG quality): small crests in photos enlarged 1.1-2x
SMALL_IN_SMALL = [
    ("north", 44, 0, (480, 360), 60),
    ("south", 48, 30, (480, 360), 60),
    ("north", 60, 40, (640, 480), 50),
    ("south", 44, 40, (1280, 960), 85),
]


@pytest.mark.slow
@pytest.mark.parametrize("academy, px, turn, size, quality", SMALL_IN_SMALL)
def test_a_small_crest_in_an_enlarged_photo_stays_found(detectors, academy, px, turn, size, quality):
    rgb = _small_photo(academy, px, turn, size, quality, seed=px + turn)
    shipped, before = detectors
    assert _named(before, rgb) == {academy}  # found before the change: the case it could lose
    assert _named(shipped, rgb) == {academy}
