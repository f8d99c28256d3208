"""What arrives in the inbox: names still being written, sidecars, when a file stops changing,
and watchdog's events (noted, never acted on, in the observer's thread)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from screening.formats.sidecars import image_of

# Files still being written or saved: screened only once renamed to their real name.
IN_PROGRESS_PREFIXES = (".", "~$")
IN_PROGRESS_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp", ".~tmp", ".temp", ".swp")


def waits_for_its_image(path: Path) -> bool:
    """An XMP sidecar stays while its image (IMG_1.jpg for IMG_1.xmp or IMG_1.jpg.xmp, any case) is
    in the inbox: the location check of the image reads it, and it is sorted with it. Alone, it is
    sorted like any other file."""
    return image_of(path) is not None


def in_progress(name: str) -> bool:
    """A hidden, temporary or partial download name: not a finished photo yet."""
    lower = name.lower()
    return lower.startswith(IN_PROGRESS_PREFIXES) or lower.endswith(IN_PROGRESS_SUFFIXES)


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time when this size and mtime were first seen
    not_before: float = 0.0  # a deferred (young, undecodable) file waits until then


class Stability:
    """Which tracked files have stopped changing for `settle` seconds."""

    def __init__(self, settle: float):
        self.settle = settle
        self.files: dict[Path, _Seen] = {}

    def observe(self, path: Path, st: os.stat_result, now: float) -> None:
        seen = self.files.get(path)
        if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
            self.files[path] = _Seen(st.st_size, st.st_mtime_ns, now)

    def stable(self, now: float) -> list[Path]:
        return sorted(p for p, s in self.files.items() if now - s.since >= self.settle and now >= s.not_before)

    def age(self, path: Path, now: float) -> float:
        """Seconds since the file was last seen changing (by this job, or by its mtime if older)."""
        seen = self.files.get(path)
        observed = now - seen.since if seen else float("inf")
        try:
            by_mtime = time.time() - path.stat().st_mtime
        except OSError:
            by_mtime = float("inf")
        return max(observed, by_mtime)

    def defer(self, path: Path, until: float) -> None:
        if path in self.files:
            self.files[path].not_before = until

    def forget(self, path: Path) -> None:
        self.files.pop(path, None)


class InboxEvents(FileSystemEventHandler):
    """Notes changed paths for the job's thread; never raises (watchdog would die silently)."""

    def __init__(self, wake: Callable[[Path], None]):
        self.wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            for raw in (event.src_path, getattr(event, "dest_path", "")):
                if raw:
                    self.wake(Path(os.fsdecode(raw)))
        except Exception:  # noqa: BLE001 - a lost event is found by the next walk of the inbox
            pass
