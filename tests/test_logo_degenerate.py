"""A degenerate affine fit no longer hides the crest's own matches (logo_match.placements, step
"degenerate"; issue 16, crestrecall6).

RANSAC keeps the affine transform most matches agree with. With few matches on a crest (a small
or ring-lettered one: bench 0323, a 118 px badge with 9 matches on it, and 0409, a 124 px badge
turned 30 degrees with 7) a transform collapsing the crest onto a line, which no crest could
have (not sane()), can gather more of them within the 4 px tolerance than the crest's true
placement. It was dropped, its inliers taken out, and what was left of the crest's matches no
longer agreed on anything: the crest had no placement at all. Now the similarity (turn, scale,
shift: it cannot collapse) most matches agree with is proposed instead, as when no affine fit
has enough inliers; the appearance check judges it as any other placement.

The correspondences here are drawn: a crest's matches (a similarity, 2 px of noise) among
clutter, on the bench's ring-lettered badge; the seeds are those of 3000 in which the plain fit
collapsed onto the crest (bench/logo_findings.py measures the step on the bench: docs/academies.md).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from screening.vision import logo_match as lm
from screening.vision.geometry import iou
from tests import crests

SIZE = (1400, 1000)
COLLAPSED = (144, 329, 1178, 2875)  # seeds whose plain affine fit is not sane and takes the crest's matches


@pytest.fixture(scope="module")
def ref() -> lm.Reference:
    return lm.make_reference("badge", "crest.png", np.asarray(crests.draw_other("badge", 41).convert("RGB")), False)


def _scene(ref: lm.Reference, seed: int):
    """(reference points, photo points, the crest's box): 6-9 matches of a crest 60-130 px across,
    turned up to 30 degrees, with 2 px of noise, among 4-15 matches of clutter."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 10))
    px, turn = rng.uniform(60, 130), np.deg2rad(rng.uniform(-30, 30))
    s = px / ref.size[0]
    rot = s * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    shift = rng.uniform([200, 200], [SIZE[0] - 200, SIZE[1] - 200])
    src = rng.uniform(20, ref.size[0] - 20, (n, 2)).astype(np.float32)
    dst = (src @ rot.T + shift + rng.normal(0, 2.0, (n, 2))).astype(np.float32)
    m = int(rng.integers(4, 16))
    src = np.vstack([src, rng.uniform(0, ref.size[0], (m, 2)).astype(np.float32)])
    dst = np.vstack([dst, rng.uniform([0, 0], SIZE, (m, 2)).astype(np.float32)])
    truth = lm.Placement(ref, np.vstack([np.hstack([rot, shift[:, None]]), [0, 0, 1]]), n, "features")
    return src, dst, truth.crest_box(), n


def _on_crest(ref, src, dst, box, degenerate: bool) -> list[lm.Placement]:
    found = lm.placements(ref, src, dst, SIZE, few_inliers=3, degenerate=degenerate)
    return [p for p in found if iou(p.crest_box(), box) >= 0.5]


@pytest.mark.parametrize("seed", COLLAPSED)
def test_a_crest_whose_plain_fit_collapses_is_placed_by_the_similarity(ref, seed):
    src, dst, box, n = _scene(ref, seed)
    A, inl = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0, maxIters=2000,
                                  confidence=0.995)
    # the trap: the fit with the most inliers is no placement a crest could have, and takes crest matches
    assert not lm.sane(np.vstack([A, [0, 0, 1]]), ref.size, SIZE)
    assert inl.ravel()[:n].sum() >= 2
    assert not _on_crest(ref, src, dst, box, degenerate=False)  # what it cost: no placement on the crest
    placed = _on_crest(ref, src, dst, box, degenerate=True)
    assert placed and all(lm.sane(p.H, ref.size, SIZE) for p in placed)
    assert max(p.inliers for p in placed) >= 3


def test_where_the_plain_fit_is_sane_the_step_changes_nothing(ref):
    checked = 0
    for seed in range(40):
        if seed in COLLAPSED:
            continue
        src, dst, _, _ = _scene(ref, seed)
        A, _ = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0, maxIters=2000,
                                    confidence=0.995)
        if A is None or not lm.sane(np.vstack([A, [0, 0, 1]]), ref.size, SIZE):
            continue
        plain = lm.placements(ref, src, dst, SIZE, few_inliers=3)
        step = lm.placements(ref, src, dst, SIZE, few_inliers=3, degenerate=True)
        assert [(p.inliers, p.H.tolist()) for p in plain] == [(p.inliers, p.H.tolist()) for p in step]
        checked += 1
    assert checked >= 20


def test_without_few_inliers_the_step_asks_nothing(ref, monkeypatch):
    """The similarity is a rough placement only where rough placements are asked for (few_inliers)."""
    from screening.vision.logo_match import index

    asked = []
    monkeypatch.setattr(index, "_similarity", lambda *a: asked.append(a) or (None, None))
    src, dst, _, _ = _scene(ref, COLLAPSED[0])
    step = lm.placements(ref, src, dst, SIZE, degenerate=True)
    assert not asked
    assert [(p.inliers, p.H.tolist()) for p in step] == \
        [(p.inliers, p.H.tolist()) for p in lm.placements(ref, src, dst, SIZE)]
    lm.placements(ref, src, dst, SIZE, few_inliers=3, degenerate=True)
    assert asked  # with few_inliers, this scene's collapsed fit asks for the similarity


# Drawn photos searched by the whole check, with the bench's 11 academies (bench/make_logo_set.py's
# drawings). ASKED: (case, kind, academy) whose search met a collapsed fit and proposed the
# similarity: a crest stays found and alone, another school's crest (decoy) stays unflagged.
ASKED = [(2, "crest", "east"), (3, "decoy", "flat"), (4, "crest", "s101"), (11, "crest", "north"),
         (12, "decoy", "south"), (13, "crest", "east"), (16, "crest", "s202")]
# A small ring-lettered badge still missed (on the public-domain camera photo, 1400 px).
MISSED = [("camera", 1400, 43.6, 30, 0.15, 1.08, (0.698, 0.734), 85)]
CAMERA = "samples/public-domain"


@pytest.fixture(scope="module")
def bench_trust(tmp_path_factory):
    import sys
    from pathlib import Path

    from screening.config import load_config
    from screening.detectors.logos import LogoDetector

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import make_logo_set as M

    root = tmp_path_factory.mktemp("degenerate")
    body = 'trust = "T"\n[consent]\nregister = "r.csv"\nphotos = "p"\n'
    for aid in [*M.ACADEMIES, *M.OTHER]:
        (root / "logos" / aid).mkdir(parents=True)
        drawn = (crests.draw_crest(M.ACADEMIES[aid][0], 512) if aid in M.ACADEMIES else
                 crests.embroidered(crests.style_from_seed(M.OTHER[aid][1], simple=False), seed=M.OTHER[aid][1])
                 if aid == "embroidered" else crests.draw_other(*M.OTHER[aid]))
        drawn.save(root / "logos" / aid / "crest.png")
        body += f'[[academy]]\nid = "{aid}"\nname = "{aid} Academy"\nlogos = "logos/{aid}"\n'
    (root / "screening.toml").write_text(body, encoding="utf-8")
    return LogoDetector(load_config(root / "screening.toml"), cache=root / "cache"), root, M


def _photo(name: str, side: int):
    from pathlib import Path

    from PIL import Image

    return Image.open(Path(__file__).resolve().parents[1] / CAMERA / f"{name}.png").convert("RGB").resize((side, side))


def _drawn_case(k: int, root, M):
    """Case k: a crest of academy k (or, every third, another school's crest like it) 5-10% of the
    width, turned 0-30 degrees, tilted, shaded, on a generated scene or a public-domain photo,
    a cast now and then, JPEG 70-90."""
    import random

    from PIL import Image

    from .academy_trust import backdrop

    rng = random.Random(k)
    ids = [*M.ACADEMIES, *M.OTHER]
    aid = ids[k % len(ids)]
    if k % 3:
        crest = Image.open(root / "logos" / aid / "crest.png").convert("RGBA")
    elif aid in M.ACADEMIES:
        crest = crests.draw_crest(crests.decoy_of(M.ACADEMIES[aid][0], seed=7000 + k, keep_colours=k % 2 == 0), 512)
    else:
        crest = crests.draw_other(crests.OTHER_STYLES[k % 3], 7000 + k)
    src, w = rng.choice(["bd", "bd", "camera", "astronaut"]), rng.choice([600, 800, 1000, 1400, 2000])
    im = backdrop(k, (w, round(w * rng.choice([0.66, 0.75])))) if src == "bd" else _photo(src, w)
    frac = rng.uniform(0.05, 0.10)
    angle = rng.choice([0, 5, 10, 15, 30]) * rng.choice([-1, 1])
    tilt, shade = rng.choice([0.0, 0.05, 0.1, 0.15, 0.25]), round(rng.uniform(0.75, 1.1), 2)
    crests.composite(im, crest, width_frac=frac, centre=(rng.uniform(0.2, 0.8), rng.uniform(0.25, 0.75)),
                     angle=angle, tilt=tilt, shade=shade, occlude=0, seed=k, yaw=0)
    if rng.random() < 0.4:
        im = crests.colour_cast(im, tuple(round(rng.uniform(0.8, 1.15), 2) for _ in range(3)))
    return crests.jpeg(im, rng.choice([70, 80, 90]))


def _named(detector, im) -> set[str]:
    from screening.config import LogoSettings

    from .academy_trust import FakePicture

    found = detector.detect(FakePicture(im), {})
    return {a for f in found if f.score >= LogoSettings().min_score for a in (f.academy, *f.also)}


@pytest.mark.slow
@pytest.mark.parametrize("k, kind, academy", ASKED)
def test_a_drawn_photo_whose_search_met_a_collapsed_fit_is_answered_right(bench_trust, k, kind, academy,
                                                                          monkeypatch):
    from screening.vision.logo_match import index

    detector, root, M = bench_trust
    asked, similarity = [], index._similarity
    monkeypatch.setattr(index, "_similarity", lambda *a: asked.append(1) or similarity(*a))
    named = _named(detector, _drawn_case(k, root, M))
    assert asked  # the case goes through the step
    assert named == ({academy} if kind == "crest" else set())


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 16: a ring-lettered badge 44 px across turned 30 degrees: no "
                   "placement on it, collapsed or not, and no small-crest window finds it")
@pytest.mark.parametrize("src, side, px, angle, tilt, shade, centre, quality", MISSED)
def test_a_small_drawn_badge_missed_today(bench_trust, src, side, px, angle, tilt, shade, centre, quality):
    from PIL import Image

    detector, root, _ = bench_trust
    im = _photo(src, side)
    crests.composite(im, Image.open(root / "logos" / "badge" / "crest.png").convert("RGBA"), width_frac=px / side,
                     centre=centre, angle=angle, tilt=tilt, shade=shade, occlude=0, seed=0, yaw=0)
    assert "badge" in _named(detector, crests.jpeg(im, quality))
