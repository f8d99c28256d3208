"""`screening redact PATH... --into FOLDER`: publishable copies, then screen the copies."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from screening import files
from screening.cli import EXIT_ACT, EXIT_ERROR, EXIT_OK, add_config, consoles, register_warnings, workers
from screening.model import Status
from screening.review import make_copies, screen_copies
from screening.textsafe import for_terminal as safe
from screening.store.audit import AuditTrail
from screening.trust import SetupError, open_trust

EXIT_CLEARED, EXIT_NEEDS_PERMISSION = EXIT_OK, EXIT_ACT
_STYLE = {Status.CLEARED: "green", Status.NEEDS_PERMISSION: "yellow", Status.ERROR: "red"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "redact",
        help="make publishable copies: unconsented faces blurred, location data removed",
        description="Write into FOLDER a copy of every image with the faces of people without consent "
                    "for the channel (and unknown faces) made unrecognisable and all location metadata "
                    "(EXIF GPS, XMP, IPTC) removed; the colour profile is kept and the copy is upright. "
                    "Logos and uniforms are not hidden. Originals are never touched. Each copy is then "
                    "screened; exit status as for scan, on the copies: 0 all cleared, 1 some need "
                    "permission, 2 some copies could not be made or screened.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders")
    p.add_argument("--into", required=True, type=Path, metavar="FOLDER", help="folder for the copies")
    add_config(p)
    p.add_argument("--channel", help="where the copies will be published (default: the config's default_channel)")
    p.add_argument("--workers", type=workers, default=0, help="processes to use (default: one per core)")
    p.set_defaults(func=run)


class _Refused(Exception):
    """Redact cannot start; the message says why, for the user."""


def run(args: argparse.Namespace) -> int:
    out, err = consoles()

    def say(text: str, console=out) -> None:
        console.print(text, highlight=False, soft_wrap=True)

    try:
        trust, rules, selection, trail = _open(args)
    except _Refused as exc:
        say(f"[bold red]screening redact:[/] {safe(exc)}", err)
        return EXIT_ERROR
    register_warnings(trust, err)
    items = selection.items
    statuses = {s: 0 for s in Status}
    copies: dict[str, str] = {}  # copy -> original
    for _, display, why in selection.refused:  # a link out of the folder: no copy is made of it
        say(f"[red]error[/]            {safe(display)}: {safe(why)}")
        statuses[Status.ERROR] += 1
    try:
        for c in make_copies(trust, rules, trail, items, args.into, workers=args.workers):
            if c.copy is None:
                say(f"[red]error[/]            {safe(c.original.path)}: {safe(c.error)}")
                statuses[Status.ERROR] += 1
                continue
            copies[str(c.copy)] = c.original.path
            words = f", {c.names} name(s) in text blurred" if c.names else ""
            say(f"copied           {safe(c.original.path)} -> {safe(c.copy)} ({c.faces} face(s) blurred{words}, metadata removed)")
        for v in screen_copies(trust, rules, trail, [Path(c) for c in copies], workers=args.workers):
            statuses[v.status] += 1
            say(f"[{_STYLE[v.status]}]{v.status.value:16}[/] {safe(v.path)}"
                + "".join(f"\n    {r.kind.value}: {safe(r.detail)}" for r in v.reasons))
    except KeyboardInterrupt:
        say("[bold red]interrupted:[/] the copies made so far are in the folder", err)
        return EXIT_ERROR
    finally:
        trail.close()

    say(f"{len(copies)} of {selection.total} image(s) copied into {safe(args.into)} for {rules.channel}: "
        + ", ".join(f"{n} {s.value}" for s, n in statuses.items()))
    if statuses[Status.ERROR]:
        return EXIT_ERROR
    if statuses[Status.NEEDS_PERMISSION]:
        return EXIT_NEEDS_PERMISSION
    return EXIT_CLEARED


def _open(args: argparse.Namespace):
    """(trust, rules, files, audit trail); _Refused says what failed."""
    try:
        trust = open_trust(args.config)
        rules = trust.rules(args.channel)
        trust.enrol()
    except SetupError as exc:
        raise _Refused(str(exc)) from None
    try:
        selection = files.select(args.paths)
    except files.MissingPath as exc:
        raise _Refused(str(exc)) from None
    items = selection.items
    if not selection.total:
        raise _Refused("no files to redact in the given paths")
    problem = _unsafe_folder(args.into, args.paths, items)
    if problem:
        raise _Refused(f"--into {args.into}: {problem}")
    try:
        trail = AuditTrail.open(trust, "redact")
    except (OSError, sqlite3.Error) as exc:
        raise _Refused(f"cannot open the audit trail {trust.config.state}: {exc}") from None
    return trust, rules, selection, trail


def _unsafe_folder(into: Path, given: list[str], items: list[tuple[Path, str]]) -> str | None:
    """Why FOLDER must not take the copies, or None: never beside the originals or among them."""
    if into.exists() and not into.is_dir():
        return "is a file, not a folder"
    target = files.resolved(into)
    for path, _ in items:
        if files.resolved(path.parent) == target:
            return f"holds the original {path}: the copies must go to a folder of their own"
    for name in given:
        folder = files.resolved(name)
        if Path(name).is_dir() and (target == folder or folder in target.parents):
            return f"is inside {name}: the copies would be screened as originals next time"
    return None
