"""Model graphs this package derives from the installed weights, kept on disk between processes.

Two ONNX graphs are derived at start-up: dlib's recogniser converted from its .dat file
(recogniser.py) and CenterFace with its sizes made free (centerface.py). Building them costs
about 0.8 s per process, most of it importing the `onnx` package. For the weight files this
version was made with, the sha256 of each derived graph is recorded in the source; the graph is
then read from the cache folder only if its bytes have exactly that sha256, so a cached file
that is corrupt, truncated or tampered with is never used: it is built again and rewritten.
For any other weight file nothing is cached (the graph is built in every process, as before).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from screening.digest import regular_file_bytes


def cache_dir() -> Path:
    """$SCREENING_CACHE/models, else ~/.cache/screening/models (the logo references' cache sits beside it)."""
    base = os.environ.get("SCREENING_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "screening")
    return Path(base) / "models"


def graph_bytes(expected_sha256: str | None, build: Callable[[], bytes], folder: Path | None = None) -> bytes:
    """The graph whose bytes have `expected_sha256`: from the cache when the cached file has
    exactly that digest, else `build()` (and cached if it has it). `expected_sha256` None
    (weights this version does not know): always `build()`, never cached."""
    if expected_sha256 is None:
        return build()
    path = (folder or cache_dir()) / f"{expected_sha256}.onnx"
    data = _cached(path)
    if data is not None and hashlib.sha256(data).hexdigest() == expected_sha256:
        return data
    data = build()
    if hashlib.sha256(data).hexdigest() == expected_sha256:
        _write(path, data)
    return data


# No derived graph is near this size (the recogniser's is about 22 MB, CenterFace's 7 MB).
MAX_GRAPH_BYTES = 256 << 20


def _cached(path: Path) -> bytes | None:
    """The cached file's bytes if it is a regular file of sane size, never through a link (a FIFO
    would block for ever, a link to /dev/zero never end: RT11b-5/6/28)."""
    data = regular_file_bytes(path, MAX_GRAPH_BYTES + 1, follow_links=False)
    return data if data is not None and len(data) <= MAX_GRAPH_BYTES else None


def _write(path: Path, data: bytes) -> None:
    """Atomically; a cache that cannot be written only costs time next run (and leaves nothing)."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
