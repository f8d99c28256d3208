"""The face encodings store (consents/.encodings.sqlite): created 0600, deletions overwritten.

One row per reference photo and face-model version: what the face engine made of it (a
128-d encoding, or why the photo is not usable). Only enrolment writes it; `forget` empties
a person's rows.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS photos (
    person_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,       -- of the reference photo's bytes
    model TEXT NOT NULL,        -- face_engine.MODEL_VERSION that looked at it
    path TEXT NOT NULL,         -- relative to the person's folder, where it was last seen
    stat TEXT NOT NULL,         -- size, mtime and ctime when hashed: unchanged means same bytes
    encoding BLOB,              -- 128 float64; NULL when the photo is not usable
    problem TEXT,               -- why it is not usable
    PRIMARY KEY (person_id, sha256, model)
);
"""


class EnrolmentError(Exception):
    """Enrolment cannot run at all: the store or the face engine is unusable; says which."""




@dataclass(frozen=True)
class StoredPhoto:
    """One row of the store: what the face engine (of `model`) made of one reference photo."""

    person_id: str
    sha256: str
    model: str
    path: str  # relative to the person's folder
    stat: str  # "size:mtime_ns:ctime_ns" when it was hashed
    encoding: bytes | None  # 128 float64, or None when not usable
    problem: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.person_id, self.sha256, self.model


class Store:
    """The encodings database: created 0600, deletions overwritten (secure_delete) and vacuumed."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn

    @classmethod
    def open(cls, path: Path, create: bool = True) -> Store:
        """Open (creating it private if asked) or raise EnrolmentError naming the file."""
        try:
            if not path.exists():
                if not create:
                    raise EnrolmentError(f"{path}: no encodings store yet (run `screening consent enrol`)")
                path.parent.mkdir(parents=True, exist_ok=True)
                # created 0600 before SQLite touches it; SQLite gives its journal the same mode
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            elif path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
                os.chmod(path, 0o600)  # biometric data: never readable by others
            conn = sqlite3.connect(path, timeout=30)
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.executescript(_SCHEMA)
            conn.commit()
        except FileExistsError:  # another process created it a moment ago, or a broken symlink
            if not path.exists():
                raise EnrolmentError(f"{path}: cannot create the face encodings store: a broken "
                                     f"symbolic link is in the way") from None
            return cls.open(path, create)
        except (OSError, sqlite3.Error) as exc:
            raise EnrolmentError(f"{path}: cannot open the face encodings store: {exc}") from None
        return cls(path, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def rows(self) -> list[StoredPhoto]:
        return [StoredPhoto(*r) for r in self.conn.execute(
            "SELECT person_id, sha256, model, path, stat, encoding, problem FROM photos")]

    def save(self, rows: Iterable[StoredPhoto], stale: Iterable[tuple[str, str, str]]) -> int:
        """Insert or refresh rows, delete stale (person_id, sha256, model) keys; rows deleted."""
        stale = list(stale)
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO photos (person_id, sha256, model, path, stat, encoding, problem)"
                " VALUES (?,?,?,?,?,?,?)",
                [(*r.key, r.path, r.stat, r.encoding, r.problem) for r in rows])
            self.conn.executemany("DELETE FROM photos WHERE person_id = ? AND sha256 = ? AND model = ?",
                                  stale)
        if stale:
            try:
                self.vacuum()
            except sqlite3.OperationalError:  # busy: secure_delete has overwritten the rows already
                pass
        return len(stale)

    def forget(self, person_id: str) -> int:
        """Delete every row of this person, overwriting the data; how many rows there were."""
        with self.conn:
            n = self.conn.execute("DELETE FROM photos WHERE person_id = ?", (person_id,)).rowcount
        if n:
            self.vacuum()
        return n

    def holds(self, person_id: str) -> bool:
        """Whether any row (usable or not) is this person's."""
        return self.conn.execute("SELECT 1 FROM photos WHERE person_id = ? LIMIT 1", (person_id,)).fetchone() is not None

    def vacuum(self) -> None:
        # secure_delete zeroes freed pages; VACUUM also rebuilds the file without them
        self.conn.execute("VACUUM")

    def photos_by_person(self, model: str | None = None) -> dict[str, list[tuple[str, bool, str]]]:
        """Each person's reference photos as last seen: (path in their folder, usable, why not),
        sorted by path (of one model version, when given)."""
        sql = "SELECT person_id, path, encoding IS NOT NULL, COALESCE(problem, '') FROM photos"
        args: tuple = ()
        if model is not None:
            sql, args = sql + " WHERE model = ?", (model,)
        out: dict[str, list[tuple[str, bool, str]]] = {}
        for pid, path, usable, problem in self.conn.execute(sql + " ORDER BY person_id, path", args):
            out.setdefault(pid, []).append((path, bool(usable), problem))
        return out
