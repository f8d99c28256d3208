"""Acting on verdicts, without printing: permit a file, make publishable copies, recheck.

The one implementation of what `screening permit`, `redact` and `recheck` do; the commands
print what these return, and `screening serve` (web/) shows it. Nothing here decides a status:
that stays in policy.decide() through the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from screening import imaging
from screening.digest import sha256_bytes, sha256_file
from screening.model import Screening, Status, Verdict
from screening.policy import Rules, signature, verdict
from screening.pool import screen_many
from screening.redact import RedactError, faces_to_hide, make_copy, text_to_hide
from screening.store.audit import AuditTrail, Entry, reasons_json

# ---------------------------------------------------------------- permit


@dataclass(frozen=True)
class PermitOutcome:
    """What recording a permission did: `what` is one of
    unreadable (the file could not be read), error (not screened completely: no permission can
    cover it), cleared (nothing needs permission), failed (recorded, but the verdict is still not
    cleared: `after` says why), permitted (cleared with permission)."""

    what: str
    detail: str = ""
    before: Verdict | None = None
    after: Verdict | None = None
    covers: str = ""


def permit_file(trust, rules: Rules, trail: AuditTrail, path: Path, name: str, by: str, note: str,
                enrolled: list[bool] | None = None) -> PermitOutcome:
    """Record that permission to publish `path` (shown as `name`) was obtained, for the reasons
    it has now. `enrolled` (a one-item list) lets a caller enrol the trust once for many files.
    Raises SetupError when the face store or model cannot be used."""
    try:
        sha = sha256_bytes(imaging.read_file(path))
    except imaging.ImageError as exc:
        return PermitOutcome("unreadable", str(exc))
    entry = trail.latest_for(sha, rules.channel)
    if entry is not None and trail.is_current(entry):
        screening = replace(entry.raw(), path=name)  # no need to screen it again
    else:
        if enrolled is None or not enrolled[0]:
            trust.enrol()
            if enrolled is not None:
                enrolled[0] = True
        screening = next(screen_many([(path, name)], trust.config, trust.gallery, workers=1,
                                     people=trust.names))
    base = verdict(screening, rules)
    if base.status is Status.ERROR:
        return PermitOutcome("error", before=base)
    if base.status is Status.CLEARED:
        return PermitOutcome("cleared", before=base)
    trail.add_permit(base, by, note)
    v = trail.verdict(screening, rules)
    if v.status is not Status.CLEARED:  # the record failed: the verdict says why
        return PermitOutcome("failed", before=base, after=v)
    covers = ", ".join(sorted({signature(r).rstrip(":") for r in base.reasons}))
    return PermitOutcome("permitted", before=base, after=v, covers=covers)


# ---------------------------------------------------------------- redact


@dataclass(frozen=True)
class Copied:
    """One publishable copy made (`copy`), or not (`error`), of the original `screening`."""

    original: Verdict
    copy: Path | None = None
    error: str = ""
    faces: int = 0
    names: int = 0


def make_copies(trust, rules: Rules, trail: AuditTrail, items: Iterable[tuple[Path, str]], into: Path,
                workers: int = 0) -> Iterator[Copied]:
    """Screen each original (recorded in the trail) and write its redacted copy into `into`."""
    for screening in screen_many(items, trust.config, trust.gallery, workers=workers, people=trust.names):
        yield copy_from(trust, rules, trail.verdict(screening, rules), screening, into)


def copy_from(trust, rules: Rules, original: Verdict, screening: Screening, into: Path) -> Copied:
    """The redacted copy of one screened original (its verdict `original`) written into `into`."""
    try:
        copy = make_copy(Path(screening.path), screening, original, into, trust=trust, rules=rules)
    except (RedactError, OSError) as exc:
        return Copied(original, error=str(exc))
    return Copied(original, copy, faces=len(faces_to_hide(original)), names=len(text_to_hide(original)))


def screen_copies(trust, rules: Rules, trail: AuditTrail, copies: Iterable[Path],
                  workers: int = 0) -> Iterator[Verdict]:
    """The copies screened like any photo (recorded): only what the checks find there counts."""
    for screening in screen_many([(Path(c), str(c)) for c in copies], trust.config, trust.gallery,
                                 workers=workers, people=trust.names):
        yield trail.verdict(screening, rules)


# ---------------------------------------------------------------- recheck


@dataclass(frozen=True)
class Change:
    before: Entry
    after: Verdict


@dataclass
class Recheck:
    """What a recheck found: how many latest verdicts were decided again, the status changes, the
    entries decided from findings of another config or gallery (file gone or changed), how many
    were screened again. Nothing here is printed: `recheck` prints it, `serve` shows it."""

    entries: int = 0
    changes: list[Change] = field(default_factory=list)
    outdated: list[Entry] = field(default_factory=list)
    rescanned: int = 0

    @property
    def lost(self) -> list[Change]:
        """Images that were cleared and are no longer: to be taken down."""
        return [c for c in self.changes
                if c.before.status == Status.CLEARED.value and c.after.status is not Status.CLEARED]


def recheck(trust, rules: Rules, trail: AuditTrail, workers: int = 0) -> Recheck:
    """Decide every latest verdict again with today's register (screening again only files whose
    findings are stale and still there unchanged). Raises SetupError, sqlite3.Error, OSError."""
    result = Recheck()

    def compare(entry: Entry, screening: Screening, rescanned: bool) -> None:
        if rescanned:
            v = trail.verdict(screening, rules)  # new findings: always worth keeping
        else:
            v = trail.decide(screening, rules)
            if (v.status.value, reasons_json(v)) != (entry.status, entry.reasons):
                trail.record(screening, v)  # only changes are appended, so a change is listed once
        if v.status.value != entry.status:
            result.changes.append(Change(entry, v))

    entries = trail.latest(rules.channel)
    result.entries = len(entries)
    rescan: dict[str, Entry] = {}
    for entry in entries:
        screening = replace(entry.raw(), path=entry.path)
        if trail.is_current(entry):
            compare(entry, screening, rescanned=False)
        elif _unchanged(entry):
            rescan[entry.path] = entry
        else:  # decide from the old findings anyway: a withdrawn consent still shows
            result.outdated.append(entry)
            compare(entry, screening, rescanned=False)
    if rescan:
        trust.enrol()
        items = [(Path(p), p) for p in rescan]
        for screening in screen_many(items, trust.config, trust.gallery, workers=workers, people=trust.names):
            compare(rescan[screening.path], screening, rescanned=True)
    result.rescanned = len(rescan)
    return result


def _unchanged(entry: Entry) -> bool:
    """Whether the file is still at its path with the content that was screened."""
    try:
        return sha256_file(entry.path) == entry.sha256
    except OSError:
        return False

