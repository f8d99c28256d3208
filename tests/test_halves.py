"""The half-crest search (vision/logo_match/halves.py): where it finds a half, and what it returns."""

from __future__ import annotations

import numpy as np
import pytest

from screening.vision.logo_match import halves
from tests import crests


def _stack(rgb: np.ndarray) -> np.ndarray:
    from screening.vision.logo_match.params import CHROMA_GAIN
    from screening.vision.logo_match.reference import appearance_channels

    grey, ab = appearance_channels(rgb)
    return np.dstack([grey, ab * CHROMA_GAIN]).astype(np.float32)


def _half_of(seed: int) -> halves._Half:
    rng = np.random.default_rng(seed)
    pattern = rng.normal(128, 40, (96, 48, 3)).astype(np.float32)
    pattern = np.clip(pattern, 0, 255)
    mask = np.ones((96, 48), bool)
    import cv2

    pattern = cv2.GaussianBlur(pattern, (5, 5), 1.5)  # a pattern with structure at the coarse scale too
    coarse = halves._halved(pattern)
    return halves._Half(slice(0, 96), slice(0, 48), mask, pattern, pattern, coarse)


@pytest.mark.parametrize("seed,where", [(1, (37, 81)), (2, (0, 0)), (3, (151, 203)), (4, (152, 1))])
def test_the_coarse_search_finds_the_place_the_exact_search_finds(seed, where):
    """A half pasted into a textured photo (at odd and even offsets, at the edges) is found at
    the same corner by the coarse-then-refined search as by matching at full resolution."""
    half = _half_of(seed)
    rng = np.random.default_rng(100 + seed)
    import cv2

    q = cv2.GaussianBlur(np.clip(rng.normal(120, 35, (300, 200, 3)), 0, 255).astype(np.float32), (5, 5), 1.5)
    x, y = where
    q[y:y + 96, x:x + 48] = half.filled * 0.8 + 20  # another exposure: the correlation ignores gain and offset
    exact = cv2.minMaxLoc(halves._fit(q, half.filled))[3]
    assert exact == (x, y)
    assert halves._best_place(q, halves._halved(q), half) == exact


def test_a_half_too_small_for_the_coarse_search_is_matched_whole():
    half = _half_of(5)
    small = halves._Half(half.ys, half.xs, half.mask, half.pattern, half.filled, None)
    q = np.zeros((120, 80, 3), np.float32)
    q[10:106, 20:68] = small.filled
    assert halves._best_place(q, halves._halved(q), small) == (20, 10)


def test_find_halves_returns_only_halves_that_reach_the_floor(flat_refs):
    """The floor drops weak halves (their parts are not scored) and keeps the half crest."""
    crest = np.asarray(crests.preset("north", 160).convert("RGB"))
    cloth = np.full((260, 220, 3), (27, 42, 74), np.uint8)  # navy blazer
    cloth[40:200, 30:110] = crest[:, 80:]  # the crest's right half, its left half cut by the frame
    refs = [r for r in flat_refs if r.academy == "north"]
    everything = halves.find_halves(cloth, refs, [160, 190])
    assert everything and everything[0].score >= 0.65, [m.score for m in everything]
    sure = halves.find_halves(cloth, refs, [160, 190], floor=0.65)
    assert [m.score for m in sure] == [m.score for m in everything if m.score >= 0.65]
    assert halves.find_halves(np.full((260, 220, 3), (27, 42, 74), np.uint8), refs, [160, 190], floor=0.65) == []


@pytest.fixture(scope="module")
def flat_refs(tmp_path_factory):
    from screening.config import load_config
    from screening.detectors.logos import LogoDetector

    root = tmp_path_factory.mktemp("trust")
    (root / "logos" / "north").mkdir(parents=True)
    crests.preset("north", 512).save(root / "logos" / "north" / "crest.png")
    (root / "screening.toml").write_text(
        'trust = "Test Trust"\n[consent]\nregister = "register.csv"\nphotos = "photos"\n\n'
        '[[academy]]\nid = "north"\nlogos = "logos/north"\n'
        'uniform_colours = ["#1b2a4a", "#c8a200"]\n', encoding="utf-8")
    return LogoDetector(load_config(root / "screening.toml"), cache=root / "cache").references
