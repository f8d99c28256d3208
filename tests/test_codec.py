"""Stored screening results come back exactly, so re-deciding them gives the same verdict."""

import datetime as dt
import json

from screening.model import (
    Check,
    CheckResult,
    FaceFinding,
    LocationFinding,
    LogoFinding,
    Screening,
    UniformFinding,
)
from screening.policy import Rules, verdict
from screening.store.codec import screening_from_json, screening_to_json


def test_round_trip_keeps_every_finding_and_the_verdict():
    s = Screening("a.jpg", "ab" * 32, (
        CheckResult(Check.DECODE),
        CheckResult(Check.LOCATION, (LocationFinding("EXIF GPS", "GPS", 53.8, -1.5),)),
        CheckResult(Check.FACES, (FaceFinding((1, 2, 3, 4), (("P1", 0.31), ("P2", 0.6)), True, "", 0.9),
                                  FaceFinding((5, 6, 7, 8), (), False, "too small"))),
        CheckResult(Check.LOGOS, (LogoFinding("north", (0, 0, 5, 5), 12.0, "crest"),)),
        CheckResult(Check.UNIFORMS, (UniformFinding("north", (0, 0, 5, 5), 0.8, True),), error=None),
    ), (640, 480), 1.5)
    back = screening_from_json(json.loads(json.dumps(screening_to_json(s))))
    assert back == s
    rules = Rules(channel="website", today=dt.date(2026, 11, 24))
    assert verdict(back, rules) == verdict(s, rules)
