"""`screening permit FILE --by NAME --note TEXT`: record that permission to publish was obtained."""

from __future__ import annotations

import argparse
from pathlib import Path

from screening.cli import EXIT_ERROR, add_config, consoles, open_acting
from screening.review import permit_file
from screening.textsafe import for_terminal as safe
from screening.trust import SetupError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "permit",
        help="record that permission was obtained for an image that needs it",
        description="Record that permission to publish this exact file (by its sha256) on the channel "
                    "was obtained. The permission covers the reasons the image has now; its next "
                    "verdict is cleared with permission, unless a new reason appears (a consent "
                    "withdrawn since, another face). An image that could not be screened completely "
                    "cannot be permitted.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="the image file(s)")
    p.add_argument("--by", required=True, metavar="NAME", help="who obtained the permission")
    p.add_argument("--note", required=True, metavar="TEXT", help="what permission, from whom (e.g. 'signed form from parent, 2026-03-02')")
    add_config(p)
    p.add_argument("--channel", help="the channel it may be published on (default: the config's default_channel)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out, err = consoles()
    opened = open_acting(args, "permit", err)
    if opened is None:
        return EXIT_ERROR
    trust, rules, trail = opened

    status = 0
    enrolled = [False]
    try:
        for name in args.files:
            o = permit_file(trust, rules, trail, Path(name), name, args.by, args.note, enrolled)
            if o.what == "unreadable":
                err.print(f"[red]error[/] {safe(name)}: {safe(o.detail)}", highlight=False, soft_wrap=True)
                status = 2
            elif o.what == "error":
                err.print(f"[red]not permitted[/] {safe(name)}: it was not screened completely, so no "
                          "permission can cover it:" + "".join(f"\n    {safe(r.detail)}" for r in o.before.reasons),
                          highlight=False, soft_wrap=True)
                status = 2
            elif o.what == "cleared":
                out.print(f"[green]cleared[/] {safe(name)}: nothing needs permission", highlight=False, soft_wrap=True)
            elif o.what == "failed":  # the record failed: the verdict says why
                err.print(f"[red]{o.after.status.value}[/] {safe(name)}: "
                          + "; ".join(safe(r.detail) for r in o.after.reasons), highlight=False, soft_wrap=True)
                status = 2
            else:
                out.print(f"[green]cleared with permission[/] {safe(name)} for {rules.channel}, by {safe(args.by)} "
                          f"({safe(args.note)}); covers {safe(o.covers)}", highlight=False, soft_wrap=True)
    except SetupError as exc:  # the face store or model could not be used: nothing is permitted
        err.print(f"[bold red]screening permit:[/] {safe(exc)}", highlight=False, soft_wrap=True)
        return EXIT_ERROR
    finally:
        trail.close()
    return status
