"""decide(): the only place where findings become a verdict. Pure: no I/O, no clock, no models."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from screening.config import (
    Config,
    FaceSettings,
    LogoSettings,
    TextSettings,
    UniformSettings,
)
from screening.model import (
    SAME_PIXEL_VIEWS,
    Cause,
    Check,
    CheckResult,
    Decision,
    FaceFinding,
    FaceReport,
    Kind,
    LocationFinding,
    LogoFinding,
    Permit,
    Person,
    PersonFinding,
    Reason,
    Register,
    Screening,
    Status,
    TextFinding,
    UniformFinding,
    Verdict,
)

ALL_CHECKS: tuple[Check, ...] = tuple(Check)


@dataclass(frozen=True)
class SecondOpinion:
    """The borderline band where the second recogniser (SFace) must agree: [faces] keys."""

    within: float = FaceSettings.second_opinion_within
    tolerance: float = FaceSettings.second_tolerance
    margin: float = FaceSettings.second_margin

    @classmethod
    def of(cls, settings: FaceSettings) -> SecondOpinion:
        return cls(settings.second_opinion_within, settings.second_tolerance, settings.second_margin)


@dataclass(frozen=True)
class Rules:
    """Everything decide() needs besides the findings: channel, day, register, thresholds."""

    channel: str
    today: dt.date
    people: Mapping[str, Person] = field(default_factory=dict)
    # Thresholds: the defaults are config's (the one home of defaults); rules_for() passes the trust's.
    face_tolerance: float = FaceSettings.tolerance
    face_margin: float = FaceSettings.margin
    second: SecondOpinion = field(default_factory=lambda: SecondOpinion())
    logo_min_score: float = LogoSettings.min_score
    uniform_min_score: float = UniformSettings.min_score
    uniform_min_trim_score: float = UniformSettings.min_trim_score
    flag_colours_without_crest: bool = UniformSettings.flag_colours_without_crest
    academy_names: Mapping[str, str] = field(default_factory=dict)
    text_min_similarity: float = TextSettings.min_similarity
    text_min_read_score: float = TextSettings.min_read_score
    text_unreadable_min_px: int = TextSettings.unreadable_min_px  # 0: never a reason by itself
    required: tuple[Check, ...] = ALL_CHECKS
    # least score of a body with no face found on it to be a `person` (issue 15; [faces])
    person_min_score: float = FaceSettings.person_min_score


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
            reasons.append(Reason(Kind.ERROR, f"the {check.value} check did not run", extra={"check": check.value},
                                  cause=Cause.MISSING))
        elif result.error is not None:
            reasons.append(Reason(Kind.ERROR, f"{check.value} check: {result.error}", extra={"check": check.value},
                                  cause=Cause.UNDECODED if result.undecoded else Cause.FAILED))

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
            elif isinstance(finding, TextFinding):
                reason = _text(finding, rules)
                if reason is not None:
                    reasons.append(reason)
    reasons += _people_without_faces(results, rules)  # issue 15

    if any(r.kind is Kind.ERROR for r in reasons):
        status = Status.ERROR
    elif reasons:
        status = Status.NEEDS_PERMISSION
    else:
        status = Status.CLEARED
    return Decision(status, tuple(reasons), tuple(faces))


def match(finding: FaceFinding, tolerance: float, margin: float,
          second: SecondOpinion | None = None) -> tuple[str | None, str]:
    """The person a face is, or None and why not: dlib's nearest within tolerance and clearly
    ahead of the next; or, in the borderline band above the tolerance (up to second.within),
    dlib's nearest clearly ahead AND named by the second recogniser within its own tolerance
    and clearly ahead of its own runner-up (docs/faces.md)."""
    second = second if second is not None else SecondOpinion()
    if not finding.identifiable:
        return None, finding.detail or "too small or turned to identify"
    if not finding.candidates:
        return None, "no enrolled person to compare with"
    best_id, best = finding.candidates[0]
    if best > tolerance and best > second.within:
        return None, f"nearest enrolled person {best_id} at distance {best:.2f}, above tolerance {tolerance:.2f}"
    ambiguous = _ambiguous(finding.candidates, margin)
    if best > tolerance:
        why = f"nearest enrolled person {best_id} at {best:.2f} (above tolerance {tolerance:.2f})"
        if ambiguous:
            return None, f"{why}; {ambiguous}"
        problem = _second_problem(finding, best_id, second)
        if problem:
            return None, f"{why}; second recogniser: {problem}"
        return best_id, (f"{best_id} at distance {best:.2f}, confirmed by the second recogniser "
                         f"at {finding.second_candidates[0][1]:.2f}")
    if ambiguous:
        return None, ambiguous
    return best_id, f"{best_id} at distance {best:.2f}"


def _ambiguous(candidates: Sequence[tuple[str, float]], margin: float) -> str:
    """Why the nearest person is not clearly ahead of the next one ("" when it is)."""
    best_id, best = candidates[0]
    runner_up = next(((pid, d) for pid, d in candidates[1:] if pid != best_id), None)
    if runner_up is not None and runner_up[1] - best < margin:
        return (f"ambiguous: {best_id} at {best:.2f} and {runner_up[0]} at {runner_up[1]:.2f} "
                f"are closer than the margin {margin:.2f}")
    return ""


def _second_problem(finding: FaceFinding, person_id: str, second: SecondOpinion) -> str:
    """Why the second recogniser does not confirm `person_id` ("" when it does)."""
    if not finding.second_candidates:
        return finding.second_detail or "no opinion (nobody enrolled with it)"
    if unread := [p for p, d in finding.candidates if d <= second.within and p not in dict(finding.second_candidates)]:
        return f"no reference of {unread[0]}, near by dlib, could be read by it"  # never confirm past one (RT13-6)
    other, distance = finding.second_candidates[0]
    if other != person_id:
        return f"nearest is {other} at {distance:.2f}, not {person_id}"
    if distance > second.tolerance:
        return f"{person_id} at {distance:.2f}, above {second.tolerance:.2f}"
    return _ambiguous(finding.second_candidates, second.margin)


def _face(finding: FaceFinding, n: int, rules: Rules) -> tuple[Reason | None, FaceReport]:
    person_id, why = match(finding, rules.face_tolerance, rules.face_margin, rules.second)
    distance = finding.candidates[0][1] if finding.candidates else None
    person: Person | None = rules.people.get(person_id) if person_id else None
    if person is None or not person.biometric_consent:
        if person_id is not None:  # an encoding of someone no longer matchable
            why = f"{person_id} is no longer enrolled for face matching"
        reason = Reason(Kind.UNKNOWN_FACE, f"face {n} is not identified with confidence: {why}{_in(finding)}",
                        finding.box, extra=_view(finding), time=finding.time)
        return reason, FaceReport(finding.box, None, distance, time=finding.time)
    ok, consent_why = consent(person, rules.channel, rules.today)
    report = FaceReport(finding.box, person.person_id, distance, consented=ok, time=finding.time)
    if ok:
        return None, report
    confirmed = f" ({why})" if distance is not None and distance > rules.face_tolerance else ""
    return (
        Reason(Kind.NO_CONSENT, f"face {n} is {person.role} {consent_why}{confirmed}{_in(finding)}", finding.box,
               extra={"person_id": person.person_id, **_view(finding)}, time=finding.time),
        report,
    )


def _people_without_faces(results: Sequence[CheckResult], rules: Rules) -> list[Reason]:
    """A body on which no face was found (seen, even unidentifiable, in the head's place) is a
    person whose face cannot be seen: nobody can tell who it is, so it needs permission."""
    findings = [f for r in results for f in r.findings]
    faces = [f for f in findings if isinstance(f, FaceFinding)]
    out = []
    for body in findings:
        if not isinstance(body, PersonFinding) or body.score < rules.person_min_score:
            continue
        left, top, width, height = body.box
        head = (left, top, width, max(1, height * 0.45))  # where the face of a standing person is
        if any(face.frame == body.frame and _centre_in(face.box, head) for face in faces):
            continue
        detail = "a person whose face cannot be seen" + (f": {body.detail}" if body.detail else "")
        out.append(Reason(Kind.PERSON, detail, body.box, extra={"score": round(body.score, 3)}))
    return out


def _centre_in(box, area) -> bool:
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return area[0] <= cx <= area[0] + area[2] and area[1] <= cy <= area[1] + area[3]


def _academy(academy: str, rules: Rules) -> str:
    return rules.academy_names.get(academy, academy)


def _logo(f: LogoFinding, rules: Rules) -> Reason:
    if f.also:  # the crest is one of several academies' and which one could not be told: say so
        which = sorted({f.academy, *f.also})
        named = ", ".join(_academy(a, rules) for a in which)
        detail = f"an academy logo (one of {named})"
        who = {"academies": which}
    else:
        detail, who = f"{_academy(f.academy, rules)} logo", {"academy": f.academy}
    detail += (f": {f.detail}" if f.detail else "") + _in(f)
    return Reason(Kind.LOGO, detail, f.box, extra={**who, "score": round(f.score, 3), **_view(f)}, time=f.time)


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
    detail = f"{_academy(f.academy, rules)} {what}" + (f": {f.detail}" if f.detail else "") + _in(f)
    return Reason(Kind.UNIFORM, detail, f.box, extra={"academy": f.academy, "score": round(f.score, 3), **_view(f)},
                  time=f.time)


def _in(f: FaceFinding | LogoFinding | UniformFinding | TextFinding) -> str:
    """Where a finding outside the photo's own pixels was seen, and what its box measures."""
    if not f.view:
        return ""
    if f.view.startswith(SAME_PIXEL_VIEWS):
        return f" (seen in the {f.view})"
    return f" (seen in the {f.view}; box in that image's own pixels)"


def _view(f: FaceFinding | LogoFinding | UniformFinding | TextFinding) -> dict:
    return {"view": f.view} if f.view else {}


def _location(f: LocationFinding) -> Reason:
    extra = {}
    if f.lat is not None and f.lon is not None:
        extra = {"lat": round(f.lat, 6), "lon": round(f.lon, 6)}
    return Reason(Kind.LOCATION, f.detail, extra={**extra, "source": f.source})



def _text(f: TextFinding, rules: Rules) -> Reason | None:
    """A name read in the picture; or, when the trust asks for it, large text the OCR could not read."""
    where = f"in the {f.source}" if f.source else f"read at {list(f.box)}{_in(f)}"
    if f.target == "location":  # coordinates or a postcode written in the picture (RT9-23)
        return Reason(Kind.LOCATION, f"{f.name} written in the picture: '{f.text}' ({where})", f.box,
                      extra={"source": "text in the picture", "ocr_score": round(f.ocr_score, 3), **_view(f)},
                      time=f.time)
    if f.target:
        if f.similarity < rules.text_min_similarity:
            return None
        score = {"similarity": round(f.similarity, 3), "ocr_score": round(f.ocr_score, 3)}
        if f.target == "academy":
            academy = _academy(f.target_id, rules)
            alias = "" if f.name == academy else f", as '{f.name}'"
            return Reason(Kind.TEXT, f"text '{f.text}' names {academy}{alias} ({where})", f.box,
                          extra={"academy": f.target_id, **score, **_view(f)}, time=f.time)
        person = rules.people.get(f.target_id)
        who = f"{person.role} {f.target_id}" if person is not None else f"register person {f.target_id}"
        return Reason(Kind.TEXT, f"text '{f.text}' is the name of {who} ({where})", f.box,
                      extra={"person_id": f.target_id, **score, **_view(f)}, time=f.time)
    if rules.text_unreadable_min_px and f.height >= rules.text_unreadable_min_px \
            and f.ocr_score < rules.text_min_read_score:
        return Reason(Kind.TEXT, f"unreadable text {f.height} px high ({where}, read as '{f.text}' with "
                                 f"confidence {f.ocr_score:.2f}): a person may read a name here", f.box,
                      extra={"ocr_score": round(f.ocr_score, 3), **_view(f)}, time=f.time)
    return None


def verdict(screening: Screening, rules: Rules) -> Verdict:
    """The decision on one screened file, in report form."""
    decision = decide(screening.results, rules)
    checks = {r.check.value: ("ok" if r.complete else r.error or "failed") for r in screening.results}
    return Verdict(
        path=screening.path,
        sha256=screening.sha256,
        status=decision.status,
        channel=rules.channel,
        reasons=decision.reasons,
        faces=decision.faces,
        checks=checks,
        size=screening.size,
    )


def rules_for(config: Config, register: Register | None, channel: str, today: dt.date) -> Rules:
    return Rules(
        channel=channel,
        today=today,
        people=dict(register.people) if register else {},
        face_tolerance=config.faces.tolerance,
        face_margin=config.faces.margin,
        second=SecondOpinion.of(config.faces),
        person_min_score=config.faces.person_min_score,
        logo_min_score=config.logos.min_score,
        uniform_min_score=config.uniforms.min_score,
        uniform_min_trim_score=config.uniforms.min_trim_score,
        flag_colours_without_crest=config.uniforms.flag_colours_without_crest,
        academy_names={a.id: a.name for a in config.academies},
        text_min_similarity=config.text.min_similarity,
        text_min_read_score=config.text.min_read_score,
        text_unreadable_min_px=config.text.unreadable_min_px,
    )


# ---------------------------------------------------------------- consent: valid for a channel on a day


def consent(person: Person, channel: str, today: dt.date) -> tuple[bool, str]:
    """Whether this person may be published on `channel` today, and why in words."""
    ok, state = consent_state(person, channel, today)
    if state == "no":
        return False, f"{person.person_id}: no {channel} consent in the register"
    return ok, f"{person.person_id}: {channel} consent {state}"


def consent_state(person: Person, channel: str, today: dt.date) -> tuple[bool, str]:
    """The same judgement in a few words: valid, no, expired on D, withdrawn on D."""
    if person.withdrawn is not None and person.withdrawn <= today:
        return False, f"withdrawn on {person.withdrawn}"
    if not person.channels.get(channel, False):
        return False, "no"
    if person.expires is not None and person.expires < today:
        return False, f"expired on {person.expires}"
    return True, "valid"


# ---------------------------------------------------------------- permission recorded with `permit`


def signature(reason: Reason) -> str:
    """What a permission is given for: the kind and who or what, not the pixel box."""
    who = (reason.extra.get("person_id") or reason.extra.get("academy")
           or "|".join(reason.extra.get("academies", ())) or reason.extra.get("source") or "")
    return f"{reason.kind.value}:{who}"


def permitted(v: Verdict, permits: Sequence[Permit]) -> Verdict:
    """The verdict once recorded permission is taken into account.

    Only `needs_permission` can become `cleared`, and only when one permission covers every
    reason (a face of someone else, or a consent withdrawn since, is not covered). An error
    is never cleared. The reasons move to `permitted_reasons`: nothing is hidden.
    """
    if v.status is not Status.NEEDS_PERMISSION or not permits:
        return v
    needed = Counter(signature(r) for r in v.reasons)
    newest_first = sorted(permits, key=lambda p: p.at, reverse=True)
    for permit in newest_first:
        if not needed - Counter(permit.covers):
            return replace(v, status=Status.CLEARED, reasons=(), permission=permit, permitted_reasons=v.reasons)
    latest = newest_first[0]
    missing = needed - Counter(latest.covers)
    uncovered = [r.detail for r in v.reasons if missing[signature(r)] > 0]
    note = (f"permission by {latest.by} on {latest.at[:10]} does not cover: " + "; ".join(uncovered))
    return replace(v, permission_gap=note)
