"""The logo check's cheaper paths answer as the exact ones would: they only skip work that
could not change the answer (issue 16, cost independent of the number of academies)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from screening.detectors import logos as logos_module
from screening.detectors import uniforms as uniforms_module
from screening.detectors.logos import LogoDetector
from screening.vision import logo_match
from screening.vision.logo_match.params import PALETTE_FROM, PREFILTER_CELL, PREFILTER_TOL
from tests import crests

from .academy_trust import FakePicture, make_trust

MIN_SCORE = 0.62


def _exact_cells(presence: logo_match.ColourPresence, v: int, colour: np.ndarray) -> np.ndarray:
    """The prefilter's cells worked out pixel by pixel (what the palette must never undercut)."""
    there = (presence.closeness(v, colour) > -PREFILTER_TOL ** 2).astype(np.uint8)
    h, w = there.shape
    gh, gw = -(-h // PREFILTER_CELL), -(-w // PREFILTER_CELL)
    padded = np.zeros((gh * PREFILTER_CELL, gw * PREFILTER_CELL), np.uint8)
    padded[:h, :w] = there
    grid = padded.reshape(gh, PREFILTER_CELL, gw, PREFILTER_CELL).max(axis=(1, 3))
    return cv2.dilate(grid, np.ones((3, 3), np.uint8)) > 0


@pytest.mark.parametrize("name", ["camera.png", "astronaut.png"])
def test_the_palette_prefilter_never_rules_out_a_place_that_holds_the_colour(public_domain, name):
    """A large trust's colours are looked for in the photo's palette, not pixel by pixel: every
    cell the exact test finds a colour in is found, and the palette adds little beyond it."""
    rgb = np.asarray(Image.open(public_domain / name).convert("RGB"))
    presence = logo_match.ColourPresence(logo_match.colour_views(rgb))
    rng = np.random.default_rng(5)
    # more colours than PALETTE_FROM, so the later ones are read from the palette; colours
    # taken from the photo itself (so they are there) and random ones (mostly not)
    pixels = presence.views[0].lab.reshape(-1, 3)
    colours = np.concatenate([pixels[rng.integers(0, len(pixels), 2 * PALETTE_FROM)],
                              rng.uniform([0, 60, 60], [50, 200, 200], (2 * PALETTE_FROM, 3))]).astype(np.float32)
    exact_total = extra = 0
    for v in range(len(presence.views)):
        for colour in colours:
            fast, exact = presence.cells(v, colour), _exact_cells(presence, v, colour)
            assert not (exact & ~fast).any()
            exact_total += int(exact.sum())
            extra += int((fast & ~exact).sum())
    assert presence._palette, "the palette was never used"
    assert exact_total > 0 and extra <= exact_total  # looser, but not all of the photo


def test_cached_references_keep_their_colours_and_field(tmp_path):
    trust = make_trust(tmp_path / "trust")
    first = LogoDetector(trust, cache=tmp_path / "cache")
    again = LogoDetector(trust, cache=tmp_path / "cache")
    for a, b in zip(first.references, again.references):
        assert np.array_equal(a.colours, b.colours)
        assert a.field_colour == b.field_colour
        assert (a.field is None) == (b.field is None)
        assert a.field is None or np.array_equal(a.field, b.field)
    assert any(r.field is not None for r in again.references)


def test_a_detailed_crest_is_placed_by_colour_and_outline_only_near_its_keypoint_matches():
    ref = logo_match.make_reference("north", "crest.png", np.asarray(crests.preset("north", 512)))
    here = logo_match.Placement(ref, np.diag([0.5, 0.5, 1.0]), 0, "colour-shape")  # crest box ~ (0, 0, 160, 160)
    near = np.float32([[20, 30], [60, 70], [100, 40], [150, 150], [-40, 10]])
    far = near + 600
    assert logos_module._near(here, near) == 5
    assert logos_module._near(here, far) == 0
    assert logos_module._near(here, np.zeros((0, 2), np.float32)) == 0


def test_the_real_crest_is_still_placed_when_keypoints_agree(tmp_path, public_domain):
    """The gate before the appearance check keeps what the appearance check would keep."""
    det = LogoDetector(make_trust(tmp_path / "trust"), cache=tmp_path / "cache")
    img = Image.open(public_domain / "astronaut.png").convert("RGB")
    crests.composite(img, crests.preset("north", 512), width_frac=0.25, centre=(0.6, 0.4), angle=4, seed=2)
    found = [f for f in det.detect(FakePicture(crests.jpeg(img, 85)), {}) if f.score >= MIN_SCORE]
    assert [f.academy for f in found] == ["north"]


def test_colour_distances_of_all_academies_in_one_product_match_the_direct_formula():
    rng = np.random.default_rng(3)
    lab = rng.uniform([0, -80, -80], [100, 80, 80], (500, 3)).astype(np.float32)
    colours = rng.uniform([0, -80, -80], [100, 80, 80], (40, 3)).astype(np.float32)
    weight = np.float32([0.5, 1, 1])
    direct = np.sqrt((((lab[:, None, :] - colours[None]) * weight) ** 2).sum(axis=2))
    assert np.allclose(uniforms_module._distances(lab, colours), direct, atol=1e-2)
    c, p = colours * weight, lab * weight
    scale = np.clip((p @ c.T) / (c * c).sum(axis=1), 0, None)
    lowest = np.maximum(uniforms_module.SHADE[0],
                        uniforms_module.SHADE_CHROMA / np.maximum(np.hypot(c[:, 1], c[:, 2]), 1e-6))
    scale = np.where(lowest[None, :] < 1.0, np.clip(scale, lowest[None, :], uniforms_module.SHADE[1]), 1.0)
    shaded = np.sqrt(((p[:, None, :] - scale[..., None] * c[None]) ** 2).sum(axis=2))
    assert np.allclose(uniforms_module._shaded_distances(lab, colours), shaded, atol=1e-2)
