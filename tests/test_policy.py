"""decide() is the one place findings become a verdict: every path, without images."""

from __future__ import annotations

import datetime as dt

import pytest

from screening.consent.register import Person
from screening.model import (
    Check,
    CheckResult,
    FaceFinding,
    Kind,
    LocationFinding,
    LogoFinding,
    Status,
    UniformFinding,
)
from screening.policy import Rules, decide, match

TODAY = dt.date(2026, 11, 24)


def person(pid="P1", *, biometric=True, social=True, expires=None, withdrawn=None, role="pupil"):
    return Person(pid, pid, role, "north", biometric, {"website": True, "social_media": social, "print": False},
                  expires, withdrawn)


PEOPLE = {
    "P1": person("P1"),
    "P2": person("P2", social=False),
    "P3": person("P3", expires=dt.date(2026, 9, 1)),
    "P4": person("P4", withdrawn=dt.date(2026, 9, 1)),
    "P5": person("P5", biometric=False),
    "P6": person("P6", expires=TODAY),  # expires at the end of the day named
    "P7": person("P7", withdrawn=dt.date(2027, 1, 1)),  # withdrawal dated in the future: not yet
}
RULES = Rules(channel="social_media", today=TODAY, people=PEOPLE, face_tolerance=0.5, face_margin=0.06)


def complete(*extra: CheckResult) -> list[CheckResult]:
    """A result for every check, with the given ones replacing the empty defaults."""
    given = {r.check: r for r in extra}
    return [given.get(c, CheckResult(c)) for c in Check]


def face(*candidates, identifiable=True, box=(10, 10, 50, 50)):
    return CheckResult(Check.FACES, (FaceFinding(box, tuple(candidates), identifiable),))


@pytest.mark.parametrize(
    "results, status, kinds",
    [
        pytest.param(complete(), Status.CLEARED, [], id="every-check-ran-nothing-found-is-cleared"),
        pytest.param(complete(face(("P1", 0.30))), Status.CLEARED, [], id="consented-face-is-cleared"),
        pytest.param(complete(face(("P2", 0.30))), Status.NEEDS_PERMISSION, [Kind.NO_CONSENT], id="no-channel-consent"),
        pytest.param(complete(face(("P3", 0.30))), Status.NEEDS_PERMISSION, [Kind.NO_CONSENT], id="expired-consent"),
        pytest.param(complete(face(("P4", 0.30))), Status.NEEDS_PERMISSION, [Kind.NO_CONSENT], id="withdrawn-consent"),
        pytest.param(complete(face(("P6", 0.30))), Status.CLEARED, [], id="consent-valid-on-its-expiry-day"),
        pytest.param(complete(face(("P7", 0.30))), Status.CLEARED, [], id="withdrawal-dated-later-not-yet-effective"),
        pytest.param(complete(face(("P5", 0.30))), Status.NEEDS_PERMISSION, [Kind.UNKNOWN_FACE], id="no-biometric-consent-is-unknown"),
        pytest.param(complete(face(("P9", 0.30))), Status.NEEDS_PERMISSION, [Kind.UNKNOWN_FACE], id="person-left-register-is-unknown"),
        pytest.param(complete(face(("P1", 0.55))), Status.NEEDS_PERMISSION, [Kind.UNKNOWN_FACE], id="above-tolerance-is-unknown"),
        pytest.param(complete(face(("P1", 0.40), ("P2", 0.43))), Status.NEEDS_PERMISSION, [Kind.UNKNOWN_FACE], id="ambiguous-runner-up-is-unknown"),
        pytest.param(complete(face(("P1", 0.30), ("P2", 0.45))), Status.CLEARED, [], id="clear-margin-matches"),
        pytest.param(complete(face()), Status.NEEDS_PERMISSION, [Kind.UNKNOWN_FACE], id="no-enrolled-people-is-unknown"),
        pytest.param(complete(face(("P1", 0.2), identifiable=False)), Status.NEEDS_PERMISSION, [Kind.UNKNOWN_FACE], id="too-small-to-identify-is-unknown"),
        pytest.param(complete(CheckResult(Check.LOGOS, (LogoFinding("north", (0, 0, 9, 9), 5.0),))), Status.NEEDS_PERMISSION, [Kind.LOGO], id="logo"),
        pytest.param(complete(CheckResult(Check.LOGOS, (LogoFinding("north", (0, 0, 9, 9), 0.5),))), Status.CLEARED, [], id="logo-below-threshold"),
        pytest.param(complete(CheckResult(Check.UNIFORMS, (UniformFinding("north", (0, 0, 9, 9), 0.9, crest_score=0.9),))), Status.NEEDS_PERMISSION, [Kind.UNIFORM], id="uniform-with-crest"),
        pytest.param(complete(CheckResult(Check.UNIFORMS, (UniformFinding("north", (0, 0, 9, 9), 0.9, crest_score=0.0),))), Status.CLEARED, [], id="colours-without-crest-not-flagged-by-default"),
        pytest.param(complete(CheckResult(Check.LOCATION, (LocationFinding("EXIF GPS", "GPS", 53.8, -1.5),))), Status.NEEDS_PERMISSION, [Kind.LOCATION], id="gps"),
        pytest.param(complete(CheckResult(Check.LOCATION, (LocationFinding("EXIF GPS", "bad GPS", malformed=True),))), Status.NEEDS_PERMISSION, [Kind.LOCATION], id="malformed-gps-still-location"),
        pytest.param(complete(CheckResult(Check.FACES, error="boom")), Status.ERROR, [Kind.ERROR], id="crashed-check-is-error"),
        pytest.param(complete(CheckResult(Check.DECODE, error="truncated JPEG")), Status.ERROR, [Kind.ERROR], id="decode-error-is-error"),
        pytest.param([r for r in complete() if r.check is not Check.LOGOS], Status.ERROR, [Kind.ERROR], id="missing-check-is-error"),
        pytest.param([], Status.ERROR, [Kind.ERROR] * len(Check), id="nothing-ran-is-error"),
        pytest.param(complete(face(("P2", 0.3)), CheckResult(Check.LOGOS, error="timeout")), Status.ERROR, [Kind.NO_CONSENT, Kind.ERROR], id="error-wins-over-needs-permission"),
    ],
)
def test_decide_table(results, status, kinds):
    decision = decide(results, RULES)
    assert decision.status is status
    assert sorted(r.kind for r in decision.reasons) == sorted(kinds)
    assert (decision.status is Status.CLEARED) == (not decision.reasons)
    assert all(r.detail for r in decision.reasons)


def test_decode_error_alone_explains_why_nothing_else_ran():
    decision = decide([CheckResult(Check.DECODE, error="empty file (0 bytes)")], RULES)
    assert [r.detail for r in decision.reasons] == ["decode check: empty file (0 bytes)"]


def test_no_consent_reason_names_person_date_and_channel():
    decision = decide(complete(face(("P4", 0.3), box=(412, 80, 96, 96))), RULES)
    (reason,) = decision.reasons
    assert reason.extra["person_id"] == "P4"
    assert reason.box == (412, 80, 96, 96)
    assert "withdrawn on 2026-09-01" in reason.detail and "social_media" in reason.detail
    assert decision.faces[0].person_id == "P4"


def test_same_face_is_cleared_on_a_channel_with_consent_and_not_on_another():
    website = Rules(channel="website", today=TODAY, people=PEOPLE)
    assert decide(complete(face(("P2", 0.3))), website).status is Status.CLEARED
    assert decide(complete(face(("P2", 0.3))), RULES).status is Status.NEEDS_PERMISSION


def test_unknown_face_is_listed_with_null_person():
    decision = decide(complete(face(("P1", 0.7))), RULES)
    assert decision.faces[0].person_id is None and decision.faces[0].distance == 0.7


@pytest.mark.parametrize("candidates, expected", [
    ((("A", 0.30),), "A"),
    ((("A", 0.30), ("A", 0.31)), "A"),  # several photos of the same person are not a rival
    ((("A", 0.30), ("B", 0.33)), None),
    ((("A", 0.51),), None),
    ((), None),
])
def test_match_requires_tolerance_and_margin(candidates, expected):
    pid, why = match(FaceFinding((0, 0, 1, 1), candidates), tolerance=0.5, margin=0.06)
    assert pid == expected and why


def test_flag_colours_without_crest_when_configured():
    rules = Rules(channel="social_media", today=TODAY, flag_colours_without_crest=True, uniform_min_score=0.5)
    weak = complete(CheckResult(Check.UNIFORMS, (UniformFinding("north", (0, 0, 9, 9), 0.4),)))
    strong = complete(CheckResult(Check.UNIFORMS, (UniformFinding("north", (0, 0, 9, 9), 0.8),)))
    assert decide(weak, rules).status is Status.CLEARED
    assert decide(strong, rules).status is Status.NEEDS_PERMISSION
