"""XMP sidecars: the `.xmp` files photo editors write beside an image, matched as people name them.

IMG_1.jpg's sidecars are IMG_1.xmp and IMG_1.jpg.xmp, in any mix of upper and lower case
(g03.jpg + g03.Xmp, G03B.jpg + g03b.xmp, g03c.JPG + g03c.jpg.xmp): file systems shared with
Windows and macOS keep the case a camera or editor chose, and a GPS-bearing sidecar missed for
its case is a location leak.
"""

from __future__ import annotations

import os
from pathlib import Path

SUFFIX = ".xmp"


def is_sidecar(path: Path) -> bool:
    return path.suffix.lower() == SUFFIX


def sidecar_names(image_name: str) -> set[str]:
    """The lower-cased names of an image's sidecars: IMG_1.jpg -> {img_1.xmp, img_1.jpg.xmp}."""
    return {Path(image_name).stem.lower() + SUFFIX, image_name.lower() + SUFFIX}


def sidecars_of(image: Path) -> list[Path]:
    """The regular files beside `image` that are its XMP sidecars (never the image itself)."""
    if is_sidecar(image):
        return []
    wanted = sidecar_names(image.name)
    found = []
    for name in _names(image.parent):
        candidate = image.parent / name
        if name.lower() in wanted and name != image.name and candidate.is_file() and not candidate.is_symlink():
            found.append(candidate)
    return sorted(found)


def image_of(sidecar: Path) -> Path | None:
    """The image a sidecar belongs to, when one is beside it (IMG_1.jpg for IMG_1.xmp or IMG_1.jpg.xmp)."""
    if not is_sidecar(sidecar):
        return None
    stem = sidecar.name[: -len(SUFFIX)].lower()  # "img_1" or "img_1.jpg"
    for name in sorted(_names(sidecar.parent)):
        candidate = sidecar.parent / name
        if is_sidecar(candidate) or not candidate.is_file():
            continue
        lower = name.lower()
        if lower == stem or Path(lower).stem == stem:
            return candidate
    return None


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
