"""XMP sidecars: the `.xmp` files photo editors write beside an image, matched as people name them.

IMG_1.jpg's sidecars are IMG_1.xmp and IMG_1.jpg.xmp, in any mix of upper and lower case
(g03.jpg + g03.Xmp, G03B.jpg + g03b.xmp, g03c.JPG + g03c.jpg.xmp): file systems shared with
Windows and macOS keep the case a camera or editor chose, and a GPS-bearing sidecar missed for
its case is a location leak. Names are compared NFC-normalised (macOS hands out NFD names), and a
sidecar that is a link is read when it leads to a file inside the image's folder; a link out of
it is never read, and the image is an error (RT9-25).
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

SUFFIX = ".xmp"


def is_sidecar(path: Path) -> bool:
    return path.suffix.lower() == SUFFIX


def sidecar_names(image_name: str) -> set[str]:
    """The names of an image's sidecars, NFC-normalised and lower-cased: IMG_1.jpg -> {img_1.xmp,
    img_1.jpg.xmp}."""
    name = folded(image_name)
    return {Path(name).stem + SUFFIX, name + SUFFIX}


def sidecars_of(image: Path) -> list[Path]:
    """The files beside `image` that are its XMP sidecars (never the image itself): regular files,
    and links whose target is a regular file inside the image's folder (Lightroom, Bridge and
    digiKam follow them). Names match in any case and Unicode normalisation (macOS writes NFD)."""
    found, _ = _paired(image)
    return found


def links_out(image: Path) -> list[str]:
    """Names of the image's sidecars that are links out of its folder (or to nothing readable):
    never read (nothing outside the given folders is), and the image is never cleared for them."""
    _, out = _paired(image)
    return out


def _paired(image: Path) -> tuple[list[Path], list[str]]:
    if is_sidecar(image):
        return [], []
    wanted = sidecar_names(image.name)
    found, out = [], []
    for name in _names(image.parent):
        candidate = image.parent / name
        if folded(name) not in wanted or folded(name) == folded(image.name):
            continue
        if not candidate.is_symlink():
            if candidate.is_file():
                found.append(candidate)
        elif _inside(candidate, image.parent):
            found.append(candidate)
        else:
            out.append(name)
    return sorted(found), sorted(out)


def _inside(link: Path, folder: Path) -> bool:
    """The link leads to a regular file inside `folder` (or a folder under it)."""
    try:
        target = link.resolve(strict=True)
        return target.is_file() and folder.resolve(strict=True) in target.parents
    except (OSError, RuntimeError):  # a dangling link, a loop
        return False


def folded(name: str) -> str:
    """A name as sidecars are paired: NFC-normalised, lower-cased."""
    return unicodedata.normalize("NFC", name).lower()


def image_of(sidecar: Path) -> Path | None:
    """The image a sidecar belongs to, when one is beside it (IMG_1.jpg for IMG_1.xmp or IMG_1.jpg.xmp)."""
    if not is_sidecar(sidecar):
        return None
    stem = folded(sidecar.name)[: -len(SUFFIX)]  # "img_1" or "img_1.jpg"
    for name in sorted(_names(sidecar.parent)):
        candidate = sidecar.parent / name
        if is_sidecar(candidate) or not candidate.is_file():
            continue
        lower = folded(name)
        if lower == stem or Path(lower).stem == stem:
            return candidate
    return None


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
