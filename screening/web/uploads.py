"""Where uploaded files go: under the state folder, under generated names, readable by the owner only.

The name a browser sends is display text only: it never becomes part of a path (a name like
`../../x.jpg`, one with a NUL or with HTML in it is stored as `uploads/<batch>/0001` like any
other, and shown escaped). A file over the size scan refuses (imaging.MAX_FILE_BYTES) is refused
here, before it is stored; everything else is screened by the same pipeline as `scan`, which
reads it by its content (a truncated JPEG, a bomb, a text file named .jpg are errors there).
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from pathlib import Path

from screening.imaging import MAX_FILE_BYTES

CHUNK = 1 << 20
MAX_NAME = 255  # characters of a name kept for display


def private_dir(path: Path) -> Path:
    """Make `path` (and missing parents) with mode 0700; narrow it if it exists."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def new_batch_id() -> str:
    return secrets.token_hex(8)


def display_name(raw: str | None) -> str:
    """The uploaded name as text to show: control characters dropped, length capped, never a path."""
    text = "".join(ch for ch in (raw or "") if unicodedata.category(ch)[0] != "C")
    text = text.strip() or "(no name)"
    return text if len(text) <= MAX_NAME else text[:MAX_NAME - 1] + "…"


def uploads_dir(state: Path, batch_id: str) -> Path:
    if not batch_id.isalnum():
        raise ValueError("not a batch id")
    return private_dir(state.parent / "uploads" / batch_id)


def store(folder: Path, n: int, source) -> tuple[Path | None, str]:
    """Copy an uploaded file (a binary file object) to folder/NNNN (0600, never replacing one);
    (the path, '') or (None, why it was refused)."""
    target = folder / f"{n:04d}"
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
