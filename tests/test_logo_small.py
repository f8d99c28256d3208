"""Small crests (40-60 px in a photo larger than the working size) and the large few-point decoy.

A 48 px crest on a 2800 px photo is 24 working pixels: the whole-photo search cannot see it;
the small-crest pass (vision/logo_match/small.py) proposes the places where its colours are,
and the detector searches them again enlarged. Another school's crest of the same layout in
other colours, as small, must still not be flagged.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from screening.config import LogoSettings
from screening.detectors.logos import STEPS, LogoDetector, _few_points_large
from screening.vision import logo_match as lm
from screening.vision.logo_match import small
from tests import crests

from .academy_trust import FakePicture, backdrop, make_trust

MIN_SCORE = LogoSettings().min_score


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    return make_trust(tmp_path_factory.mktemp("trust"))


@pytest.fixture(scope="module")
def detector(trust, tmp_path_factory):
    return LogoDetector(trust, cache=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def without_small(trust, tmp_path_factory):
    return LogoDetector(trust, cache=tmp_path_factory.mktemp("cache2"), steps=STEPS - {"small"})


def big_photo(crest: Image.Image | None, px: int, seed: int, where=(0.3, 0.6)) -> tuple[Image.Image, tuple]:
    """A 2800 x 1866 backdrop with `crest` pasted `px` pixels wide, JPEG 85."""
    im = backdrop(seed).resize((2800, 1866), Image.BICUBIC)
    box = None
    if crest is not None:
        box = crests.composite(im, crest, width_frac=px / im.width, centre=where, angle=0, tilt=0.05,
                               shade=0.95, seed=seed)
    return crests.jpeg(im, 85), box


def named(detector, image: Image.Image) -> set[str]:
    return {a for f in detector.detect(FakePicture(image), {}) if f.score >= MIN_SCORE
            for a in (f.academy, *f.also)}


@pytest.mark.parametrize("academy,px,seed", [("south", 46, 1), ("south", 52, 2)])
def test_small_crest_on_a_large_photo_is_found(detector, without_small, academy, px, seed):
    image, box = big_photo(crests.preset(academy, 512), px, seed)
    assert academy not in named(without_small, image)  # the whole-photo search alone misses it
    found = [f for f in detector.detect(FakePicture(image), {}) if f.score >= MIN_SCORE and f.academy == academy]
    assert found, "the small-crest pass should find it"
    x, y, w, h = found[0].box
    assert abs((x + w / 2) - (box[0] + box[2] / 2)) < box[2] and abs((y + h / 2) - (box[1] + box[3] / 2)) < box[3]


@pytest.mark.parametrize("seed", [3, 4])
def test_small_decoy_in_other_colours_is_not_flagged(detector, seed):
    decoy = crests.draw_crest(crests.decoy_of(crests.PRESETS["north"], seed=seed), 512)
    image, _ = big_photo(decoy, 50, seed)
    assert named(detector, image) == set()


def test_plain_large_photo_is_not_flagged(detector):
    image, _ = big_photo(None, 0, 5)
    assert named(detector, image) == set()


def test_windows_propose_the_place_of_a_small_crest(detector):
    image, box = big_photo(crests.preset("north", 512), 50, 6, where=(0.7, 0.3))
    rgb = np.asarray(image)
    scale = 1400 / max(rgb.shape[:2])
    work = np.asarray(image.resize((round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)), Image.LANCZOS))
    refs = [r for r in detector.references if r.academy == "north"]
    wins = small.windows(work, scale, refs, detector._small_templates)
    assert 0 < len(wins) <= small.MAX_WINDOWS
    cx, cy = (box[0] + box[2] / 2) * scale, (box[1] + box[3] / 2) * scale
    assert any(abs(w.box[0] + w.box[2] / 2 - cx) < w.box[2] and abs(w.box[1] + w.box[3] / 2 - cy) < w.box[3]
               for w in wins)


def test_windows_need_sizes_below_the_working_limit(detector):
    work = np.zeros((100, 100, 3), np.uint8)
    # at 4 working px per photo px, every crest size is large enough for the whole-photo search
    assert small.windows(work, 4.0, detector.references, detector._small_templates) == []
    assert small.windows(work, 1.0, [], detector._small_templates) == []


def test_a_large_crest_from_few_points_needs_agreeing_matches(detector):
    ref = next(r for r in detector.references if r.detailed)
    big = lm.Placement(ref, np.diag([2.0, 2.0, 1.0]), 3, "features")
    tiny = lm.Placement(ref, np.diag([0.2, 0.2, 1.0]), 3, "features")
    many = lm.Placement(ref, np.diag([2.0, 2.0, 1.0]), 12, "features")
    assert _few_points_large(big) and not _few_points_large(tiny) and not _few_points_large(many)


@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 500, 3), (500, 3, 3), (40, 40, 3), (4000, 30, 3)])
def test_degenerate_photo_shapes_do_not_break_the_small_pass(detector, shape):
    noise = np.random.default_rng(0).integers(0, 255, shape).astype(np.uint8)
    assert detector.detect(FakePicture(Image.fromarray(noise)), {}) == []


def test_a_clips_changed_crops_skip_the_small_pass_and_its_whole_looks_run_it(detector, monkeypatch):
    """The video logo pass (video_passes._logo_pass) asks for the small-crest pass only when it
    looks at the whole frame: a changed crop is searched as before the pass existed."""
    from screening.video_passes import _logo_pass

    calls = []
    real = small.windows
    monkeypatch.setattr(small, "windows", lambda *a, **k: calls.append(a[0].shape) or real(*a, **k))
    image, _ = big_photo(crests.preset("south", 512), 52, 2)
    frame = np.asarray(image)
    logos = _logo_pass(detector)
    logos.whole = (frame.shape[1], frame.shape[0])
    logos.run(frame[:600, :900], {})
    assert calls == []  # a crop
    logos.run(frame, {})
    assert len(calls) == 1  # the whole frame
