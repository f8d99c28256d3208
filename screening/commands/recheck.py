"""`screening recheck`: decide past verdicts again with today's register; list what changed.

Living consent: when a consent is withdrawn or expires, images already cleared (and perhaps
published) may no longer be. The stored findings are decided again without screening; only
files whose findings came from another config or face gallery are screened again.
"""

from __future__ import annotations

import argparse
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path

from screening.cli import EXIT_ACT, EXIT_ERROR, EXIT_OK, add_config, consoles, workers
from screening.digest import sha256_file
from screening.model import Screening, Status, Verdict
from screening.pool import screen_many
from screening.store.audit import AuditTrail, Entry, reasons_json
from screening.trust import SetupError, open_trust

EXIT_UNCHANGED, EXIT_NO_LONGER_CLEARED, EXIT_ERROR = EXIT_OK, EXIT_ACT, EXIT_ERROR


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "recheck",
        help="decide past verdicts again after the register changed, and list images whose status changed",
        description="Decide every file's latest verdict again with the current consent register, from "
                    "the stored findings (files are screened again only when their findings came from "
                    "another config or face gallery). Lists the images whose status changed, so "
                    "published ones can be taken down. Exit status: 0 nothing cleared changed, 1 an "
                    "image that was cleared now needs permission, 2 one is now an error or the "
                    "command failed.",
    )
    add_config(p)
    p.add_argument("--channel", help="the channel to recheck (default: the config's default_channel)")
    p.add_argument("--workers", type=workers, default=0, help="processes for files that must be screened again")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Change:
    before: Entry
    after: Verdict


@dataclass
class Rechecked:
    """What one recheck found: nothing here is printed yet."""

    entries: int = 0  # latest verdicts decided again
    rescanned: int = 0  # of them, files screened again (findings from another config or gallery)
    changes: list[Change] = field(default_factory=list)
    outdated: list[Entry] = field(default_factory=list)  # findings from another config/gallery, file gone or changed

    @property
    def lost(self) -> list[Change]:
        """Images that were cleared and are no longer."""
        return [c for c in self.changes
                if c.before.status == Status.CLEARED.value and c.after.status is not Status.CLEARED]


def run(args: argparse.Namespace) -> int:
    out, err = consoles()
    try:
        trust = open_trust(args.config)
        rules = trust.rules(args.channel)
        trail = AuditTrail.open(trust, "recheck")
    except (SetupError, OSError, sqlite3.Error) as exc:
        err.print(f"[bold red]screening recheck:[/] {exc}", highlight=False, soft_wrap=True)
        return EXIT_ERROR
    try:
        found = recheck(trust, rules, trail, args.workers)
    except (SetupError, sqlite3.Error, OSError) as exc:  # SetupError: the face store or model
        err.print(f"[bold red]screening recheck:[/] {exc}", highlight=False, soft_wrap=True)
        return EXIT_ERROR
    finally:
        trail.close()
    _print(out, found, rules.channel)
    lost = found.lost
    if any(c.after.status is Status.ERROR for c in lost):
        return EXIT_ERROR
    if lost:
        out.print(f"[bold red]{len(lost)} image(s) that were cleared are no longer: take them down "
                  "wherever they were published[/]", highlight=False, soft_wrap=True)
        return EXIT_NO_LONGER_CLEARED
    return EXIT_UNCHANGED


def recheck(trust, rules, trail: AuditTrail, workers: int) -> Rechecked:
    """Decide every latest verdict of the channel again; record and collect what changed."""
    found = Rechecked()

    def compare(entry: Entry, screening: Screening, rescanned: bool) -> None:
        if rescanned:
            v = trail.verdict(screening, rules)  # new findings: always worth keeping
        else:
            v = trail.decide(screening, rules)
            if (v.status.value, reasons_json(v)) != (entry.status, entry.reasons):
                trail.record(screening, v)  # only changes are appended, so a change is listed once
        if v.status.value != entry.status:
            found.changes.append(Change(entry, v))

    entries = trail.latest(rules.channel)
    found.entries = len(entries)
    rescan: dict[str, Entry] = {}
    for entry in entries:
        screening = replace(entry.raw(), path=entry.path)
        if trail.is_current(entry):
            compare(entry, screening, rescanned=False)
        elif _unchanged(entry):
            rescan[entry.path] = entry
        else:  # decide from the old findings anyway: a withdrawn consent still shows
            found.outdated.append(entry)
            compare(entry, screening, rescanned=False)
    found.rescanned = len(rescan)
    if rescan:
        trust.enrol()
        items = [(Path(p), p) for p in rescan]
        for screening in screen_many(items, trust.config, trust.gallery, workers=workers, people=trust.names):
            compare(rescan[screening.path], screening, rescanned=True)
    return found


def _print(out, found: Rechecked, channel: str) -> None:
    for c in found.changes:
        style = "green" if c.after.status is Status.CLEARED else "red"
        out.print(f"[{style}]{c.before.status} -> {c.after.status.value}[/] {c.before.path}", highlight=False, soft_wrap=True)
        for r in c.after.reasons:
            out.print(f"    {r.kind.value}: {r.detail}", highlight=False, soft_wrap=True)
        if c.after.permission is not None:
            out.print(f"    with permission by {c.after.permission.by}", highlight=False, soft_wrap=True)
        if c.after.permission_gap is not None:
            out.print(f"    {c.after.permission_gap}", highlight=False, soft_wrap=True)
    for e in found.outdated:
        out.print(f"[yellow]scan again[/] {e.path}: its findings are from another config or face gallery "
                  "and the file is no longer there unchanged; decided from the old findings", highlight=False, soft_wrap=True)
    rescanned = f", {found.rescanned} screened again" if found.rescanned else ""
    out.print(f"{found.entries} image(s) rechecked for {channel}{rescanned}: "
              f"{len(found.changes)} changed status", highlight=False, soft_wrap=True)


def _unchanged(entry: Entry) -> bool:
    """Whether the file is still at its path with the content that was screened."""
    try:
        return sha256_file(entry.path) == entry.sha256
    except OSError:
        return False
