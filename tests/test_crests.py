"""The crest generator: deterministic drawings, decoys, compositing and painted uniforms."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests import crests


def test_same_seed_draws_the_same_crest_and_another_seed_another():
    a, b, c = (np.asarray(crests.draw_crest(s, 128)) for s in (7, 7, 8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", sorted(crests.PRESETS))
def test_presets_are_square_rgba_with_a_transparent_outside(name):
    img = crests.preset(name, 256)
    assert img.mode == "RGBA" and img.size == (256, 256)
    alpha = np.asarray(img)[..., 3]
    assert alpha[0, 0] == 0 and alpha[128, 128] == 255


def test_decoy_keeps_the_shape_but_changes_the_school():
    north = crests.PRESETS["north"]
    for seed in range(5):
        decoy = crests.decoy_of(north, seed)
        assert decoy.shape == north.shape
        assert decoy.emblem != north.emblem
        assert decoy.field != north.field
    same_colours = crests.decoy_of(north, 1, keep_colours=True)
    assert same_colours.field == north.field and same_colours.emblem != north.emblem


def test_composite_draws_inside_the_box_it_returns_and_nowhere_else():
    photo = Image.new("RGB", (400, 300), (90, 90, 90))
    x, y, w, h = crests.composite(photo, crests.preset("north", 256), width_frac=0.25,
                                  centre=(0.4, 0.5), angle=12, tilt=0.1, seed=1)
    arr = np.asarray(photo).astype(int)
    changed = np.abs(arr - 90).sum(axis=2) > 0
    assert 90 <= w <= 130 and changed[y:y + h, x:x + w].mean() > 0.4
    outside = changed.copy()
    outside[y:y + h, x:x + w] = False
    assert not outside.any()


def test_occlusion_covers_part_of_the_crest():
    photo = Image.new("RGB", (400, 300), (90, 90, 90))
    clean = photo.copy()
    crests.composite(clean, crests.preset("south", 256), width_frac=0.3, seed=2)
    crests.composite(photo, crests.preset("south", 256), width_frac=0.3, occlude=0.3, seed=2)
    diff = np.abs(np.asarray(photo).astype(int) - np.asarray(clean)).sum(axis=2) > 0
    assert diff.sum() > 0.1 * (0.3 * 400) ** 2


def test_paint_uniform_dresses_the_torso_below_the_face_in_the_main_colour():
    photo = Image.new("RGB", (400, 400), (200, 200, 200))
    face = (170, 60, 60, 60)
    out = np.asarray(crests.paint_uniform(photo, ("#1b2a4a", "#c8a200"), face_box=face, seed=1))
    chest = out[200:280, 170:230].reshape(-1, 3).mean(axis=0)
    assert np.abs(chest - (0x1B, 0x2A, 0x4A)).max() < 30
    assert np.abs(out[20, 20].astype(int) - 200).max() == 0  # background untouched


def test_jpeg_and_colour_cast_return_photos_of_the_same_size():
    photo = Image.new("RGB", (64, 48), (100, 150, 200))
    warm = crests.colour_cast(photo, (1.1, 1.0, 0.8))
    assert warm.getpixel((0, 0)) == (110, 150, 160)
    assert crests.jpeg(photo, 70).size == (64, 48)
