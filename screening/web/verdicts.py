"""A file's verdict as a page shows it: decided again from the audit trail with today's register
(permission applied), in the words and boxes of the HTML report (reports/html/)."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from markupsafe import Markup

from screening import imaging
from screening.digest import sha256_bytes
from screening.model import Status, Verdict
from screening.reports.html import cards as report
from screening.reports.html import previews
from screening.reports.html.summary import LEGEND
from screening.store.audit import AuditTrail
from screening.store.workspace import BatchFile

STATUS_WORDS = {s.value: w for s, w in report.STATUS_WORDS.items()}
LEGEND_HTML = Markup(LEGEND)


@dataclass
class Card:
    file: BatchFile
    verdict: Verdict | None

    @property
    def status(self) -> str:
        return self.verdict.status.value if self.verdict else self.file.status

    @property
    def kinds(self) -> list[str]:
        return sorted(report.reason_kinds(self.verdict)) if self.verdict else []

    @property
    def words(self) -> str:
        if self.verdict is not None and self.verdict.permission is not None:
            return "cleared with permission"
        return STATUS_WORDS.get(self.status, self.status)


def decided(trail: AuditTrail, rules, path: str) -> Verdict | None:
    """The latest screening of `path`, decided now (not recorded), or None if never screened."""
    if not path:
        return None
    entry = trail.latest_for_path(path, rules.channel)
    if entry is None:
        return None
    return trail.decide(replace(entry.raw(), path=path), rules)


def cards(trail: AuditTrail, rules, files: list[BatchFile]) -> list[Card]:
    return [Card(f, decided(trail, rules, f.path) if f.status not in ("pending", "refused") else None)
            for f in files]


def summary(cards_: list[Card]) -> tuple[Counter, Counter]:
    statuses, kinds = Counter(), Counter()
    for c in cards_:
        statuses[c.status] += 1
        kinds.update(c.kinds)
    return statuses, kinds


def kind_word(kind: str) -> str:
    return report.kind_word(kind)


def reasons(v: Verdict) -> list[dict]:
    """Every reason in plain words, the technical detail beside it (shown on request)."""
    out = []
    for permitted, group in ((False, v.reasons), (True, v.permitted_reasons)):
        for r in group:
            words, numbers = report.plain_words(r.kind.value, r.detail)
            out.append({"kind": r.kind.value, "word": kind_word(r.kind.value), "words": words,
                        "numbers": numbers, "detail": r.detail, "permitted": permitted,
                        "time": r.time})
    return out


def boxes(v: Verdict, names: dict[str, str]) -> Markup:
    """The report's boxes (every value in them escaped by reports/html/cards.py), placed in percent."""
    return Markup("".join(report.box_divs(v, names))) if v.size else Markup("")


def strip(v: Verdict, names: dict[str, str]) -> Markup | None:
    """For a video, the report's strip of frames with findings; None for a photo."""
    found = previews.video_strip(v, names)
    return None if found is None else Markup(found)


def location_line(v: Verdict) -> str:
    return report.location_line(v)


def preview(path: Path, sha256: str | None, side: int) -> bytes | None:
    """An upright JPEG of the file's first picture at most `side` px, or None (unreadable, a video,
    changed since it was screened). Decoded with the scan's own limits (imaging.load)."""
    try:
        data = imaging.read_file(path)
        if sha256 and sha256_bytes(data) != sha256:
            return None
        picture = imaging.load(path, data, max_frames=1)
        pixels, _ = picture.scaled(0, side)
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "JPEG", quality=80)
        return buf.getvalue()
    except Exception:  # a preview is a convenience: the verdict is shown in full without it
        return None


def is_cleared(v: Verdict | None) -> bool:
    return v is not None and v.status is Status.CLEARED
