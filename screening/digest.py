"""The sha256 a file is known by (cache, audit, journal, permits): one definition, hex digits;
and the one way to peek into a file that may not be a regular one."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str) -> str:
    """Streamed, so a large file is never read whole; raises OSError like open()."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


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
