"""Command line: argument parsing and dispatch only; each command lives in screening/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys

from screening import __version__

# Each module exposes register(subparsers); a command whose module is absent is not offered.
COMMANDS = ("scan", "watch", "consent", "redact", "audit", "permit", "recheck", "serve", "users")


# Width given to a console that is not a terminal (a pipe, a file, cron mail): lines are
# printed whole, so a path is never split and a table column never truncated.
UNWRAPPED_WIDTH = 10_000


def console(stderr: bool = False):
    """A rich Console for stdout (or stderr) that prints whole lines when it is not a terminal."""
    from rich.console import Console

    c = Console(stderr=stderr)
    if c.is_terminal:
        return c
    return Console(stderr=stderr, soft_wrap=True, width=UNWRAPPED_WIDTH)


def consoles():
    """(stdout, stderr) consoles, each printing whole lines when it is not a terminal."""
    return console(), console(stderr=True)


def register_warnings(trust, err) -> None:
    """Print, on every run, the register's columns that could record consent but are ignored."""
    from screening.textsafe import for_terminal

    for warning in trust.register.warnings:
        err.print(f"[bold yellow]register warning:[/] {for_terminal(warning)}", highlight=False, soft_wrap=True)


def enrolment_notes(trust, err) -> None:
    """Print what enrolment could not use, once: when it differs from what was shown last time.

    The notes repeat on every run otherwise (scan, permit, recheck, watch) and read as if
    something broke; `screening consent enrol` lists them whenever asked.
    """
    import hashlib

    digest = hashlib.sha256("\n".join(sorted(trust.problems)).encode()).hexdigest()
    marker = trust.config.state.with_name(trust.config.state.name + ".enrolment-notes")
    try:
        if marker.read_text(encoding="utf-8").strip() == digest:
            return
    except OSError:
        pass
    for problem in trust.problems:
        err.print(f"[yellow]enrolment note:[/] {problem}", highlight=False)
    if trust.problems:
        err.print("(shown once; `screening consent enrol` lists them again)", highlight=False)
    try:
        from screening.store.db import private_file

        marker.parent.mkdir(parents=True, exist_ok=True)
        with private_file(marker, "w", encoding="utf-8") as out:  # beside the state DB: 0600 like it
            out.write(digest + "\n")
    except OSError:
        pass  # shown again next time: better than never


# Exit statuses every command shares (SPEC.md): 0 nothing to act on, 1 something needs a person,
# 2 an error (a file not screened completely, or the command itself failed).
EXIT_OK, EXIT_ACT, EXIT_ERROR = 0, 1, 2


def open_acting(args: argparse.Namespace, command: str, err):
    """(trust, rules for --channel, audit trail) for a command that acts on verdicts (permit,
    recheck), or None after printing why not to `err`."""
    import sqlite3

    from screening.store.audit import AuditTrail
    from screening.textsafe import for_terminal
    from screening.trust import SetupError, open_trust

    try:
        trust = open_trust(args.config)
        rules = trust.rules(args.channel)
        register_warnings(trust, err)
        return trust, rules, AuditTrail.open(trust, command)
    except (SetupError, OSError, sqlite3.Error) as exc:
        err.print(f"[bold red]screening {command}:[/] {for_terminal(exc)}", highlight=False, soft_wrap=True)
        return None


def add_config(parser) -> None:
    """--config, the same for every command."""
    parser.add_argument("--config", default="screening.toml", help="trust config (default ./screening.toml)")


def workers(text: str) -> int:
    """--workers: a whole number of processes, 0 meaning one per core."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{n} is negative: give a number of processes, or 0 for one per core")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="screening",
        description="Screen photos for faces without consent, academy logos and uniforms, "
                    "and location data before the trust publishes them.",
    )
    parser.add_argument("--version", action="version", version=f"screening {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"screening.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"screening.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if words[:1] == ["scan"]:  # the workers' models load on another core while the commands import
        from screening.pool_preload import start_for_scan

        start_for_scan(words[1:])
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("screening: interrupted", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
