"""The photo-consent register (consents/register.csv): who consented to which channel, until when."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
from pathlib import Path

from screening.digest import sha256_bytes
from screening.model import Person, Register

ROLES = ("pupil", "staff")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_REQUIRED = ("person_id", "name", "role", "academy", "biometric_consent")
# Extra columns are ignored (SPEC.md), but never silently when they could record consent: a
# withdrawal written in a column the reader does not know is not honoured, so every command warns
# (Register.warnings, docs/consent.md).
NOTE_PREFIXES = ("note", "comment")  # `notes`, `comments`, `notes_parent`: never read, never warned of
CONSENT_WORDS = ("consent", "withdraw", "permission", "permit", "opt_out", "optout", "opt_in", "optin",
                 "agree", "allow", "refus", "revok", "expir", "publish", "biometric", "social", "media",
                 "website", "print", "press", "newsletter", "instagram", "facebook", "twitter", "tiktok",
                 "youtube", "linkedin")
# an unknown column whose every filled cell is one of these reads as a consent column ("Instagram": yes)
YES_NO = ("yes", "y", "true", "no", "n", "false")


def is_person_id(text: str) -> bool:
    """Letters, digits, '-', '_' and '.', not starting with '.' or '-': one safe folder name, never a path."""
    return _ID.fullmatch(text) is not None


class RegisterError(Exception):
    """The register cannot be read; the message names the file, the row and the column."""


def _invisible(value: str) -> str:
    """'a line separator (U+2028)' for the first control or separator character in a cell, or ''."""
    import unicodedata

    for ch in value:
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            name = unicodedata.name(ch, "").lower() or "a control character"
            return f"an invisible character ({name}, U+{ord(ch):04X})"
    return ""


def load_register(path: Path, channels: tuple[str, ...], academies: tuple[str, ...]) -> Register:
    """Read and validate the register; raise RegisterError naming row and column."""
    if not path.is_file():
        raise RegisterError(f"{path}: consent register not found")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegisterError(f"{path}: not UTF-8 text (save it from Excel as 'CSV UTF-8')") from exc
    # csv's own line handling: str.splitlines() would also split at U+2028 and other separators
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reader.fieldnames = _header(path, reader.fieldnames or [], channels)
    warnings = _consent_columns(path, reader.fieldnames, channels)
    extras = [h for h in reader.fieldnames if h and h not in _known(channels)]
    # column -> its first yes/no cell ("" while every cell is empty), None once a cell is not yes/no
    yes_no_only: dict[str, str | None] = {h: "" for h in extras}
    people: dict[str, Person] = {}
    folders: dict[str, str] = {}  # person_id.lower() -> person_id: photo folders on Windows/macOS drives
    for row in reader:
        row_no = reader.line_num  # the line in the file, as a spreadsheet numbers it (blank lines too)
        if None in row:
            raise RegisterError(f"{path} row {row_no}: more cells than header columns")
        cells = {k: (v or "").strip() for k, v in row.items()}
        if any(cells.values()):
            person = _Row(path, row_no, cells).person(channels, academies)
            _check_unique(path, person, people, folders)
            people[person.person_id] = person
            _note_yes_no(cells, yes_no_only)
    warnings += _yes_no_columns(path, yes_no_only, warnings)
    return Register(path=path, people=people, digest=sha256_bytes(data), warnings=tuple(warnings))


def _known(channels: tuple[str, ...]) -> tuple[str, ...]:
    return (*_REQUIRED, *channels, "expires", "withdrawn")


def _norm(column: str) -> str:
    """A header cell as compared with the known columns: case, spaces and hyphens do not matter."""
    return re.sub(r"[\s\-]+", "_", column.strip().casefold())


def _note_yes_no(cells: dict[str, str], yes_no_only: dict[str, str | None]) -> None:
    for column, first in yes_no_only.items():
        value = cells.get(column, "")
        if first is None or not value:
            continue
        yes_no_only[column] = value if value.casefold() in YES_NO else None


def _yes_no_columns(path: Path, yes_no_only: dict[str, str | None], said: list[str]) -> list[str]:
    """An unknown column holding only yes/no answers ("Instagram": yes) reads as a consent column."""
    return [f"{path}: column `{column}` holds only yes/no answers (such as {first!r}) but is not a column "
            "this version reads, so a consent recorded there is ignored: move it into the channel columns, "
            "`expires` or `withdrawn`, or name the column `notes_...` if it is only a note"
            for column, first in yes_no_only.items()
            if first and not _norm(column).startswith(NOTE_PREFIXES) and not any(f"`{column}`" in w for w in said)]


def _header(path: Path, fieldnames: list[str], channels: tuple[str, ...]) -> list[str]:
    header = [h.strip() for h in fieldnames]
    if not header:
        raise RegisterError(f"{path}: empty file, expected a header row with {', '.join(_REQUIRED)}")
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        raise RegisterError(f"{path}: column(s) {', '.join(twice)} appear twice in the header row")
    header = _known_spellings(path, header, channels)
    missing = [c for c in _known(channels) if c not in header]
    if missing:
        hint = ""
        if len(header) == 1 and ";" in header[0]:
            hint = (" (the columns are separated by ';', as Excel saves CSV in many countries: "
                    "save it as 'CSV UTF-8 (Comma delimited)', or use a comma as the list separator)")
        raise RegisterError(f"{path}: missing column(s) {', '.join(missing)} in the header row{hint}")
    return header


def _known_spellings(path: Path, header: list[str], channels: tuple[str, ...]) -> list[str]:
    """A known column missing from the header but written in other case or spacing (`Website`,
    `Social Media`) is read as that column; two such spellings of it are refused. Where the column
    itself is there, another spelling stays an extra column (SPEC.md: ignored, and warned of)."""
    known = {_norm(k): k for k in _known(channels)}
    out: list[str] = []
    for h in header:
        column = known.get(_norm(h), h)
        if column != h and column in header:
            column = h
        elif column in out:
            first = header[out.index(column)]
            raise RegisterError(f"{path}: columns `{first}` and `{h}` are both the `{column}` column "
                                "(capitals and spaces do not matter): keep one")
        out.append(column)
    return out


def _consent_columns(path: Path, header: list[str], channels: tuple[str, ...]) -> list[str]:
    """A warning for each unknown column whose name says it could record consent (`social_media_withdrawn`)."""
    known = set(_known(channels))
    parts = (part for c in channels for part in _norm(c).split("_") if len(part) > 3)
    words = (*CONSENT_WORDS, *(_norm(c) for c in channels), "expires", "withdrawn", *parts)
    warnings = []
    for h in header:
        name = _norm(h)
        if not h or h in known or name.startswith(NOTE_PREFIXES):
            continue
        word = next((w for w in words if w in name), None)
        if word:
            warnings.append(
                f"{path}: column `{h}` is not a column this version reads, but its name ('{word}') says it "
                "could record consent, which is ignored: move what it says into the channel columns "
                f"({', '.join(channels)}), `expires` or `withdrawn`, or name the column `notes_...` if it is "
                "only a note")
    return warnings


def _check_unique(path: Path, person: Person, people: dict[str, Person], folders: dict[str, str]) -> None:
    pid = person.person_id
    if pid in people:
        raise RegisterError(f"{path} row {person.row}: `person_id` {pid!r} is a duplicate of row {people[pid].row}")
    if pid.lower() in folders:  # one photo folder on a case-insensitive shared drive
        other = people[folders[pid.lower()]]
        raise RegisterError(
            f"{path} row {person.row}: `person_id` {pid!r} differs from {other.person_id!r} (row "
            f"{other.row}) only in capitals, so both would share one photo folder"
        )
    folders[pid.lower()] = pid


class _Row:
    """One register row's cells, read column by column with errors naming file, row and column."""

    def __init__(self, path: Path, row_no: int, cells: dict[str, str]):
        self.path, self.row_no, self.cells = path, row_no, cells

    def bad(self, column: str, expected: str) -> RegisterError:
        return RegisterError(
            f"{self.path} row {self.row_no}: `{column}` is {self.cells.get(column, '')!r}, expected {expected}")

    def person(self, channels: tuple[str, ...], academies: tuple[str, ...]) -> Person:
        cells = self.cells
        for column in (*_REQUIRED, *channels, "expires", "withdrawn"):  # extra columns are not read
            if hidden := _invisible(cells[column]):
                raise RegisterError(f"{self.path} row {self.row_no}: `{column}` holds {hidden}: retype the cell")
        pid = cells["person_id"]
        if not _ID.match(pid):
            raise self.bad("person_id", "an id of letters, digits, '-', '_' or '.'")
        if cells["role"].lower() not in ROLES:
            raise self.bad("role", "pupil or staff")
        if cells["academy"] not in academies:
            raise self.bad("academy", f"an academy id from the config ({', '.join(academies) or 'none'})")
        return Person(
            person_id=pid,
            name=cells["name"] or pid,
            role=cells["role"].lower(),
            academy=cells["academy"],
            biometric_consent=self.yes_no("biometric_consent"),
            channels={c: self.yes_no(c) for c in channels},
            expires=self.date("expires"),
            withdrawn=self.date("withdrawn"),
            row=self.row_no,
        )

    def yes_no(self, column: str) -> bool:
        value = self.cells[column].lower()
        if value in ("yes", "y", "true", "1"):
            return True
        if value in ("no", "n", "false", "0"):
            return False
        raise self.bad(column, "yes or no")

    def date(self, column: str) -> dt.date | None:
        value = self.cells[column]
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.bad(column, "YYYY-MM-DD or empty") from None


def remove_row(path: Path, person_id: str) -> bool:
    """Rewrite the register without this person's row, every other byte kept; False if absent.

    Written to a temporary file beside it and renamed over it, so the register is never
    half-written; the BOM, line endings, quoting and the other rows stay exactly as they were.
    """
    data = path.read_bytes()
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    try:
        lines = io.StringIO(data[len(bom):].decode("utf-8"), newline="").readlines()
    except UnicodeDecodeError as exc:
        raise RegisterError(f"{path}: not UTF-8 text (save it from Excel as 'CSV UTF-8')") from exc
    reader = csv.reader(lines)
    header = [h.strip() for h in next(reader, [])]
    if "person_id" not in header:
        raise RegisterError(f"{path}: no `person_id` column in the header row")
    column = header.index("person_id")
    start = reader.line_num
    for record in reader:  # a record may span lines (a quoted newline): line_num says how many
        end = reader.line_num
        if len(record) > column and record[column].strip() == person_id:
            _replace(path, bom + "".join(lines[:start] + lines[end:]).encode("utf-8"))
            return True
        start = end
    return False


def _replace(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
