"""`screening scan PATH...`: screen files and folders, write reports, print a summary."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections import Counter
from pathlib import Path

from screening import files
from screening.model import Kind, Status, Verdict
from screening.pool import Screener
from screening.reports.tabular import CsvWriter, JsonlWriter
from screening.store.audit import AuditTrail
from screening.store.cache import ResultCache
from screening.trust import SetupError, open_trust

EXIT_CLEARED, EXIT_NEEDS_PERMISSION, EXIT_ERROR = 0, 1, 2


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scan",
        help="screen photos and say which are cleared and which need permission",
        description="Screen every image in the given files and folders (recursively). "
                    "Exit status: 0 all cleared, 1 some need permission, 2 some could not be "
                    "screened or the command failed.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--config", default="screening.toml", help="trust config (default ./screening.toml)")
    p.add_argument("--channel", help="where the photos will be published (default: the config's default_channel)")
    p.add_argument("--jsonl", type=Path, metavar="FILE", help="write one JSON record per image")
    p.add_argument("--csv", type=Path, metavar="FILE", help="write a spreadsheet-friendly summary")
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML contact sheet")
    p.add_argument("--workers", type=int, default=0, help="processes to use (default: one per core)")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="screen on a Dask cluster (tcp://HOST:8786); every worker must see the files "
                        "at the same paths")
    p.add_argument("--no-cache", action="store_true",
                   help="screen every file again even if its bytes were screened before")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    err = Console(stderr=True)
    out = Console()
    try:
        trust = open_trust(args.config)
        rules = trust.rules(args.channel)
        trust.enrol()
    except SetupError as exc:
        err.print(f"[bold red]screening scan:[/] {exc}", highlight=False)
        return EXIT_ERROR
    for problem in trust.problems:
        err.print(f"[yellow]enrolment:[/] {problem}", highlight=False)

    items = list(files.inputs(args.paths))
    if not items:
        err.print("[bold red]screening scan:[/] no files to screen in the given paths")
        return EXIT_ERROR

    try:
        trail = AuditTrail.open(trust, "scan")
        cache = None if args.no_cache else ResultCache.open(trust)
    except (OSError, sqlite3.Error) as exc:
        err.print(f"[bold red]screening scan:[/] cannot open the audit trail {trust.config.state}: {exc}")
        return EXIT_ERROR
    try:
        screener = _screener(args, trust, cache)
    except (OSError, ImportError, ValueError) as exc:
        err.print(f"[bold red]screening scan:[/] cannot reach the Dask scheduler {args.scheduler}: {exc}")
        trail.close()
        return EXIT_ERROR

    writers = []
    try:
        if args.jsonl:
            writers.append(JsonlWriter(args.jsonl))
        if args.csv:
            writers.append(CsvWriter(args.csv))
        if args.html:
            from screening.reports.html import HtmlWriter

            writers.append(HtmlWriter(args.html, title=f"{trust.config.trust}: {rules.channel}",
                                      names={p.person_id: p.name for p in trust.register.people.values()}))
    except (OSError, ImportError) as exc:
        err.print(f"[bold red]screening scan:[/] cannot write report: {exc}")
        trail.close()
        screener.close()
        return EXIT_ERROR

    statuses: Counter[Status] = Counter()
    kinds: Counter[Kind] = Counter()
    errors: list[Verdict] = []
    missing_checks: set[str] = set()
    progress = _progress(err, len(items))
    try:
        for screening in screener.screen(items):
            v = trail.verdict(screening, rules)  # permission applied, appended to the audit trail
            for w in writers:
                w.write(v)
            statuses[v.status] += 1
            kinds.update({r.kind for r in v.reasons})
            missing_checks.update(r.extra.get("check", "") for r in v.reasons
                                  if r.kind is Kind.ERROR and r.detail.endswith("did not run"))
            if v.status is Status.ERROR and len(errors) < 20:
                errors.append(v)
            if progress:
                progress.advance(progress.task_ids[0])
            elif not args.quiet:
                out.print(_line(v), highlight=False)
    except KeyboardInterrupt:
        err.print("[bold red]interrupted:[/] the reports hold the images screened so far")
        return EXIT_ERROR
    finally:
        if progress:
            progress.stop()
        for w in writers:
            w.close()
        screener.close()
        trail.close()
        if cache is not None:
            cache.close()

    _summary(out, statuses, kinds, errors, missing_checks, len(items), rules.channel)
    if statuses[Status.ERROR]:
        return EXIT_ERROR
    if statuses[Status.NEEDS_PERMISSION]:
        return EXIT_NEEDS_PERMISSION
    return EXIT_CLEARED


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
    head = f"[{_STYLE[v.status]}]{v.status.value:16}[/] {v.path}"
    if "permission" in v.extra:
        head += f" (with permission by {v.extra['permission']['by']})"
    if "permission_not_covering" in v.extra:
        head += f"\n    {v.extra['permission_not_covering']}"
    if not v.reasons:
        return head
    return head + "".join(f"\n    {r.kind.value}: {r.detail}" for r in v.reasons)


def _summary(out, statuses, kinds, errors, missing_checks, total, channel) -> None:
    from rich.table import Table

    out.print(f"{total} image(s) screened for {channel}", highlight=False)
    table = Table()
    table.add_column("status")
    table.add_column("images", justify="right")
    for status in Status:
        table.add_row(f"[{_STYLE[status]}]{status.value}[/]", str(statuses[status]))
    out.print(table)
    if kinds:
        out.print("reasons: " + ", ".join(f"{k.value} {n}" for k, n in sorted(kinds.items())),
                  highlight=False)
    missing_checks.discard("")
    if missing_checks:
        out.print(f"[red]not available in this version: {', '.join(sorted(missing_checks))} check(s); "
                  "no image can be cleared until every check runs[/]", highlight=False)
    for v in errors:
        why = next(r.detail for r in v.reasons if r.kind is Kind.ERROR)
        out.print(f"[red]error[/] {v.path}: {why}", highlight=False, soft_wrap=True)
