"""The photo-consent register (consents/register.csv): who consented to which channel, until when."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

ROLES = ("pupil", "staff")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_REQUIRED = ("person_id", "name", "role", "academy", "biometric_consent")


class RegisterError(Exception):
    """The register cannot be read; the message names the file, the row and the column."""


@dataclass(frozen=True)
class Person:
    person_id: str
    name: str
    role: str
    academy: str
    biometric_consent: bool
    channels: dict[str, bool] = field(default_factory=dict)
    expires: dt.date | None = None
    withdrawn: dt.date | None = None
    row: int = 0

    def consent(self, channel: str, today: dt.date) -> tuple[bool, str]:
        """Whether this person may be published on `channel` today, and why in words."""
        if self.withdrawn is not None and self.withdrawn <= today:
            return False, f"{self.person_id}: {channel} consent withdrawn on {self.withdrawn}"
        if not self.channels.get(channel, False):
            return False, f"{self.person_id}: no {channel} consent in the register"
        if self.expires is not None and self.expires < today:
            return False, f"{self.person_id}: {channel} consent expired on {self.expires}"
        return True, f"{self.person_id}: {channel} consent valid"


@dataclass(frozen=True)
class Register:
    path: Path
    people: dict[str, Person]
    digest: str  # sha256 of the file: changes whenever the register changes

    def get(self, person_id: str) -> Person | None:
        return self.people.get(person_id)


def load_register(path: Path, channels: tuple[str, ...], academies: tuple[str, ...]) -> Register:
    """Read and validate the register; raise RegisterError naming row and column."""
    if not path.is_file():
        raise RegisterError(f"{path}: consent register not found")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegisterError(f"{path}: not UTF-8 text (save it from Excel as 'CSV UTF-8')") from exc
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise RegisterError(f"{path}: empty file, expected a header row with {', '.join(_REQUIRED)}")
    reader.fieldnames = header
    missing = [c for c in (*_REQUIRED, *channels, "expires", "withdrawn") if c not in header]
    if missing:
        raise RegisterError(f"{path}: missing column(s) {', '.join(missing)} in the header row")

    people: dict[str, Person] = {}
    for row_no, row in enumerate(reader, start=2):  # row 1 is the header, as a spreadsheet shows it
        if None in row:
            raise RegisterError(f"{path} row {row_no}: more cells than header columns")
        cells = {k: (v or "").strip() for k, v in row.items()}
        if not any(cells.values()):
            continue

        def bad(column: str, expected: str) -> RegisterError:
            return RegisterError(
                f"{path} row {row_no}: `{column}` is {cells.get(column, '')!r}, expected {expected}"
            )

        pid = cells["person_id"]
        if not _ID.match(pid):
            raise bad("person_id", "an id of letters, digits, '-', '_' or '.'")
        if pid in people:
            raise RegisterError(
                f"{path} row {row_no}: `person_id` {pid!r} is a duplicate of row {people[pid].row}"
            )
        if cells["role"].lower() not in ROLES:
            raise bad("role", "pupil or staff")
        if cells["academy"] not in academies:
            raise bad("academy", f"an academy id from the config ({', '.join(academies) or 'none'})")

        def yes_no(column: str) -> bool:
            value = cells[column].lower()
            if value in ("yes", "y", "true", "1"):
                return True
            if value in ("no", "n", "false", "0"):
                return False
            raise bad(column, "yes or no")

        def date(column: str) -> dt.date | None:
            value = cells[column]
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise bad(column, "YYYY-MM-DD or empty") from None

        people[pid] = Person(
            person_id=pid,
            name=cells["name"] or pid,
            role=cells["role"].lower(),
            academy=cells["academy"],
            biometric_consent=yes_no("biometric_consent"),
            channels={c: yes_no(c) for c in channels},
            expires=date("expires"),
            withdrawn=date("withdrawn"),
            row=row_no,
        )
    return Register(path=path, people=people, digest=hashlib.sha256(data).hexdigest())
