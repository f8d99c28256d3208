"""Which files a scan screens: files and folders, recursively, skipping hidden files and sidecars."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

# Files this project (or a photo editor) writes beside images: never screened as images.
SIDECAR_SUFFIXES = {".xmp", ".json", ".jsonl"}


def is_skipped(name: str) -> bool:
    return name.startswith(".") or Path(name).suffix.lower() in SIDECAR_SUFFIXES


def inputs(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str]]:
    """(path, display name) for every file to screen, in a stable order.

    A path given explicitly is always screened (even if hidden or missing: the record then
    says why it could not be read). Folders are walked without following folder symlinks,
    so a symlink loop cannot trap the walk.
    """
    for given in paths:
        root = Path(given)
        if root.is_dir() and not root.is_symlink():
            yield from _walk(root)
        else:
            yield root, str(given)


def _walk(root: Path) -> Iterator[tuple[Path, str]]:
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = Path(folder)
        for name in sorted(filenames):
            if not is_skipped(name):
                p = base / name
                yield p, str(p)
