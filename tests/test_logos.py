"""Academy crests are found in photos at the issue's standard cases; other crests are not."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from PIL import Image

from screening.config import LogoSettings
from screening.detectors.logos import LogoDetector, LogoReferenceError
from screening.model import Check, CheckResult, Kind, Status
from screening.policy import Rules, decide
from screening.vision import logo_match
from tests import crests

from .academy_trust import FakePicture, backdrop, make_trust

MIN_SCORE = LogoSettings().min_score


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    return make_trust(tmp_path_factory.mktemp("trust"))


@pytest.fixture(scope="module")
def detector(trust, tmp_path_factory):
    return LogoDetector(trust, cache=tmp_path_factory.mktemp("cache"))


def photo(name: str, public_domain) -> Image.Image:
    if name.startswith("backdrop"):
        return backdrop(int(name[-1]))
    return Image.open(public_domain / name).convert("RGB")


def flagged(detector, image: Image.Image) -> dict[str, float]:
    """academy -> best score among the findings decide() would count (every academy a finding
    names, the ones it cannot tell apart from its academy included)."""
    best: dict[str, float] = {}
    for f in detector.detect(FakePicture(image), {}):
        if f.score >= MIN_SCORE:
            for academy in (f.academy, *f.also):
                best[academy] = max(best.get(academy, 0.0), f.score)
    return best


STANDARD = [  # (background, academy, width_frac, angle, tilt, jpeg quality)
    ("camera.png", "north", 0.10, 0, 0.0, 90),
    ("camera.png", "south", 0.12, -15, 0.1, 70),
    ("astronaut.png", "north", 0.20, 15, 0.1, 75),
    ("astronaut.png", "south", 0.35, 8, 0.15, 70),
    ("backdrop1", "north", 0.15, -10, 0.15, 70),
    ("backdrop2", "south", 0.50, 12, 0.05, 80),
]


@pytest.mark.parametrize("background,academy,width,angle,tilt,quality", STANDARD)
def test_standard_crest_is_found_with_its_academy_and_box(detector, public_domain, background, academy,
                                                          width, angle, tilt, quality):
    img = photo(background, public_domain)
    box = crests.composite(img, crests.preset(academy, 512), width_frac=width, centre=(0.6, 0.45),
                           angle=angle, tilt=tilt, seed=3)
    img = crests.jpeg(img, quality)
    findings = [f for f in detector.detect(FakePicture(img), {}) if f.score >= MIN_SCORE]
    assert [f.academy for f in findings] == [academy]
    fx, fy, fw, fh = findings[0].box
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    assert fx <= cx <= fx + fw and fy <= cy <= fy + fh
    assert 0.6 < fw / box[2] < 1.4


def test_crest_under_a_warm_colour_cast_is_found(detector, public_domain):
    img = photo("camera.png", public_domain)
    crests.composite(img, crests.preset("north", 512), width_frac=0.18, centre=(0.3, 0.6), angle=-6, seed=5)
    img = crests.jpeg(crests.colour_cast(img, (1.15, 1.0, 0.8)), 80)
    assert set(flagged(detector, img)) == {"north"}


def test_partly_occluded_large_crest_is_found(detector, public_domain):
    img = photo("astronaut.png", public_domain)
    crests.composite(img, crests.preset("south", 512), width_frac=0.3, centre=(0.5, 0.6), occlude=0.2, seed=6)
    assert set(flagged(detector, crests.jpeg(img, 85))) == {"south"}


@pytest.mark.parametrize("seed", range(4))
def test_decoy_of_the_same_shield_shape_is_not_flagged(detector, public_domain, seed):
    img = photo("camera.png" if seed % 2 else "backdrop3", public_domain)
    decoy = crests.draw_crest(crests.decoy_of(crests.PRESETS["north"], seed, keep_colours=seed >= 2), 512)
    crests.composite(img, decoy, width_frac=0.15 + 0.1 * seed, centre=(0.5, 0.5), angle=5 * seed, seed=seed)
    assert flagged(detector, crests.jpeg(img, 80)) == {}


def test_preset_decoy_and_random_badges_are_not_flagged(detector, public_domain):
    img = photo("astronaut.png", public_domain)
    crests.composite(img, crests.preset("decoy", 512), width_frac=0.25, centre=(0.3, 0.35), angle=-5, seed=4)
    for seed, centre in ((11, (0.75, 0.3)), (12, (0.75, 0.75))):
        crests.composite(img, crests.draw_crest(seed, 512), width_frac=0.18, centre=centre, seed=seed)
    assert flagged(detector, crests.jpeg(img, 85)) == {}


@pytest.mark.parametrize("background", ["camera.png", "astronaut.png", "backdrop1", "backdrop4"])
def test_clean_photo_is_not_flagged(detector, public_domain, background):
    assert flagged(detector, photo(background, public_domain)) == {}


def test_two_academies_crests_in_one_photo_are_both_found(detector):
    img = backdrop(5, (1200, 700))
    crests.composite(img, crests.preset("north", 512), width_frac=0.2, centre=(0.25, 0.45), seed=1)
    crests.composite(img, crests.preset("south", 512), width_frac=0.2, centre=(0.75, 0.45), angle=10, seed=2)
    assert set(flagged(detector, crests.jpeg(img, 85))) == {"north", "south"}


def test_found_crest_becomes_a_logo_reason_naming_the_academy(detector, public_domain):
    img = photo("camera.png", public_domain)
    crests.composite(img, crests.preset("south", 512), width_frac=0.2, centre=(0.7, 0.3), seed=2)
    findings = detector.detect(FakePicture(img), {})
    rules = Rules(channel="website", today=dt.date(2026, 11, 24), logo_min_score=MIN_SCORE,
                  academy_names={"south": "St Aidan's Academy"}, required=(Check.LOGOS,))
    decision = decide([CheckResult(Check.LOGOS, tuple(findings))], rules)
    assert decision.status is Status.NEEDS_PERMISSION
    assert [r.kind for r in decision.reasons] == [Kind.LOGO]
    assert decision.reasons[0].detail.startswith("St Aidan's Academy logo")


def test_chest_search_finds_a_small_crest_that_the_whole_photo_search_may_miss(detector):
    img = backdrop(6, (1600, 1200))
    box = crests.composite(img, crests.preset("north", 512), width_frac=0.04, centre=(0.5, 0.5), seed=1)
    rgb = np.asarray(img)
    region = (box[0] - 60, box[1] - 60, box[2] + 120, box[3] + 120)
    found = detector.search(rgb, region, academies={"north"}, max_side=480, max_zoom=4)
    assert any(f.academy == "north" and f.score >= MIN_SCORE for f in found)
    f = max(found, key=lambda f: f.score)
    assert abs(f.box[0] - box[0]) < 10 and abs(f.box[1] - box[1]) < 10


def test_reference_features_are_cached_by_content_and_reused(trust, tmp_path, monkeypatch):
    LogoDetector(trust, cache=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 2

    def boom(*args, **kwargs):
        raise AssertionError("features recomputed despite the cache")

    monkeypatch.setattr(logo_match, "make_reference", boom)
    again = LogoDetector(trust, cache=tmp_path)
    assert sorted(r.academy for r in again.references) == ["north", "south"]


def test_unreadable_reference_image_is_an_error_naming_the_file(tmp_path):
    trust = make_trust(tmp_path)
    bad = tmp_path / "logos" / "north" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(LogoReferenceError, match="broken.png"):
        LogoDetector(trust, cache=tmp_path / "cache")


def test_logo_on_a_plain_white_background_is_cut_out_as_reference(tmp_path):
    trust = make_trust(tmp_path)
    flat = Image.new("RGB", (600, 600), (255, 255, 255))
    crest = crests.preset("north", 512)
    flat.paste(crest, (44, 44), crest)
    for old in (tmp_path / "logos" / "north").iterdir():
        old.unlink()
    flat.save(tmp_path / "logos" / "north" / "crest.jpg", quality=92)
    trust = dataclasses.replace(trust)
    det = LogoDetector(trust, cache=tmp_path / "cache")
    ref = next(r for r in det.references if r.academy == "north")
    assert 0.4 < (ref.mask > 0).mean() < 0.95  # the white around the crest is not the crest
    img = backdrop(7)
    crests.composite(img, crest, width_frac=0.2, centre=(0.4, 0.5), angle=7, seed=1)
    assert "north" in flagged(det, crests.jpeg(img, 80))


@pytest.fixture(scope="module")
def flat_detector(tmp_path_factory):
    """A trust whose only academy has the flat two-colour shield (red and gold halves, nothing else)."""
    root = tmp_path_factory.mktemp("flat")
    (root / "logos").mkdir()
    crests.preset("flat", 512).save(root / "logos" / "crest.png")
    (root / "screening.toml").write_text('trust = "T"\n[consent]\nregister = "r.csv"\nphotos = "p"\n'
                                         '[[academy]]\nid = "flat"\nlogos = "logos"\n', encoding="utf-8")
    from screening.config import load_config

    return LogoDetector(load_config(root / "screening.toml"), cache=root / "cache")


def test_flat_crest_whose_gold_half_melts_into_a_gold_wall_is_found_by_its_red_half(flat_detector):
    gold = np.array(Image.new("RGB", (1, 1), "#f2d16b"))[0, 0]
    wall = np.clip(gold * np.random.default_rng(1).normal(1.0, 0.04, (700, 1000, 1)), 0, 255).astype(np.uint8)
    img = Image.fromarray(wall)
    crests.composite(img, crests.preset("flat", 512), width_frac=0.2, centre=(0.5, 0.5), angle=-8, tilt=0.1,
                     seed=2)
    assert set(flagged(flat_detector, crests.jpeg(img, 85))) == {"flat"}


def test_flat_crest_under_perspective_beside_skin_is_found(flat_detector, public_domain):
    img = photo("astronaut.png", public_domain)
    crests.composite(img, crests.preset("flat", 512), width_frac=0.18, centre=(0.45, 0.3), angle=0, tilt=0.15,
                     shade=0.8, seed=7)
    assert set(flagged(flat_detector, crests.jpeg(img, 90))) == {"flat"}


def test_same_layout_in_other_colours_is_not_flagged(detector, public_domain):
    """Another school's crest drawn exactly like north's, but in its own colours."""
    other = dataclasses.replace(crests.PRESETS["north"], field="#e07b00", charge="#111111", accent="#111111")
    img = photo("camera.png", public_domain)
    crests.composite(img, crests.draw_crest(other, 512), width_frac=0.25, centre=(0.5, 0.5), angle=5, seed=3)
    assert flagged(detector, crests.jpeg(img, 85)) == {}


def test_placement_proposed_by_colour_and_outline_alone_needs_more_agreement():
    ref = logo_match.make_reference("north", "crest.png", np.asarray(crests.preset("north", 512)))
    rgb = np.asarray(crests.preset("north", 512).convert("RGB"))
    grey, ab = logo_match.appearance_channels(rgb)
    H = np.diag([512 / ref.size[0], 512 / ref.size[1], 1.0])
    by_features = logo_match.verify(logo_match.Placement(ref, H, 20, "features"), grey, ab)
    by_outline = logo_match.verify(logo_match.Placement(ref, H, 0, "colour-shape"), grey, ab)
    assert by_features.appearance == pytest.approx(by_outline.appearance)
    assert by_outline.score == pytest.approx(by_features.score - logo_match.UNMATCHED_PENALTY)


def test_same_photo_gets_the_same_findings_whatever_ran_before(detector, public_domain):
    img = photo("camera.png", public_domain)
    crests.composite(img, crests.preset("south", 512), width_frac=0.15, centre=(0.4, 0.5), angle=7, seed=9)
    picture = FakePicture(crests.jpeg(img, 80))
    first = detector.detect(picture, {})
    detector.detect(FakePicture(backdrop(3)), {})  # other work moves OpenCV's random state on
    assert detector.detect(picture, {}) == first
    assert first


@pytest.fixture(scope="module")
def family_trust(tmp_path_factory):
    """North, south and six academies sharing north's shield, each in its own colours, initials, emblem."""
    root = tmp_path_factory.mktemp("family")
    text = make_trust(root).path.read_text(encoding="utf-8")
    family = crests.template_family(6, "north", seed=3)
    for k, style in enumerate(family):
        (root / "logos" / f"f{k}").mkdir(parents=True)
        crests.draw_crest(style, 512).save(root / "logos" / f"f{k}" / "crest.png")
        text += f'[[academy]]\nid = "f{k}"\nlogos = "logos/f{k}"\n'
    (root / "screening.toml").write_text(text, encoding="utf-8")
    from screening.config import load_config

    return load_config(root / "screening.toml"), family


@pytest.fixture(scope="module")
def family_detector(family_trust, tmp_path_factory):
    return LogoDetector(family_trust[0], cache=tmp_path_factory.mktemp("family-cache"))


@pytest.mark.parametrize("which", ["north", 0, 3, 5])
def test_academies_sharing_one_crest_layout_only_the_right_one_is_named(family_trust, family_detector,
                                                                         public_domain, which):
    style = crests.PRESETS["north"] if which == "north" else family_trust[1][which]
    academy = "north" if which == "north" else f"f{which}"
    img = photo("camera.png" if which in ("north", 3) else "backdrop2", public_domain)
    crests.composite(img, crests.draw_crest(style, 512), width_frac=0.2, centre=(0.55, 0.45), angle=-6,
                     tilt=0.1, seed=4)
    assert set(flagged(family_detector, crests.jpeg(img, 85))) == {academy}


def test_references_whose_colours_never_meet_in_the_photo_are_not_searched(detector, monkeypatch):
    wall = np.random.default_rng(8).normal(60, 6, (600, 900, 3))  # a dark grey wall
    img = Image.fromarray(np.clip(wall, 0, 255).astype(np.uint8))
    crests.composite(img, crests.preset("north", 512), width_frac=0.2, centre=(0.5, 0.5), seed=1)
    searched = []
    real = logo_match.ReferenceIndex.match

    def spy(self, image, wanted):
        searched.extend(self.refs[i].academy for i in wanted)
        return real(self, image, wanted)

    monkeypatch.setattr(logo_match.ReferenceIndex, "match", spy)
    assert set(flagged(detector, crests.jpeg(img, 85))) == {"north"}
    assert searched == ["north"]  # south's maroon and white are nowhere side by side in this photo


def test_crest_cut_by_the_frame_is_found_and_said_to_be_partly_visible(detector, public_domain):
    img = photo("camera.png", public_domain)
    box = crests.composite(img, crests.preset("south", 512), width_frac=0.25, centre=(0.5, 0.5), seed=2)
    cut = img.crop((0, 0, box[0] + int(box[2] * 0.6), img.height))
    findings = [f for f in detector.detect(FakePicture(crests.jpeg(cut, 85)), {}) if f.score >= MIN_SCORE]
    assert [f.academy for f in findings] == ["south"]
    assert "crest partly visible" in findings[0].detail


def test_one_academy_per_place_chosen_by_colour_keeps_the_best_score_of_the_place():
    from screening.detectors.logos import _best_per_place

    crest = np.asarray(crests.preset("north", 512))
    north = logo_match.make_reference("north", "crest.png", crest, multiscale=False)
    other = logo_match.make_reference("other", "crest.png", crest, multiscale=False)
    here, there = np.eye(3), np.diag([1.0, 1.0, 1.0]) + np.array([[0, 0, 900], [0, 0, 0], [0, 0, 0]])
    by_pattern = logo_match.Placement(north, here, 20, "features", chroma=0.9, shift=24.0, score=0.70)
    by_colour = logo_match.Placement(other, here, 18, "features", chroma=0.9, shift=3.0, score=0.64)
    elsewhere = logo_match.Placement(north, there, 20, "features", chroma=0.9, shift=2.0, score=0.9)
    kept = _best_per_place([by_pattern, by_colour, elsewhere])
    assert sorted((p.reference.academy, p.score) for p in kept) == [("north", 0.9), ("other", 0.70)]


def gold_wall_with_flat_crest() -> Image.Image:
    gold = np.array(Image.new("RGB", (1, 1), "#f2d16b"))[0, 0]
    wall = np.clip(gold * np.random.default_rng(1).normal(1.0, 0.04, (700, 1000, 1)), 0, 255).astype(np.uint8)
    img = Image.fromarray(wall)
    crests.composite(img, crests.preset("flat", 512), width_frac=0.2, centre=(0.5, 0.5), angle=-8, tilt=0.1,
                     seed=2)
    return crests.jpeg(img, 85)


def test_a_crest_its_keypoints_placed_poorly_is_looked_for_by_its_outline_too(flat_detector, monkeypatch):
    """A placement from a few keypoint matches can be off (bench: a 46 px shield scored 0.55 so
    placed, 0.68 by its outline): below min_score, the colour-and-outline proposals are made too."""
    import screening.detectors.logos as logos

    def misplaced(ref, src, dst, size, **kwargs):  # keypoints put the crest in the wrong corner
        return [logo_match.Placement(ref, np.diag([0.3, 0.3, 1.0]), 5, "features")]

    real = LogoDetector._placed

    def placed(self, ref, cands, *args):
        if cands and cands[0].source == "features":  # that placement scores 0.5: reported, below min_score
            return [dataclasses.replace(cands[0], appearance=0.5, score=0.5)]
        return real(self, ref, cands, *args)

    monkeypatch.setattr(logos.lm, "placements", misplaced)
    monkeypatch.setattr(LogoDetector, "_placed", placed)
    found = flat_detector.detect(FakePicture(gold_wall_with_flat_crest()), {})
    by_outline = [f for f in found if f.score >= MIN_SCORE]
    assert [f.academy for f in by_outline] == ["flat"]
    assert "by colour and shape" in by_outline[0].detail
    x, y, w, h = by_outline[0].box
    assert 300 < x + w / 2 < 700 and 200 < y + h / 2 < 500  # the crest in the middle, not the corner
    assert any(f.score == 0.5 for f in found)  # the poor placement is still reported, at its own place


def test_a_crest_its_keypoints_placed_well_is_not_proposed_by_its_outline_again(detector, public_domain,
                                                                                monkeypatch):
    import screening.detectors.logos as logos

    asked = []
    real = logos._shaped

    def shaped(ref, *args):
        asked.append(ref.academy)
        return real(ref, *args)

    monkeypatch.setattr(logos, "_shaped", shaped)
    img = photo("camera.png", public_domain)
    crests.composite(img, crests.preset("north", 512), width_frac=0.3, centre=(0.5, 0.5), angle=5, seed=4)
    assert flagged(detector, crests.jpeg(img, 90)).get("north", 0) >= MIN_SCORE
    assert "north" not in asked
