"""A snapshot of a folder tree, links not followed, to assert what an attack left untouched."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple]:
    """Relative path -> (kind, mode, content digest or link target) for everything under root."""
    out: dict[str, tuple] = {}
    for folder, dirs, names in os.walk(root):  # os.walk never descends into a linked folder
        for name in dirs + names:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            if rel.startswith(skip):
                continue
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def changes(before: dict, after: dict) -> set[str]:
    """Paths added, removed or changed between two snapshots."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
