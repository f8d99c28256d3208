"""Which academy a crest is, among academies drawn on one layout (vision/logo_match/identity.py).

A trust that gives every academy the same shield in its own colours, initials and emblem: the
photo must name the right academy alone, and when two academies cannot be told apart (the same
crest under two names) the finding names both ("one of A, B"), never only one and never none.
"""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest
from PIL import Image

from screening.config import LogoSettings, load_config
from screening.detectors.logos import LogoDetector
from screening.model import Check, CheckResult, Kind, LogoFinding, Permit, Status, Verdict
from screening.policy import Rules, decide, permitted, signature
from screening.vision import logo_match as lm
from tests import crests

from .academy_trust import FakePicture, backdrop, make_trust

MIN_SCORE = LogoSettings().min_score


@pytest.fixture(scope="module")
def family():
    return crests.template_family(4, "north", seed=3)


@pytest.fixture(scope="module")
def refs(family):
    out = {"north": lm.make_reference("north", "c.png", np.asarray(crests.preset("north", 512)), False),
           "twin": lm.make_reference("twin", "c.png", np.asarray(crests.preset("north", 512)), False),
           "south": lm.make_reference("south", "c.png", np.asarray(crests.preset("south", 512)), False)}
    for k, style in enumerate(family):
        out[f"f{k}"] = lm.make_reference(f"f{k}", "c.png", np.asarray(crests.draw_crest(style, 512)), False)
    return out


def seen(ref: lm.Reference, cast=(1.0, 1.0, 1.0), quality: int = 75) -> lm.Placement:
    """The reference's own crest as a photo (a colour cast, JPEG) and its placement there."""
    photo = crests.jpeg(crests.colour_cast(Image.fromarray(ref.rgb), cast), quality)
    return lm.Placement(ref, np.eye(3), 20, "features"), np.asarray(photo)


def test_same_layout_groups_the_shared_shield_and_nothing_else(refs):
    names = list(refs)
    rivals = lm.same_layout(list(refs.values()))
    of_north = {names[j] for j in rivals[names.index("north")]}
    assert of_north == {"twin", "f0", "f1", "f2", "f3"}
    assert rivals[names.index("south")] == []


@pytest.mark.parametrize("k", range(4))
def test_the_distinguishing_parts_vote_for_the_right_academy_under_a_cast(refs, k):
    p, photo = seen(refs[f"f{k}"], cast=(1.15, 1.0, 0.85))
    view = lm.identity.view_of(p, *lm.appearance_channels(photo))
    for other in ("north", *(f"f{j}" for j in range(4) if j != k)):
        assert lm.vote(view, refs[f"f{k}"], refs[other]) >= lm.identity.CLEAR_VOTE, other


def test_a_wrong_first_choice_is_corrected_by_the_distinguishing_parts(refs):
    truth = refs["f2"]
    _, photo = seen(truth)
    wrong = lm.Placement(refs["f0"], np.eye(3), 20, "features")  # same layout, other colours and initials
    rivals = [refs[a] for a in ("north", "twin", "f1", "f2", "f3")]
    chosen, others = lm.name(wrong, rivals, *lm.appearance_channels(photo))
    assert chosen is truth and others == []


def test_the_same_crest_under_two_academies_names_both(refs):
    p, photo = seen(refs["north"])
    rivals = [refs[a] for a in ("twin", "f0", "f1", "f2", "f3")]
    chosen, others = lm.name(p, rivals, *lm.appearance_channels(photo))
    assert {chosen.academy, *(r.academy for r in others)} == {"north", "twin"}


def test_a_crest_in_colours_between_two_academies_is_never_named_as_only_the_farther_one(refs):
    """Hostile: north's crest recoloured halfway to f0's colours: whatever it is named, the
    academy it was drawn from stays among the names, or the nearer one alone."""
    north, f0 = refs["north"], refs["f0"]
    mix = cv2.addWeighted(north.rgb, 0.5, f0.rgb, 0.5, 0)
    p = lm.Placement(north, np.eye(3), 20, "features")
    chosen, others = lm.name(p, [f0], *lm.appearance_channels(mix))
    named = {chosen.academy, *(r.academy for r in others)}
    assert named in ({"north", "f0"}, {"north"}, {"f0"})  # never nothing, never a third academy


@pytest.fixture(scope="module")
def twin_trust(tmp_path_factory, family):
    """north, south, twin (north's very crest) and one academy of north's layout in other colours."""
    root = tmp_path_factory.mktemp("twins")
    text = make_trust(root).path.read_text(encoding="utf-8")
    for aid, crest in (("twin", crests.preset("north", 512)), ("f1", crests.draw_crest(family[1], 512))):
        (root / "logos" / aid).mkdir(parents=True)
        crest.save(root / "logos" / aid / "crest.png")
        text += f'[[academy]]\nid = "{aid}"\nname = "Academy {aid}"\nlogos = "logos/{aid}"\n'
    (root / "screening.toml").write_text(text, encoding="utf-8")
    config = load_config(root / "screening.toml")
    return config, LogoDetector(config, cache=tmp_path_factory.mktemp("twin-cache"))


def rules(config) -> Rules:
    return Rules(channel="website", today=dt.date(2026, 11, 27), logo_min_score=MIN_SCORE,
                 academy_names={a.id: a.name for a in config.academies}, required=(Check.LOGOS,))


def test_a_crest_two_academies_share_is_one_finding_naming_both(twin_trust):
    config, det = twin_trust
    img = backdrop(4, (1000, 700))
    crests.composite(img, crests.preset("north", 512), width_frac=0.22, centre=(0.4, 0.5), angle=5, seed=3)
    found = [f for f in det.detect(FakePicture(crests.jpeg(img, 85)), {}) if f.score >= MIN_SCORE]
    assert len(found) == 1 and {found[0].academy, *found[0].also} == {"north", "twin"}
    decision = decide([CheckResult(Check.LOGOS, tuple(found))], rules(config))
    assert decision.status is Status.NEEDS_PERMISSION
    reason = decision.reasons[0]
    assert reason.kind is Kind.LOGO
    assert reason.detail.startswith("an academy logo (one of Trinity North Academy, Academy twin)")
    assert reason.extra["academies"] == ["north", "twin"] and "academy" not in reason.extra


def test_the_sibling_in_other_colours_is_named_alone(twin_trust, family):
    config, det = twin_trust
    img = backdrop(6, (1000, 700))
    crests.composite(img, crests.draw_crest(family[1], 512), width_frac=0.2, centre=(0.6, 0.4), angle=-8,
                     tilt=0.1, seed=5)
    found = [f for f in det.detect(FakePicture(crests.jpeg(img, 80)), {}) if f.score >= MIN_SCORE]
    assert [(f.academy, f.also) for f in found] == [("f1", ())]


def test_permission_for_one_academy_does_not_cover_a_crest_that_may_be_another(twin_trust):
    config, _ = twin_trust
    finding = LogoFinding("north", (10, 10, 50, 50), 0.9, "", also=("twin",))
    decision = decide([CheckResult(Check.LOGOS, (finding,))], rules(config))
    verdict = Verdict("a.jpg", "0" * 64, decision.status, "website", decision.reasons, decision.faces)
    assert signature(decision.reasons[0]) == "logo:north|twin"
    only_north = Permit("0" * 64, "website", "head", "", "2026-11-27T10:00:00", "me", ("logo:north",))
    assert permitted(verdict, [only_north]).status is Status.NEEDS_PERMISSION
    both = Permit("0" * 64, "website", "head", "", "2026-11-27T10:00:00", "me", ("logo:north|twin",))
    assert permitted(verdict, [both]).status is Status.CLEARED


def test_an_ambiguous_finding_survives_the_result_cache():
    from screening.store.codec import finding_from_json, finding_to_json

    f = LogoFinding("north", (1, 2, 3, 4), 0.8, "d", also=("twin",))
    assert finding_from_json(finding_to_json(f)) == f
