"""decide(): the only place where findings become a verdict. Pure: no I/O, no clock, no models."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .model import (
    Check,
    CheckResult,
    Decision,
    FaceFinding,
    FaceReport,
    Kind,
    LocationFinding,
    LogoFinding,
    Reason,
    Status,
    UniformFinding,
)
from .register import Person

ALL_CHECKS: tuple[Check, ...] = tuple(Check)


@dataclass(frozen=True)
class Rules:
    """Everything decide() needs besides the findings: channel, day, register, thresholds."""

    channel: str
    today: dt.date
    people: Mapping[str, Person] = field(default_factory=dict)
    face_tolerance: float = 0.5
    face_margin: float = 0.06
    logo_min_score: float = 0.62
    uniform_min_score: float = 0.5
    uniform_min_trim_score: float = 0.5
    flag_colours_without_crest: bool = False
    academy_names: Mapping[str, str] = field(default_factory=dict)
    required: tuple[Check, ...] = ALL_CHECKS


def decide(results: Sequence[CheckResult], rules: Rules) -> Decision:
    """Apply the trust's rules: cleared only if every required check ran and found nothing."""
    reasons: list[Reason] = []
    faces: list[FaceReport] = []
    by_check = {r.check: r for r in results}

    undecoded = Check.DECODE in by_check and not by_check[Check.DECODE].complete
    for check in rules.required:
        result = by_check.get(check)
        if result is None:
            if undecoded:  # the decode error already says why nothing else ran
                continue
            reasons.append(Reason(Kind.ERROR, f"the {check.value} check did not run", extra={"check": check.value}))
        elif result.error is not None:
            reasons.append(Reason(Kind.ERROR, f"{check.value} check: {result.error}", extra={"check": check.value}))

    face_no = 0
    for result in results:
        for finding in result.findings:
            if isinstance(finding, FaceFinding):
                face_no += 1
                reason, report = _face(finding, face_no, rules)
                faces.append(report)
                if reason is not None:
                    reasons.append(reason)
            elif isinstance(finding, LogoFinding):
                if finding.score >= rules.logo_min_score:
                    reasons.append(_logo(finding, rules))
            elif isinstance(finding, UniformFinding):
                what = _uniform_evidence(finding, rules)
                if what:
                    reasons.append(_uniform(finding, what, rules))
            elif isinstance(finding, LocationFinding):
                reasons.append(_location(finding))

    if any(r.kind is Kind.ERROR for r in reasons):
        status = Status.ERROR
    elif reasons:
        status = Status.NEEDS_PERMISSION
    else:
        status = Status.CLEARED
    return Decision(status, tuple(reasons), tuple(faces))


def match(finding: FaceFinding, tolerance: float, margin: float) -> tuple[str | None, str]:
    """The person a face is, or None and why not: within tolerance and clearly ahead of the next."""
    if not finding.identifiable:
        return None, finding.detail or "too small or turned to identify"
    if not finding.candidates:
        return None, "no enrolled person to compare with"
    best_id, best = finding.candidates[0]
    if best > tolerance:
        return None, f"nearest enrolled person {best_id} at distance {best:.2f}, above tolerance {tolerance:.2f}"
    runner_up = next(((pid, d) for pid, d in finding.candidates[1:] if pid != best_id), None)
    if runner_up is not None and runner_up[1] - best < margin:
        return None, (
            f"ambiguous: {best_id} at {best:.2f} and {runner_up[0]} at {runner_up[1]:.2f} "
            f"are closer than the margin {margin:.2f}"
        )
    return best_id, f"{best_id} at distance {best:.2f}"


def _face(finding: FaceFinding, n: int, rules: Rules) -> tuple[Reason | None, FaceReport]:
    person_id, why = match(finding, rules.face_tolerance, rules.face_margin)
    distance = finding.candidates[0][1] if finding.candidates else None
    person: Person | None = rules.people.get(person_id) if person_id else None
    if person is None or not person.biometric_consent:
        if person_id is not None:  # an encoding of someone no longer matchable
            why = f"{person_id} is no longer enrolled for face matching"
        reason = Reason(Kind.UNKNOWN_FACE, f"face {n} is not identified with confidence: {why}", finding.box)
        return reason, FaceReport(finding.box, None, distance)
    ok, consent_why = person.consent(rules.channel, rules.today)
    report = FaceReport(finding.box, person.person_id, distance, consented=ok)
    if ok:
        return None, report
    return (
        Reason(Kind.NO_CONSENT, f"face {n} is {person.role} {consent_why}", finding.box,
               extra={"person_id": person.person_id}),
        report,
    )


def _academy(academy: str, rules: Rules) -> str:
    return rules.academy_names.get(academy, academy)


def _logo(f: LogoFinding, rules: Rules) -> Reason:
    detail = f"{_academy(f.academy, rules)} logo" + (f": {f.detail}" if f.detail else "")
    return Reason(Kind.LOGO, detail, f.box, extra={"academy": f.academy, "score": round(f.score, 3)})


def _uniform_evidence(f: UniformFinding, rules: Rules) -> str:
    """What makes the torso the academy's uniform ("" when nothing does): its crest (whole or in
    part: the logo threshold), its main colour with its trims worn as the uniform wears them, or
    (when the trust chooses) its main colour alone."""
    if f.crest_score >= rules.logo_min_score:
        return "uniform with crest"
    if f.score >= rules.uniform_min_score and f.trim_score >= rules.uniform_min_trim_score:
        return "uniform colours and trims"
    if rules.flag_colours_without_crest and f.score >= rules.uniform_min_score:
        return "uniform colours"
    return ""


def _uniform(f: UniformFinding, what: str, rules: Rules) -> Reason:
    detail = f"{_academy(f.academy, rules)} {what}" + (f": {f.detail}" if f.detail else "")
    return Reason(Kind.UNIFORM, detail, f.box, extra={"academy": f.academy, "score": round(f.score, 3)})


def _location(f: LocationFinding) -> Reason:
    extra = {}
    if f.lat is not None and f.lon is not None:
        extra = {"lat": round(f.lat, 6), "lon": round(f.lon, 6)}
    return Reason(Kind.LOCATION, f.detail, extra={**extra, "source": f.source})

