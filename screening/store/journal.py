"""Sorting one screened file into its folder so that a kill at any moment loses and doubles nothing.

The journal (a table in the state DB) is written before anything moves: source, sha256,
the destination name reserved for it and its JSON record. Then the record is written
(tmp + rename), then the image is moved (a hard link then unlink within one filesystem,
so nothing is ever overwritten; across filesystems copy to a hidden tmp, fsync, verify the
sha256, link into place, then remove the original), then the journal row is deleted.
complete() does every step idempotently, so a restart just calls it again on open rows.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from screening.digest import sha256_file as sha256_of
from screening.model import Status
from screening.store.db import tune

FOLDERS = {Status.CLEARED: "cleared", Status.NEEDS_PERMISSION: "needs-permission", Status.ERROR: "error"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watch_journal (
    source TEXT PRIMARY KEY,   -- absolute path of the file in the inbox
    inbox TEXT NOT NULL,       -- absolute inbox path: one journal can serve several watch jobs
    sha256 TEXT NOT NULL,      -- the bytes that were screened
    image TEXT NOT NULL,       -- reserved destination path of the image; its record is IMAGE.json
    record TEXT NOT NULL       -- the JSON record (a scan's JSONL line)
);
"""

# Moving by hard link fails with these where a share or filesystem has no hard links.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EACCES}


class SourceChanged(Exception):
    """The file's bytes are no longer the ones that were screened: it must be screened again."""


@dataclass(frozen=True)
class Entry:
    source: Path
    sha256: str
    image: Path
    record: dict[str, Any]

    @property
    def record_path(self) -> Path:
        return record_path(self.image)

    @property
    def tmp(self) -> Path:
        return self.image.with_name(f".{self.image.name}.screening-tmp")


class Journal:
    """Open sorting steps of one inbox, in the state DB."""

    def __init__(self, db: Path, inbox: Path):
        self.inbox = str(inbox)
        db.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(db, timeout=30, check_same_thread=False)  # built before the job thread starts
        tune(self.conn, db, durable=True)  # a journal row must be on disk before its file moves
        self.conn.executescript(_SCHEMA)
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()

    def begin(self, source: Path, sha256: str, image: Path, record: dict[str, Any]) -> Entry:
        """Record the decision before anything moves; a source has at most one open entry."""
        self.conn.execute("INSERT INTO watch_journal VALUES (?,?,?,?,?)",
                          (str(source), self.inbox, sha256, str(image), json.dumps(record, ensure_ascii=False)))
        self.conn.commit()
        return Entry(source, sha256, image, record)

    def move_to(self, entry: Entry, image: Path) -> Entry:
        """Reserve another destination name for an open entry."""
        self.conn.execute("UPDATE watch_journal SET image = ? WHERE source = ?", (str(image), str(entry.source)))
        self.conn.commit()
        return Entry(entry.source, entry.sha256, image, entry.record)

    def finish(self, entry: Entry) -> None:
        self.conn.execute("DELETE FROM watch_journal WHERE source = ?", (str(entry.source),))
        self.conn.commit()

    def open_entries(self) -> list[Entry]:
        rows = self.conn.execute("SELECT source, sha256, image, record FROM watch_journal WHERE inbox = ?",
                                 (self.inbox,))
        return [Entry(Path(s), sha, Path(img), json.loads(rec)) for s, sha, img, rec in rows]

    def reserved(self) -> set[Path]:
        return {Path(r[0]) for r in self.conn.execute("SELECT image FROM watch_journal")}


def record_path(image: Path) -> Path:
    """The record beside an image: NAME.json, NAME being the whole file name (a.jpg.json)."""
    return image.with_name(image.name + ".json")


def free_name(folder: Path, name: str, reserved: set[Path]) -> Path:
    """NAME in folder, or NAME (2), NAME (3)... when it or its record is taken: never overwrite."""
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = folder / name, 1
    while candidate in reserved or _exists(candidate) or _exists(record_path(candidate)):
        n += 1
        candidate = folder / f"{stem} ({n}){suffix}"
    return candidate


def complete(journal: Journal, entry: Entry) -> str:
    """Carry out (or finish after a crash) one entry; returns "sorted", "changed" or "vanished".

    OSError (share offline, disk full) leaves the entry open: it is simply tried again.
    """
    if _exists(entry.image) and sha256_of(entry.image) == entry.sha256:
        # moved already: only the original (a hard link or a verified copy of it) may remain
        if _exists(entry.source) and sha256_of(entry.source) == entry.sha256:
            os.unlink(entry.source)
        _write_record(entry)
        _remove(entry.tmp)
        journal.finish(entry)
        return "sorted"
    if _exists(entry.image):
        # someone else put a file under the reserved name: reserve another, never overwrite
        _remove(entry.record_path)
        entry = journal.move_to(entry, free_name(entry.image.parent, entry.source.name, journal.reserved()))
    if not _exists(entry.source) or sha256_of(entry.source) != entry.sha256:
        gone = not _exists(entry.source)
        _abandon(journal, entry)
        return "vanished" if gone else "changed"
    entry.image.parent.mkdir(parents=True, exist_ok=True)
    _write_record(entry)
    _remove(entry.tmp)  # a copy cut short by a kill
    try:
        _move(entry)
    except SourceChanged:
        _abandon(journal, entry)
        return "changed"
    journal.finish(entry)
    return "sorted"


def _abandon(journal: Journal, entry: Entry) -> None:
    """The screened bytes are gone from the inbox: take back the record and the reservation."""
    _remove(entry.record_path)
    _remove(entry.tmp)
    journal.finish(entry)


def _write_record(entry: Entry) -> None:
    tmp = entry.record_path.with_name(f".{entry.record_path.name}.screening-tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(entry.record, f, ensure_ascii=False, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, entry.record_path)  # our own reserved name: replacing it is not overwriting
    _fsync_dir(entry.image.parent)


def _move(entry: Entry) -> None:
    try:
        os.link(entry.source, entry.image)  # fails if the name is taken: never overwrites
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            return _copy_across(entry)
        if exc.errno in _NO_LINKS:
            return _rename(entry)
        raise
    if sha256_of(entry.image) != entry.sha256:
        os.unlink(entry.image)
        raise SourceChanged(str(entry.source))
    _fsync_dir(entry.image.parent)
    os.unlink(entry.source)
    _fsync_dir(entry.source.parent)


def _copy_across(entry: Entry) -> None:
    """Another filesystem: copy to a hidden tmp beside the destination, fsync, verify, link."""
    with open(entry.source, "rb") as src, open(entry.tmp, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())
    if sha256_of(entry.tmp) != entry.sha256:
        os.unlink(entry.tmp)
        raise SourceChanged(str(entry.source))
    try:
        os.link(entry.tmp, entry.image)
        os.unlink(entry.tmp)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        _rename_unless_taken(entry.tmp, entry.image)
    _fsync_dir(entry.image.parent)
    os.unlink(entry.source)


def _rename(entry: Entry) -> None:
    """No hard links here (some SMB shares): rename, then check the bytes are the screened ones."""
    _rename_unless_taken(entry.source, entry.image)
    if sha256_of(entry.image) != entry.sha256:
        _rename_unless_taken(entry.image, entry.source)  # put it back, it is screened again
        raise SourceChanged(str(entry.source))
    _fsync_dir(entry.image.parent)


def _rename_unless_taken(src: Path, dst: Path) -> None:
    if _exists(dst):
        raise FileExistsError(f"{dst} already exists; not overwriting it with {src}")
    os.rename(src, dst)


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable; some filesystems (SMB, Windows) cannot fsync a folder: fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
