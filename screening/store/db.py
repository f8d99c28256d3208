"""How the state DB (audit trail, result cache, watch journal) is opened: one place for its
pragmas and its file modes. Its rows say which person is in which photo, so the database, its
WAL and shared-memory files, and every export made from it are readable by their owner only
(0600), whatever the umask (see docs/security.md)."""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from pathlib import Path
from typing import IO

from screening import files

PRIVATE = 0o600
_COMPANIONS = ("-wal", "-shm", "-journal")  # files SQLite keeps beside a database

# Filesystems where SQLite's WAL cannot work (its shared-memory index needs one host).
_NETWORK = {"cifs", "smb3", "smbfs", "nfs", "nfs4", "afs", "9p", "fuse.sshfs", "davfs",
            "fuse.rclone", "ceph", "glusterfs", "lustre", "gpfs"}


def connect(db: Path, *, durable: bool = False, **kwargs) -> sqlite3.Connection:
    """Open (creating it 0600 first) the state database, tuned, with its companions 0600 too."""
    db = Path(db)
    db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(db)
    conn = sqlite3.connect(db, timeout=30, **kwargs)
    tune(conn, db, durable=durable)
    return conn


def make_private(db: Path) -> None:
    """Create `db` empty with mode 0600 if missing; narrow it and its companions to 0600.

    Created with os.open and a mode, so there is no moment when it is readable by others, and
    chmod-ed afterwards, so a umask (022, or 0 under some services) cannot widen it. SQLite
    creates the WAL and shared-memory files with the database's mode; they are checked too.
    """
    try:
        fd = os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE)
    except FileExistsError:
        pass
    else:
        os.close(fd)
    for path in (db, *(db.with_name(db.name + c) for c in _COMPANIONS)):
        _narrow(path)


def private_file(path: Path, mode: str = "w", **kwargs) -> IO:
    """Open a file to write (mode "w", "a", "x", text or binary) readable by its owner only."""
    flags = os.O_WRONLY | os.O_CREAT
    flags |= os.O_APPEND if "a" in mode else os.O_EXCL if "x" in mode else 0  # truncated below, once checked
    if not os.path.abspath(path).startswith("/dev/"):  # `--jsonl /dev/stdout` is a link, and meant
        flags |= os.O_NOFOLLOW  # a link planted at a report's name is never written through (RT9-24)
    try:
        fd = os.open(path, flags, PRIVATE)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(exc.errno, "it is a symbolic link: nothing is written through a link", str(path)) from None
        raise
    try:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:  # a hard link planted at a report's name (RT15-2)
            raise OSError(errno.EMLINK, "it has other hard links (it may be a photo): nothing is written "
                                        "through a link", str(path))
        if stat.S_ISREG(st.st_mode) and st.st_size and _binary(path):  # a photo named as a report (RT20-16)
            raise OSError(errno.EEXIST, "it holds binary data (it may be a photo or a video): it is not "
                                        "overwritten; choose another name", str(path))
        if stat.S_ISREG(st.st_mode) and not flags & (os.O_APPEND | os.O_EXCL):
            os.ftruncate(fd, 0)
        _narrow(fd)
        return os.fdopen(fd, mode.replace("x", "w"), **kwargs)
    except BaseException:
        os.close(fd)
        raise


def _binary(path: Path) -> bool:
    """Whether a file's first 8 KB hold a NUL byte: no report, log or CSV this tool writes does;
    every picture and video format does (sizes and lengths in its headers)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        return b"\x00" in os.read(fd, 8192)
    finally:
        os.close(fd)


def _narrow(target: Path | int) -> None:
    """chmod 0600 (a path or an open fd) if it is readable by others; only a regular file (not
    a link, not `/dev/stdout`); a file someone else owns is left alone."""
    try:
        st = os.stat(target) if isinstance(target, int) else os.lstat(target)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o077:
        return
    try:
        os.chmod(target, PRIVATE)
    except PermissionError:
        pass  # not ours (a shared report folder): we cannot, and it is the owner's choice


def tune(conn: sqlite3.Connection, db: Path, *, durable: bool = False) -> None:
    """WAL with NORMAL sync on a local disk: a commit costs microseconds instead of ~18 ms here.

    A commit then survives the process being killed (SIGKILL), not necessarily a power cut.
    `durable` (the watch journal, which must be on disk before a file moves) keeps FULL sync.
    On a network share the default rollback journal is kept: WAL would be unsafe there.
    """
    if network_filesystem(db) is not None:
        return
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    make_private(Path(db))  # the -wal and -shm files exist now


def network_filesystem(path: Path) -> str | None:
    """The filesystem type when `path` is on a network mount (Linux /proc/self/mounts), else None."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return None
    best, kind = "", None
    resolved = str(files.resolved(path))
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        if (resolved == point or resolved.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
            best, kind = point, parts[2]
    return kind if kind in _NETWORK else None
