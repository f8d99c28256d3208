"""Findings over time: what one thing on screen produces over many screened frames, joined
into one appearance (a face is reported once, when first seen; a consented face is matched on
its best frame). Used by video_screening.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from screening.model import FaceFinding
from screening.vision.geometry import iou

# Two findings in screened frames this close in time may be one appearance...
LINK_GAP_S = 1.0
# ...when their boxes overlap this much (intersection over union).
LINK_IOU = 0.3
# A face whose best frame matched someone within tolerance is a different person in a frame
# where its distance to that person is this much beyond the tolerance (tracks never mix people).
IDENTITY_SLACK = 0.15


@dataclasses.dataclass
class _Track:
    findings: list  # in time order
    last_time: float


class Appearances:
    """One check's findings over consecutive screened frames, joined into appearances.

    Findings of the same kind (same academy, same type) whose boxes overlap in frames at most
    LINK_GAP_S apart are one appearance; a scene change ends every appearance. A finding with
    no box is kept once per distinct content. Memory holds the open appearances and one
    finding per closed appearance, whatever the clip's length.
    """

    def __init__(self, face_tolerance: float):
        self.tolerance = face_tolerance
        self.open: list[_Track] = []
        self.done: list = []
        self.unboxed: dict = {}

    def add(self, seconds: float, findings: Iterable) -> None:
        stale = [t for t in self.open if seconds - t.last_time > LINK_GAP_S]
        for track in stale:
            self._finish(track)
        taken: set[int] = set()
        for finding in findings:
            box = getattr(finding, "box", None)
            if box is None:
                self.unboxed.setdefault(_content_key(finding), finding)
                continue
            track = self._best_track(finding, taken)
            if track is None:
                track = _Track([], seconds)
                self.open.append(track)
            taken.add(id(track))
            track.findings.append(finding)
            track.last_time = seconds

    def cut(self) -> None:
        """A scene change: nothing on screen before it continues after it."""
        for track in list(self.open):
            self._finish(track)

    def close(self) -> list:
        self.cut()
        return self.done + list(self.unboxed.values())

    def _finish(self, track: _Track) -> None:
        self.open.remove(track)
        self.done.append(merge(track.findings))

    def _best_track(self, finding, taken: set[int]) -> _Track | None:
        best, best_iou = None, LINK_IOU
        for track in self.open:
            if id(track) in taken:
                continue
            last = track.findings[-1]
            if type(last) is not type(finding) or _identity(last) != _identity(finding):
                continue
            overlap = iou(last.box, finding.box)
            if overlap >= best_iou and self._same_person(track.findings, finding):
                best, best_iou = track, overlap
        return best

    def _same_person(self, findings: list, finding) -> bool:
        """Never join two faces that the register tells apart (see IDENTITY_SLACK)."""
        if not isinstance(finding, FaceFinding):
            return True
        best = _best_face(findings)
        for a, b in ((best, finding), (finding, best)):
            if not (a.identifiable and a.candidates and b.identifiable and b.candidates):
                continue
            person, distance = a.candidates[0]
            if distance > self.tolerance:
                continue
            theirs = dict(b.candidates).get(person)
            if theirs is None or theirs > self.tolerance + IDENTITY_SLACK:
                return False
        return True


def merge(findings: list):
    """One finding for an appearance: where and when it was first seen, with its best evidence."""
    first = findings[0]
    if isinstance(first, FaceFinding):
        best = _best_face(findings)
    else:
        best = max(findings, key=lambda f: (bool(getattr(f, "crest", False)), getattr(f, "score", 0) or 0,
                                            getattr(f, "similarity", 0) or 0, getattr(f, "ocr_score", 0) or 0))
    last = findings[-1]
    span = (f"on screen from {_t(first)} to {_t(last)} ({len(findings)} screened frames)"
            if len(findings) > 1 else f"seen at {_t(first)}")
    if best is not first:
        span += f"; best frame at {_t(best)}"
    names = {f.name for f in dataclasses.fields(best)}
    changes = {}
    if "detail" in names:  # a finding type without a detail field (TextFinding) keeps its own text
        changes["detail"] = f"{best.detail}; {span}" if best.detail else span
    if hasattr(first, "box"):
        changes["box"] = first.box
    if hasattr(first, "time"):
        changes["time"] = first.time
    return dataclasses.replace(best, **changes)


def _best_face(findings: list) -> FaceFinding:
    """The frame the face is best identified in: the lowest distance to anyone enrolled."""
    readable = [f for f in findings if f.identifiable and f.candidates]
    if not readable:
        return findings[0]
    return min(readable, key=lambda f: f.candidates[0][1])


def _t(finding) -> str:
    seconds = getattr(finding, "time", None)
    return "?" if seconds is None else f"{seconds:.2f} s"


# (text: what the OCR read, and how well, varies from frame to frame; the name it matched does not)
_VOLATILE = {"box", "score", "detail", "frame", "time", "candidates", "identifiable", "crest",
             "second_candidates", "second_detail",
             "text", "ocr_score", "height", "similarity"}


def _identity(finding) -> tuple:
    """What must be equal for two findings to be the same thing (academy, text...), not where."""
    if not dataclasses.is_dataclass(finding):
        return (type(finding).__name__,)
    return tuple((f.name, repr(getattr(finding, f.name))) for f in dataclasses.fields(finding)
                 if f.name not in _VOLATILE)


def _content_key(finding) -> tuple:
    if not dataclasses.is_dataclass(finding):
        return (repr(finding),)
    return (type(finding).__name__,) + tuple((f.name, repr(getattr(finding, f.name)))
                                             for f in dataclasses.fields(finding) if f.name not in ("time", "frame"))
