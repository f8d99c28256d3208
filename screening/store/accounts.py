"""Accounts, sessions and login attempts of `screening serve`, in the state database.

Only hashes are stored: the password's (a memory-hard KDF, web/passwords.py makes it) and the
session token's (sha256: the cookie alone opens a session, a copy of the database does not).
Login attempts are kept so the rate limit survives a restart of the server, under a keyed hash
(HMAC-SHA256) of what was typed as the name (it may be a password typed in the wrong field) and of
the client address: the key is a random file beside the database (`login-attempts.key`, 0600),
so a copy of the database alone does not tell what was typed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from screening.store.db import connect

ROLES = ("reviewer", "admin")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password TEXT NOT NULL,    -- scrypt$n$r$p$salt$hash (web/passwords.py)
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY,    -- sha256 of the cookie's token
    account TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created REAL NOT NULL,
    seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_attempts (
    key TEXT NOT NULL,         -- 'h:' + HMAC-SHA256 of 'account:NAME' or 'address:IP' (_attempt_key)
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_by_key ON login_attempts (key, at);
"""


class AccountError(Exception):
    """An account cannot be added or changed; the message says why, for the user."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    password: str
    created: float


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str
    created: float
    seen: float


def _login_key(path: Path) -> bytes:
    """The random key of the login attempts' hashes: read, or made once (0600, all or nothing: a
    temporary file linked into place, so two processes starting together agree on one key)."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(32))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        key = f.read(64)
    if len(key) != 32:
        raise OSError(f"{path}: not a login key (32 bytes); delete it to make a new one")
    return key


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Accounts:
    """The accounts tables of one state database; a connection per call, so any thread may use it."""

    def __init__(self, db: Path):
        self.db = Path(db)
        with closing(self._conn()) as conn:
            conn.executescript(_SCHEMA)
            conn.execute("DELETE FROM login_attempts WHERE key NOT LIKE 'h:%'")  # an older version's plain text
            conn.commit()
        self._login_key = _login_key(self.db.parent / "login-attempts.key")

    def _attempt_key(self, key: str) -> str:
        return "h:" + hmac.new(self._login_key, key.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def _conn(self) -> sqlite3.Connection:
        conn = connect(self.db)
        conn.row_factory = sqlite3.Row
        return conn

    # ------------------------------------------------------------ accounts

    def add(self, name: str, role: str, password_hash: str) -> None:
        if role not in ROLES:
            raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
        with closing(self._conn()) as conn:
            try:
                conn.execute("INSERT INTO accounts (name, role, password, created) VALUES (?,?,?,?)",
                             (name, role, password_hash, time.time()))
                conn.commit()
            except sqlite3.IntegrityError:
                raise AccountError(f"an account named {name!r} already exists") from None

    def set_password(self, name: str, password_hash: str) -> None:
        with closing(self._conn()) as conn:
            if conn.execute("UPDATE accounts SET password = ? WHERE name = ?", (password_hash, name)).rowcount == 0:
                raise AccountError(f"no account named {name!r}")
            conn.execute("DELETE FROM sessions WHERE account = ?", (name,))  # signed out everywhere
            conn.commit()

    def remove(self, name: str) -> None:
        with closing(self._conn()) as conn:
            if conn.execute("DELETE FROM accounts WHERE name = ?", (name,)).rowcount == 0:
                raise AccountError(f"no account named {name!r}")
            conn.execute("DELETE FROM sessions WHERE account = ?", (name,))
            conn.commit()

    def get(self, name: str) -> Account | None:
        with closing(self._conn()) as conn:
            row = conn.execute("SELECT * FROM accounts WHERE name = ?", (name,)).fetchone()
        return Account(**dict(row)) if row else None

    def all(self) -> list[Account]:
        with closing(self._conn()) as conn:
            return [Account(**dict(r)) for r in conn.execute("SELECT * FROM accounts ORDER BY name")]

    # ------------------------------------------------------------ sessions

    def open_session(self, name: str, token: str, csrf: str) -> None:
        now = time.time()
        with closing(self._conn()) as conn:
            conn.execute("INSERT INTO sessions (token, account, csrf, created, seen) VALUES (?,?,?,?,?)",
                         (_token_key(token), name, csrf, now, now))
            conn.commit()

    def session(self, token: str, idle_s: float, max_s: float) -> Session | None:
        """The live session of a cookie token (its last use refreshed), or None (and it is ended
        when it has been idle or open too long, or its account is gone)."""
        key, now = _token_key(token), time.time()
        with closing(self._conn()) as conn:
            row = conn.execute("SELECT s.csrf, s.created AS s_created, s.seen AS s_seen, a.* FROM sessions s JOIN accounts a"
                               " ON a.name = s.account WHERE s.token = ?", (key,)).fetchone()
            if row is None:
                return None
            if now - row["s_seen"] > idle_s or now - row["s_created"] > max_s:
                conn.execute("DELETE FROM sessions WHERE token = ?", (key,))
                conn.commit()
                return None
            conn.execute("UPDATE sessions SET seen = ? WHERE token = ?", (now, key))
            conn.commit()
        account = Account(row["name"], row["role"], row["password"], row["created"])
        return Session(account, row["csrf"], row["s_created"], now)

    def close_session(self, token: str) -> None:
        with closing(self._conn()) as conn:
            conn.execute("DELETE FROM sessions WHERE token = ?", (_token_key(token),))
            conn.commit()

    def age_sessions(self, seconds: float) -> None:
        """Make every session `seconds` older (for tests of expiry)."""
        with closing(self._conn()) as conn:
            conn.execute("UPDATE sessions SET seen = seen - ?, created = created - ?", (seconds, seconds))
            conn.commit()

    # ------------------------------------------------------------ login attempts

    def failures(self, key: str, window_s: float) -> int:
        with closing(self._conn()) as conn:
            return conn.execute("SELECT COUNT(*) FROM login_attempts WHERE key = ? AND at > ?",
                                (self._attempt_key(key), time.time() - window_s)).fetchone()[0]

    def fail(self, *keys: str) -> None:
        now = time.time()
        with closing(self._conn()) as conn:
            conn.executemany("INSERT INTO login_attempts (key, at) VALUES (?, ?)", [(self._attempt_key(k), now) for k in keys])
            conn.execute("DELETE FROM login_attempts WHERE at < ?", (now - 86400,))
            conn.commit()

    def forgive(self, key: str) -> None:
        with closing(self._conn()) as conn:
            conn.execute("DELETE FROM login_attempts WHERE key = ?", (self._attempt_key(key),))
            conn.commit()
