"""Academy uniform being worn: crest-carrying uniforms flagged, plain tops not."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from PIL import Image

from screening.detectors.logos import LogoDetector
from screening.detectors.uniforms import UniformDetector, colour_score, torso_below_face
from screening.model import Check, CheckResult, FaceFinding, Kind, Status
from screening.policy import Rules, decide
from tests import crests

from .academy_trust import NORTH_COLOURS, SOUTH_COLOURS, FakePicture, make_trust


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
                  flag_colours_without_crest=colours_without_crest,
                  academy_names={"north": "Trinity North Academy", "south": "St Aidan's Academy"})
    return decide([CheckResult(Check.UNIFORMS, tuple(findings))], rules)


@pytest.mark.parametrize("academy,colours", [("north", NORTH_COLOURS), ("south", SOUTH_COLOURS)])
def test_uniform_with_the_academy_crest_is_flagged_naming_academy_and_box(uniforms, astronaut, academy,
                                                                          colours):
    img, face = astronaut
    worn = crests.jpeg(crests.paint_uniform(img, colours, crest=crests.preset(academy, 512), face_box=face,
                                            seed=2), 80)
    found = uniforms.detect(FakePicture(worn), faces(face))
    assert [(f.academy, f.crest) for f in found] == [(academy, True)]
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
    assert not any(f.crest for f in found)
    assert verdict(found).status is Status.CLEARED


def test_academy_colours_without_crest_are_reported_and_flagged_only_when_the_trust_chooses(uniforms,
                                                                                             astronaut):
    img, face = astronaut
    worn = crests.jpeg(crests.paint_uniform(img, NORTH_COLOURS, face_box=face, seed=4), 85)
    found = uniforms.detect(FakePicture(worn), faces(face))
    assert [(f.academy, f.crest) for f in found] == [("north", False)]
    assert verdict(found).status is Status.CLEARED
    assert verdict(found, colours_without_crest=True).status is Status.NEEDS_PERMISSION


def test_photo_without_faces_or_people_reports_nothing(uniforms, astronaut):
    img, _ = astronaut
    assert uniforms.detect(FakePicture(img), {}) == []
    failed = {Check.FACES: CheckResult(Check.FACES, error="timed out")}
    assert uniforms.detect(FakePicture(img), failed) == []


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
