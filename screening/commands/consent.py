"""`screening consent enrol | list | forget`: the consent register and its face encodings."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from screening.cli import EXIT_ACT, EXIT_ERROR, EXIT_OK, add_config, consoles, register_warnings
from screening.consent import enrolment, forgetting
from screening.policy import consent_state
from screening.textsafe import for_terminal as safe
from screening.trust import SetupError, Trust, open_trust

EXIT_SOMEONE_NOT_ENROLLED = EXIT_ACT


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "consent",
        help="enrol reference photos, list who may be published, forget a person",
        description="Manage the consent register's face side. `scan` enrols by itself; these "
                    "commands show what it did and remove a person for good.",
    )
    sub = p.add_subparsers(dest="consent_command", required=True, metavar="ACTION")

    enrol = sub.add_parser(
        "enrol", help="encode new or changed reference photos now and say which were not usable",
        description="Bring the face encodings in line with the register and consents/photos/. "
                    "Exit status: 0 everyone with biometric consent is enrolled, 1 someone has no "
                    "usable reference photo, 2 the command failed.")
    _config(enrol)
    enrol.set_defaults(func=run_enrol)

    listing = sub.add_parser(
        "list", help="a table of people: biometric consent, enrolled photos, consent per channel",
        description="Everyone in the register with their consent for each channel on the day "
                    "(valid, no, expired on D, withdrawn on D), and how many reference photos are enrolled "
                    "(from the stored encodings: run `consent enrol` to refresh them first). A person "
                    "enrolled from one photo is matched less surely than from two or three (docs/faces.md).")
    _config(listing)
    listing.add_argument("--photos", action="store_true",
                         help="also list each person's reference photos: used, or why not")
    listing.add_argument("--channel", help="show only this channel (default: every channel)")
    listing.add_argument("--date", type=_date, metavar="YYYY-MM-DD",
                         help="judge consent on this day (default: today)")
    listing.set_defaults(func=run_list)

    forget = sub.add_parser(
        "forget", help="remove every trace of a person: encodings, reference photos, register row, ids in the audit",
        description="Delete the person's face encodings (overwritten), their reference photo folder "
                    "and their register row, and replace their id in the audit trail with a random "
                    "pseudonym. See docs/consent.md. Asks for confirmation unless --yes.")
    forget.add_argument("person_id", metavar="PERSON_ID")
    _config(forget)
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.set_defaults(func=run_forget)


def _config(p: argparse.ArgumentParser) -> None:
    add_config(p)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date written YYYY-MM-DD") from None


def _consoles():
    return consoles()


def _open(args, err) -> Trust | None:
    try:
        return open_trust(args.config)
    except SetupError as exc:
        err.print(f"[bold red]screening consent {args.consent_command}:[/] {safe(exc)}", highlight=False, soft_wrap=True)
        return None


def run_enrol(args: argparse.Namespace) -> int:
    from rich.table import Table

    out, err = _consoles()
    trust = _open(args, err)
    if trust is None:
        return EXIT_ERROR
    try:
        result = enrolment.sync(trust.config, trust.register, progress=lambda path: err.print(
            f"looking at {safe(path.relative_to(trust.config.photos))}", highlight=False, soft_wrap=True))
    except enrolment.EnrolmentError as exc:
        err.print(f"[bold red]screening consent enrol:[/] {safe(exc)}", highlight=False, soft_wrap=True)
        return EXIT_ERROR

    table = Table(title=f"{safe(trust.config.trust)}: reference photos")
    for column in ("person", "name", "biometric", "used", "not used"):
        table.add_column(column)
    missing = 0
    for person in sorted(trust.register.people.values(), key=lambda p: p.person_id):
        if not person.biometric_consent:
            table.add_row(safe(person.person_id), safe(person.name), "no", "-", "not processed")
            continue
        photos = result.photos_of(person.person_id)
        used = sum(p.used for p in photos)
        missing += used == 0
        table.add_row(safe(person.person_id), safe(person.name), "yes", f"[{'green' if used else 'red'}]{used}[/]",
                      str(len(photos) - used))
    out.print(table)
    register_warnings(trust, err)
    for problem in result.problems:
        out.print(f"[yellow]to fix:[/] {safe(problem)}", highlight=False, soft_wrap=True)
    if result.without_second:
        out.print(_no_second(list(result.without_second)), highlight=False, soft_wrap=True)
    out.print(f"{len(result.gallery.people)} person(s) enrolled from {len(result.gallery)} photo(s); "
              f"{result.encoded} photo(s) looked at now, {result.removed} stored encoding(s) deleted",
              highlight=False)
    return EXIT_SOMEONE_NOT_ENROLLED if missing else EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    out, err = _consoles()
    trust = _open(args, err)
    if trust is None:
        return EXIT_ERROR
    config = trust.config
    if args.channel is not None and args.channel not in config.channels:
        err.print(f"[bold red]screening consent list:[/] --channel {safe(repr(args.channel))} is not one of "
                  f"the config's channels: {safe(', '.join(config.channels))}", highlight=False)
        return EXIT_ERROR
    try:
        photos = enrolment.stored_photos(config)
    except enrolment.EnrolmentError as exc:
        err.print(f"[bold red]screening consent list:[/] {safe(exc)}", highlight=False, soft_wrap=True)
        return EXIT_ERROR

    day = args.date or dt.date.today()
    channels = [args.channel] if args.channel else list(config.channels)
    people = sorted(trust.register.people.values(), key=lambda p: p.person_id)
    register_warnings(trust, err)
    out.print(_consent_table(config.trust, people, channels, day, photos))
    single = [p.person_id for p in people if p.biometric_consent and _usable(photos, p.person_id) == 1]
    if single:
        out.print(f"{len(single)} enrolled from a single photo ({safe(', '.join(single[:10]))}"
                  f"{', ...' if len(single) > 10 else ''}): two or three photos of a person match their "
                  f"faces more surely (docs/faces.md)", highlight=False, soft_wrap=True)
    enrolled = {p.person_id for p in people if p.biometric_consent}
    unseconded = [pid for pid in enrolment.without_second_opinion(config, photos) if pid in enrolled]
    if unseconded:
        out.print(_no_second(unseconded), highlight=False, soft_wrap=True)
    if args.photos:
        out.print(_photos_table(people, photos))
    return EXIT_OK


def _no_second(ids: list[str]) -> str:
    return (f"{len(ids)} without a second opinion ({safe(', '.join(ids[:10]))}{', ...' if len(ids) > 10 else ''}): "
            f"the second recogniser finds no face in their reference photos, so only faces within the "
            f"tolerance match them (docs/faces.md)")


def _usable(photos: dict, pid: str) -> int:
    return sum(1 for _, usable, _ in photos.get(pid, ()) if usable)


def _consent_table(trust_name: str, people: list, channels: list[str], day: dt.date, photos: dict):
    from rich.table import Table

    table = Table(title=f"{safe(trust_name)}: consent on {day}")
    for column in ("person", "name", "role", "academy", "biometric", "photos"):
        table.add_column(column, no_wrap=column != "name")
    for channel in channels:
        table.add_column(channel)  # "withdrawn on 2026-09-01" folds on a narrow terminal
    style = {True: "green", False: "red"}
    for person in people:
        states = [consent_state(person, c, day) for c in channels]
        table.add_row(safe(person.person_id), safe(person.name), safe(person.role), safe(person.academy),
                      "yes" if person.biometric_consent else "no",
                      str(_usable(photos, person.person_id)) if person.biometric_consent else "-",
                      *(f"[{style[ok]}]{state}[/]" for ok, state in states))
    return table


def _photos_table(people: list, photos: dict):
    """Each reference photo the store holds, per person with biometric consent: used or why not."""
    from rich.table import Table

    table = Table(title="reference photos (as at the last enrolment)")
    for column in ("person", "photo", "used"):
        table.add_column(column, no_wrap=column != "used")
    for person in people:
        if not person.biometric_consent:
            continue
        for path, usable, problem in photos.get(person.person_id, ()) or [("(none)", False, "no photo enrolled")]:
            table.add_row(safe(person.person_id), safe(path), "yes" if usable else f"no: {safe(problem)}")
    return table


def run_forget(args: argparse.Namespace) -> int:
    out, err = _consoles()
    trust = _open(args, err)
    if trust is None:
        return EXIT_ERROR
    pid = args.person_id
    try:
        forgetting.check_forgettable(trust.config, trust.register, pid)
    except forgetting.ForgetRefused as exc:
        err.print(f"[bold red]screening consent forget:[/] {safe(exc)}", highlight=False, soft_wrap=True)
        return EXIT_ERROR
    person = trust.register.get(pid)
    who = safe(f"{pid} {person.name}" if person else pid)
    if not args.yes:
        if not sys.stdin.isatty():
            err.print(f"[bold red]screening consent forget:[/] not asking for confirmation without a "
                      f"terminal: pass --yes to forget {who}", highlight=False)
            return EXIT_ERROR
        out.print(f"Forget {who}: their register row, stored face encodings and reference photos are "
                  f"deleted, and their id in the audit trail is replaced by a pseudonym. "
                  f"This cannot be undone.", highlight=False)
        if input("Forget them? [y/N] ").strip().lower() not in ("y", "yes"):
            out.print("nothing changed")
            return EXIT_ERROR

    try:
        gone = forgetting.forget_person(trust.config, trust.register, pid)
    except forgetting.ForgetRefused as exc:  # checked above; the register may have changed since
        err.print(f"[bold red]screening consent forget:[/] {safe(exc)}", highlight=False, soft_wrap=True)
        return EXIT_ERROR
    out.print(f"register row: {'deleted' if gone.register_row else 'none'}", highlight=False)
    out.print(f"face encodings: {gone.encodings} deleted and overwritten", highlight=False)
    out.print(f"reference photos: {gone.photos} file(s) deleted", highlight=False)
    out.print(f"audit trail and state: {gone.state_rows} row(s) now say {gone.pseudonym}; "
              f"{gone.cached} cached screening(s) deleted", highlight=False)
    for failure in gone.failures:
        err.print(f"[bold red]not done:[/] {safe(failure)}", highlight=False, soft_wrap=True)
    if gone.failures:
        err.print("run the command again once the problem is fixed: it finishes what is left")
        return EXIT_ERROR
    if not gone.found:
        err.print(f"[bold red]screening consent forget:[/] no trace of {safe(repr(pid))} was found "
                  f"(check the id)", highlight=False)
        return EXIT_ERROR
    return EXIT_OK
