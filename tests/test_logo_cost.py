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


# ------------------------------------------------ cost round 3: the same values, computed faster


@pytest.mark.parametrize("name", ["camera.png", "astronaut.png"])
def test_cells_read_pixel_by_pixel_are_exactly_the_exact_cells(public_domain, name):
    """The first PALETTE_FROM colours of a view are looked for pixel by pixel: the cell maximum
    taken row by row of a cell (_cell_max) gives exactly the 4-axis reshape's cells, on a view
    whose sides are not multiples of a cell (the padding) and on the white-balanced view."""
    rgb = np.asarray(Image.open(public_domain / name).convert("RGB"))[:301, :437]
    presence = logo_match.ColourPresence(logo_match.colour_views(rgb))
    pixels = presence.views[0].lab.reshape(-1, 3)
    colours = pixels[np.random.default_rng(3).integers(0, len(pixels), PALETTE_FROM)]
    for v in range(len(presence.views)):
        for colour in colours:
            assert np.array_equal(presence.cells(v, colour), _exact_cells(presence, v, colour))
    assert not presence._palette  # all of them pixel by pixel


def test_the_white_balanced_view_is_the_float_formula_exactly(public_domain):
    """colour_views balances through a per-channel table: the same 8-bit values as scaling every
    pixel in float32, clipping and truncating (a warm cast, a dark channel, a one-pixel photo)."""
    from screening.vision.logo_match.colour import _LAB_WEIGHT

    def balanced(rgb):
        f = rgb.astype(np.float32)
        means = f.reshape(-1, 3).mean(axis=0)
        return np.clip(f * (means.mean() / np.maximum(means, 1.0)), 0, 255).astype(np.uint8)

    photo = np.asarray(Image.open(public_domain / "astronaut.png").convert("RGB"))
    warm = np.clip(photo.astype(np.int16) + [60, 10, -40], 0, 255).astype(np.uint8)
    dark = photo.copy()
    dark[..., 2] = 0  # a channel with no light: its gain is taken against 1
    for rgb in (photo, warm, dark, photo[::3, ::5], photo[:1, :1]):
        expected = cv2.cvtColor(balanced(rgb), cv2.COLOR_RGB2LAB).astype(np.float32) * _LAB_WEIGHT
        assert np.array_equal(logo_match.colour_views(rgb)[1].lab, expected)


def test_appearance_channels_are_the_lab_formula_exactly(public_domain):
    rgb = np.asarray(Image.open(public_domain / "camera.png").convert("RGB"))[:333, :517]
    lab = cv2.cvtColor(cv2.GaussianBlur(rgb, (0, 0), 1.2), cv2.COLOR_RGB2LAB).astype(np.float32)
    grey, ab = logo_match.appearance_channels(rgb)
    assert np.array_equal(grey, lab[..., 0]) and np.array_equal(ab, lab[..., 1:] - 128.0)
    assert grey.dtype == ab.dtype == np.float32 and grey.flags.c_contiguous and ab.flags.c_contiguous


def test_neighbours_apart_is_the_summed_distance_exactly():
    """ReferenceIndex.match's test of which neighbours lie elsewhere (|dx| + |dy| > ELSEWHERE_PX),
    on points at and around the limit."""
    from screening.vision.logo_match.index import _apart
    from screening.vision.logo_match.params import ELSEWHERE_PX

    rng = np.random.default_rng(7)
    where = rng.uniform(0, 320, (500, 12, 2)).astype(np.float32)
    where[:, 1] = where[:, 0] + np.float32([ELSEWHERE_PX / 2, ELSEWHERE_PX / 2])  # exactly at the limit
    where[:, 2] = where[:, 0] + rng.uniform(-6, 6, (500, 2)).astype(np.float32)
    expected = np.abs(where[:, :, None, :] - where[:, None, :, :]).sum(axis=3) > ELSEWHERE_PX
    assert np.array_equal(_apart(where), expected)
    assert expected[:, 0, 2].any() and not expected[:, 0, 2].all()
