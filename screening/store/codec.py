"""Screening results to JSON and back: for the result cache, the audit trail and recheck."""

from __future__ import annotations

from typing import Any

from screening.model import (
    Check,
    CheckResult,
    FaceFinding,
    LocationFinding,
    LogoFinding,
    PersonFinding,
    Screening,
    TextFinding,
    UniformFinding,
)

_TYPES = {"face": FaceFinding, "logo": LogoFinding, "uniform": UniformFinding, "location": LocationFinding,
          "text": TextFinding,
          "person": PersonFinding}
_NAMES = {cls: name for name, cls in _TYPES.items()}


def finding_to_json(finding) -> dict[str, Any]:
    out = {"type": _NAMES[type(finding)]}
    for key, value in vars(finding).items():
        if key in ("candidates", "second_candidates"):
            value = [[pid, d] for pid, d in value]
        elif key == "box" and value is not None:
            value = list(value)
        out[key] = value
    return out


def finding_from_json(data: dict[str, Any]):
    data = dict(data)
    cls = _TYPES[data.pop("type")]
    if data.get("box") is not None:
        data["box"] = tuple(data["box"])
    if "crest" in data:  # stored before uniform findings carried a crest score instead of a yes/no
        data["crest_score"] = 1.0 if data.pop("crest") else 0.0
    if "also" in data:
        data["also"] = tuple(data["also"])
    for key in ("candidates", "second_candidates"):
        if key in data:
            data[key] = tuple((pid, float(d)) for pid, d in data[key])
    return cls(**data)


def screening_to_json(s: Screening) -> dict[str, Any]:
    return {
        "path": s.path,
        "sha256": s.sha256,
        "size": list(s.size) if s.size else None,
        "seconds": round(s.seconds, 3),
        "results": [
            {"check": r.check.value, "error": r.error, "notes": list(r.notes),
             "findings": [finding_to_json(f) for f in r.findings], "undecoded": r.undecoded}
            for r in s.results
        ],
    }


def screening_from_json(data: dict[str, Any]) -> Screening:
    results = tuple(
        CheckResult(Check(r["check"]), tuple(finding_from_json(f) for f in r["findings"]),
                    r.get("error"), tuple(r.get("notes", ())), bool(r.get("undecoded", False)))
        for r in data["results"]
    )
    size = tuple(data["size"]) if data.get("size") else None
    return Screening(data["path"], data.get("sha256"), results, size, data.get("seconds", 0.0))
