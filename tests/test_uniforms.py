"""Academy uniform being worn: crest-carrying uniforms flagged, plain tops not."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from PIL import Image

from screening.detectors.logos import LogoDetector
from screening.detectors.uniforms import UniformDetector, colour_score, torso_below_face
from screening.store.codec import finding_from_json, finding_to_json
from screening.config import ConfigError, LogoSettings, UniformSettings, load_config
from screening.model import (
    Check, CheckResult, FaceFinding, Kind, LogoFinding, PersonFinding, Status, UniformFinding,
)
from screening.policy import Rules, decide
from tests import crests

from .academy_trust import NORTH_COLOURS, SOUTH_COLOURS, FakePicture, make_trust

MIN_SCORE = LogoSettings().min_score


@pytest.fixture(scope="module")
def uniforms(tmp_path_factory):
    trust = make_trust(tmp_path_factory.mktemp("trust"))
    return UniformDetector(trust, LogoDetector(trust, cache=tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def astronaut(public_domain):
    img = Image.open(public_domain / "astronaut.png").convert("RGB")
    return img, crests.find_face(img)


def faces(*boxes) -> dict:
    return {Check.FACES: CheckResult(Check.FACES, tuple(FaceFinding(b) for b in boxes))}


def verdict(findings, *, colours_without_crest=False):
    rules = Rules(channel="website", today=dt.date(2026, 11, 24), required=(Check.UNIFORMS,),
                  flag_colours_without_crest=colours_without_crest, logo_min_score=MIN_SCORE,
                  uniform_min_score=UniformSettings().min_score,
                  uniform_min_trim_score=UniformSettings().min_trim_score,
                  academy_names={"north": "Trinity North Academy", "south": "St Aidan's Academy"})
    return decide([CheckResult(Check.UNIFORMS, tuple(findings))], rules)


@pytest.mark.parametrize("academy,colours", [("north", NORTH_COLOURS), ("south", SOUTH_COLOURS)])
def test_uniform_with_the_academy_crest_is_flagged_naming_academy_and_box(uniforms, astronaut, academy,
                                                                          colours):
    img, face = astronaut
    worn = crests.jpeg(crests.paint_uniform(img, colours, crest=crests.preset(academy, 512), face_box=face,
                                            seed=2), 80)
    found = uniforms.detect(FakePicture(worn), faces(face))
    assert [f.academy for f in found] == [academy] and found[0].crest_score >= MIN_SCORE
    decision = verdict(found)
    assert decision.status is Status.NEEDS_PERMISSION
    reason = decision.reasons[0]
    assert reason.kind is Kind.UNIFORM and reason.box == found[0].box
    assert reason.detail.startswith(("Trinity North Academy", "St Aidan's Academy"))


def test_plain_top_in_other_colours_is_not_flagged(uniforms, astronaut):
    img, face = astronaut
    for seed, colour in enumerate(("#3a8f3a", "#d0d0d0", "#202020", "#e07090")):
        worn = crests.jpeg(crests.paint_uniform(img, (colour,), face_box=face, seed=seed), 85)
        found = uniforms.detect(FakePicture(worn), faces(face))
        assert verdict(found, colours_without_crest=True).status is Status.CLEARED, colour


def test_another_schools_crest_on_its_uniform_is_not_an_academy_crest(uniforms, astronaut):
    img, face = astronaut
    other = crests.decoy_of(crests.PRESETS["north"], 3)
    worn = crests.paint_uniform(img, (other.field, other.charge), crest=crests.draw_crest(other, 512),
                                face_box=face, seed=3)
    found = uniforms.detect(FakePicture(crests.jpeg(worn, 85)), faces(face))
    assert not any(f.crest_score >= MIN_SCORE for f in found)
    assert verdict(found).status is Status.CLEARED


def test_academy_colours_without_crest_are_reported_and_flagged_only_when_the_trust_chooses(uniforms,
                                                                                             astronaut):
    img, face = astronaut
    worn = crests.jpeg(crests.paint_uniform(img, NORTH_COLOURS, face_box=face, seed=4), 85)
    found = uniforms.detect(FakePicture(worn), faces(face))
    assert [f.academy for f in found] == ["north"] and found[0].crest_score < MIN_SCORE
    assert verdict(found).status is Status.CLEARED
    assert verdict(found, colours_without_crest=True).status is Status.NEEDS_PERMISSION


def test_photo_without_faces_or_people_reports_nothing(uniforms, astronaut):
    img, _ = astronaut
    assert uniforms.detect(FakePicture(img), {}) == []
    failed = {Check.FACES: CheckResult(Check.FACES, error="timed out")}
    assert uniforms.detect(FakePicture(img), failed) == []


def body_around(face) -> tuple[int, int, int, int]:
    """A HOG-style person box whose torso (torso_of_body) is the chest below `face`."""
    x, y, w, h = face
    return round(x + w / 2 - 2.2 * w), round(y - 0.417 * h), round(4.4 * w), round(6.67 * h)


def test_bodies_the_face_check_saw_are_searched_without_looking_for_people_again(uniforms, astronaut,
                                                                                 monkeypatch):
    img, face = astronaut
    worn = crests.jpeg(crests.paint_uniform(img, NORTH_COLOURS, crest=crests.preset("north", 512), face_box=face,
                                            seed=2), 80)
    monkeypatch.setattr(uniforms, "bodies", lambda rgb: pytest.fail("HOG ran again"))
    # the face turned away: the face check saw only the body
    seen = {Check.FACES: CheckResult(Check.FACES, (PersonFinding(body_around(face), 2.0),))}
    found = uniforms.detect(FakePicture(worn), seen)
    assert [f.academy for f in found] == ["north"] and found[0].crest_score >= MIN_SCORE
    assert "of the person at" in found[0].detail


def test_bodies_are_looked_for_here_when_the_face_check_did_not_finish(uniforms, astronaut, monkeypatch):
    img, face = astronaut
    worn = crests.jpeg(crests.paint_uniform(img, NORTH_COLOURS, crest=crests.preset("north", 512), face_box=face,
                                            seed=2), 80)
    asked = []
    monkeypatch.setattr(uniforms, "bodies", lambda rgb: asked.append(1) or [body_around(face)])
    failed = {Check.FACES: CheckResult(Check.FACES, (PersonFinding((0, 0, 10, 10), 2.0),), error="timed out")}
    found = uniforms.detect(FakePicture(worn), failed)
    assert asked == [1]
    assert [f.academy for f in found] == ["north"] and found[0].crest_score >= MIN_SCORE


def chest_crest(face, score: float, **kwargs) -> LogoFinding:
    x, y, w, h = face
    return LogoFinding("north", (x + w // 4, y + round(1.6 * h), w // 2, w // 2), score, "matches", **kwargs)


def test_a_crest_the_logo_check_found_on_the_chest_is_not_searched_for_again(uniforms, astronaut, monkeypatch):
    img, face = astronaut
    worn = crests.jpeg(crests.paint_uniform(img, NORTH_COLOURS, crest=crests.preset("north", 512), face_box=face,
                                            seed=2), 80)
    monkeypatch.setattr(uniforms.logos, "search", lambda *a, **k: pytest.fail("the chest was searched again"))
    earlier = {**faces(face), Check.LOGOS: CheckResult(Check.LOGOS, (chest_crest(face, 0.9),))}
    found = uniforms.detect(FakePicture(worn), earlier)
    assert [(f.academy, f.crest_score) for f in found] == [("north", 0.9)]


@pytest.mark.parametrize("why", ["below the logo threshold", "seen in a thumbnail", "logo check failed"])
def test_the_chest_is_searched_when_the_logo_check_is_not_sure_of_a_crest_there(uniforms, astronaut, monkeypatch,
                                                                                why):
    img, face = astronaut
    worn = crests.jpeg(crests.paint_uniform(img, NORTH_COLOURS, crest=crests.preset("north", 512), face_box=face,
                                            seed=2), 80)
    seen = {"below the logo threshold": CheckResult(Check.LOGOS, (chest_crest(face, 0.4),)),
            "seen in a thumbnail": CheckResult(Check.LOGOS, (chest_crest(face, 0.9, view="EXIF thumbnail"),)),
            "logo check failed": CheckResult(Check.LOGOS, (chest_crest(face, 0.9),), error="timed out")}[why]
    asked = []
    real = uniforms.logos.search
    monkeypatch.setattr(uniforms.logos, "search", lambda *a, **k: asked.append(1) or real(*a, **k))
    found = uniforms.detect(FakePicture(worn), {**faces(face), Check.LOGOS: seen})
    assert asked == [1]
    assert [f.academy for f in found] == ["north"] and found[0].crest_score >= MIN_SCORE


def test_torso_is_below_the_face_and_missing_when_the_face_is_at_the_bottom_edge():
    assert torso_below_face((100, 50, 40, 40), (400, 400)) == (76, 100, 88, 80)
    assert torso_below_face((100, 370, 30, 30), (400, 400)) is None


def test_colour_score_is_high_for_the_main_colour_under_shade_and_low_for_black():
    from screening.detectors.uniforms import _lab_of

    colours = _lab_of([(0x1B, 0x2A, 0x4A), (0xC8, 0xA2, 0x00)])
    navy = np.full((60, 60, 3), (0x1B, 0x2A, 0x4A), np.uint8)
    shaded = (navy.astype(np.float32) * 0.8).astype(np.uint8)
    black = np.full((60, 60, 3), (15, 15, 15), np.uint8)
    assert colour_score(navy, colours)[0] >= 0.8
    assert colour_score(shaded, colours)[0] >= 0.8
    assert colour_score(black, colours)[0] < 0.2


def worn_by(astronaut, colours, uniforms, *, seed=1, **kwargs):
    img, face = astronaut
    top = crests.jpeg(crests.paint_uniform(img, colours, face_box=face, seed=seed, **kwargs), 85)
    return uniforms.detect(FakePicture(top), faces(face))


@pytest.mark.parametrize("academy,colours", [("north", NORTH_COLOURS), ("south", SOUTH_COLOURS)])
def test_blazer_with_the_academy_trims_and_no_crest_is_flagged_by_default(uniforms, astronaut, academy, colours):
    found = worn_by(astronaut, colours, uniforms, garment="blazer")
    assert [f.academy for f in found] == [academy]
    assert found[0].crest_score < MIN_SCORE and found[0].trim_score >= UniformSettings().min_trim_score
    decision = verdict(found)
    assert decision.status is Status.NEEDS_PERMISSION
    assert "uniform colours and trims" in decision.reasons[0].detail


def shade(colour: str, factor: float) -> str:
    return "#" + "".join(f"{round(int(colour[i:i + 2], 16) * factor):02x}" for i in (1, 3, 5))


def test_blazer_in_shade_with_its_trims_is_flagged_but_the_same_plain_top_is_not(uniforms, astronaut):
    """A maroon blazer in deep shade (its colour at 60%) with its white trims is the uniform;
    the same shaded maroon as a plain top is not even the academy's colour (colours alone)."""
    dark = shade(SOUTH_COLOURS[0], 0.6)
    found = worn_by(astronaut, (dark, SOUTH_COLOURS[1]), uniforms, garment="blazer")
    assert [f.academy for f in found] == ["south"], [f.detail for f in found]
    assert verdict(found).status is Status.NEEDS_PERMISSION
    plain = worn_by(astronaut, (dark,), uniforms)
    assert verdict(plain, colours_without_crest=True).status is Status.CLEARED, [f.detail for f in plain]


def test_wide_stripes_in_the_trim_colour_across_a_blazer_are_not_trims(uniforms, astronaut):
    """Hostile: a top in the main colour with the trim colour in stripes across it (a rugby shirt
    in the academy's colours) is symmetric, central and on the cloth, but it is a pattern."""
    img, face = astronaut
    top = np.array(crests.paint_uniform(img, NORTH_COLOURS[:1], face_box=face, seed=1))
    x, y, w, h = face
    gold = tuple(int(NORTH_COLOURS[1][i:i + 2], 16) for i in (1, 3, 5))
    for k in range(6):  # gold bands a fifth of a face high, across the whole chest
        y0 = y + round(1.4 * h) + k * round(0.45 * h)
        top[y0:y0 + round(0.2 * h), max(0, x - w):x + 2 * w] = gold
    found = uniforms.detect(FakePicture(crests.jpeg(Image.fromarray(top), 85)), faces(face))
    assert all(f.trim_score < UniformSettings().min_trim_score for f in found), [f.detail for f in found]
    assert verdict(found).status is Status.CLEARED


@pytest.mark.parametrize("pattern", ["stripes", "checks"])
@pytest.mark.parametrize("colours", [NORTH_COLOURS, SOUTH_COLOURS])
def test_patterned_top_in_academy_colours_without_trims_is_not_flagged(uniforms, astronaut, pattern, colours):
    found = worn_by(astronaut, colours, uniforms, garment=pattern)
    assert all(f.trim_score < UniformSettings().min_trim_score for f in found), [f.detail for f in found]
    assert verdict(found).status is Status.CLEARED


@pytest.mark.parametrize("academy,colours", [("north", NORTH_COLOURS), ("south", SOUTH_COLOURS)])
def test_crest_cut_by_the_frame_is_flagged_and_said_to_be_partly_visible(uniforms, astronaut, academy, colours):
    img, face = astronaut
    top = crests.paint_uniform(img, colours, crest=crests.preset(academy, 512), face_box=face, seed=1)
    cut, face = crests.cut_through_crest(top, face, 0.6)
    found = uniforms.detect(FakePicture(crests.jpeg(cut, 85)), faces(face))
    with_crest = [f for f in found if f.crest_score >= MIN_SCORE]
    assert [f.academy for f in with_crest] == [academy]
    assert "crest partly visible" in with_crest[0].detail
    assert verdict(found).status is Status.NEEDS_PERMISSION


def test_uniform_finding_reports_scores_and_decide_applies_the_thresholds():
    def status(**scores):
        return verdict([UniformFinding("north", (0, 0, 9, 9), **scores)]).status

    assert status(score=0.0, crest_score=MIN_SCORE) is Status.NEEDS_PERMISSION
    assert status(score=0.9, crest_score=MIN_SCORE - 0.01) is Status.CLEARED
    assert status(score=0.9, trim_score=0.5) is Status.NEEDS_PERMISSION
    assert status(score=0.4, trim_score=0.9) is Status.CLEARED  # trims on a top not in the main colour
    assert status(score=0.9, trim_score=0.49) is Status.CLEARED


def test_uniform_finding_stored_with_a_yes_no_crest_is_read_back_as_a_crest_score():
    old = {"type": "uniform", "academy": "north", "box": [1, 2, 3, 4], "score": 0.8, "crest": True,
           "detail": "", "frame": 0}
    finding = finding_from_json(old)
    assert finding.crest_score == 1.0 and verdict([finding]).status is Status.NEEDS_PERMISSION
    assert finding_from_json(finding_to_json(finding)) == finding


def test_uniform_pattern_is_checked_when_the_config_is_read(tmp_path):
    make_trust(tmp_path)
    toml = tmp_path / "screening.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('id = "south"', 'id = "south"\nuniform_pattern = "striped"'),
                    encoding="utf-8")
    assert load_config(toml).academies[1].uniform_pattern == "striped"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"striped"', '"tartan"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"academy\[2\]\.uniform_pattern"):
        load_config(toml)


def test_academies_sharing_uniform_colours_get_the_scores_each_would_get_alone(uniforms, astronaut, tmp_path):
    """A large trust's academies share colours (50 academies wear about 15): the torso is measured
    once against the trust's distinct colours, and each academy reads its own main and trim
    colours' scores from that, exactly what it would get as the trust's only academy."""
    import dataclasses

    img, face = astronaut
    worn = np.asarray(crests.jpeg(crests.paint_uniform(img, NORTH_COLOURS, face_box=face, seed=1,
                                                       garment="blazer"), 85))
    config = make_trust(tmp_path)
    north = next(a for a in config.academies if a.id == "north")
    twin = dataclasses.replace(north, id="twin", logos=None)  # the same colours, another academy
    mixed = dataclasses.replace(north, id="mixed", logos=None, uniform_colours=(SOUTH_COLOURS[0], NORTH_COLOURS[1]))
    white = dataclasses.replace(north, id="white", logos=None, uniform_colours=(NORTH_COLOURS[0], SOUTH_COLOURS[1]))
    many = UniformDetector(dataclasses.replace(config, academies=(*config.academies, twin, mixed, white)),
                           uniforms.logos)
    assert len(many.table) == 4  # navy, gold, maroon, white: each colour measured once
    box = torso_below_face(face, worn.shape)
    alone = {a.id: UniformDetector(dataclasses.replace(config, academies=(a,)), uniforms.logos)
             for a in (north, twin, mixed, white, *config.academies)}
    shares = dict(zip((a.id for a in many.academies), many._main_shares(worn[box[1]:box[1] + box[3],
                                                                            box[0]:box[0] + box[2]])))
    assert shares["north"][0] >= 0.5
    trims = dict(zip((a.id for a in many.academies), many._trim_scores(worn, box, face)))
    region = worn[box[1]:box[1] + box[3], box[0]:box[0] + box[2]]
    for aid, det in alone.items():
        assert shares[aid] == det._main_shares(region)[0], aid
        assert trims[aid] == det._trim_scores(worn, box, face)[0], aid
    assert trims["north"] == trims["twin"] and trims["north"][0] >= UniformSettings().min_trim_score
    assert shares["mixed"][0] == shares["south"][0] and shares["white"][0] == shares["north"][0]
    assert trims["mixed"][0] == 0.0  # gold trims on navy cloth are no maroon academy's trims
