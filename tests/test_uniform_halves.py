"""The half-crest search's shortcuts (vision/logo_match/halves.py, detectors/uniforms.py): each
one against the case it could lose.

- the coarse correlations of a view share its window sums (halves._shared_fit): a black-main
  academy's half crest on a black blazer (in light, in deep shade, under a cast) is found where
  OpenCV's own matchTemplate finds it, with the same score;
- the half templates are made once per reference;
- `_alike` rules a place out with the cheapest test first: the same answers as scoring everything;
- each academy's floor: HALF_PLACED only for the academy the keypoints placed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from screening.config import load_config
from screening.detectors.logos import LogoDetector
from screening.detectors.uniforms import HALF_PLACED, HALF_SURE, HALF_WIDTHS, UniformDetector
from screening.model import Check, CheckResult, FaceFinding, LogoFinding
from screening.vision.logo_match import halves
from screening.vision.logo_match.params import CHROMA_AGREES, SHIFT_CAST, SHIFT_FAR
from screening.vision.logo_match.verify import _chroma_corr, _ncc, _parts
from tests import crests

from .academy_trust import FakePicture

# Two academies whose uniform's main colour is black (as the bench's 50-academy trust has): their
# crests are north's shield, one black and maroon (a star), one black and white (a key).
BLACK_MAROON = ("#111111", "#7a1f2b")
BLACK_WHITE = ("#111111", "#e8e8e8")
STYLES = {
    "avon": replace(crests.PRESETS["north"], field=BLACK_MAROON[0], charge=BLACK_MAROON[1],
                    accent=BLACK_MAROON[1], emblem="star", initials="AV", motto="AV ACADEMY"),
    "tarn": replace(crests.PRESETS["north"], field=BLACK_WHITE[0], charge=BLACK_WHITE[1],
                    accent=BLACK_WHITE[1], emblem="key", initials="TA", motto="TA ACADEMY"),
}
COLOURS = {"avon": BLACK_MAROON, "tarn": BLACK_WHITE, "north": ("#1b2a4a", "#c8a200")}


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    root = tmp_path_factory.mktemp("trust")
    text = 'trust = "Test Trust"\n[consent]\nregister = "r.csv"\nphotos = "p"\n'
    for aid, colours in COLOURS.items():
        (root / "logos" / aid).mkdir(parents=True)
        crest = crests.draw_crest(STYLES[aid], 512) if aid in STYLES else crests.preset(aid, 512)
        crest.save(root / "logos" / aid / "crest.png")
        text += (f'[[academy]]\nid = "{aid}"\nlogos = "logos/{aid}"\n'
                 f'uniform_colours = ["{colours[0]}", "{colours[1]}"]\n')
    (root / "screening.toml").write_text(text, encoding="utf-8")
    config = load_config(root / "screening.toml")
    return config, LogoDetector(config, cache=root / "cache")


def _refs(trust, aid):
    return [r for r in trust[1].references if r.academy == aid]


def _black_blazer(seed: int = 0) -> np.ndarray:
    """A black blazer's torso (its weave and shade), 300 x 280."""
    rng = np.random.default_rng(seed)
    shade = np.linspace(0.8, 1.15, 280)[None, :, None]
    cloth = np.full((300, 280, 3), 17.0) * shade + rng.normal(0, 3, (300, 280, 1))
    return np.clip(cloth, 0, 255).astype(np.uint8)


def _with_half(cloth: np.ndarray, aid: str, side: str, width: int = 120, light: float = 1.0,
               gains=(1.0, 1.0, 1.0)) -> np.ndarray:
    """The cloth with the academy's crest worn `width` px wide, cut by the frame so only its
    `side` half is in view (the cloth cut at the crest's middle), in `light` (0.5: deep shade)
    under a colour cast of `gains`, as a JPEG would save it."""
    style = STYLES[aid] if aid in STYLES else crests.PRESETS[aid]
    crest = np.asarray(crests.draw_crest(style, width))
    out = cloth.copy()
    y0 = 60
    x0 = 20 if side == "right" else out.shape[1] - 20 - width
    a = crest[..., 3:4].astype(np.float32) / 255
    region = out[y0:y0 + width, x0:x0 + width].astype(np.float32)
    out[y0:y0 + width, x0:x0 + width] = (region * (1 - a) + crest[..., :3] * a).round().astype(np.uint8)
    cut = x0 + width // 2
    out = out[:, cut:] if side == "right" else out[:, :cut]
    out = np.clip(out * light * np.float32(gains), 0, 255).round().astype(np.uint8)
    return np.asarray(crests.jpeg(Image.fromarray(out), 85))


@pytest.mark.parametrize("aid,side,light,gains", [
    ("avon", "right", 1.0, (1, 1, 1)), ("avon", "left", 1.0, (1, 1, 1)),
    ("tarn", "right", 1.0, (1, 1, 1)), ("tarn", "left", 1.0, (1, 1, 1)),
    ("avon", "right", 0.5, (1, 1, 1)),  # deep shade: the maroon darkened, as the uniform check knows it
    ("avon", "left", 1.0, (0.85, 1.12, 1.1)),  # a green-blue cast (the bench's strongest)
])
def test_a_half_crest_on_a_black_blazer_of_a_black_main_academy_is_found_as_opencv_finds_it(
        trust, monkeypatch, aid, side, light, gains):
    """The half crest in view on the academy's own black blazer is found by the shared coarse
    correlation, a sure half, at the place and with the score OpenCV's matchTemplate gives it."""
    torso = _with_half(_black_blazer(), aid, side, light=light, gains=gains)
    refs = _refs(trust, aid)
    widths = [120 * f / 0.77 for f in HALF_WIDTHS]  # the crest 0.77 face widths wide, as worn
    shared = halves.find_halves(torso, refs, widths, floor=0.65)
    assert shared and shared[0].score >= HALF_SURE, [(m.side, m.score) for m in shared]
    monkeypatch.setattr(halves, "_shared_fit", lambda view, t: halves._fit(_view_of(view), t))
    opencv = halves.find_halves(torso, refs, widths, floor=0.65)
    assert [(m.side, m.box, m.score) for m in shared] == [(m.side, m.box, m.score) for m in opencv]


def _view_of(corr) -> np.ndarray:
    """The coarse view a small._Correlation was made of (its channels, their means taken out:
    the normalised correlation ignores them)."""
    return corr.flat.reshape(corr.h, corr.w, 3)


def test_the_shared_coarse_fit_is_opencvs_to_rounding():
    """Textured views, a flat one, a flat template: every value within 1e-4 of OpenCV's."""
    import cv2

    from screening.vision.logo_match.small import _Correlation

    rng = np.random.default_rng(3)
    view = cv2.GaussianBlur(rng.normal(100, 30, (120, 140, 3)).astype(np.float32), (5, 5), 1.5)
    view[:40, :50] = 80.0  # a flat patch: no fit there
    for t in (view[60:100, 70:94].copy() * 0.8 + 5, view[10:50, 20:44].copy(), np.full((20, 12, 3), 7, np.float32)):
        ours = halves._shared_fit(_Correlation(view), t)
        theirs = halves._fit(view, t)
        assert ours.shape == theirs.shape
        assert np.abs(ours - theirs).max() < 1e-4


def test_half_templates_are_made_once_per_reference(trust):
    ref = _refs(trust, "north")[0]
    first = halves.half_templates(ref)
    assert halves.half_templates(ref) is first
    for side in halves.SIDES:
        fresh = halves._template(ref, side)
        kept = first[side]
        assert (fresh is None) == (kept is None)
        if fresh is not None:
            assert np.array_equal(fresh.filled, kept.filled) and np.array_equal(fresh.mask, kept.mask)


def _alike_scoring_everything(patch, patch_ab, ref, half, floor):
    """`_alike` as it was before the cheapest tests were put first."""
    mask, ys, xs = half.mask, half.ys, half.xs
    chroma = _chroma_corr(patch_ab[mask], ref.v_ab[ys, xs][mask])
    shift = float(np.linalg.norm(patch_ab[mask].mean(axis=0) - ref.v_ab[ys, xs][mask].mean(axis=0)))
    colour = min(1.0, chroma / CHROMA_AGREES) * float(np.clip((SHIFT_FAR - shift) / (SHIFT_FAR - SHIFT_CAST), 0, 1))
    structure = max(0.0, _ncc(patch[mask], half.pattern[mask]))
    if (0.4 * structure + 0.3 * chroma + 0.3) * colour < floor:
        return None
    parts = _parts(patch, half.pattern, mask.astype(np.uint8))
    return (0.4 * structure + 0.3 * chroma + 0.3 * parts) * colour, structure, chroma, parts


def test_alike_answers_as_scoring_everything(trust):
    """The half itself, under casts and shade, noise, other academies' halves: every answer
    (None or the four scores) the same at every floor."""
    rng = np.random.default_rng(7)
    refs = {aid: _refs(trust, aid)[0] for aid in COLOURS}
    asked = 0
    for ref in refs.values():
        for side, half in halves.half_templates(ref).items():
            if half is None:
                continue
            own = (half.pattern, ref.v_ab[half.ys, half.xs])
            for other in [r for r in refs.values() if r is not ref] + [ref]:  # another academy's half, same layout
                o = halves.half_templates(other)[side]
                if o is not None and o.mask.shape == half.mask.shape:
                    own_other = (o.pattern, other.v_ab[o.ys, o.xs])
                    break
            for k in range(12):
                patch, ab = own if k % 3 else own_other
                gain, cast = rng.uniform(0.5, 1.2), rng.uniform(-45, 45, 2)
                noisy = patch * gain + rng.normal(0, 3 + 6 * (k % 4), patch.shape)
                noisy_ab = ab * gain + cast + rng.normal(0, 2 + 4 * (k % 4), ab.shape)
                for floor in (0.0, 0.5, 0.65, 0.8):
                    new = halves._alike(noisy.astype(np.float32), noisy_ab.astype(np.float32), ref, half, floor)
                    old = _alike_scoring_everything(noisy.astype(np.float32), noisy_ab.astype(np.float32), ref,
                                                    half, floor)
                    assert new == old
                    asked += old is not None
    assert asked  # some places were scored in full, not all ruled out


def test_each_academy_s_half_is_scored_to_its_own_floor(trust, monkeypatch):
    """HALF_PLACED only for the academy whose crest the keypoints placed (below [logos] min_score)
    on the chest; every other academy's half is scored only as far as it can reach HALF_SURE."""
    config, logos = trust
    det = UniformDetector(config, logos)
    asked = {}

    def find_halves(rgb, refs, widths, floor):
        asked.update({r.academy: floor(r) for r in refs})
        return []

    monkeypatch.setattr("screening.detectors.uniforms.find_halves", find_halves)
    rgb = _black_blazer(3)
    weak = LogoFinding("avon", (30, 30, 80, 80), 0.5, "matches avon (9 matching points, appearance 0.50)")
    det._half_crest(rgb, (0, 0, 280, 300), (100, 0, 100, 100), 0, {"avon", "tarn", "north"}, weak)
    assert asked == {"avon": min(HALF_SURE, HALF_PLACED), "tarn": HALF_SURE, "north": HALF_SURE}
    by_colour = LogoFinding("avon", (30, 30, 80, 80), 0.5, "matches avon by colour and shape (appearance 0.50)")
    det._half_crest(rgb, (0, 0, 280, 300), (100, 0, 100, 100), 0, {"avon", "tarn"}, by_colour)
    assert asked["avon"] == HALF_SURE


def test_the_uniform_check_names_a_black_main_academy_by_the_half_of_its_crest_in_view(trust, monkeypatch):
    """Through the whole uniform check: a black blazer of the black-and-maroon academy, its crest
    cut by the frame, the chest search (for the whole crest) finding nothing: the half in view names it."""
    config, logos = trust
    det = UniformDetector(config, logos)
    monkeypatch.setattr(det, "_crest", lambda *a, **k: None)
    face = (80, 0, 100, 100)
    photo = np.zeros((420, 300, 3), np.uint8)
    photo[:] = (180, 190, 200)
    photo[125:425, 40:300] = _black_blazer(4)[:295, :260]
    crest = np.asarray(crests.draw_crest(STYLES["avon"], 77))
    a = crest[..., 3:4].astype(np.float32) / 255
    y0, x0 = 190, 190
    region = photo[y0:y0 + 77, x0:x0 + 77].astype(np.float32)
    photo[y0:y0 + 77, x0:x0 + 77] = (region * (1 - a) + crest[..., :3] * a).round().astype(np.uint8)
    photo = np.asarray(crests.jpeg(Image.fromarray(photo[:, :x0 + 39]), 85))  # the frame cuts the crest
    found = det.detect(FakePicture(Image.fromarray(photo)),
                       {Check.FACES: CheckResult(Check.FACES, (FaceFinding(face),))})
    named = [f for f in found if f.crest_score >= HALF_SURE]
    assert [f.academy for f in named] == ["avon"], [f.detail for f in found]
    assert "crest partly visible (its left half in view)" in named[0].detail


