"""The watch journal: a table in the state DB holding each file's sorting steps until they are done.

Before anything moves, the job writes the source, its sha256, the destination name reserved
for it, its XMP sidecars and its JSON record here; the row is deleted once the file is sorted.
A restart finds the open rows and finishes them (watch/sorting.py carries the steps out).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from screening.store.db import connect
from screening.textsafe import for_json

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watch_journal (
    source TEXT PRIMARY KEY,   -- absolute path of the file in the inbox
    inbox TEXT NOT NULL,       -- absolute inbox path: one journal can serve several watch jobs
    sha256 TEXT NOT NULL,      -- the bytes that were screened
    image TEXT NOT NULL,       -- reserved destination path of the image; its record is IMAGE.json
    record TEXT NOT NULL,      -- the JSON record (a scan's JSONL line)
    sidecars TEXT NOT NULL DEFAULT '[]'  -- [[source, sha256, destination], ...]: XMP that go with it
);
"""


@dataclass(frozen=True)
class Sidecar:
    """An XMP sidecar that travels with its image, into the same folder, in the same entry."""

    source: Path
    sha256: str
    image: Path


@dataclass(frozen=True)
class Entry:
    source: Path
    sha256: str
    image: Path
    record: dict[str, Any]
    sidecars: tuple[Sidecar, ...] = field(default=())

    @property
    def record_path(self) -> Path:
        return record_path(self.image)

    @property
    def tmp(self) -> Path:
        return tmp_path(self.image)


class Journal:
    """Open sorting steps of one inbox, in the state DB."""

    def __init__(self, db: Path, inbox: Path):
        self.inbox = str(inbox)
        self._inbox = _stored(inbox)
        # built before the job thread starts; durable: a journal row is on disk before its file moves
        self.conn = connect(db, durable=True, check_same_thread=False)
        self.conn.executescript(_SCHEMA)
        if "sidecars" not in {r[1] for r in self.conn.execute("PRAGMA table_info(watch_journal)")}:
            self.conn.execute("ALTER TABLE watch_journal ADD COLUMN sidecars TEXT NOT NULL DEFAULT '[]'")
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()

    def begin(self, source: Path, sha256: str, image: Path, record: dict[str, Any],
              sidecars: tuple[Sidecar, ...] = ()) -> Entry:
        """Record the decision before anything moves; a source has at most one open entry."""
        self.conn.execute("INSERT INTO watch_journal VALUES (?,?,?,?,?,?)",
                          (_stored(source), self._inbox, sha256, _stored(image), json_text(record),
                           _sidecars_json(sidecars)))
        self.conn.commit()
        return Entry(source, sha256, image, record, tuple(sidecars))

    def move_to(self, entry: Entry, image: Path, sidecars: tuple[Sidecar, ...] | None = None) -> Entry:
        """Reserve other destination names for an open entry."""
        sidecars = entry.sidecars if sidecars is None else tuple(sidecars)
        self.conn.execute("UPDATE watch_journal SET image = ?, sidecars = ? WHERE source = ?",
                          (_stored(image), _sidecars_json(sidecars), _stored(entry.source)))
        self.conn.commit()
        return Entry(entry.source, entry.sha256, image, entry.record, sidecars)

    def finish(self, entry: Entry) -> None:
        self.conn.execute("DELETE FROM watch_journal WHERE source = ?", (_stored(entry.source),))
        self.conn.commit()

    def open_entries(self) -> list[Entry]:
        rows = self.conn.execute("SELECT source, sha256, image, record, sidecars FROM watch_journal "
                                 "WHERE inbox = ?", (self._inbox,))
        return [Entry(_loaded(s), sha, _loaded(img), json.loads(rec),
                      tuple(Sidecar(Path(a), b, Path(c)) for a, b, c in json.loads(sides)))
                for s, sha, img, rec, sides in rows]

    def reserved(self) -> set[Path]:
        out = set()
        for image, sides in self.conn.execute("SELECT image, sidecars FROM watch_journal"):
            out.add(_loaded(image))
            out.update(Path(c) for _, _, c in json.loads(sides))
        return out


def _sidecars_json(sidecars) -> str:
    return json_text([[str(s.source), s.sha256, str(s.image)] for s in sidecars])


def json_text(value: Any, **kwargs) -> str:
    """JSON text that is valid UTF-8 even when a file name is not (its bad bytes escaped)."""
    return for_json(json.dumps(value, ensure_ascii=False, **kwargs))


def _stored(path: Path | str) -> str | bytes:
    """A path as the journal stores it: text, or its bytes when the name is not valid UTF-8
    (SQLite text must be). The same path is always stored the same way, so lookups match."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text)
    return text


def _loaded(value: str | bytes) -> Path:
    return Path(os.fsdecode(value) if isinstance(value, bytes) else value)


def record_path(image: Path) -> Path:
    """The record beside an image: NAME.json, NAME being the whole file name (a.jpg.json)."""
    return image.with_name(image.name + ".json")


def tmp_path(image: Path) -> Path:
    return image.with_name(f".{image.name}.screening-tmp")
