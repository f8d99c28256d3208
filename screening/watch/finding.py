"""How the watch job finds files: watchdog events when they work, and a walk of the inbox
every few seconds anyway, because events get lost and network shares send none.

Part of the job (Watch inherits it, and sets up the state in its __init__): it uses the job's
settings `s`, `files` (Stability), `stuck`, `log` and `wakeup`, and keeps what events and walks
found in `changed`, `walk_due`, `last_walk`, `observer` and `events_unavailable`.
Nothing is entered through a symbolic link: a linked folder is yielded as a file, never walked.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from screening.watch.arrivals import InboxEvents, in_progress


class Finding:
    """The job's eyes on the inbox (a part of Watch, kept apart by concern)."""

    def note(self, path: Path) -> None:
        """Called from the observer thread for every path an event names."""
        with self.changed_lock:
            self.changed.add(path)
        self.wakeup.set()

    def _look(self, now: float) -> None:
        if self.s.poll is None and not self.s.once and not self.events_unavailable:
            self._ensure_observer()
        walked: set[Path] | None = None
        if now >= self.walk_due:
            self.walk_due = now + (self.s.poll or self.s.rescan)
            walked = set(self._walk(self.s.inbox))
        with self.changed_lock:  # after the walk: an event racing it is not counted as missed
            paths, self.changed = self.changed, set()
        if walked is None:
            walked = set()
        else:
            if self.observer is not None and self.last_walk is not None:
                missed = walked - self.last_walk - paths - set(self.files.files)
                if missed:
                    self.log("events_missed", files=len(missed), detail="found only by walking the inbox")
            self.last_walk = walked
        for path in paths | walked | set(self.files.files):
            self._observe(path)

    def _walk(self, folder: Path) -> Iterator[Path]:
        """Files and links under a real folder; a linked folder is yielded, never entered."""
        if os.path.islink(folder):
            yield folder
            return
        for root, dirs, names in os.walk(folder, onerror=_raise):  # os.walk does not enter links
            linked = [d for d in dirs if os.path.islink(os.path.join(root, d))]
            dirs[:] = [d for d in dirs if not in_progress(d) and d not in linked]
            for name in names + linked:
                if not in_progress(name):
                    yield Path(root) / name

    def _observe(self, path: Path) -> None:
        if path in self.stuck or not inside(path, self.s.inbox) or path == self.s.inbox \
                or any(in_progress(part) for part in path.relative_to(self.s.inbox).parts):
            return
        if os.path.realpath(path.parent) != str(path.parent):
            return  # reached through a linked folder: that link is sorted itself, never entered
        try:
            st = path.lstat()
        except FileNotFoundError:
            self.files.forget(path)  # renamed or removed before it settled; a walk finds it again
            return
        if stat.S_ISDIR(st.st_mode):
            for inner in self._walk(path):  # a folder of photos moved in arrives as one event
                self._observe(inner)
            return
        if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
            self.files.observe(path, st, time.monotonic())

    def _ensure_observer(self) -> None:
        if self.observer is not None and self.observer.is_alive():
            return
        if self.observer is not None:
            self.log("observer_died", detail="restarting it; the inbox is walked meanwhile")
            self._stop_observer()
        from watchdog.observers import Observer

        try:
            observer = Observer()
            observer.schedule(InboxEvents(self.note), str(self.s.inbox), recursive=True, follow_symlink=False)
            observer.start()
        except Exception as exc:  # noqa: BLE001 - e.g. inotify watch limit: walking still works
            self.log("events_unavailable", detail=f"{exc}; walking the inbox every {self.s.rescan:g} s")
            self.events_unavailable = True
            return
        self.observer = observer

    def _stop_observer(self) -> None:
        if self.observer is not None:
            try:
                self.observer.stop()
                self.observer.join(timeout=5)
            except Exception:  # noqa: BLE001 - an observer on a vanished share may not stop cleanly
                pass
            self.observer = None


def inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _raise(exc: OSError) -> None:
    raise exc
