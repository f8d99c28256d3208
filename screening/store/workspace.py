"""Batches of `screening serve` and "do not publish" marks, in the state database.

A batch is a list of files screened together: uploaded ones (stored under generated names in
the state folder; `name` is the uploaded file name, display text only, never a path) or the
files of a folder IT allowed (`screening serve --folder`). Verdicts are not stored here: the
audit trail holds them, and a page decides them again with today's register.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from screening.store.db import connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,       -- random, also the folder name of its uploads
    title TEXT NOT NULL,
    account TEXT NOT NULL,
    created REAL NOT NULL,
    state TEXT NOT NULL,       -- queued, screening, done, failed
    message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS batch_files (
    batch TEXT NOT NULL,
    n INTEGER NOT NULL,
    name TEXT NOT NULL,        -- what the user called it: display text only
    path TEXT NOT NULL,        -- where it is stored (a generated name), '' when refused at upload
    status TEXT NOT NULL,      -- pending, cleared, needs_permission, error, refused
    sha256 TEXT,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (batch, n)
);
CREATE INDEX IF NOT EXISTS batch_files_by_path ON batch_files (path);
CREATE TABLE IF NOT EXISTS holds (
    sha256 TEXT NOT NULL,
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (sha256, channel)
);
"""


@dataclass(frozen=True)
class Batch:
    id: str
    title: str
    account: str
    created: float
    state: str
    message: str


@dataclass(frozen=True)
class BatchFile:
    batch: str
    n: int
    name: str
    path: str
    status: str
    sha256: str | None
    detail: str


class Workspace:
    """The batches tables of one state database; a connection per call (any thread)."""

    def __init__(self, db: Path):
        self.db = Path(db)
        with closing(self._conn()) as conn:
            conn.executescript(_SCHEMA)
            conn.commit()

    def _conn(self) -> sqlite3.Connection:
        conn = connect(self.db)
        conn.row_factory = sqlite3.Row
        return conn

    def add_batch(self, batch_id: str, title: str, account: str,
                  files: list[tuple[str, str, str, str]]) -> None:
        """A new queued batch; files are (name, stored path, status, detail)."""
        with closing(self._conn()) as conn:
            conn.execute("INSERT INTO batches (id, title, account, created, state) VALUES (?,?,?,?,?)",
                         (batch_id, title, account, time.time(), "queued"))
            conn.executemany("INSERT INTO batch_files (batch, n, name, path, status, detail) VALUES (?,?,?,?,?,?)",
                             [(batch_id, n, *f) for n, f in enumerate(files, start=1)])
            conn.commit()

    def set_state(self, batch_id: str, state: str, message: str = "") -> None:
        with closing(self._conn()) as conn:
            conn.execute("UPDATE batches SET state = ?, message = ? WHERE id = ?", (state, message, batch_id))
            conn.commit()

    def set_result(self, batch_id: str, path: str, status: str, sha256: str | None) -> None:
        with closing(self._conn()) as conn:
            conn.execute("UPDATE batch_files SET status = ?, sha256 = ? WHERE batch = ? AND path = ?",
                         (status, sha256, batch_id, path))
            conn.commit()

    def batch(self, batch_id: str) -> Batch | None:
        with closing(self._conn()) as conn:
            row = conn.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return Batch(**dict(row)) if row else None

    def batches(self) -> list[Batch]:
        with closing(self._conn()) as conn:
            return [Batch(**dict(r)) for r in conn.execute("SELECT * FROM batches ORDER BY created DESC")]

    def unfinished(self) -> list[Batch]:
        with closing(self._conn()) as conn:
            return [Batch(**dict(r)) for r in
                    conn.execute("SELECT * FROM batches WHERE state IN ('queued', 'screening') ORDER BY created")]

    def files(self, batch_id: str) -> list[BatchFile]:
        with closing(self._conn()) as conn:
            return [BatchFile(**dict(r)) for r in
                    conn.execute("SELECT * FROM batch_files WHERE batch = ? ORDER BY n", (batch_id,))]

    def file(self, batch_id: str, n: int) -> BatchFile | None:
        if not 0 < n < 1 << 63:  # past SQLite's INTEGER: no such file (not an OverflowError)
            return None
        with closing(self._conn()) as conn:
            row = conn.execute("SELECT * FROM batch_files WHERE batch = ? AND n = ?", (batch_id, n)).fetchone()
        return BatchFile(**dict(row)) if row else None

    def names_by_path(self) -> dict[str, str]:
        """Stored path -> the name the user gave it, for the audit page."""
        with closing(self._conn()) as conn:
            return {r["path"]: r["name"] for r in conn.execute("SELECT path, name FROM batch_files WHERE path != ''")}

    def counts(self, batch_id: str) -> dict[str, int]:
        with closing(self._conn()) as conn:
            return {r["status"]: r["n"] for r in conn.execute(
                "SELECT status, COUNT(*) AS n FROM batch_files WHERE batch = ? GROUP BY status", (batch_id,))}

    # ------------------------------------------------------------ do not publish

    def hold(self, sha256: str, channel: str, account: str) -> None:
        with closing(self._conn()) as conn:
            conn.execute("INSERT OR REPLACE INTO holds (sha256, channel, account, at) VALUES (?,?,?,?)",
                         (sha256, channel, account, time.time()))
            conn.commit()

    def held(self, sha256: str | None, channel: str) -> tuple[str, float] | None:
        """(who, when) marked this file "do not publish" on the channel, or None."""
        if not sha256:
            return None
        with closing(self._conn()) as conn:
            row = conn.execute("SELECT account, at FROM holds WHERE sha256 = ? AND channel = ?",
                               (sha256, channel)).fetchone()
        return (row["account"], row["at"]) if row else None
