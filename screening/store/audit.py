"""The audit trail and permissions, in SQLite beside the result cache (Config.state).

Every verdict is appended with when, who, which file (sha256), which config, register, face
gallery and tool version, and the raw screening (codec JSON) so that `recheck` can decide it
again when the register changes. Permission to publish (`permit`) is applied in one place,
permitted(): a pure function on a verdict, so scan, recheck and watch all agree.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from screening import __version__
from screening.config import Config
from screening.consent.register import Register
from screening.files import resolved
from screening.model import Kind, Permit, Reason, Screening, Status, Verdict
from screening.policy import Rules, permitted, signature
from screening.policy import verdict as decide_verdict
from screening.store.codec import screening_from_json, screening_to_json
from screening.store.db import connect
from screening.textsafe import csv_row

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,          -- UTC, ISO 8601
    user TEXT NOT NULL,
    command TEXT NOT NULL,     -- scan, redact, permit, recheck, watch
    path TEXT NOT NULL,
    sha256 TEXT,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    reasons TEXT NOT NULL,     -- JSON list, as in the JSONL report
    permission TEXT,           -- JSON object when cleared with permission
    config TEXT NOT NULL,      -- Config.fingerprint()
    register TEXT NOT NULL,    -- Register.digest
    gallery TEXT NOT NULL,     -- gallery_digest(): who is enrolled, from which reference photos
    tool TEXT NOT NULL,        -- screening.__version__
    screening TEXT NOT NULL    -- codec.screening_to_json(): the raw findings, re-decidable
);
CREATE INDEX IF NOT EXISTS audit_by_path ON audit (path, channel, id);
CREATE INDEX IF NOT EXISTS audit_by_sha256 ON audit (sha256, channel, id);
CREATE TABLE IF NOT EXISTS permits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL,
    channel TEXT NOT NULL,
    path TEXT NOT NULL,
    by TEXT NOT NULL,          -- who obtained the permission
    note TEXT NOT NULL,
    at TEXT NOT NULL,
    user TEXT NOT NULL,        -- who recorded it
    covers TEXT NOT NULL       -- JSON list of reason signatures the permission was given for
);
CREATE INDEX IF NOT EXISTS permits_by_sha256 ON permits (sha256, channel);
CREATE TABLE IF NOT EXISTS account_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,          -- UTC, ISO 8601
    user TEXT NOT NULL,        -- who made the change (the admin's account)
    action TEXT NOT NULL,      -- add, remove
    account TEXT NOT NULL,     -- the account changed
    detail TEXT NOT NULL       -- e.g. the role given; never a password
);
"""

AUDIT_COLUMNS = ("at", "user", "command", "path", "sha256", "channel", "status", "reasons",
                 "permission", "config", "register", "gallery", "tool")


# ---------------------------------------------------------------- what a stored verdict depended on


def gallery_digest(config: Config, register: Register) -> str:
    """Who can be recognised, by face or by printed name: changes when a re-scan is needed.

    Built from the inputs of enrolment (not its output) so it does not depend on how the
    encodings are stored, and from every register name (the text check looks for them all).
    A consent change alone does not change it: decide() handles that from the stored findings.
    """
    from screening.vision import sface
    from screening.vision.face_engine import (
        MODEL_VERSION,  # a new face model makes every stored distance stale
    )

    # the second recogniser's too: results stored before it was asked (or by another version) are stale
    h = hashlib.sha256(MODEL_VERSION.encode() + b"\0" + sface.VERSION.encode() + b"\0")
    for pid in sorted(p.person_id for p in register.people.values() if p.biometric_consent):
        h.update(pid.encode() + b"\0")
        folder = config.photos / pid
        if folder.is_dir():
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    st = f.stat()
                    # ctime too: a photo replaced with its times preserved (cp -p) still counts as changed
                    h.update(f"{f.relative_to(folder)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0".encode())
    for person in sorted(register.people.values(), key=lambda p: p.person_id):
        h.update(f"name\0{person.person_id}\0{person.name}\0".encode())
    return h.hexdigest()[:16]


def reasons_json(v: Verdict) -> str:
    """The reasons column: what needs permission, and what was permitted."""
    return json.dumps([r.to_json() for r in v.reasons] + [r.to_json() for r in v.permitted_reasons],
                      ensure_ascii=False)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some service accounts and containers
        return "unknown"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Entry:
    """One row of the audit table."""

    id: int
    at: str
    user: str
    command: str
    path: str
    sha256: str | None
    channel: str
    status: str
    reasons: str
    permission: str | None
    config: str
    register: str
    gallery: str
    tool: str
    screening: str

    def raw(self) -> Screening:
        return screening_from_json(json.loads(self.screening))

    def reason_list(self) -> list[dict[str, Any]]:
        return json.loads(self.reasons)


class AuditTrail:
    """The audit and permits tables of one state database, stamped for one command run."""

    def __init__(self, db: Path, *, command: str, config: str, register: str, gallery: str,
                 user: str | None = None):
        self.db = Path(db)
        self.command = command
        self.stamp = {"config": config, "register": register, "gallery": gallery}
        self.user = user or _user()  # `screening serve` records the signed-in account
        self.conn = connect(self.db)  # one verdict per commit: ~18 ms each without WAL (bench_scale.py)
        self.conn.row_factory = sqlite3.Row
        self.conn.executescript(_SCHEMA)
        self.conn.commit()

    @classmethod
    def open(cls, trust, command: str, user: str | None = None) -> AuditTrail:
        """The trail for a Trust (config + register); raises sqlite3.Error or OSError."""
        return cls(trust.config.state, command=command, config=trust.config.fingerprint(),
                   register=trust.register.digest, gallery=gallery_digest(trust.config, trust.register),
                   user=user)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------ verdicts

    def decide(self, screening: Screening, rules: Rules) -> Verdict:
        """The verdict with any recorded permission applied (not recorded)."""
        return permitted(decide_verdict(screening, rules), self.permits(screening.sha256, rules.channel))

    def verdict(self, screening: Screening, rules: Rules) -> Verdict:
        """Decide, apply any recorded permission, append to the trail; the verdict to report.

        A verdict that cannot be recorded is not cleared: publication must leave a trace.
        """
        try:
            v = self.decide(screening, rules)
            self.record(screening, v)
            return v
        except sqlite3.Error as exc:
            why = Reason(Kind.ERROR, f"could not be recorded in the audit trail {self.db}: {exc}",
                         extra={"check": "audit"})
            decided = decide_verdict(screening, rules)
            return replace(decided, status=Status.ERROR, reasons=decided.reasons + (why,))

    def record(self, screening: Screening, v: Verdict) -> None:
        """Append one verdict; the path is stored resolved (absolute, no `..`, no symlinks) so any
        later run finds the file, and one file has one path however it was named."""
        self.conn.execute(
            "INSERT INTO audit (at, user, command, path, sha256, channel, status, reasons, permission,"
            " config, register, gallery, tool, screening) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (_now(), self.user, self.command, str(resolved(v.path)), v.sha256, v.channel,
             v.status.value, reasons_json(v),
             json.dumps(v.permission.to_json(), ensure_ascii=False) if v.permission is not None else None,
             self.stamp["config"], self.stamp["register"], self.stamp["gallery"], __version__,
             json.dumps(screening_to_json(screening), ensure_ascii=False)),
        )
        self.conn.commit()

    def entries(self, since: str | None = None) -> list[Entry]:
        sql, args = "SELECT * FROM audit", ()
        if since:
            sql, args = sql + " WHERE at >= ?", (since,)
        return [Entry(**dict(row)) for row in self.conn.execute(sql + " ORDER BY id", args)]

    def latest(self, channel: str) -> list[Entry]:
        """The most recent entry of every path screened for this channel."""
        rows = self.conn.execute(
            "SELECT * FROM audit WHERE id IN (SELECT MAX(id) FROM audit WHERE channel = ? GROUP BY path)"
            " ORDER BY path", (channel,))
        return [Entry(**dict(row)) for row in rows]

    def latest_for(self, sha256: str, channel: str) -> Entry | None:
        row = self.conn.execute("SELECT * FROM audit WHERE sha256 = ? AND channel = ? ORDER BY id DESC LIMIT 1",
                                (sha256, channel)).fetchone()
        return Entry(**dict(row)) if row else None

    def latest_for_path(self, path: str | Path, channel: str) -> Entry | None:
        """The most recent entry of one file (its path as record() stores it: resolved)."""
        row = self.conn.execute("SELECT * FROM audit WHERE path = ? AND channel = ? ORDER BY id DESC LIMIT 1",
                                (str(Path(path).resolve()), channel)).fetchone()
        return Entry(**dict(row)) if row else None

    def is_current(self, entry: Entry) -> bool:
        """Whether the entry's findings came from today's config and face gallery."""
        return entry.config == self.stamp["config"] and entry.gallery == self.stamp["gallery"]

    # ------------------------------------------------------------ accounts (`screening serve`'s admin page)

    def record_account_change(self, action: str, account: str, detail: str = "") -> None:
        """An account added or removed, by this trail's user (the admin signed in)."""
        self.conn.execute("INSERT INTO account_changes (at, user, action, account, detail) VALUES (?,?,?,?,?)",
                          (_now(), self.user, action, account, detail))
        self.conn.commit()

    def account_changes(self) -> list[dict[str, str]]:
        return [dict(r) for r in self.conn.execute(
            "SELECT at, user, action, account, detail FROM account_changes ORDER BY id")]

    # ------------------------------------------------------------ permits

    def permits(self, sha256: str | None, channel: str) -> list[Permit]:
        if not sha256:
            return []
        rows = self.conn.execute("SELECT * FROM permits WHERE sha256 = ? AND channel = ?", (sha256, channel))
        return [Permit(r["sha256"], r["channel"], r["by"], r["note"], r["at"], r["user"],
                       tuple(json.loads(r["covers"])), r["path"]) for r in rows]

    def add_permit(self, v: Verdict, by: str, note: str) -> Permit:
        """Record permission for everything this (needs_permission) verdict gives as a reason."""
        if v.status is not Status.NEEDS_PERMISSION or not v.sha256:
            raise ValueError(f"only an image that needs permission can be permitted, not {v.status.value}")
        permit = Permit(v.sha256, v.channel, by, note, _now(), self.user,
                        tuple(sorted(signature(r) for r in v.reasons)), v.path)
        self.conn.execute(
            "INSERT INTO permits (sha256, channel, path, by, note, at, user, covers) VALUES (?,?,?,?,?,?,?,?)",
            (permit.sha256, permit.channel, permit.path, by, note, permit.at, permit.user,
             json.dumps(list(permit.covers))))
        self.conn.commit()
        return permit


def csv_rows(entries: Iterable[Entry]) -> Iterable[list[str]]:
    """The audit trail for a spreadsheet: reasons and permission as readable text (one line
    each, "kind: detail; ..."); the exact reasons as JSON in the last column, for scripts."""
    yield [*AUDIT_COLUMNS, "reasons_json"]
    for e in entries:
        row = {c: str(getattr(e, c) if getattr(e, c) is not None else "") for c in AUDIT_COLUMNS}
        row["reasons"] = "; ".join(f"{r.get('kind', '?')}: {r.get('detail', '')}" for r in e.reason_list())
        if e.permission:
            p = json.loads(e.permission)
            row["permission"] = f"by {p.get('by')} on {str(p.get('at', ''))[:10]}: {p.get('note', '')}"
        yield csv_row([*row.values(), e.reasons])
