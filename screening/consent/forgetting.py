"""Forgetting a person: every trace the tool holds, each step run even if another failed.

The register row goes first (so nobody is enrolled again whatever fails later), then the
face encodings (overwritten), the reference photo folder (only the real one, never through a
link) and the state database (audit, permits and cache pseudonymised). Refused, with nothing
changed, unless the id is an id and something of that person is held.
See docs/consent.md, "Forgetting".
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from screening.config import Config
from screening.consent.enrolment import person_folder
from screening.consent.register import Register
from screening.store.encodings import EnrolmentError, Store
from screening.store.scrub import mentions, pseudonymise


@dataclass
class Forgotten:
    """What `forget` found and removed, step by step (see docs/consent.md, "Forgetting")."""

    person_id: str
    pseudonym: str
    register_row: bool = False
    encodings: int = 0
    photos: int = 0  # reference photo files deleted
    state_rows: int = 0  # audit, permit and other state rows pseudonymised
    cached: int = 0  # cached screenings deleted (they are made again when needed)
    failures: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.register_row or self.encodings or self.photos or self.state_rows or self.cached)


class ForgetRefused(Exception):
    """PERSON_ID is not an id, or nothing of that person is held: nothing was changed."""


def check_forgettable(config: Config, register: Register, person_id: str) -> None:
    """Raise ForgetRefused unless `person_id` is an id (never a path) that the register, the
    encodings store, the reference photos or the state database knows."""
    from screening.consent.register import is_person_id

    if not is_person_id(person_id):
        raise ForgetRefused(f"{person_id!r} is not a person id (letters, digits, '-', '_', '.'; "
                            f"not a path): nothing changed")
    if register.get(person_id) is not None or os.path.lexists(person_folder(config, person_id)):
        return
    try:
        if config.encodings.exists():
            with Store.open(config.encodings, create=False) as store:
                if store.holds(person_id):
                    return
        if mentions(config.state, person_id):
            return  # an earlier forget that failed at its last step: finish it
    except (sqlite3.Error, EnrolmentError) as exc:
        raise ForgetRefused(f"cannot check whether {person_id} is known: {exc}") from None
    raise ForgetRefused(f"no trace of {person_id!r} in the register, the encodings store, the reference "
                        f"photos or the audit trail (check the id): nothing changed")


def forget_person(config: Config, register: Register, person_id: str) -> Forgotten:
    """Remove every trace of a person the tool holds; each step runs even if another failed.

    Refused (ForgetRefused, nothing changed) unless check_forgettable() passes. The register
    row goes first, so that whatever fails later nobody is enrolled again.
    """
    import secrets

    from screening.consent.register import RegisterError, remove_row

    check_forgettable(config, register, person_id)
    person = register.get(person_id)
    gone = Forgotten(person_id, f"forgotten-{secrets.token_hex(4)}")
    steps = (
        ("register row", lambda: setattr(gone, "register_row", remove_row(config.register, person_id))),
        ("face encodings", lambda: setattr(gone, "encodings", forget(config, person_id))),
        ("reference photos", lambda: setattr(gone, "photos", _delete_person_folder(config, person_id))),
        ("state database", lambda: _pseudonymise(config.state, person_id, person.name if person else "", gone)),
    )
    for what, step in steps:
        try:
            step()
        except (OSError, sqlite3.Error, RegisterError, EnrolmentError) as exc:
            gone.failures.append(f"{what}: {exc}")
    return gone


def _delete_person_folder(config: Config, person_id: str) -> int:
    """Delete consents/photos/<person_id>/ and nothing else: the real folder must sit directly in
    the real photos folder; a symbolic link is never followed. How many files it held."""
    import shutil

    folder = person_folder(config, person_id)
    if not os.path.lexists(folder):
        return 0
    if folder.is_symlink() or not folder.is_dir():
        raise OSError(f"{folder} is not a folder (a symbolic link or a file): not followed, left alone")
    root = config.photos.resolve(strict=True)
    real = folder.resolve(strict=True)
    if real.parent != root or real.name != person_id:
        raise OSError(f"{folder} resolves to {real}, outside {root}: left alone")
    count = sum(len(names) for _, _, names in os.walk(real))  # never follows links inside
    shutil.rmtree(real)  # removes links inside, never what they point to
    return count


def forget(config: Config, person_id: str) -> int:
    """Delete every stored encoding of a person, overwriting the data; how many there were."""
    if not config.encodings.exists():
        return 0
    with Store.open(config.encodings, create=False) as store:
        return store.forget(person_id)


def _pseudonymise(state: Path, person_id: str, name: str, gone: Forgotten) -> None:
    cached, rows = pseudonymise(state, person_id, name, gone.pseudonym)
    gone.cached, gone.state_rows = cached, rows
