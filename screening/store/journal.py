"""Sorting one screened file so that a kill at any moment loses and doubles nothing.

The journal (a table in the state DB) is written before anything moves: source, sha256,
the destination name reserved for it, its XMP sidecars and its JSON record. Then the record
is written (tmp + rename, 0600), then the image is moved (a hard link then unlink within one
filesystem, so nothing is ever overwritten; across filesystems copy to a hidden tmp with the
source's mode, fsync, verify the sha256, link into place, then remove the original), then
its sidecars the same way, then the journal row is deleted. complete() does every step
idempotently, so a restart just calls it again on open rows.

Nothing in the inbox is ever followed through a symbolic link: the source's folder is opened
component by component from the inbox without following links, every operation on the source
is made relative to that folder, and a link is moved (or re-created) as a link, never read.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from screening.model import Status
from screening.store.db import connect, private_file
from screening.textsafe import for_json

FOLDERS = {Status.CLEARED: "cleared", Status.NEEDS_PERMISSION: "needs-permission", Status.ERROR: "error"}

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

# Moving by hard link fails with these where a share or filesystem has no hard links.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EACCES}


class SourceChanged(Exception):
    """The file's bytes are no longer the ones that were screened: it must be screened again."""


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
        return _tmp(self.image)


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
                          (_stored(source), self._inbox, sha256, _stored(image), _json(record),
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
    return _json([[str(s.source), s.sha256, str(s.image)] for s in sidecars])


def _json(value: Any, **kwargs) -> str:
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


def _tmp(image: Path) -> Path:
    return image.with_name(f".{image.name}.screening-tmp")


def free_name(folder: Path, name: str, reserved: set[Path]) -> Path:
    """NAME in folder, or NAME (2), NAME (3)... when it or its record is taken: never overwrite."""
    return free_names(folder, name, (), reserved)[0]


def free_names(folder: Path, name: str, sidecars: tuple[str, ...] | list[str],
               reserved: set[Path]) -> tuple[Path, list[Path]]:
    """Free names for an image and its sidecars, numbered together: IMG_1 (2).jpg and
    IMG_1 (2).xmp, so they still belong together; none of them, nor the record, is taken."""
    n = 1
    while True:
        image = folder / _numbered(name, n)
        sides = [folder / sidecar_name(side, name, image.name) for side in sidecars]
        wanted = [image, record_path(image), *sides]
        if not any(p in reserved or _exists(p) for p in wanted):
            return image, sides
        n += 1


# Bytes a destination name may have, so that its record's hidden tmp name
# `.NAME.json.screening-tmp` still fits the 255 bytes file systems allow.
_NAME_MAX = 255 - len(".") - len(".json") - len(".screening-tmp")


def _numbered(name: str, n: int) -> str:
    """NAME, or NAME (n) for n > 1; a name too long for its record is shortened, ending in `~`."""
    stem, suffix = Path(name).stem, Path(name).suffix
    if len(os.fsencode(suffix)) > 16:  # not an extension: shorten the name as a whole
        stem, suffix = name, ""
    tail = (f" ({n})" if n > 1 else "") + suffix
    if len(os.fsencode(stem + tail)) <= _NAME_MAX:
        return stem + tail
    while stem and len(os.fsencode(stem + "~" + tail)) > _NAME_MAX:
        stem = stem[:-1]
    return stem + "~" + tail


def sidecar_name(sidecar: str, image: str, new_image: str) -> str:
    """The sidecar's name beside the image renamed to `new_image`: the image's numbering goes
    after the image's stem in the sidecar's name too (IMG_1.xmp, IMG_1.jpg.XMP -> IMG_1 (2)...),
    the sidecar's own spelling kept."""
    stem, new_stem = Path(image).stem, Path(new_image).stem
    if new_stem.startswith(stem):
        return sidecar[:len(stem)] + new_stem[len(stem):] + sidecar[len(stem):]
    return new_stem + sidecar[len(stem):]  # the image's name was shortened


def complete(journal: Journal, entry: Entry) -> str:
    """Carry out (or finish after a crash) one entry; returns "sorted", "changed" or "vanished".

    OSError (share offline, disk full) leaves the entry open: it is simply tried again.
    """
    try:
        folder: _Folder | None = _Folder(entry.source.parent, Path(journal.inbox))
    except (FileNotFoundError, _LinkInTheWay):
        folder = None  # the source's folder is gone, or a link now stands in its path: not followed
    try:
        return _complete(journal, entry, folder)
    finally:
        if folder is not None:
            folder.close()


def _complete(journal: Journal, entry: Entry, folder: _Folder | None) -> str:
    name = entry.source.name

    def now(sha_name: str) -> str | None:
        return folder.sha256(sha_name) if folder is not None else None

    if _exists(entry.image) and sha256_of(entry.image) == entry.sha256:
        # moved already: only the original (a hard link or a verified copy of it) may remain
        if now(name) == entry.sha256:
            folder.unlink(name)
        entry = _move_sidecars(journal, entry, folder)
        _write_record(entry)
        _remove(entry.tmp)
        journal.finish(entry)
        return "sorted"
    if _exists(entry.image):
        # someone else put a file under the reserved name: reserve others, never overwrite
        _remove(entry.record_path)
        image, sides = free_names(entry.image.parent, name, [s.source.name for s in entry.sidecars],
                                  journal.reserved())
        entry = journal.move_to(entry, image, tuple(Sidecar(s.source, s.sha256, d)
                                                    for s, d in zip(entry.sidecars, sides)))
    source = now(name)
    if source != entry.sha256 or any(now(s.source.name) != s.sha256 for s in entry.sidecars):
        # the screened bytes (or a sidecar read with them) are not there any more: screen again
        _abandon(journal, entry)
        return "vanished" if source is None else "changed"
    entry.image.parent.mkdir(parents=True, exist_ok=True)
    _write_record(entry)
    _remove(entry.tmp)  # a copy cut short by a kill
    try:
        _move(folder, name, entry.sha256, entry.image)
    except SourceChanged:
        _abandon(journal, entry)
        return "changed"
    _move_sidecars(journal, entry, folder)
    journal.finish(entry)
    return "sorted"


def _move_sidecars(journal: Journal, entry: Entry, folder: _Folder | None) -> Entry:
    """After the image: each sidecar into its reserved name. One that changed or went since it
    was screened stays in the inbox, where it is sorted on its own."""
    for i, side in enumerate(entry.sidecars):
        here = folder.sha256(side.source.name) if folder is not None else None
        if _exists(side.image) and sha256_of(side.image) == side.sha256:
            if here == side.sha256:
                folder.unlink(side.source.name)
            continue
        if here != side.sha256:
            continue
        if _exists(side.image):  # someone else's file under the reserved name: never overwrite
            moved = Sidecar(side.source, side.sha256, free_name(side.image.parent, side.image.name, journal.reserved()))
            entry = journal.move_to(entry, entry.image, entry.sidecars[:i] + (moved,) + entry.sidecars[i + 1:])
            side = moved
        _remove(_tmp(side.image))
        try:
            _move(folder, side.source.name, side.sha256, side.image)
        except SourceChanged:
            continue
    return entry


def _abandon(journal: Journal, entry: Entry) -> None:
    """The screened bytes are gone from the inbox: take back the record and the reservation."""
    _remove(entry.record_path)
    _remove(entry.tmp)
    for side in entry.sidecars:
        _remove(_tmp(side.image))
    journal.finish(entry)


def _write_record(entry: Entry) -> None:
    """The JSON record names people: written 0600 (tmp + rename), whatever the umask."""
    tmp = entry.record_path.with_name(f".{entry.record_path.name}.screening-tmp")
    _remove(tmp)
    with private_file(tmp, "x", encoding="utf-8") as f:
        f.write(_json(entry.record, indent=1) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, entry.record_path)  # our own reserved name: replacing it is not overwriting
    _fsync_dir(entry.image.parent)


# ---------------------------------------------------------------- moving one file, never following a link


def _move(folder: _Folder, name: str, sha256: str, image: Path) -> None:
    try:
        folder.link_to(name, image)  # fails if the name is taken: never overwrites
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            return _copy_across(folder, name, sha256, image)
        if exc.errno in _NO_LINKS:
            return _rename(folder, name, sha256, image)
        raise
    if sha256_of(image) != sha256:
        os.unlink(image)
        raise SourceChanged(str(folder.path / name))
    _fsync_dir(image.parent)
    folder.unlink(name)
    folder.fsync()


def _copy_across(folder: _Folder, name: str, sha256: str, image: Path) -> None:
    """Another filesystem: copy to a hidden tmp beside the destination, fsync, verify, link.

    A link is re-created as a link (what it points to is never read). A file's copy gets the
    source's mode, without the group's bits when the copy's group is not the source's: never
    readable by anyone who could not read the source.
    """
    tmp = _tmp(image)
    st = folder.lstat(name)
    if st is None:
        raise SourceChanged(str(folder.path / name))
    if stat.S_ISLNK(st.st_mode):
        os.symlink(folder.readlink(name), tmp)
    else:
        with folder.open_file(name) as src:
            source = os.fstat(src.fileno())
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as dst:
                mode = stat.S_IMODE(source.st_mode) & 0o777
                if os.fstat(fd).st_gid != source.st_gid:
                    mode &= ~0o070
                os.fchmod(fd, mode & 0o777)
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
    if sha256_of(tmp) != sha256:
        os.unlink(tmp)
        raise SourceChanged(str(folder.path / name))
    try:
        os.link(tmp, image, **_LINK_NOFOLLOW)
        os.unlink(tmp)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        _rename_unless_taken(tmp, image)
    _fsync_dir(image.parent)
    folder.unlink(name)


def _rename(folder: _Folder, name: str, sha256: str, image: Path) -> None:
    """No hard links here (some SMB shares): rename, then check the bytes are the screened ones."""
    if _exists(image):
        raise FileExistsError(f"{image} already exists; not overwriting it with {folder.path / name}")
    folder.rename_to(name, image)
    if sha256_of(image) != sha256:
        if folder.lstat(name) is None:
            folder.rename_from(image, name)  # put it back, it is screened again
        raise SourceChanged(str(folder.path / name))
    _fsync_dir(image.parent)


def _rename_unless_taken(src: Path, dst: Path) -> None:
    if _exists(dst):
        raise FileExistsError(f"{dst} already exists; not overwriting it with {src}")
    os.rename(src, dst)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO dropped in the inbox must not hang the job
_DIR_FD = {os.open, os.stat, os.link, os.unlink, os.rename, os.readlink} <= os.supports_dir_fd
_LINK_NOFOLLOW = {"follow_symlinks": False} if os.link in os.supports_follow_symlinks else {}


class _LinkInTheWay(OSError):
    """A folder on the way from the inbox to a source is a symbolic link: it is not followed."""


class _Folder:
    """A folder of the inbox, opened one component at a time from the inbox without following
    links; the source's name is then used relative to it, so swapping a folder for a link
    after this moment changes nothing (where the OS has no *at() calls: plain paths)."""

    def __init__(self, folder: Path, inbox: Path):
        self.path = folder
        self.fd = _open_folder(folder, inbox) if _DIR_FD else None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def _at(self, name: str) -> str:
        return name if self.fd is not None else str(self.path / name)

    def lstat(self, name: str) -> os.stat_result | None:
        try:
            return os.stat(self._at(name), dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def sha256(self, name: str) -> str | None:
        try:
            return _digest(self._at(name), self.fd)
        except FileNotFoundError:
            return None

    def open_file(self, name: str):
        return _open_regular(self._at(name), self.fd)

    def readlink(self, name: str) -> str:
        return os.readlink(self._at(name), dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        os.unlink(self._at(name), dir_fd=self.fd)

    def link_to(self, name: str, dst: Path) -> None:
        os.link(self._at(name), dst, src_dir_fd=self.fd, **_LINK_NOFOLLOW)

    def rename_to(self, name: str, dst: Path) -> None:
        os.rename(self._at(name), dst, src_dir_fd=self.fd)

    def rename_from(self, src: Path, name: str) -> None:
        os.rename(src, self._at(name), dst_dir_fd=self.fd)

    def fsync(self) -> None:
        if self.fd is None:
            return _fsync_dir(self.path)
        try:
            os.fsync(self.fd)
        except OSError:
            pass


def _open_folder(folder: Path, inbox: Path) -> int:
    try:
        parts = folder.relative_to(inbox).parts
    except ValueError:  # not in this inbox (a tool replaying someone else's entry): as given
        return os.open(folder, os.O_RDONLY | _DIRECTORY)
    fd = os.open(inbox, os.O_RDONLY | _DIRECTORY)
    for part in parts:
        try:
            inner = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _LinkInTheWay(exc.errno, f"{folder}: {part} is not a folder (a link?): not followed") from None
            raise
        finally:
            os.close(fd)
        fd = inner
    return fd


def _open_regular(name: str, dir_fd: int | None = None):
    """A regular file opened for reading, never through a link at its last component."""
    fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK, dir_fd=dir_fd)
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        raise OSError(errno.EINVAL, f"{name}: not a regular file")
    return f


def _digest(name: str, dir_fd: int | None = None) -> str:
    """sha256 of a file's bytes (the value digest.sha256_file gives, but never through a link);
    of a symbolic link, of its target text (what it points to is never read), so a link can be
    journalled and moved like a file."""
    try:
        f = _open_regular(name, dir_fd)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        target = os.fsencode(os.readlink(name, dir_fd=dir_fd))
        return hashlib.sha256(b"symbolic link\0" + target).hexdigest()
    with f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sha256_of(path: Path) -> str:
    """See _digest: a link at `path` is hashed as a link, never followed."""
    return _digest(str(path))


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
