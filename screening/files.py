"""Which files a scan screens, which it skips and why, and what a file that is not an image is.

Every file under the given folders is screened by its content, hidden files, hidden folders
and unusual extensions included (`.face.jpg`, `face.JSON`, `.thumbs/face.jpg`). Only two
kinds of file are skipped, and each one skipped is listed: operating-system clutter
(`Thumbs.db`, `desktop.ini`, `.DS_Store`, `._*` AppleDouble files), recognised by name *and*
content so a photo renamed `Thumbs.db` is still screened; and XMP sidecars that the location
check reads with their image. A path given on the command line that does not exist is an
error of the command, not a file to screen.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from screening.digest import regular_file_bytes
from screening.formats.sidecars import is_sidecar, sidecars_of

CLUTTER = "OS clutter"
SIDECAR = "XMP sidecar read with its image"
OWN_REPORT = "a report this command writes"
FOLDER_LINK = "a symbolic link to a folder (not followed)"
FILE_LINK_OUTSIDE = ("a symbolic link to a file outside the folder given: not followed, so not screened; "
                     "screen the file it points to, or copy it into the folder")
UNREADABLE = "a folder that cannot be read"


class MissingPath(Exception):
    """A path given on the command line does not exist."""


@dataclass(frozen=True)
class Skipped:
    path: Path
    display: str
    why: str  # one of the constants above
    detail: str = ""

    @property
    def problem(self) -> bool:
        """Skipped because it could not be looked at, not because it holds no picture."""
        return self.why == UNREADABLE


@dataclass
class Selection:
    items: list[tuple[Path, str]] = field(default_factory=list)  # (path, display name) to screen
    skipped: list[Skipped] = field(default_factory=list)
    # (path, display name, why): files found in a folder that are not read (a link to a file
    # outside it). Never skipped in silence: each is a file of the batch, so an `error` record.
    refused: list[tuple[Path, str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Files of the batch: the ones screened and the ones refused."""
        return len(self.items) + len(self.refused)

    def skipped_line(self) -> str:
        """'3 file(s) not screened: 2 OS clutter, 1 XMP sidecar read with its image', or ''."""
        if not self.skipped:
            return ""
        counts = Counter(s.why for s in self.skipped)
        return (f"{len(self.skipped)} file(s) not screened: "
                + ", ".join(f"{n} {why}" for why, n in counts.items()))


def select(paths: Iterable[str | Path], exclude: Iterable[Path] = ()) -> Selection:
    """The files to screen under `paths`, in a stable order, and the ones skipped with why.

    A path given explicitly is always screened (even clutter or a sidecar); a path that does
    not exist raises MissingPath. Folders are walked without following folder symlinks, so a
    symlink loop cannot trap the walk. A symlink to a file is followed only when its target is
    inside the folder being walked: one pointing outside it is refused (nothing outside the
    folders a command is given is read, and its picture never reaches a report). `exclude`:
    files this command itself writes (reports).
    """
    excluded = {_key(p) for p in exclude}
    selection = Selection()
    for given in paths:
        root = Path(given)
        if not os.path.lexists(root):
            raise MissingPath(f"{given}: no such file or folder")
        if root.is_dir() and not root.is_symlink():
            _walk(root, selection, excluded)
        else:
            selection.items.append((root, str(given)))
    return selection


def inputs(paths: Iterable[str | Path]) -> Iterator[tuple[Path, str]]:
    """(path, display name) of every file to screen (see select())."""
    yield from select(paths).items


def _walk(root: Path, selection: Selection, excluded: set[str]) -> None:
    def unreadable(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else root
        selection.skipped.append(Skipped(where, str(where), UNREADABLE, exc.strerror or str(exc)))

    inside = resolved(root)
    for folder, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable):
        base = Path(folder)
        for d in sorted(dirnames):
            if (base / d).is_symlink():
                selection.skipped.append(Skipped(base / d, str(base / d), FOLDER_LINK))
        dirnames[:] = sorted(d for d in dirnames if not (base / d).is_symlink())
        sidecars = _sidecars_read(base, filenames)
        for name in sorted(filenames):
            p = base / name
            if _key(p) in excluded:
                why = OWN_REPORT
            elif name in sidecars:
                why = SIDECAR
            elif p.is_symlink() and inside not in resolved(p).parents:
                selection.refused.append((p, str(p), FILE_LINK_OUTSIDE))
                continue
            elif is_clutter(p):
                why = CLUTTER
            else:
                selection.items.append((p, str(p)))
                continue
            selection.skipped.append(Skipped(p, str(p), why))


def resolved(path: str | Path) -> Path:
    """The path absolute, without `..`, its links followed; for a link loop (a -> b -> a) the
    absolute path of the link itself. Never raises: Path.resolve() does on a loop (RuntimeError
    before Python 3.13), and a name given by whoever drops a file must not crash a command."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _sidecars_read(folder: Path, names: list[str]) -> set[str]:
    """Names of the XMP files in `folder` that the location check reads with an image beside them.

    The location check's own rule (formats/sidecars.py) decides, so nothing is skipped that it
    does not read; an "XMP" whose content is an image is screened like any other picture.
    """
    if not any(is_sidecar(Path(n)) for n in names):
        return set()
    read: set[str] = set()
    for name in names:
        read.update(s.name for s in sidecars_of(folder / name))
    return {n for n in read if n in names and not looks_like_image(_head(folder / n))}


# ----------------------------------------------------------------- clutter by name and content

# Each clutter name with the content it must have (a photo renamed Thumbs.db is screened).
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Thumbs.db: a Windows compound document
_DS_STORE = b"\x00\x00\x00\x01Bud1"
_APPLE_DOUBLE = b"\x00\x05\x16\x07"


def is_clutter(path: Path, name: str | None = None) -> bool:
    """An operating system's folder-view file (Thumbs.db, desktop.ini, .DS_Store, ._NAME); `name`
    is the file's own name when it is stored under another (an upload of `screening serve`)."""
    lower = (path.name if name is None else name).lower()
    if lower not in ("thumbs.db", "desktop.ini", ".ds_store") and not lower.startswith("._"):
        return False
    head = _head(path)
    if lower == "thumbs.db":
        return head.startswith(_OLE2)
    if lower == ".ds_store":
        return head.startswith(_DS_STORE)
    if lower.startswith("._"):
        return head.startswith(_APPLE_DOUBLE)
    return _looks_like_ini(path)


# desktop.ini is tiny; a bigger one, or one with any line that is not INI, is screened.
_INI_MAX = 64 * 1024


def _looks_like_ini(path: Path) -> bool:
    """Text whose every line is a [section], a key=value, a ;/# comment or blank: no markup."""
    data = _head(path, _INI_MAX + 1)
    text = _as_text(data) if len(data) <= _INI_MAX else None
    if text is None or "<" in text:
        return False
    for line in text.lstrip("\ufeff").splitlines():
        line = line.strip()
        if line and not (line.startswith((";", "#")) or (line.startswith("[") and line.endswith("]"))
                         or ("=" in line and line.split("=", 1)[0].strip())):
            return False
    return True


def _head(path: Path, n: int = 64) -> bytes:
    """The first n bytes of a regular file, not through a link; b"" for anything else."""
    return regular_file_bytes(path, n, follow_links=False) or b""


# ----------------------------------------------------------------- what a non-image looks like

_KNOWN = [  # (prefix, what it is), checked in order
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a Word, Excel or PowerPoint file)"),
    (_OLE2, "an old Microsoft Office document or a Thumbs.db file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (_DS_STORE, "a macOS .DS_Store file"),
    (_APPLE_DOUBLE, "a macOS AppleDouble (._) file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"ID3", "an MP3 audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"OggS", "an Ogg audio or video file"),
    (b"8BPS", "a Photoshop document (not supported: export it as JPEG or PNG)"),
    (b"\xff\x0a", "a JPEG XL image (no decoder this version can use yet: save it as JPEG)"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "a JPEG XL image (no decoder this version can use yet: save it as JPEG)"),
    (b"<svg", "an SVG drawing (not supported: export it as PNG)"),
]
_IMAGE_HEADS = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"II*\x00", b"MM\x00*", b"BM")


def looks_like_image(head: bytes) -> bool:
    """Begins like a photo or video container (the decoder then says whether it really is one)."""
    if head.startswith(_IMAGE_HEADS):
        return True
    if head[:4] == b"RIFF":  # WebP, AVI
        return True
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free") or head.startswith(b"\x1a\x45\xdf\xa3")


def describe(head: bytes) -> str | None:
    """What a file that is not an image is, from its first bytes, in words a reader knows.

    None when it is not recognisably anything else (it may still be an image, or a file still
    being written: a copy that pre-allocates its size starts with zeros).
    """
    if not head or looks_like_image(head):
        return None
    if not head.strip(b"\x00"):
        return None
    for prefix, what in _KNOWN:
        if head.startswith(prefix):
            return what
    text = _as_text(head)
    if text is None:
        return None
    start = text.lstrip("\ufeff \t\r\n").lower()
    if start.startswith(("<?xpacket", "<x:xmpmeta", "<?xml")):
        return "an XML file (an XMP sidecar?)" if "xmp" in start else "an XML file"
    if start.startswith(("<!doctype html", "<html")):
        return "a web page (HTML)"
    if start.startswith(("{", "[")):
        return "a JSON file"
    first_line = start.split("\n", 1)[0]
    if first_line.count(",") >= 1 or first_line.count(";") >= 1 or first_line.count("\t") >= 1:
        return "a CSV or text file"
    return "a text file"


def _as_text(head: bytes) -> str | None:
    """The bytes as text if they are text (UTF-8, UTF-16 with its mark, or Latin-1 prose)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head[: len(head) // 2 * 2].decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the head
            text = head.decode("latin-1")
        else:
            text = head[: exc.start].decode("utf-8")
    if any(ord(c) < 32 and c not in "\t\r\n\f" for c in text):
        return None
    return text
