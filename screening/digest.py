"""The sha256 a file is known by (cache, audit, journal, permits): one definition, hex digits;
and the one way to peek into a file that may not be a regular one."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str) -> str:
    """Streamed, so a large file is never read whole; raises OSError like open()."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    """A file's sha256 and what its inode said while it was hashed: a clip is decoded by name, after it
    was hashed, so the two must be shown to be the same bytes (RT26-3)."""

    sha256: str
    inode: tuple  # (device, inode, size, mtime_ns, ctime_ns): ctime cannot be set back by a user


def fingerprint(path: Path | str) -> Fingerprint:
    """sha256 of the file and its inode's identity, from one open file; raises OSError like open()."""
    with open(path, "rb") as f:
        before = _identity(os.fstat(f.fileno()))
        sha = hashlib.file_digest(f, "sha256").hexdigest()
        if _identity(os.fstat(f.fileno())) != before:
            raise OSError(f"{path}: the file changed while it was read")
    return Fingerprint(sha, before)


def changed_since(path: Path | str, known: Fingerprint) -> str | None:
    """Why the file at `path` is no longer the one `known` was taken of (another file put in its
    place, bytes written into it, or unreadable now), or None when it is the same file, unchanged."""
    try:
        now = fingerprint(path)
    except OSError as exc:
        return f"it cannot be read again ({exc.strerror or exc})"
    if now.inode[:2] != known.inode[:2]:
        return "another file was put in its place"
    if now.sha256 != known.sha256:
        return "its bytes were written again"
    if now.inode != known.inode:  # the same bytes now, but written, touched or re-linked meanwhile
        return "it was written, touched or linked meanwhile (its size, times or links changed)"
    return None


def _identity(st: os.stat_result) -> tuple:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def regular_file_bytes(path: Path | str, limit: int, *, follow_links: bool = True) -> bytes | None:
    """Up to `limit` bytes of a regular file; None for anything else (missing, a folder, a FIFO
    or a device, which an ordinary open would block on or never finish: RT9-15, RT11b-5/30; with
    follow_links False, a link), never blocking."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow_links else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(limit)
    except OSError:
        return None
    finally:
        os.close(fd)
