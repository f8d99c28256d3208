"""Command line: argument parsing and dispatch only; each command lives in screening/commands/."""

from __future__ import annotations

import argparse
import importlib
import sys

from screening import __version__

# Each module exposes register(subparsers); a command whose module is absent is not offered.
COMMANDS = ("scan", "watch", "consent", "redact", "audit", "permit", "recheck")


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
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("screening: interrupted", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
