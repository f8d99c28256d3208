"""The result cache: a file's screening (findings, not verdict) by content hash, in the state DB.

Keyed by (sha256, config fingerprint, face gallery digest, tool version): the same bytes
screened under the same config, logos, enrolled faces and code give the same findings, so
they are not screened again. The verdict is always decided afresh from the findings, so a
consent change or a permission applies without re-screening. Only a screening in which
every check ran completely is stored: an error (a timeout, a crashed worker, a check that
is not installed) is always tried again. An XMP sidecar beside the image is part of what the
location check reads but not of the image's hash, so an image with a sidecar is never
answered from the cache, and findings that came from a sidecar are never stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from screening import __version__
from screening.digest import sha256_file
from screening.formats.sidecars import links_out, sidecars_of
from screening.model import Check, LocationFinding, Screening
from screening.store.codec import screening_from_json, screening_to_json
from screening.store.db import connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS screenings (
    sha256 TEXT NOT NULL,
    config TEXT NOT NULL,      -- Config.fingerprint()
    gallery TEXT NOT NULL,     -- audit.gallery_digest()
    tool TEXT NOT NULL,        -- screening.__version__
    screening TEXT NOT NULL,   -- codec.screening_to_json()
    PRIMARY KEY (sha256, config, gallery, tool)
) WITHOUT ROWID;
"""


class ResultCache:
    """Screenings by content hash for one config and gallery; one per command run."""

    def __init__(self, db: Path, *, config: str, gallery: str, tool: str = __version__):
        self.db = Path(db)
        self.key = (config, gallery, tool)
        self.conn = connect(self.db)
        self.conn.executescript(_SCHEMA)
        self.conn.commit()

    @classmethod
    def open(cls, trust) -> ResultCache:
        """The cache for a Trust (config + register); raises sqlite3.Error or OSError."""
        from screening.store.audit import gallery_digest

        return cls(trust.config.state, config=trust.config.fingerprint(),
                   gallery=gallery_digest(trust.config, trust.register))

    def close(self) -> None:
        self.conn.close()

    def lookup(self, path: Path, display: str) -> Screening | None:
        """The stored screening of this file's bytes, shown under `display`; None when unknown.

        A file that cannot be read is simply not in the cache: the worker then reports why.
        """
        if _has_sidecar(path):
            return None
        try:
            sha = sha256_file(path)
        except OSError:
            return None
        return self.get(sha, display)

    def get(self, sha256: str, display: str) -> Screening | None:
        row = self.conn.execute(
            "SELECT screening FROM screenings WHERE sha256 = ? AND config = ? AND gallery = ? AND tool = ?",
            (_row_key(sha256, display), *self.key)).fetchone()
        if row is None:
            return None
        return replace(screening_from_json(json.loads(row[0])), path=display)

    def store(self, screening: Screening) -> bool:
        """Keep a complete screening; returns whether it was stored."""
        if not is_complete(screening) or _from_sidecar(screening):
            return False
        self.conn.execute("INSERT OR REPLACE INTO screenings VALUES (?,?,?,?,?)",
                          (_row_key(screening.sha256, screening.path), *self.key,
                           json.dumps(screening_to_json(screening))))
        self.conn.commit()
        return True


def _row_key(sha256: str, display: str) -> str:
    """A screening is kept by the file's bytes AND its own name: the text check reads a pupil's name
    in the file's name (RT26-8), so the same bytes renamed are screened again (RT27-11). The name is
    kept only as part of a digest, never as text."""
    return hashlib.sha256(f"{sha256}\0{Path(str(display)).name}".encode("utf-8", "surrogatepass")).hexdigest()


def is_complete(screening: Screening) -> bool:
    """Every check, decoding included, ran to the end (it may still have found things)."""
    ran = {r.check for r in screening.results if r.complete}
    return screening.sha256 is not None and ran >= set(Check)


def _has_sidecar(path: Path) -> bool:
    return bool(sidecars_of(Path(path)) or links_out(Path(path)))


def _from_sidecar(screening: Screening) -> bool:
    return any(isinstance(f, LocationFinding) and f.sidecar is not None
               for r in screening.results for f in r.findings)
