"""The small-crest windows with the view's tiles' spectra shared by every template of a size
(screening/vision/logo_match/small.py) give what they gave with one cv2.matchTemplate per reference
and size (tests/small_oracle.py, the code as it was): the same windows (boxes, academies, and
scores within 1e-4), on photos of crests 40-90 px with trusts of 1, 10 and 50 academies (48 of one
layout in their own colours and initials), under casts, on enlarged and tiny views; the same best
place and score for textured, flat-patched and tiny views, flat templates, and the path that
folds rounding past 1 back.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from screening.settings import LogoSettings
from screening.vision import logo_match as lm
from screening.vision.logo_match import small
from tests import crests, small_oracle

from .academy_trust import backdrop

SETTINGS = LogoSettings()


@pytest.fixture(scope="module")
def trust():
    """51 academies' references: the two presets, then 49 of the north layout in their own
    colours, initials and emblems; each reference's small-crest Template."""
    images = {"north": crests.preset("north", 256), "south": crests.preset("south", 256)}
    for k, style in enumerate(crests.template_family(49, "north", seed=5)):
        images[f"family{k:02d}"] = crests.draw_crest(style, 256)
    refs = [lm.make_reference(aid, "crest.png", np.asarray(im), False) for aid, im in images.items()]
    return refs, {id(r): small.templates(r) for r in refs}, images


def _photo(images, seed: int, size: tuple[int, int], crest_px: list[int], cast=None) -> np.ndarray:
    """A backdrop of `size` with a crest of each width in `crest_px` (academies by seed), JPEG 85."""
    im = backdrop(seed, size)
    names = sorted(images)
    rng = np.random.default_rng(seed)
    for k, px in enumerate(crest_px):
        crest = images[names[int(rng.integers(len(names)))]]
        crests.composite(im, crest, width_frac=px / size[0], centre=(0.2 + 0.6 * rng.random(), 0.2 + 0.6 * rng.random()),
                         angle=float(rng.normal(0, 4)), tilt=0.05, shade=0.9 + 0.1 * rng.random(), seed=seed + k)
    if cast is not None:
        im = crests.colour_cast(im, cast)
    return np.asarray(crests.jpeg(im, 85))


def _work(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """The working image and scale, as LogoDetector.search makes them for a whole photo."""
    scale = min(SETTINGS.max_side / max(rgb.shape[:2]), SETTINGS.max_zoom)
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC if scale > 1 else Image.BOX)), scale


def _same(new: list[small.Window], old: list[small.Window]) -> None:
    assert [(w.box, w.academies) for w in new] == [(w.box, w.academies) for w in old]
    assert all(abs(a.score - b.score) < 1e-4 for a, b in zip(new, old))


# photo sizes: 2800 px (3 crest sizes, view 0.25x), 1600 (3 sizes), 1000 x 1400 (3), 900 (enlarged
# 1.56x: 2 sizes), 700 (enlarged 2x: 1 size); crests 40-90 px; one under a warm cast
PHOTOS = [((2800, 1866), [46, 64, 90], None), ((1600, 1200), [40, 58], None), ((1000, 1400), [52, 80], (1.25, 1.0, 0.75)),
          ((900, 600), [44, 70], None), ((700, 520), [42], (0.8, 1.0, 1.2)), ((1300, 900), [], None)]


@pytest.mark.parametrize("academies", [1, 10, 50])
@pytest.mark.parametrize("photo", range(len(PHOTOS)))
def test_windows_are_the_oracles_for_every_trust_size(trust, academies, photo):
    refs, templates_of, images = trust
    size, crest_px, cast = PHOTOS[photo]
    rgb = _photo(images, 10 + photo, size, crest_px, cast)
    work, scale = _work(rgb)
    new = small.windows(work, scale, refs[:academies], templates_of)
    old = small_oracle.windows(work, scale, refs[:academies], templates_of)
    _same(new, old)
    if academies == 50 and crest_px:
        assert new  # the crests propose places (the comparison is not of two empty lists)


@pytest.mark.parametrize("scale", [0.12, 0.3, 0.5, 0.9, 1.3])
def test_windows_on_small_and_tiny_working_images(trust, scale):
    """Working images of 30-160 px: views a few pixels larger than a template, or none at all."""
    refs, templates_of, images = trust
    for k, (w, h) in enumerate([(160, 120), (64, 48), (40, 30), (30, 90)]):
        rgb = _photo(images, 40 + k, (w, h), [max(8, w // 4)])
        _same(small.windows(rgb, scale, refs[:12], templates_of), small_oracle.windows(rgb, scale, refs[:12], templates_of))


def _views(seed: int):
    """Weighted Lab views: a backdrop with a flat patch and a drawn crest, plain noise, a view only
    a little larger than the templates, a view with strong blocks of colour."""
    rng = np.random.default_rng(seed)
    rgb = np.array(backdrop(seed, (260, 180)))
    rgb[120:170, 10:90] = (40, 90, 40)
    rgb[40:70, 150:180] = np.asarray(crests.preset("south", 64).convert("RGB").resize((30, 30)))
    yield rgb
    yield rng.integers(0, 256, (97, 131, 3)).astype(np.uint8)
    yield rng.integers(0, 256, (13, 15, 3)).astype(np.uint8)
    blocks = np.zeros((90, 120, 3), np.uint8)
    blocks[:, 60:] = (200, 30, 30)
    blocks[45:, :] = (10, 10, 200)
    blocks[44, 30, 0] = 1  # one step off flat in a flat field
    yield blocks


def _lab(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32) * small._LAB_WEIGHT


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_best_is_the_oracles_on_many_views_and_templates(seed):
    rng = np.random.default_rng(seed)
    checked = []
    for rgb in _views(seed):
        lab = _lab(rgb)
        corr = small._Correlation(lab)
        H, W = lab.shape[:2]
        for h, w in [(4, 4), (5, 7), (10, 10), (12, 9), (15, 15), (22, 21), (H - 1, W - 1)]:
            if h >= H or w >= W:
                continue
            y, x = int(rng.integers(0, H - h + 1)), int(rng.integers(0, W - w + 1))
            for t in (lab[y:y + h, x:x + w] * 0.9 + rng.normal(0, 1, (h, w, 3)).astype(np.float32),
                      rng.normal(0, 20, (h, w, 3)).astype(np.float32),
                      np.full((h, w, 3), 33.0, np.float32)):  # a flat template: 1 at (0, 0), as OpenCV
                got, want = corr.best(t), small_oracle.opencv_best(corr, t)
                assert abs(got[0] - want[0]) < 1e-4
                if want[0] >= small.MIN_MATCH:  # below it the place is not used (nor settled when tied)
                    assert got[1] == want[1], (rgb.shape, h, w)
                    checked.append(want[0])
    assert len(checked) >= 6


@pytest.mark.parametrize("past", [1.06, 40.0])
def test_rounding_past_one_is_folded_back_as_before(monkeypatch, past):
    """A near-flat window's rounding can put a correlation past 1 (OpenCV: up to 1.125 it is 1,
    beyond it 0). Made to happen at the best place by scaling that place's normalisation: both
    give the same best (1 there, or the next best elsewhere when it is folded to 0)."""
    rgb = next(_views(4))
    corr = small._Correlation(_lab(rgb))
    t = np.random.default_rng(4).normal(0, 20, (12, 10, 3)).astype(np.float32)
    score, (x, y) = small_oracle.opencv_best(corr, t)
    assert score > 0.1
    real = small._Correlation._inverse_spread

    def pushed(self, h, w):
        inv = real(self, h, w).copy()
        inv[y, x] *= np.float32(past / score)
        return inv

    monkeypatch.setattr(small._Correlation, "_inverse_spread", pushed)
    assert small_oracle.opencv_raw_best(corr, t) > 1
    got, want = corr.best(t), small_oracle.opencv_best(corr, t)
    assert got[1] == want[1] and abs(got[0] - want[0]) < 1e-4
    assert (want == (1.0, (x, y))) == (past < 1.125)
