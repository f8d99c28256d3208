"""The appearance check, the naming vote and the index's bookkeeping keep the reference's side of their
work (issue 16, verifycost): they answer exactly as before, which tests/logo_oracle.py keeps as it
was. Compared value for value on placements of all kinds (whole, cut by the frame, off, wrong
colours, achromatic), and finding for finding on generated trusts of 1, 10 and 50 academies (48 of
them on one layout), and on the bench's photos when bench/out/logo_set is there."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from screening.detectors.logos import LogoDetector
from screening.vision import logo_match as lm
from tests import crests
from tests import logo_oracle as old
from tests.logo_oracle_run import differences, findings, verify as verify_module

from .academy_trust import backdrop, make_trust

FIELDS = ("appearance", "structure", "chroma", "support", "shift", "parts", "visible", "score", "inliers")
BENCH = Path(__file__).resolve().parents[1] / "bench" / "out" / "logo_set"


@pytest.fixture(scope="module")
def refs():
    family = crests.template_family(3, "north", seed=3)
    out = [lm.make_reference("north", "c.png", np.asarray(crests.preset("north", 512)), False),
           lm.make_reference("south", "c.png", np.asarray(crests.preset("south", 512)), False),
           lm.make_reference("thread", "c.png", np.asarray(crests.embroidered("north", seed=2)), False)]
    out += [lm.make_reference(f"f{k}", "c.png", np.asarray(crests.draw_crest(s, 512)), False)
            for k, s in enumerate(family)]
    return out


def _photo_with(ref: lm.Reference, H: np.ndarray, seed: int) -> np.ndarray:
    """A backdrop with the reference's crest drawn in by H (reference pixels -> photo pixels)."""
    photo = np.asarray(backdrop(seed, (700, 500))).copy()
    crest = cv2.warpPerspective(ref.rgb, H, (700, 500), flags=cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(ref.mask, H, (700, 500), flags=cv2.INTER_NEAREST) > 0
    photo[inside] = crest[inside]
    return np.asarray(crests.jpeg(Image.fromarray(photo), 80))


def _placements(ref: lm.Reference, rng: np.random.Generator) -> list[np.ndarray]:
    """Placements near and far from where the crest is (scale 0.6, at 200, 120), some cut by the frame."""
    base = np.array([[0.6, 0.0, 200.0], [0.0, 0.6, 120.0], [0.0, 0.0, 1.0]])
    out = [base]
    for _ in range(10):
        jitter = np.eye(3) + np.array([[rng.normal(0, 0.03), rng.normal(0, 0.03), rng.normal(0, 6)],
                                       [rng.normal(0, 0.03), rng.normal(0, 0.03), rng.normal(0, 6)],
                                       [rng.normal(0, 2e-5), rng.normal(0, 2e-5), 0.0]])
        out.append(base @ jitter)
    out.append(base + np.array([[0, 0, 400.0], [0, 0, 300.0], [0, 0, 0]]))  # mostly below the frame
    out.append(base + np.array([[0, 0, -160.0], [0, 0, 0], [0, 0, 0]]))  # cut by the left edge
    out.append(base + np.array([[0, 0, 420.0], [0, 0, -100.0], [0, 0, 0]]))  # elsewhere, cut at the top
    return out


def _as_tuple(p: lm.Placement) -> tuple:
    return tuple(getattr(p, f) for f in FIELDS)


def test_the_appearance_check_answers_as_the_oracle_on_every_kind_of_placement(refs):
    rng = np.random.default_rng(16)
    compared = reached_pattern = cut = 0
    for k, shown in enumerate(refs):
        photo = _photo_with(shown, np.array([[0.6, 0, 200], [0, 0.6, 120], [0, 0, 1.0]]), k)
        grey, ab = lm.appearance_channels(photo)
        for ref in refs:  # the crest shown, and every other academy's at its place (other colours)
            for H in _placements(ref, rng):
                for source in ("features", "colour-shape"):
                    for enough in (0.0, 0.25, 0.43):
                        a = old.verify(lm.Placement(ref, H.copy(), 12, source), grey, ab, enough)
                        b = verify_module.verify(lm.Placement(ref, H.copy(), 12, source), grey, ab, enough)
                        assert _as_tuple(a) == _as_tuple(b), (ref.academy, shown.academy, H, source, enough)
                        compared += 1
                        reached_pattern += a.structure > 0
                        cut += a.visible < 1.0
    assert compared > 1000 and reached_pattern > 50 and cut > 50  # every path of verify() was taken


def test_the_split_colour_pattern_and_parts_measures_answer_as_before():
    rng = np.random.default_rng(3)
    for n in (1, 2, 50, 3000):
        q, r = rng.normal(0, 20, (n, 2)).astype(np.float32), rng.normal(0, 20, (n, 2)).astype(np.float32)
        assert verify_module._chroma_corr(q, r) == old._chroma_corr(q, r)
        assert verify_module._chroma_corr(q, r * 0.05) == old._chroma_corr(q, r * 0.05)  # achromatic
        q3, r3 = rng.normal(0, 20, (n, 3)).astype(np.float32), rng.normal(0, 20, (n, 3)).astype(np.float32)
        assert verify_module._ncc(q3, r3) == old._ncc(q3, r3)
        assert verify_module._ncc(q3, np.zeros_like(r3)) == old._ncc(q3, np.zeros_like(r3)) == 0.0
    g, r = rng.normal(0, 20, (96, 80, 3)).astype(np.float32), rng.normal(0, 20, (96, 80, 3)).astype(np.float32)
    r[:32, :26] = 5.0  # a plain part
    mask = (rng.random((96, 80)) > 0.2).astype(np.uint8)
    mask[64:, 53:] = 0  # a part mostly outside the crest
    assert verify_module._parts(g, r, mask) == old._parts(g, r, mask)
    assert verify_module._parts(r, r, mask) == old._parts(r, r, mask) == 1.0


def test_the_naming_vote_answers_as_before_and_again_from_its_memo(refs):
    family = [r for r in refs if r.academy in ("north", "f0", "f1", "f2")]
    rng = np.random.default_rng(5)
    for k, shown in enumerate(family):
        photo = _photo_with(shown, np.array([[0.5, 0, 150], [0, 0.5, 90], [0, 0, 1.0]]), 20 + k)
        grey, ab = lm.appearance_channels(photo)
        p = lm.Placement(shown, np.array([[0.5, 0, 150], [0, 0.5, 90], [0, 0, 1.0]]), 20, "features")
        view = lm.identity.view_of(p, grey, ab)
        noisy = view + rng.normal(0, 4, view.shape).astype(np.float32)
        for a in family:
            for b in family + [refs[1]]:  # south: another layout, another view size
                if a.v_mask.shape != b.v_mask.shape:
                    continue
                for v in (view, noisy):
                    assert lm.identity.vote(v, a, b) == old.vote(v, a, b)
                    assert lm.identity.vote(v, a, b) == old.vote(v, a, b)  # from the memo
    twin = lm.make_reference("twin", "c.png", np.asarray(crests.preset("north", 512)), False)
    assert lm.identity.vote(view, family[0], twin) == old.vote(view, family[0], twin) == 0.5


def test_the_index_bookkeeping_answers_as_before(refs):
    index = lm.ReferenceIndex(refs)
    wanted = list(range(len(refs)))
    for k, shown in enumerate(refs):
        photo = _photo_with(shown, np.array([[0.7, 0.05, 150], [-0.05, 0.7, 60], [0, 0, 1.0]]), 40 + k)
        image = lm.image_features(photo, index.channels_of(refs))
        for want in (wanted, wanted[::2], [k]):
            a, b = old.match(index, image, want), index.match(image, want)
            assert a.keys() == b.keys()
            for i in a:
                for x, y in zip(a[i], b[i]):
                    assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)
            assert sum(len(a[i][0]) for i in a) > 0


@pytest.fixture(scope="module")
def trust50(tmp_path_factory):
    """North, south and 48 academies sharing north's shield, each in its own colours, initials, emblem."""
    root = tmp_path_factory.mktemp("trust50")
    text = make_trust(root).path.read_text(encoding="utf-8")
    family = crests.template_family(48, "north", seed=7)
    for k, style in enumerate(family):
        (root / "logos" / f"f{k}").mkdir(parents=True)
        crests.draw_crest(style, 512).save(root / "logos" / f"f{k}" / "crest.png")
        text += f'[[academy]]\nid = "f{k}"\nlogos = "logos/f{k}"\n'
    (root / "screening.toml").write_text(text, encoding="utf-8")
    from screening.config import load_config

    return load_config(root / "screening.toml"), family, root / "cache"


def _trust_photos(family) -> list[np.ndarray]:
    out = []
    for k, (crest, kw) in enumerate([
            (crests.preset("north", 512), dict(width_frac=0.2, centre=(0.5, 0.45), angle=-6, tilt=0.1)),
            (crests.draw_crest(family[3], 512), dict(width_frac=0.22, centre=(0.4, 0.5), angle=4)),
            (crests.draw_crest(family[30], 512), dict(width_frac=0.18, centre=(0.6, 0.4), tilt=0.15)),
            (crests.draw_crest(family[8], 512), dict(width_frac=0.07, centre=(0.3, 0.6))),  # small
            (crests.preset("south", 512), dict(width_frac=0.25, centre=(0.97, 0.5))),  # cut by the frame
            (crests.draw_crest(crests.decoy_of(crests.PRESETS["north"], 5), 512), dict(width_frac=0.2))]):
        img = backdrop(60 + k)
        crests.composite(img, crest, seed=k, **kw)
        out.append(np.asarray(crests.jpeg(img, 85)))
    out.append(np.asarray(backdrop(70)))  # no crest
    return out


@pytest.mark.parametrize("size", [1, 10, 50])
def test_findings_on_generated_trusts_are_those_of_the_oracle(trust50, size):
    config, family, cache = trust50
    detector = LogoDetector(dataclasses.replace(config, academies=config.academies[:size]), cache=cache)
    found = 0
    for rgb in _trust_photos(family):
        before, now = findings(detector, rgb, oracle=True), findings(detector, rgb, oracle=False)
        assert not differences(before, now), differences(before, now)
        found += len(now)
    assert found >= (1 if size == 1 else 3)  # the comparison is not of empty lists


@pytest.mark.skipif(not (BENCH / "truth.jsonl").is_file(), reason="bench/out/logo_set not built")
@pytest.mark.parametrize("size", [1, 10, 51])
def test_findings_on_bench_photos_are_those_of_the_oracle(size):
    from screening.config import load_config

    rows = [json.loads(line) for line in open(BENCH / "truth.jsonl", encoding="utf-8")]
    chosen = [r for kind in ("family_crest", "crest", "decoy", "blazer_crest_cut")
              for r in [r for r in rows if r["kind"] == kind][:2]]
    big = load_config(BENCH / "trust50.toml")
    detector = LogoDetector(dataclasses.replace(big, academies=big.academies[:size]), cache=BENCH / "cache")
    for row in chosen:
        rgb = np.asarray(Image.open(BENCH / "cases" / row["file"]).convert("RGB"))
        before, now = findings(detector, rgb, oracle=True), findings(detector, rgb, oracle=False)
        assert not differences(before, now), (row["file"], differences(before, now))
