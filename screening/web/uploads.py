"""Where uploaded files go: under the state folder, under generated names, readable by the owner only.

The name a browser sends is display text only: it never becomes part of a path (a name like
`../../x.jpg`, one with a NUL or with HTML in it is stored as `uploads/<batch>/0001` like any
other, and shown escaped). A file over the size scan refuses (imaging.MAX_FILE_BYTES) is refused
here, before it is stored; everything else is screened by the same pipeline as `scan`, which
reads it by its content (a truncated JPEG, a bomb, a text file named .jpg are errors there).
"""

from __future__ import annotations

import os
import re
import secrets
import unicodedata
from pathlib import Path
from urllib.parse import unquote

from screening.files import is_clutter, looks_like_image
from screening.formats.sidecars import folded, is_sidecar, sidecar_names
from screening.imaging import MAX_FILE_BYTES

CHUNK = 1 << 20
MAX_NAME = 255  # characters of a name kept for display


def private_dir(path: Path, under: Path) -> Path:
    """Make every level of `path` below the folder `under` (e.g. uploads/, uploads/<batch>/) a real
    folder with mode 0700 whatever the umask: made so, or narrowed if it exists. A level that is a
    symbolic link (or not a folder) is refused, never followed (OSError)."""
    current = Path(under)
    for part in Path(path).relative_to(under).parts:
        current = current / part
        try:
            os.mkdir(current, 0o700)
        except FileExistsError:
            pass
        if not hasattr(os, "O_NOFOLLOW"):  # (Windows: no modes to narrow, no links to refuse this way)
            os.chmod(current, 0o700)
            continue
        fd = os.open(current, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)  # ELOOP on a link
        try:
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)
    return Path(path)


def new_batch_id() -> str:
    return secrets.token_hex(8)


# At most this many bytes (UTF-8) of an upload's name are kept in its stored file's name (filesystems
# allow 255 a name: 120 CJK characters would be 360).
MAX_STORED_NAME = 200


def display_name(raw: str | None) -> str:
    """The uploaded name as text to show: control characters dropped, length capped, never a path."""
    text = "".join(ch for ch in (raw or "") if unicodedata.category(ch)[0] != "C")
    text = text.strip() or "(no name)"
    return text if len(text) <= MAX_NAME else text[:MAX_NAME - 1] + "…"


def uploads_dir(state: Path, batch_id: str) -> Path:
    if not batch_id.isalnum():
        raise ValueError("not a batch id")
    return private_dir(state.parent / "uploads" / batch_id, under=state.parent)


def store(folder: Path, n: int, source, name: str = "") -> tuple[Path | None, str]:
    """Copy an uploaded file (a binary file object) to folder/"NNNN words" (0600, never replacing one),
    the words those of its uploaded `name` (its runs of letters, digits and '_' only: never a path):
    the text check reads a pupil's name in a file's own name, and staff publish it under that name
    (RT27-10). A URL-encoded name is decoded first ('Amelia%20Hart', RT28-1); a name whose words are
    longer than MAX_STORED_NAME bytes is refused, never cut (the cut part could hold a pupil's name,
    RT28-2). (the path, '') or (None, why it was refused)."""
    words = " ".join(re.findall(r"\w+", unicodedata.normalize("NFC", unquote(name or ""))))
    if len(words.encode("utf-8", "surrogatepass")) > MAX_STORED_NAME:
        return None, (f"refused: its name is longer than the {MAX_STORED_NAME} bytes kept with an upload (a name "
                      "in it would not be read); rename it shorter and upload it again")
    target = folder / (f"{n:04d} {words}" if words else f"{n:04d}")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > MAX_FILE_BYTES:
                    raise _TooLarge
                out.write(chunk)
    except _TooLarge:
        target.unlink(missing_ok=True)
        return None, (f"refused: larger than the limit of {MAX_FILE_BYTES:,} bytes "
                      f"({MAX_FILE_BYTES / (1 << 30):g} GiB) that scan refuses too")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target, ""


class _TooLarge(Exception):
    pass


CLUTTER = "not screened: operating-system clutter ({name}), skipped as `screening scan` skips it"
SIDECAR = "not screened on its own: the XMP sidecar of {photos}, read with it as `screening scan` reads it"
TWO_SIDECARS = ("refused: {photo} came with {count} XMP sidecars ({names}); the workspace reads one sidecar "
                "with a photo: upload it with one of them, or screen the folder with `screening scan`")


def set_aside(kept: list[tuple[str, Path | None]]) -> dict[int, str]:
    """The uploaded files (browser name, stored path) not screened on their own, as `scan` decides
    for a folder, {index: why}: OS clutter (files.is_clutter, by name and content) is deleted; an
    XMP sidecar (not an image by its content) is stored as NNNN.xmp beside each photo of the same
    upload folder it belongs to (the names formats/sidecars.py pairs), where the location check
    reads it. A photo with two or more sidecars is refused with them, never screened without them.
    A sidecar with no photo in the upload is screened on its own, as scan screens it."""
    names = [_split(raw or "") for raw, _ in kept]
    why: dict[int, str] = {}
    for i, (_, path) in enumerate(kept):
        if path is not None and is_clutter(path, names[i][1]):
            path.unlink(missing_ok=True)
            why[i] = CLUTTER.format(name=names[i][1])
    live = [i for i, (_, path) in enumerate(kept) if path is not None and i not in why]
    sidecars = {i for i in live if is_sidecar(Path(names[i][1])) and not looks_like_image(_head(kept[i][1]))}
    wanted: dict[tuple[str, str], list[int]] = {}  # (upload folder, sidecar name) -> photos
    for p in live:
        if p not in sidecars:
            for name in sidecar_names(names[p][1]):
                wanted.setdefault((names[p][0], name), []).append(p)
    owners: dict[int, list[int]] = {}  # photo -> its sidecars
    for s in sorted(sidecars):
        for p in wanted.get((names[s][0], folded(names[s][1])), []):
            owners.setdefault(p, []).append(s)
    for p, own in owners.items():
        if len(own) > 1:
            kept[p][1].unlink(missing_ok=True)
            why[p] = TWO_SIDECARS.format(photo=names[p][1], count=len(own), names=", ".join(names[s][1] for s in own))
        else:
            photo = kept[p][1]
            _copy_private(kept[own[0]][1], photo.with_name(photo.name + ".xmp"))
    for s in sorted(sidecars):
        mine = [p for p, own in owners.items() if s in own]
        if mine:  # (no photo of its own in the upload: screened on its own, as scan does)
            read = [names[p][1] for p in mine if len(owners[p]) == 1]
            why[s] = SIDECAR.format(photos=", ".join(read)) if read else f"refused with its photo: {why[mine[0]]}"
            kept[s][1].unlink(missing_ok=True)
    return why


def _split(raw: str) -> tuple[str, str]:
    """(folder, name) of a name a browser sent: a dropped folder's files come as folder/name."""
    folder, _, base = raw.replace("\\", "/").rpartition("/")
    return folder, base


def _head(path: Path, n: int = 64) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _copy_private(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
        while chunk := src.read(CHUNK):
            out.write(chunk)
