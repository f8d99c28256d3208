"""`screening scan PATH...`: screen files and folders, write reports, print a summary."""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections import Counter
from itertools import chain
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from screening import files
from screening.cli import (
    EXIT_ACT,
    EXIT_ERROR,
    EXIT_OK,
    add_config,
    consoles,
    enrolment_notes,
    register_warnings,
    workers,
)
from screening.model import Cause, Status, Verdict
from screening.pipeline import not_read
from screening.pool import Screener
from screening.pool_preload import start_forkserver
from screening.reports.tabular import CsvWriter, JsonlWriter
from screening.store.audit import AuditTrail
from screening.store.cache import ResultCache
from screening.textsafe import for_terminal
from screening.trust import SetupError, open_trust

EXIT_CLEARED, EXIT_NEEDS_PERMISSION = EXIT_OK, EXIT_ACT


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scan",
        help="screen photos and say which are cleared and which need permission",
        description="Screen every image in the given files and folders (recursively). "
                    "Exit status: 0 all cleared, 1 some need permission, 2 some could not be "
                    "screened or the command failed.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    add_config(p)
    p.add_argument("--channel", help="where the photos will be published (default: the config's default_channel)")
    p.add_argument("--jsonl", type=Path, metavar="FILE", help="write one JSON record per image")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write a spreadsheet-friendly summary")
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML contact sheet")
    p.add_argument("--workers", type=workers, default=0, help="processes to use (default: one per core)")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="screen on a Dask cluster (tcp://HOST:8786); every worker must see the files "
                        "at the same paths")
    p.add_argument("--no-cache", action="store_true",
                   help="screen every file again even if its bytes were screened before")
    p.set_defaults(func=run)


class _Refused(Exception):
    """The scan cannot start; the message says why, for the user."""


@dataclass
class _Scan:
    """What one scan holds open: the trust, the files, the audit trail, the cache and the reports."""

    trust: Any
    rules: Any
    selection: files.Selection
    trail: AuditTrail
    cache: ResultCache | None
    screener: Any
    writers: list


@dataclass
class _Tally:
    statuses: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    missing_checks: set = field(default_factory=set)

    def add(self, v: Verdict) -> None:
        self.statuses[v.status] += 1
        self.kinds.update({r.kind for r in v.reasons})
        self.missing_checks.update(r.extra.get("check", "") for r in v.reasons if r.cause is Cause.MISSING)


def run(args: argparse.Namespace) -> int:
    out, err = consoles()
    try:
        scan = _open(args, err)
    except _Refused as exc:
        err.print(f"[bold red]screening scan:[/] {exc}", highlight=False)
        return EXIT_ERROR
    total = scan.selection.total
    tally = _Tally()
    finished, failed = _screen_all(scan, args, out, err, tally)
    for problem in failed:
        err.print(f"[bold red]screening scan:[/] {problem}", highlight=False)
    if not finished:
        done = sum(tally.statuses.values())
        err.print(f"[bold red]screening scan: interrupted[/] after {done} of {total} file(s)"
                  + ("; the reports hold those and are marked incomplete" if scan.writers else ""),
                  highlight=False)
        return EXIT_ERROR
    unreadable = [s for s in scan.selection.skipped if s.problem]
    out.print(_summary_line(tally.statuses, total, scan.rules.channel, scan.selection), highlight=False)
    if not args.quiet:
        _details(out, tally.kinds, tally.missing_checks, scan.selection)
    if tally.statuses[Status.ERROR] or unreadable or failed:
        return EXIT_ERROR
    if tally.statuses[Status.NEEDS_PERMISSION]:
        return EXIT_NEEDS_PERMISSION
    return EXIT_CLEARED


def _open(args: argparse.Namespace, err) -> _Scan:
    """Trust, files, enrolment, audit trail, cache, screener and reports; _Refused says what failed."""
    if not args.scheduler and args.workers != 1 and (args.workers or os.cpu_count() or 1) > 1:
        start_forkserver()  # (cli.main started it already) the workers' models load meanwhile
    try:
        trust = open_trust(args.config)
        rules = trust.rules(args.channel)
    except SetupError as exc:
        raise _Refused(str(exc)) from None
    try:
        selection = files.select(args.paths, exclude=[p for p in (args.jsonl, args.csv, args.html) if p])
    except files.MissingPath as exc:
        raise _Refused(for_terminal(str(exc))) from None
    if not selection.total:
        raise _Refused("no files to screen in the given paths"
                       + (f" ({selection.skipped_line()})" if selection.skipped else ""))
    try:
        trust.enrol()
    except SetupError as exc:
        raise _Refused(str(exc)) from None
    register_warnings(trust, err)  # even when quiet: a consent the trust believes recorded is ignored
    if not args.quiet:
        enrolment_notes(trust, err)
    try:
        trail = AuditTrail.open(trust, "scan")
        cache = None if args.no_cache else ResultCache.open(trust)
    except (OSError, sqlite3.Error) as exc:
        raise _Refused(f"cannot open the audit trail {trust.config.state}: {exc}") from None
    try:
        screener = _screener(args, trust, cache)
    except (OSError, ImportError, ValueError) as exc:
        trail.close()
        raise _Refused(f"cannot reach the Dask scheduler {args.scheduler}: {exc}") from None
    try:
        writers = _writers(args, trust, rules, selection)
    except _Refused:
        trail.close()
        screener.close()
        raise
    return _Scan(trust, rules, selection, trail, cache, screener, writers)


def _writers(args: argparse.Namespace, trust, rules, selection: files.Selection) -> list:
    writers: list = []
    try:
        if args.jsonl:
            writers.append(JsonlWriter(args.jsonl))
        if args.csv:
            writers.append(CsvWriter(args.csv, skipped=selection.skipped))
        if args.html:
            from screening.reports.html import HtmlWriter

            writers.append(HtmlWriter(args.html, title=f"{trust.config.trust}: {rules.channel}",
                                      names={p.person_id: p.name for p in trust.register.people.values()},
                                      skipped=selection.skipped))
    except (OSError, ImportError) as exc:
        message = _report_error(exc, writers, args)
        _close_all(writers, None)
        raise _Refused(message) from None
    return writers


def _screen_all(scan: _Scan, args: argparse.Namespace, out, err, tally: _Tally) -> tuple[bool, list[str]]:
    """Screen every file, writing each verdict as it comes; (finished, report problems)."""
    total = scan.selection.total
    progress = None if args.quiet else _progress(err, total)
    finished = False
    try:
        refused = (not_read(path, display, why) for path, display, why in scan.selection.refused)
        for screening in chain(refused, scan.screener.screen(scan.selection.items)):
            v = scan.trail.verdict(screening, scan.rules)  # permission applied, appended to the audit trail
            for w in scan.writers:
                w.write(v)
            tally.add(v)
            if progress:
                progress.advance(progress.task_ids[0])
            if not args.quiet:  # above the progress bar on a terminal
                out.print(_line(v), highlight=False)
        finished = True
    except KeyboardInterrupt:
        pass  # said by the caller, once the reports are closed
    finally:
        if progress:
            progress.stop()
        # stopped early (Ctrl-C, or an error that is then raised): the reports say so
        done = sum(tally.statuses.values())
        failed = _close_all(scan.writers, None if finished else (
            f"INCOMPLETE: the scan was stopped after {done} of {total} file(s); "
            f"{total - done} file(s) were not screened and are not in this report"))
        scan.screener.close()
        scan.trail.close()
        if scan.cache is not None:
            scan.cache.close()
    return finished, failed


def _close_all(writers, interrupted: str | None) -> list[str]:
    """Close every report (marked incomplete when interrupted); the problems, in words."""
    problems = []
    for w in writers:
        try:
            w.close(incomplete=interrupted)
        except OSError as exc:
            problems.append(f"cannot write report {w.path}: {exc.strerror or exc}")
    return problems


def _report_error(exc: Exception, writers, args) -> str:
    """'cannot write report out/r.html: Permission denied', naming the report, not a temp file."""
    if isinstance(exc, ImportError):
        return f"cannot write report: {exc}"
    target = [p for p in (args.jsonl, args.csv, args.html) if p][len(writers)]
    return f"cannot write report {target}: {exc.strerror or exc}"


def _screener(args: argparse.Namespace, trust, cache):
    """A local process pool, or a Dask cluster with --scheduler; both screen the same way."""
    if args.scheduler:
        from screening.cluster import ClusterScreener

        return ClusterScreener(args.scheduler, trust.config, trust.gallery, cache=cache, people=trust.names)
    return Screener(trust.config, trust.gallery, workers=args.workers, cache=cache, people=trust.names)


def _progress(console, total: int):
    if not sys.stderr.isatty():
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    progress = Progress(TextColumn("screening"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=console, transient=True)
    progress.add_task("scan", total=total)
    progress.start()
    return progress


_STYLE = {Status.CLEARED: "green", Status.NEEDS_PERMISSION: "yellow", Status.ERROR: "red"}


def _line(v: Verdict) -> str:
    head = f"[{_STYLE[v.status]}]{v.status.value:16}[/] {for_terminal(v.path)}"
    if v.permission is not None:
        head += f" (with permission by {for_terminal(v.permission.by)})"
    if v.permission_gap is not None:
        head += f"\n    {for_terminal(v.permission_gap)}"
    # Checks that could not run because the file did not decode are one consequence, said once.
    not_run = [r.extra.get("check", "?") for r in v.reasons if r.cause is Cause.UNDECODED]
    lines = [f"{r.kind.value}: {for_terminal(r.detail)}" for r in v.reasons if r.cause is not Cause.UNDECODED]
    if not_run:
        lines.append(f"error: so the {_and(not_run)} check(s) could not run")
    return head + "".join(f"\n    {line}" for line in lines)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _summary_line(statuses, total: int, channel: str, selection: files.Selection) -> str:
    """The one line --quiet prints: what was screened, each outcome, what was not screened."""
    line = (f"{total} file(s) screened for {channel}: {statuses[Status.CLEARED]} cleared, "
            f"{statuses[Status.NEEDS_PERMISSION]} need permission, {statuses[Status.ERROR]} error(s)")
    if selection.skipped:
        line += f"; {selection.skipped_line()}"
    return line


def _details(out, kinds, missing_checks, selection: files.Selection) -> None:
    if kinds:
        out.print("reasons: " + ", ".join(f"{k.value} {n}" for k, n in sorted(kinds.items())),
                  highlight=False)
    missing_checks.discard("")
    if missing_checks:
        out.print(f"[red]not available in this version: {', '.join(sorted(missing_checks))} check(s); "
                  "no image can be cleared until every check runs[/]", highlight=False)
    for s in selection.skipped:
        shown = for_terminal(s.display)
        out.print(f"[red]not screened[/] {shown}: {s.why}" + (f": {for_terminal(s.detail)}" if s.detail else "")
                  if s.problem else f"not screened {shown}: {s.why}", highlight=False)
