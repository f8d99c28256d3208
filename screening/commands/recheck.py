"""`screening recheck`: decide past verdicts again with today's register; list what changed.

Living consent: when a consent is withdrawn or expires, images already cleared (and perhaps
published) may no longer be. The stored findings are decided again without screening; only
files whose findings came from another config or face gallery are screened again.
"""

from __future__ import annotations

import argparse
import sqlite3

from screening.cli import EXIT_ACT, EXIT_ERROR, EXIT_OK, add_config, consoles, open_acting, workers
from screening.model import Status
from screening.review import Recheck, recheck
from screening.textsafe import for_terminal
from screening.trust import SetupError

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


def run(args: argparse.Namespace) -> int:
    out, err = consoles()
    opened = open_acting(args, "recheck", err)
    if opened is None:
        return EXIT_ERROR
    trust, rules, trail = opened
    try:
        found = recheck(trust, rules, trail, workers=args.workers)
    except (SetupError, sqlite3.Error, OSError) as exc:  # SetupError: the face store or model
        err.print(f"[bold red]screening recheck:[/] {for_terminal(exc)}", highlight=False, soft_wrap=True)
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


def _print(out, found: Recheck, channel: str) -> None:
    for c in found.changes:
        style = "green" if c.after.status is Status.CLEARED else "red"
        out.print(f"[{style}]{c.before.status} -> {c.after.status.value}[/] {for_terminal(c.before.path)}", highlight=False, soft_wrap=True)
        for r in c.after.reasons:
            out.print(f"    {r.kind.value}: {for_terminal(r.detail)}", highlight=False, soft_wrap=True)
        if c.after.permission is not None:
            out.print(f"    with permission by {for_terminal(c.after.permission.by)}", highlight=False, soft_wrap=True)
        if c.after.permission_gap is not None:
            out.print(f"    {for_terminal(c.after.permission_gap)}", highlight=False, soft_wrap=True)
    for e in found.outdated:
        out.print(f"[yellow]scan again[/] {for_terminal(e.path)}: its findings are from another config or face gallery "
                  "and the file is no longer there unchanged; decided from the old findings", highlight=False, soft_wrap=True)
    rescanned = f", {found.rescanned} screened again" if found.rescanned else ""
    out.print(f"{found.entries} image(s) rechecked for {channel}{rescanned}: "
              f"{len(found.changes)} changed status", highlight=False, soft_wrap=True)

