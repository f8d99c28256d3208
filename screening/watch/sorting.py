"""Sorting one screened file so that a kill at any moment loses and doubles nothing.

The journal row (store/journal.py) is written before anything moves. Then the record is
written (tmp + rename, 0600), then the image is moved (watch/moves.py: never overwriting,
never following a link), then its sidecars the same way, then the journal row is deleted.
complete() does every step idempotently, so a restart just calls it again on open rows.
Destination names are never taken twice: IMG_1 (2).jpg, with IMG_1 (2).xmp beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

from screening.model import Status
from screening.store.db import private_file
from screening.store.journal import Entry, Journal, Sidecar, json_text, record_path, tmp_path
from screening.watch import moves

FOLDERS = {Status.CLEARED: "cleared", Status.NEEDS_PERMISSION: "needs-permission", Status.ERROR: "error"}


def free_name(folder: Path, name: str, reserved: set[Path]) -> Path:
    """NAME in folder, or NAME (2), NAME (3)... when it or its record is taken: never overwrite."""
    return free_names(folder, name, (), reserved)[0]


def free_names(folder: Path, name: str, sidecars: tuple[str, ...] | list[str],
               reserved: set[Path]) -> tuple[Path, list[Path]]:
    """Free names for an image and its sidecars, numbered together: IMG_1 (2).jpg and
    IMG_1 (2).xmp, so they still belong together; none of them, nor the record, is taken."""
    n = 1
    while True:
        image = folder / _numbered(name, n)
        sides = [folder / sidecar_name(side, name, image.name) for side in sidecars]
        wanted = [image, record_path(image), *sides]
        if not any(p in reserved or moves.exists(p) for p in wanted):
            return image, sides
        n += 1


# Bytes a destination name may have, so that its record's hidden tmp name
# `.NAME.json.screening-tmp` still fits the 255 bytes file systems allow.
_NAME_MAX = 255 - len(".") - len(".json") - len(".screening-tmp")


def _numbered(name: str, n: int) -> str:
    """NAME, or NAME (n) for n > 1; a name too long for its record is shortened, ending in `~`."""
    stem, suffix = Path(name).stem, Path(name).suffix
    if len(os.fsencode(suffix)) > 16:  # not an extension: shorten the name as a whole
        stem, suffix = name, ""
    tail = (f" ({n})" if n > 1 else "") + suffix
    if len(os.fsencode(stem + tail)) <= _NAME_MAX:
        return stem + tail
    while stem and len(os.fsencode(stem + "~" + tail)) > _NAME_MAX:
        stem = stem[:-1]
    return stem + "~" + tail


def sidecar_name(sidecar: str, image: str, new_image: str) -> str:
    """The sidecar's name beside the image renamed to `new_image`: the image's numbering goes
    after the image's stem in the sidecar's name too (IMG_1.xmp, IMG_1.jpg.XMP -> IMG_1 (2)...),
    the sidecar's own spelling kept."""
    stem, new_stem = Path(image).stem, Path(new_image).stem
    if new_stem.startswith(stem):
        return sidecar[:len(stem)] + new_stem[len(stem):] + sidecar[len(stem):]
    return new_stem + sidecar[len(stem):]  # the image's name was shortened


def complete(journal: Journal, entry: Entry) -> str:
    """Carry out (or finish after a crash) one entry; returns "sorted", "changed" or "vanished".

    OSError (share offline, disk full) leaves the entry open: it is simply tried again.
    """
    try:
        folder: moves.Folder | None = moves.Folder(entry.source.parent, Path(journal.inbox))
    except (FileNotFoundError, moves.LinkInTheWay):
        folder = None  # the source's folder is gone, or a link now stands in its path: not followed
    try:
        return _complete(journal, entry, folder)
    finally:
        if folder is not None:
            folder.close()


def _complete(journal: Journal, entry: Entry, folder: moves.Folder | None) -> str:
    name = entry.source.name

    def now(sha_name: str) -> str | None:
        return folder.sha256(sha_name) if folder is not None else None

    if moves.exists(entry.image) and moves.sha256_of(entry.image) == entry.sha256:
        # moved already: only the original (a hard link or a verified copy of it) may remain
        if now(name) == entry.sha256:
            folder.unlink(name)
        entry = _move_sidecars(journal, entry, folder)
        _write_record(entry)
        moves.remove(entry.tmp)
        journal.finish(entry)
        return "sorted"
    if moves.exists(entry.image):
        # someone else put a file under the reserved name: reserve others, never overwrite
        moves.remove(entry.record_path)
        image, sides = free_names(entry.image.parent, name, [s.source.name for s in entry.sidecars],
                                  journal.reserved())
        entry = journal.move_to(entry, image, tuple(Sidecar(s.source, s.sha256, d)
                                                    for s, d in zip(entry.sidecars, sides)))
    source = now(name)
    if source != entry.sha256 or any(now(s.source.name) != s.sha256 for s in entry.sidecars):
        # the screened bytes (or a sidecar read with them) are not there any more: screen again
        _abandon(journal, entry)
        return "vanished" if source is None else "changed"
    entry.image.parent.mkdir(parents=True, exist_ok=True)
    _write_record(entry)
    moves.remove(entry.tmp)  # a copy cut short by a kill
    try:
        moves.move(folder, name, entry.sha256, entry.image)
    except moves.SourceChanged:
        _abandon(journal, entry)
        return "changed"
    _move_sidecars(journal, entry, folder)
    journal.finish(entry)
    return "sorted"


def _move_sidecars(journal: Journal, entry: Entry, folder: moves.Folder | None) -> Entry:
    """After the image: each sidecar into its reserved name. One that changed or went since it
    was screened stays in the inbox, where it is sorted on its own."""
    for i, side in enumerate(entry.sidecars):
        here = folder.sha256(side.source.name) if folder is not None else None
        if moves.exists(side.image) and moves.sha256_of(side.image) == side.sha256:
            if here == side.sha256:
                folder.unlink(side.source.name)
            continue
        if here != side.sha256:
            continue
        if moves.exists(side.image):  # someone else's file under the reserved name: never overwrite
            moved = Sidecar(side.source, side.sha256, free_name(side.image.parent, side.image.name, journal.reserved()))
            entry = journal.move_to(entry, entry.image, entry.sidecars[:i] + (moved,) + entry.sidecars[i + 1:])
            side = moved
        moves.remove(tmp_path(side.image))
        try:
            moves.move(folder, side.source.name, side.sha256, side.image)
        except moves.SourceChanged:
            continue
    return entry


def _abandon(journal: Journal, entry: Entry) -> None:
    """The screened bytes are gone from the inbox: take back the record and the reservation."""
    moves.remove(entry.record_path)
    moves.remove(entry.tmp)
    for side in entry.sidecars:
        moves.remove(tmp_path(side.image))
    journal.finish(entry)


def _write_record(entry: Entry) -> None:
    """The JSON record names people: written 0600 (tmp + rename), whatever the umask."""
    tmp = entry.record_path.with_name(f".{entry.record_path.name}.screening-tmp")
    moves.remove(tmp)
    with private_file(tmp, "x", encoding="utf-8") as f:
        f.write(json_text(entry.record, indent=1) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, entry.record_path)  # our own reserved name: replacing it is not overwriting
    moves.fsync_dir(entry.image.parent)
