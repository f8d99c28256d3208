"""`screening users add|list|remove|password`: the accounts of `screening serve`.

A password is read from a prompt (twice), or from the first line of standard input when it is
not a terminal (for scripts); never from the command line, where other users could read it in
the process list and it would stay in the shell's history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sqlite3
import sys

from screening.cli import EXIT_ERROR, EXIT_OK, add_config, consoles
from screening.store.accounts import ROLES, AccountError, Accounts
from screening.textsafe import for_terminal
from screening.trust import SetupError, open_trust
from screening.web import passwords


def register(subparsers) -> None:
    p = subparsers.add_parser("users", help="accounts that may sign in to `screening serve`",
                              description="Add, list or remove the accounts of the review workspace "
                                          "(screening serve). Reviewers screen, permit, download and mark "
                                          "photos; admins also manage accounts.")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="add an account (the password is asked for, or read from stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, required=True)
    add_config(add)
    ls = sub.add_parser("list", help="list the accounts")
    add_config(ls)
    rm = sub.add_parser("remove", help="remove an account and end its sessions")
    rm.add_argument("name")
    add_config(rm)
    pw = sub.add_parser("password", help="set a new password (ends the account's sessions)")
    pw.add_argument("name")
    add_config(pw)
    p.set_defaults(func=run)


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise passwords.PasswordError("the two passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    out, err = consoles()

    def fail(message: str) -> int:
        err.print(f"[bold red]screening users:[/] {for_terminal(message)}", highlight=False)
        return EXIT_ERROR

    try:
        accounts = Accounts(open_trust(args.config).config.state)
    except (SetupError, OSError, sqlite3.Error) as exc:
        return fail(str(exc))
    try:
        if args.action == "list":
            for a in accounts.all():
                when = dt.datetime.fromtimestamp(a.created, dt.timezone.utc).strftime("%Y-%m-%d")
                out.print(for_terminal(f"{a.name:20} {a.role:9} added {when}"), highlight=False)
            return EXIT_OK
        if args.action == "remove":
            accounts.remove(args.name)
            out.print(for_terminal(f"account {args.name} removed"), highlight=False)
            return EXIT_OK
        if args.action == "add" and accounts.get(args.name) is not None:
            return fail(f"an account named {args.name!r} already exists")
        if args.action == "add" and not _valid_name(args.name):
            return fail("a name is 1 to 64 letters, digits, '.', '-' or '_'")
        hashed = passwords.hash_password(_password())
        if args.action == "add":
            accounts.add(args.name, args.role, hashed)
            out.print(for_terminal(f"account {args.name} ({args.role}) added"), highlight=False)
        else:
            accounts.set_password(args.name, hashed)
            out.print(for_terminal(f"password of {args.name} changed; its sessions ended"), highlight=False)
        return EXIT_OK
    except (AccountError, passwords.PasswordError, OSError, sqlite3.Error) as exc:
        return fail(str(exc))


def _valid_name(name: str) -> bool:
    return 0 < len(name) <= 64 and name.replace("-", "").replace("_", "").replace(".", "").isalnum() and name.isascii()
