"""The logo check's shared work (issue 16, cost flat in the number of academies) gives the answers
the per-academy work gave: the small-crest pass's correlation, shared by every template of a view,
finds the same best place and score as OpenCV's TM_CCOEFF_NORMED; a template shrunk once is the
template shrunk again; the photo's appearance channels are contiguous (OpenCV copies a strided
view whole on every warp)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from screening.vision.logo_match import appearance_channels, small
from tests import crests

from .academy_trust import backdrop

_WEIGHT = np.float32([0.5 / 2.55, 1, 1])


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32) * _WEIGHT


def _opencv_best(lab: np.ndarray, t: np.ndarray) -> tuple[float, tuple[int, int]]:
    res = np.nan_to_num(cv2.matchTemplate(lab, t, cv2.TM_CCOEFF_NORMED), nan=-1.0, posinf=-1.0, neginf=-1.0)
    _, best, _, at = cv2.minMaxLoc(res)
    return best, at


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shared_correlation_finds_what_opencv_finds(seed):
    rgb = np.array(backdrop(seed, (300, 200)))
    rgb[150:190, 20:80] = (40, 90, 40)  # a flat patch: windows with no pattern correlate with nothing
    # a crest drawn into the view, the template its shrunk copy with a little noise (a cast, JPEG)
    crest = np.asarray(crests.preset("north", 64).convert("RGB").resize((24, 24)))
    rgb[60:84, 200:224] = crest
    lab = _lab(rgb)
    shared = small._Correlation(lab)
    rng = np.random.default_rng(seed)
    for (y, x, h, w) in [(60, 200, 24, 24), (10, 10, 10, 12), (100, 150, 15, 18), (150, 20, 12, 12)]:
        t = lab[y:y + h, x:x + w] + rng.normal(0, 2, (h, w, 3)).astype(np.float32)
        want, want_at = _opencv_best(lab, t)
        got, got_at = shared.best(t)
        assert got == pytest.approx(want, abs=1e-3)
        assert got_at == want_at


def test_flat_template_is_answered_as_opencv_answers_it():
    lab = _lab(np.array(backdrop(4, (120, 80))))
    flat = np.full((10, 10, 3), 50, np.float32)
    assert small._Correlation(lab).best(flat) == (1.0, (0, 0))


def test_template_shrunk_once_is_the_template_shrunk_again():
    ref_rgb = np.asarray(crests.preset("south", 128).convert("RGB"))
    mask = np.full(ref_rgb.shape[:2], 255, np.uint8)
    mask[:10] = 0
    template = small.Template(_lab(ref_rgb), mask)
    first = template.at(14, 12)
    again = template.at(14, 12)
    assert again is first
    fresh = cv2.resize(_lab(ref_rgb), (14, 12), interpolation=cv2.INTER_AREA)
    inside = cv2.resize(mask, (14, 12), interpolation=cv2.INTER_AREA) > 127
    fresh[~inside] = fresh[inside].mean(axis=0)
    assert np.array_equal(first, fresh)


def test_appearance_channels_are_contiguous():
    grey, ab = appearance_channels(np.array(backdrop(5, (160, 120))))
    assert grey.flags["C_CONTIGUOUS"] and ab.flags["C_CONTIGUOUS"]
    assert grey.shape == (120, 160) and ab.shape == (120, 160, 2)
