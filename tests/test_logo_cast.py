"""Colours judged with the photo's colour cast taken out (logo_match.cast; issue 16, crestrecall5).

A weakly coloured crest (an embroidered badge: light thread on black cloth) under a green cast has
a colour pattern the cast's lightness-proportional part swamps: the colour check failed although
shapes, mean colour and parts agreed (bench 0226). The cast is measured on the photo (its grey
world), never fitted to the reference, and the second judgement must show the crest's fine detail.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from screening.vision import logo_match as lm
from screening.vision.logo_match import cast
from tests import crests

CAMERA = Path(__file__).resolve().parents[1] / "samples" / "public-domain" / "camera.png"
GREEN = (0.89, 1.15, 0.92)
STYLE = crests.style_from_seed(44, simple=False)  # the bench's embroidered academy


@pytest.fixture(scope="module")
def ref() -> lm.Reference:
    return lm.make_reference("embroidered", "crest.png", np.asarray(crests.embroidered(STYLE, seed=44)), False)


def _scene(crest: Image.Image, gains, frac: float = 0.1) -> tuple[np.ndarray, tuple]:
    """The crest on a grey photo (its grey world is neutral) under a colour cast, JPEG 85."""
    bg = Image.open(CAMERA).convert("RGB").resize((700, 700))
    box = crests.composite(bg, crest, width_frac=frac, centre=(0.5, 0.5), angle=0, tilt=0, shade=1.0,
                           occlude=0, seed=1, yaw=0)
    return np.asarray(crests.jpeg(crests.colour_cast(bg, gains), 85)), box


def _placement(ref: lm.Reference, box, grey: np.ndarray) -> lm.Placement:
    """The reference placed on the crest's box, aligned by ECC (as keypoints would place it)."""
    x, y, w, _ = box
    cx, cy = ref.corners[:, 0, 0], ref.corners[:, 0, 1]
    s = w / (cx.max() - cx.min())
    p = lm.Placement(ref, np.array([[s, 0, x - cx.min() * s], [0, s, y - cy.min() * s], [0, 0, 1.0]]), 10, "features")
    return lm.refine(p, grey) or p


def _judged(ref, rgb, box):
    grey, ab = lm.appearance_channels(rgb)
    cand = _placement(ref, box, grey)
    p = lm.verify(lm.Placement(cand.reference, cand.H, cand.inliers, cand.source), grey, ab)
    return cand, p, grey


def test_a_weakly_coloured_crest_under_a_cast_agrees_once_the_photos_cast_is_out(ref):
    rgb, box = _scene(crests.embroidered(STYLE, seed=44), GREEN)
    cand, p, grey = _judged(ref, rgb, box)
    balanced = cast.Balanced(rgb, rgb)
    assert p.chroma < lm.CHROMA_AGREES and p.score < 0.62  # missed as taken
    assert balanced.cast and cast.worth(p, 0.62, balanced)
    q = cast.cast_free(cand, p, grey, balanced, np.zeros((0, 2)), np.zeros((0, 2)), 0.25, 0.25)
    assert q is not p and q.chroma >= lm.CHROMA_AGREES and q.score >= 0.62 > p.score
    assert lm.detail(q, grey, balanced.ab) >= lm.DETAIL_AGREES


def test_the_cast_is_measured_on_the_photo_not_fitted_to_the_crest(ref):
    rgb, _ = _scene(crests.embroidered(STYLE, seed=44), GREEN)
    gains = cast.Balanced(rgb, rgb).gains
    # a grey photo under gains g: its grey world's gains undo them (up to one overall factor)
    undone = gains * np.float32(GREEN)
    assert np.allclose(undone / undone.mean(), 1.0, atol=0.03)
    # the whole photo measures the cast, also when the working image is a window of it
    window = rgb[300:400, 300:400]
    assert np.array_equal(cast.Balanced(window, rgb).gains, gains)


def test_no_cast_measured_no_second_look(ref):
    rgb, box = _scene(crests.embroidered(STYLE, seed=44), (1.0, 1.0, 1.0))
    _, p, _ = _judged(ref, rgb, box)
    balanced = cast.Balanced(rgb, rgb)
    assert not balanced.cast
    p.chroma, p.score = 0.3, 0.4  # whatever the colours say, a photo without a cast is not judged again
    assert not cast.worth(p, 0.62, balanced)


def test_only_a_colour_pattern_failure_with_agreeing_mean_colour_is_judged_again(ref):
    rgb, box = _scene(crests.embroidered(STYLE, seed=44), GREEN)
    balanced = cast.Balanced(rgb, rgb)
    p = lm.Placement(ref, np.eye(3), 10, "features")
    p.chroma, p.shift, p.score, p.visible = 0.4, 7.0, 0.5, 1.0
    assert cast.worth(p, 0.62, balanced)
    for field, value in (("chroma", lm.CHROMA_AGREES), ("shift", lm.SHIFT_CAST + 1), ("score", 0.62),
                         ("visible", lm.MIN_VISIBLE - 0.01)):
        assert not cast.worth(replace(p, **{field: value}), 0.62, balanced), field


@pytest.mark.parametrize("emblem", ["star", "book"])
def test_another_schools_badge_in_the_same_thread_and_cloth_is_not_let_through(ref, emblem):
    """Hostile: another school's embroidered badge, the academy's shape, thread and cloth colours,
    under the same cast, placed where the academy's crest would be: undoing the cast gains it nothing."""
    other = crests.embroidered(replace(STYLE, emblem=emblem, initials="XQ", motto="HILL VALE"), seed=44)
    for frac in (0.1, 0.2):
        rgb, box = _scene(other, GREEN, frac)
        cand, p, grey = _judged(ref, rgb, box)
        q = cast.cast_free(cand, p, grey, cast.Balanced(rgb, rgb), np.zeros((0, 2)), np.zeros((0, 2)), 0.25, 0.25)
        assert q.score < 0.62


def test_the_colour_views_balance_is_the_one_before():
    """colour_views' second view now comes from grey_world() and balanced(): the same values."""
    rgb = np.asarray(_scene(crests.embroidered(STYLE, seed=44), GREEN)[0])
    means = np.add.reduce(rgb.reshape(-1, 3), axis=0, dtype=np.float32) / np.float32(rgb.shape[0] * rgb.shape[1])
    gains = means.mean() / np.maximum(means, 1.0)
    table = np.clip(np.arange(256, dtype=np.float32)[:, None] * gains[None, :], 0, 255).astype(np.uint8)
    before = cv2.LUT(np.ascontiguousarray(rgb), table.reshape(256, 1, 3))
    assert np.array_equal(lm.colour_views(rgb)[1].lab, lm.ColourView(before).lab)


@pytest.fixture(scope="module")
def detectors(tmp_path_factory):
    """The embroidered academy's trust: the logo check with every step, and without "cast" (as before)."""
    from screening.config import load_config
    from screening.detectors.logos import STEPS, LogoDetector

    root = tmp_path_factory.mktemp("casttrust")
    (root / "logos" / "emb").mkdir(parents=True)
    crests.embroidered(STYLE, seed=44).save(root / "logos" / "emb" / "crest.png")
    (root / "screening.toml").write_text('trust = "T"\n[consent]\nregister = "r.csv"\nphotos = "p"\n'
                                         '[[academy]]\nid = "emb"\nname = "Emb Academy"\nlogos = "logos/emb"\n',
                                         encoding="utf-8")
    config = load_config(root / "screening.toml")
    return (LogoDetector(config, cache=root / "cache"),
            LogoDetector(config, cache=root / "cache", steps=STEPS - {"cast"}))


def _named(detector, rgb) -> set[str]:
    from screening.config import LogoSettings

    return {f.academy for f in detector.search(rgb) if f.score >= LogoSettings().min_score}


def test_the_logo_check_finds_the_crest_a_cast_hid_and_only_with_the_step(detectors):
    rgb, _ = _scene(crests.embroidered(STYLE, seed=44), GREEN)
    with_step, before = detectors
    assert _named(before, rgb) == set()
    assert _named(with_step, rgb) == {"emb"}


def test_the_logo_check_passes_over_another_schools_badge_under_the_cast(detectors):
    other = crests.embroidered(replace(STYLE, emblem="star", initials="XQ", motto="HILL VALE"), seed=44)
    rgb, _ = _scene(other, GREEN)
    assert _named(detectors[0], rgb) == set()
