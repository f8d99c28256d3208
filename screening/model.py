"""Data types only: what detectors report, what decide() returns, what reports print."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

# [left, top, width, height] in pixels of the upright (EXIF-oriented) full-resolution image.
Box = tuple[int, int, int, int]


class Status(StrEnum):
    CLEARED = "cleared"
    NEEDS_PERMISSION = "needs_permission"
    ERROR = "error"


class Kind(StrEnum):
    """Reason kinds of SPEC.md; more may be added, none removed."""

    UNKNOWN_FACE = "unknown_face"
    NO_CONSENT = "no_consent"
    LOGO = "logo"
    UNIFORM = "uniform"
    LOCATION = "location"
    TEXT = "text"
    ERROR = "error"
    PERSON = "person"  # a person whose face cannot be seen (issue 15)


class Cause(StrEnum):
    """Why a check is incomplete, for an `error` reason (reports group them without reading text)."""

    MISSING = "missing"  # the check does not exist in this installation, or never ran
    UNDECODED = "undecoded"  # not run because the file's pixels did not decode
    FAILED = "failed"  # raised, timed out or could not finish


class Check(StrEnum):
    """Every check that must run completely before an image may be cleared."""

    DECODE = "decode"
    LOCATION = "location"
    FACES = "faces"
    LOGOS = "logos"
    UNIFORMS = "uniforms"
    TEXT = "text"


# ---------------------------------------------------------------- the consent register


@dataclass(frozen=True)
class Person:
    person_id: str
    name: str
    role: str
    academy: str
    biometric_consent: bool
    channels: dict[str, bool] = field(default_factory=dict)
    expires: dt.date | None = None
    withdrawn: dt.date | None = None
    row: int = 0


@dataclass(frozen=True)
class Register:
    path: Path
    people: dict[str, Person]
    digest: str  # sha256 of the file: changes whenever the register changes
    warnings: tuple[str, ...] = ()  # columns it ignores that could record consent: every command says so

    def get(self, person_id: str) -> Person | None:
        return self.people.get(person_id)


# ---------------------------------------------------------------- what detectors report


@dataclass(frozen=True)
class FaceFinding:
    """A face (or a head/person where no face can be read) seen in the image.

    The detector reports distances to every enrolled person it compared against;
    decide() alone applies the tolerance and the margin to the runner-up.
    """

    box: Box
    # (person_id, distance) sorted by distance, best first; empty when nothing enrolled
    # or when the face could not be encoded.
    candidates: tuple[tuple[str, float], ...] = ()
    # False when the face was found but is too small, blurred or turned to identify.
    identifiable: bool = True
    detail: str = ""
    score: float | None = None
    frame: int = 0
    # where in the file the frame is: "" for its own pixels, else e.g. "EXIF thumbnail" (the box
    # is then in that view's own pixels) or "composited on white" (same pixels as the photo)
    view: str = ""
    time: float | None = None  # video: seconds from the start, first frame where seen
    # The second recogniser's (SFace) (person_id, distance), nearest first: computed only for a
    # face whose dlib nearest lies in the borderline band (above tolerance, within
    # second_opinion_within), else empty; second_detail says why it is empty when it was asked.
    second_candidates: tuple[tuple[str, float], ...] = ()
    second_detail: str = ""


@dataclass(frozen=True)
class PersonFinding:
    """A person's body seen in the image (reported by the faces check, issue 15).

    decide() reports it as `person` when no face was found on it: the face cannot be seen
    (back of the head, turned away), so nobody can say who it is.
    """

    box: Box  # the whole body
    score: float  # detector-specific confidence, higher is surer; thresholded in decide()
    detail: str = ""
    frame: int = 0
    view: str = ""  # as FaceFinding.view


@dataclass(frozen=True)
class LogoFinding:
    academy: str
    box: Box
    score: float  # detector-specific confidence, higher is surer; thresholded in decide()
    detail: str = ""
    frame: int = 0
    view: str = ""  # as FaceFinding.view
    time: float | None = None  # video: seconds from the start, first frame where seen
    # other academies whose crest this equally may be (a shared layout whose distinguishing parts
    # could not tell them apart): the finding is then "an academy logo (one of ...)", never dropped
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class UniformFinding:
    academy: str
    box: Box
    score: float  # 0..1 how much of the torso is in the academy's main uniform colour
    trim_score: float = 0.0  # 0..1 how far the academy's trim colours lie as a uniform's trims do
    crest_score: float = 0.0  # the logo matcher's score of the academy's crest on the torso (0: none)
    detail: str = ""
    frame: int = 0
    view: str = ""  # as FaceFinding.view
    time: float | None = None  # video: seconds from the start, first frame where seen


@dataclass(frozen=True)
class LocationFinding:
    source: str  # "EXIF GPS", "XMP", "XMP sidecar", "IPTC", ...
    detail: str
    lat: float | None = None
    lon: float | None = None
    # set when the metadata claims a position but its values are out of range or unreadable
    malformed: bool = False
    # the XMP sidecar file (its name) the claim came from; None for the image's own metadata
    sidecar: str | None = None


@dataclass(frozen=True)
class TextFinding:
    """Text read in the picture: a name it matched, or a line the OCR could not read.

    The detector reports the raw scores; decide() alone applies [text] min_similarity and
    says what unreadable text means.
    """

    box: Box | None  # None for text read from the file's metadata
    text: str  # as read; lines of a sign joined with " / "
    ocr_score: float  # recognition confidence 0..1 (the weakest line's, for several lines)
    height: int  # height of the (smallest) line across the text, pixels; about twice a capital's
    target: str = ""  # "academy", "person" or "location" (name: "coordinates", "postcode"); "" unreadable
    target_id: str = ""  # the academy id or person_id matched
    name: str = ""  # the academy name or alias, or the register name, that matched
    similarity: float = 0.0  # the lower of the name's and its weakest word's 1 - edits / letters
    frame: int = 0
    view: str = ""  # as FaceFinding.view ("EXIF thumbnail": read in that image, box in its pixels)
    time: float | None = None  # video: seconds from the start, first frame where seen
    source: str = ""  # the metadata it was read from ("EXIF image description"); "" for the pixels


Finding = FaceFinding | LogoFinding | UniformFinding | LocationFinding | PersonFinding | TextFinding


@dataclass(frozen=True)
class CheckResult:
    """One check over one image: its findings, or why it did not run completely."""

    check: Check
    findings: tuple[Finding, ...] = ()
    error: str | None = None  # set when the check raised, timed out or could not finish
    notes: tuple[str, ...] = ()  # informative, never changes the verdict
    # the check was not run at all because the file's pixels did not decode (error says so)
    undecoded: bool = False

    @property
    def complete(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Screening:
    """What the checks found in one file, before any decision (cacheable, re-decidable)."""

    path: str
    sha256: str | None
    results: tuple[CheckResult, ...]
    size: tuple[int, int] | None = None
    seconds: float = 0.0



# ---------------------------------------------------------------- what decide() returns


# views of the picture's own pixels (a box there is a box on the picture)
SAME_PIXEL_VIEWS = ("composited", "alpha", "frame")


@dataclass(frozen=True)
class Reason:
    kind: Kind
    detail: str
    box: Box | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # person_id, academy, lat, lon...
    time: float | None = None  # video: seconds from the start of the first frame where seen
    cause: Cause | None = None  # for an error: why the check is incomplete (not in the JSONL)

    @property
    def box_on_picture(self) -> Box | None:
        """The box, when it is in the picture's own pixels (not in an embedded image's, such as the
        EXIF thumbnail: drawing or blurring it on the picture would mark the wrong place)."""
        view = str(self.extra.get("view", ""))
        return self.box if not view or view.startswith(SAME_PIXEL_VIEWS) else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value}
        out.update(self.extra)
        if self.box is not None:
            out["box"] = list(self.box)
        if self.time is not None:
            out["time"] = round(self.time, 3)
        out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class FaceReport:
    box: Box
    person_id: str | None
    distance: float | None
    consented: bool = False
    time: float | None = None  # video: seconds from the start of the first frame where seen

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "box": list(self.box),
            "person_id": self.person_id,
            "distance": None if self.distance is None else round(self.distance, 4),
        }
        if self.time is not None:
            out["time"] = round(self.time, 3)
        return out


@dataclass(frozen=True)
class Decision:
    status: Status
    reasons: tuple[Reason, ...]
    faces: tuple[FaceReport, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """One line of the JSONL report: one per input file, whatever happened to it."""

    path: str
    sha256: str | None
    status: Status
    channel: str
    reasons: tuple[Reason, ...]
    faces: tuple[FaceReport, ...] = ()
    checks: dict[str, str] = field(default_factory=dict)  # check -> "ok" | error text
    size: tuple[int, int] | None = None  # upright width, height
    # Recorded permission (policy.permitted()): the permission that cleared it and the reasons it
    # covered (nothing is hidden), or why the newest permission does not cover every reason.
    permission: Permit | None = None
    permitted_reasons: tuple[Reason, ...] = ()
    permission_gap: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status.value,
            "channel": self.channel,
            "reasons": [r.to_json() for r in self.reasons],
            "faces": [f.to_json() for f in self.faces],
            "checks": dict(self.checks),
        }
        if self.size is not None:
            out["size"] = list(self.size)
        if self.permission is not None:
            out["permission"] = self.permission.to_json()
            out["permitted_reasons"] = [r.to_json() for r in self.permitted_reasons]
        if self.permission_gap is not None:
            out["permission_not_covering"] = self.permission_gap
        return out


# ---------------------------------------------------------------- recorded permission


@dataclass(frozen=True)
class Permit:
    sha256: str
    channel: str
    by: str
    note: str
    at: str
    user: str
    covers: tuple[str, ...]  # reason signatures, with repeats (two unknown faces: listed twice)
    path: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"by": self.by, "at": self.at, "note": self.note, "recorded_by": self.user}
