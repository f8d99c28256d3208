"""The colour-and-outline proposals shared across references propose exactly what the per-reference
version did (tests/colour_oracle.py, colour.py as it was): the same references pass the colour
prefilter, and each reference gets the same placements (homographies to 1e-6), in the same order,
on photos with crests of a trust whose academies share one layout in their own colours, for
trusts of 1, 10 and 50 academies (issue 16, cost independent of the number of academies)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from screening.vision.logo_match import colour as shared
from screening.vision.logo_match import make_reference
from tests import colour_oracle as oracle
from tests import crests

REPO = Path(__file__).resolve().parents[1]
LOGO_SET = REPO / "bench" / "out" / "logo_set"
COLOUR_SHAPE_SIDE = 640  # detectors/logos.py: the coarse view the cue works on


@pytest.fixture(scope="module")
def family():
    """50 academies drawn on north's layout, each in its own colour pair, with north and south first."""
    styles = ["north", "south"] + crests.template_family(48, "north", seed=3)
    refs = []
    for k, style in enumerate(styles):
        art = np.asarray(crests.draw_crest(style, 320).convert("RGB"))
        refs.append(make_reference(f"a{k:02d}", "crest.png", art, multiscale=False))
    return styles, refs


def _coarse(rgb: np.ndarray) -> np.ndarray:
    cs = min(1.0, COLOUR_SHAPE_SIDE / max(rgb.shape[:2]))
    return cv2.resize(rgb, None, fx=cs, fy=cs, interpolation=cv2.INTER_AREA) if cs < 1 else rgb


def _photos(public_domain: Path, styles) -> list[np.ndarray]:
    """Public-domain photos with same-layout crests pasted in (sizes, turns, a cast, JPEG), and crops."""
    out = []
    for i, name in enumerate(("astronaut.png", "camera.png")):
        base = Image.open(public_domain / name).convert("RGB")
        for j, (width, angle) in enumerate(((0.3, 0), (0.12, 20), (0.07, -8))):
            img = base.copy()
            for k, at in enumerate(((0.3, 0.35), (0.7, 0.6))):
                style = styles[(3 * i + 2 * j + k) % len(styles)]
                crests.composite(img, crests.draw_crest(style, 320), width_frac=width, centre=at,
                                 angle=angle + 5 * k, seed=7 * i + j + k)
            if j == 1:
                img = crests.colour_cast(img, (1.12, 0.95, 0.86))
            out.append(np.asarray(crests.jpeg(img, 80).convert("RGB")))
        out.append(np.asarray(base))
    out += [p[40:260, 100:420] for p in out[:2]]  # views cut from a photo, as the small-crest windows
    return out


def _proposals(module, rgb: np.ndarray, refs) -> tuple[list[bool], list[list]]:
    presence = module.ColourPresence(module.colour_views(rgb))
    return [presence.possible(r) for r in refs], [module.colour_shape_placements(r, presence) for r in refs]


def _assert_same(rgb: np.ndarray, refs) -> int:
    before, after = _proposals(oracle, rgb, refs), _proposals(shared, rgb, refs)
    assert before[0] == after[0]  # the prefilter rules out the same references
    count = 0
    for old, new in zip(before[1], after[1]):
        assert len(old) == len(new)
        for p, q in zip(old, new):
            assert p.reference is q.reference and p.source == q.source and p.inliers == q.inliers
            assert np.allclose(p.H, q.H, rtol=0, atol=1e-6)
        count += len(old)
    return count


def test_proposals_are_the_oracles_for_trusts_of_1_10_and_50_academies(public_domain, family):
    styles, refs = family
    proposed = 0
    for rgb in _photos(public_domain, styles):
        for n in (1, 10, 50):
            proposed += _assert_same(_coarse(rgb), refs[:n])
    assert proposed > 100  # the photos do give proposals to compare


def test_proposals_are_the_oracles_on_the_bench_photos():
    """Every 50th case of the bench set (crests, decoys, uniforms, clean), with the bench's
    51-academy trust (40 of one layout) and its first 1 and 10 academies. Skipped without
    bench/out/logo_set (bench/make_logo_set.py)."""
    if not (LOGO_SET / "truth.jsonl").is_file():
        pytest.skip("bench/out/logo_set is not built")
    from screening.config import load_config
    from screening.detectors.logos import LogoDetector

    big = load_config(LOGO_SET / "trust50.toml")
    refs = LogoDetector(big, cache=LOGO_SET / "cache").references
    order = [a.id for a in big.academies]
    rows = [json.loads(line) for line in open(LOGO_SET / "truth.jsonl", encoding="utf-8")][::50]
    proposed = 0
    for row in rows:
        rgb = _coarse(np.asarray(Image.open(LOGO_SET / "cases" / row["file"]).convert("RGB")))
        for n in (1, 10, len(order)):
            proposed += _assert_same(rgb, [r for r in refs if r.academy in order[:n]])
    assert proposed > 100


def test_a_closing_of_a_union_is_the_erosion_of_the_union_of_dilations():
    """What regions() relies on: MORPH_CLOSE of (A or B) is erode(dilate(A) or dilate(B)), and
    outlines found in a box holding every pixel (with one empty pixel round it) are those of the
    whole image, in the same order, where the box touches the image's edge too."""
    rng = np.random.default_rng(11)
    k3 = np.ones((3, 3), np.uint8)
    for trial in range(60):
        h, w = rng.integers(5, 120, 2)
        masks = [(rng.random((h, w)) < rng.uniform(0.01, 0.5)).astype(np.uint8) * 255 for _ in range(3)]
        if trial % 3 == 0:  # pixels in one corner only: a box smaller than the image
            for m in masks:
                m[h // 2:, :] = 0
                m[:, : w // 3] = 0
        union = masks[0] | masks[1] | masks[2]
        closed = cv2.morphologyEx(union, cv2.MORPH_CLOSE, k3)
        grown = [cv2.dilate(m, k3) for m in masks]
        assert np.array_equal(closed, cv2.erode(grown[0] | grown[1] | grown[2], k3))
        parts = [(g, cv2.boundingRect(g), None) for g in grown if cv2.boundingRect(g)[2] > 0]
        if not parts:
            continue
        whole = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
        presence = shared.ColourPresence([_FakeView(h, w)])
        x0 = max(0, min(b[0] for _, b, _ in parts) - 1)
        y0 = max(0, min(b[1] for _, b, _ in parts) - 1)
        x1 = min(w, max(b[0] + b[2] for _, b, _ in parts) + 1)
        y1 = min(h, max(b[1] + b[3] for _, b, _ in parts) + 1)
        boxed = cv2.findContours(cv2.erode(union_of(grown)[y0:y1, x0:x1], k3), cv2.RETR_EXTERNAL,
                                 cv2.CHAIN_APPROX_SIMPLE, offset=(int(x0), int(y0)))[0]
        assert len(whole) == len(boxed) and all(np.array_equal(a, b) for a, b in zip(whole, boxed))
        found, _ = presence._outlined(0, parts)
        expected = [(c, cv2.contourArea(c)) for c in whole]
        expected = [(c, a) for c, a in expected if shared.MIN_REGION_PX <= a <= 0.5 * h * w
                    and a / max(1.0, cv2.contourArea(cv2.convexHull(c))) >= 0.7]
        assert len(found) == len(expected)
        assert all(np.array_equal(c, d) and a == b for (c, a), (d, b) in zip(found, expected))


def union_of(masks):
    out = masks[0].copy()
    for m in masks[1:]:
        out |= m
    return out


class _FakeView:
    def __init__(self, h, w):
        self.lab = np.zeros((h, w, 3), np.float32)


def test_a_colour_absent_at_a_tolerance_shares_the_present_colours_regions(public_domain, family):
    """A set of colours one of which has no pixels at a tolerance makes the same regions as the set
    without it (one set of outlines for both), and a colour with as many pixels at a looser
    tolerance as at a tighter one is the same pixels there."""
    rgb = _coarse(np.asarray(Image.open(public_domain / "astronaut.png").convert("RGB")))
    presence = shared.ColourPresence(shared.colour_views(rgb))
    present = presence.views[0].lab[200, 200]
    absent = np.float32([0.0, 255.0, 0.0])  # weighted Lab far from any photo's colours
    alone, _ = presence.regions(0, present[None], 8.0)
    both, _ = presence.regions(0, np.stack([present, absent]), 8.0)
    assert both is alone
    old = oracle.ColourPresence(oracle.colour_views(rgb))
    assert len(old.regions(0, np.stack([present, absent]), 8.0)[0]) == len(both)
    key = shared.ColourPresence._key(present)
    for tight, loose in ((8.0, 13.0), (13.0, 18.0), (18.0, 26.0)):
        a, b = presence._grown_of(0, key, tight), presence._grown_of(0, key, loose)
        if a is not None and b is not None and b[2][1] == tight:
            assert np.array_equal(a[0], b[0])
