"""Forgetting a person in the state database: every table's mentions of them, pseudonymised.

JSON cells of any table (findings, reasons, watch records) are rewritten value by value; the
free text of the audit and permits (details, notes, paths) word by word; the result cache,
made again when needed, loses the screenings that mention them. Freed pages are overwritten
(secure_delete) and the file rebuilt, so old text is left neither in free space nor in the WAL.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

FREE_TEXT_TABLES = ("audit", "permits", "batches", "batch_files")  # batch titles and uploaded names: free text


def pseudonymise(state: Path, person_id: str, name: str, pseudonym: str) -> tuple[int, int]:
    """Replace the person by `pseudonym` throughout the state database, keeping every row.

    Returns (cached screenings deleted, rows rewritten).
    """
    if not state.exists():
        return 0, 0
    words = _Words(person_id, name, pseudonym)
    conn = sqlite3.connect(state, timeout=30)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        with conn:
            cached = _drop_cached(conn, words) if "screenings" in tables else 0
            rewritten = sum(_rewrite_table(conn, t, words) for t in tables if t != "screenings")
        conn.execute("VACUUM")
        # In WAL mode the rebuilt pages sit in the -wal file and the old ones in the database
        # until a checkpoint: copy them back and empty the WAL, so no old copy stays on disk.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return cached, rewritten


def mentions(state: Path, person_id: str) -> bool:
    """Whether any text cell of the state database holds this id (read only): what is left of
    a forget that failed at its last step."""
    if not state.exists():
        return False
    conn = sqlite3.connect(f"{state.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND name NOT LIKE 'sqlite_%'").fetchall():
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({_quote(table)})") if r[2].upper() == "TEXT"]
            where = " OR ".join(f"instr({_quote(c)}, ?)" for c in cols)
            if cols and conn.execute(f"SELECT 1 FROM {_quote(table)} WHERE {where} LIMIT 1",
                                     [person_id] * len(cols)).fetchone():
                return True
    finally:
        conn.close()
    return False


class _Words:
    """The person's id (as a whole token) and name (as whole words, 3 letters or more)."""

    def __init__(self, person_id: str, name: str, pseudonym: str):
        self.pseudonym = pseudonym
        self.token = re.compile(r"(?<![A-Za-z0-9_.-])" + re.escape(person_id)
                                + r"(?![A-Za-z0-9_-])(?!\.[A-Za-z0-9])")
        self.named = re.compile(r"\b" + re.escape(name) + r"\b", re.I) if len(name) >= 3 else None
        self.needles = [person_id] + ([name] if self.named else [])

    def text(self, value: str) -> str:
        value = self.token.sub(self.pseudonym, value)
        return self.named.sub(self.pseudonym, value) if self.named else value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def cell(self, value: Any, free_text: bool) -> Any:
        if not isinstance(value, str):
            return value
        if value[:1] in ("{", "["):
            try:
                return json.dumps(self.value(json.loads(value)), ensure_ascii=False)
            except ValueError:
                pass
        return self.text(value) if free_text else value  # other tools' keys and paths are left alone


def _drop_cached(conn: sqlite3.Connection, words: _Words) -> int:
    where = " OR ".join("instr(lower(screening), lower(?))" for _ in words.needles)
    return conn.execute(f"DELETE FROM screenings WHERE {where}", words.needles).rowcount


def _rewrite_table(conn: sqlite3.Connection, table: str, words: _Words) -> int:
    cols = [r[1] for r in conn.execute(f"PRAGMA table_info({_quote(table)})") if r[2].upper() == "TEXT"]
    if not cols:
        return 0
    where = " OR ".join(f"instr(lower({_quote(c)}), lower(?))" for c in cols for _ in words.needles)
    rows = conn.execute(f"SELECT rowid, {', '.join(map(_quote, cols))} FROM {_quote(table)} WHERE {where}",
                        [n for _ in cols for n in words.needles]).fetchall()
    assignments = ", ".join(f"{_quote(c)} = ?" for c in cols)
    rewritten = 0
    for rowid, *values in rows:
        new = [words.cell(v, table in FREE_TEXT_TABLES) for v in values]
        if new != values:
            conn.execute(f"UPDATE {_quote(table)} SET {assignments} WHERE rowid = ?", (*new, rowid))
            rewritten += 1
    return rewritten


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
