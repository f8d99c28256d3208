"""The sha256 a file is known by (cache, audit, journal, permits): one definition, hex digits."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str) -> str:
    """Streamed, so a large file is never read whole; raises OSError like open()."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
