"""`screening audit`: list the audit trail, or export it as CSV."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sqlite3

from screening.cli import EXIT_ERROR, EXIT_OK, add_config, consoles
from screening.store.audit import AuditTrail, csv_rows
from screening.store.db import private_file
from screening.textsafe import for_terminal
from screening.trust import SetupError, open_trust


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "audit",
        help="list every verdict recorded (who, when, which file, why), or export them as CSV",
        description="List the audit trail: every verdict scan, redact, permit and recheck gave, with "
                    "the time (UTC), the user, the file's sha256, the config, register and tool "
                    "version, and the reasons.",
    )
    add_config(p)
    p.add_argument("--since", metavar="DATE", help="only entries from this date (YYYY-MM-DD) or time on")
    p.add_argument("--csv", metavar="FILE", help="write the entries to a CSV file instead of listing them")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out, err = consoles()
    since = None
    if args.since:
        try:
            since = dt.datetime.fromisoformat(args.since)
        except ValueError:
            err.print(f"[bold red]screening audit:[/] --since {for_terminal(repr(args.since))}: expected YYYY-MM-DD", highlight=False)
            return EXIT_ERROR
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
    try:
        trust = open_trust(args.config)
        trail = AuditTrail.open(trust, "audit")
    except (SetupError, OSError, sqlite3.Error) as exc:
        err.print(f"[bold red]screening audit:[/] {for_terminal(exc)}", highlight=False)
        return EXIT_ERROR
    try:
        entries = trail.entries(since.astimezone(dt.timezone.utc).isoformat() if since else None)
    finally:
        trail.close()

    if args.csv:
        try:
            with private_file(args.csv, "w", encoding="utf-8-sig", newline="") as f:
                csv.writer(f).writerows(csv_rows(entries))
        except OSError as exc:
            err.print(f"[bold red]screening audit:[/] cannot write {for_terminal(args.csv)}: {for_terminal(exc)}",
                      highlight=False)
            return EXIT_ERROR
        out.print(f"{len(entries)} audit entries written to {for_terminal(args.csv)}", highlight=False)
        return EXIT_OK

    # one line per entry, not a table: paths stay whole and the output can be grepped
    for e in entries:
        why = ", ".join(sorted({r.get("kind", "?") for r in e.reason_list()}))
        if e.permission:
            p = json.loads(e.permission)
            why = f"permitted by {p.get('by')} ({p.get('note')}): {why}"
        out.print(for_terminal(f"{e.at.replace('T', ' ')[:19]}  {e.user}  {e.command:8} {e.channel}  "
                               f"{e.status:16} {e.path}  {why}"), highlight=False, soft_wrap=True)
    out.print(f"{len(entries)} entries", highlight=False)
    return EXIT_OK
