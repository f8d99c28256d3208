"""The folder-watch job: screen every complete file in INBOX and sort it into cleared/,
needs-permission/ or error/ under FOLDER, with its JSON record beside it.

One thread does all the work: watchdog's observer thread only notes which paths changed
(its handler never raises: an exception there silently kills the observer), and the inbox
is walked again every few seconds anyway, because events get lost and network shares send
none. A file is screened once its size and mtime have stood still for `settle` seconds; a
file that will not decode while it is still young (`grace`) is retried, since it may be a
slow copy, not a broken photo. Sorting goes through the journal (watch/sorting.py), which
survives SIGKILL.

Nothing is followed through a symbolic link: a link in the inbox (to a file, a folder or
nowhere) is never screened, read or walked; the link itself is sorted into error/ with a
record saying so. An XMP sidecar is sorted with its image, in the same journal entry.
With --once, a file that cannot be sorted after a few tries ends the job with a failure
instead of being retried for ever (a cron job must end).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from screening.formats.sidecars import sidecars_of
from screening.model import Check, CheckResult, Screening
from screening.store.journal import Journal, Sidecar
from screening.textsafe import for_json
from screening.watch.arrivals import Stability, waits_for_its_image
from screening.watch.finding import Finding, inside
from screening.watch.moves import sha256_of
from screening.watch.sorting import FOLDERS, complete, free_names

ONCE_ATTEMPTS = 3  # with --once, a file that cannot be sorted this many times ends the job


@dataclass(frozen=True)
class WatchSettings:
    inbox: Path
    into: Path
    settle: float = 2.0  # seconds a file's size and mtime must stand still
    grace: float = 60.0  # a file younger than this that will not decode is retried, not an error
    poll: float | None = None  # walk the inbox every `poll` seconds and use no events at all
    rescan: float = 10.0  # with events: walk the inbox anyway this often (events can be lost)
    once: bool = False  # sort what is there, then exit
    batch: int = 64  # files handed to the pool at once


class JsonLog:
    """One JSON object per line: every sorted file, and every pause, resume and problem."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        self.lock = threading.Lock()

    def __call__(self, event: str, **fields: Any) -> None:
        line = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                "event": event, **fields}
        text = for_json(json.dumps(line, ensure_ascii=False, default=str))
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()


@dataclass
class Session:
    """What screening needs, rebuilt when the config, logos, register or reference photos change."""

    screener: Any  # pool.Screener (with the result cache) or cluster.ClusterScreener
    trail: Any  # audit.AuditTrail stamped for "watch"
    rules_for_today: Callable[[], Any]  # the date matters: consent expires while the job runs
    stamp: tuple  # what it was built from; a different stamp means rebuild
    closing: tuple = ()  # further things to close with it (the cache)

    def close(self) -> None:
        for thing in (self.screener, self.trail, *self.closing):
            thing.close()


class Watch(Finding):
    """The job. `open_session(previous_stamp)` returns a new Session, None if unchanged, or raises."""

    def __init__(self, settings: WatchSettings, journal: Journal, open_session: Callable, log: JsonLog):
        # every comparison is made between real paths: `x/../inbox` or a linked inbox is the inbox
        self.s = replace(settings, inbox=_real(settings.inbox), into=_real(settings.into))
        self.journal = journal
        self.open_session = open_session
        self.log = log
        self.session: Session | None = None
        self.files = Stability(settings.settle)
        self.changed: set[Path] = set()
        self.changed_lock = threading.Lock()
        self.wakeup = threading.Event()
        self.stopping = False
        self.offline = False
        self.walk_due = 0.0
        self.last_walk: set[Path] | None = None  # files found by the previous walk
        self.observer = None
        self.events_unavailable = False  # the observer could not start: walking alone from then on
        self.paused: str | None = None  # why nothing can be screened now, once logged
        self.failures: dict[Path, int] = {}  # sorting attempts that failed, per file
        self.stuck: dict[Path, str] = {}  # --once: files given up on, and why
        self.retry_at: dict[Path, float] = {}  # open journal entries wait until then after a failure

    # ------------------------------------------------------------ the loop

    def run(self) -> bool:
        """Until stop() (or, with --once, until the inbox holds nothing screenable).

        Returns False when --once could not screen at all (config or register unreadable).
        """
        try:
            while not self.stopping:
                worked = self.cycle(time.monotonic())
                if self.s.once and self.paused:
                    return False
                if self.s.once and self.offline:
                    self.stuck[self.s.inbox] = "the inbox went offline"
                    return False
                if self.s.once and not self.files.files and not worked:
                    return not self.stuck
                if worked:
                    continue  # more may be ready already: no pause between batches
                self.wakeup.wait(self._tick())
                self.wakeup.clear()
            return True
        finally:
            self._stop_observer()
            if self.session:
                self.session.close()

    def stop(self) -> None:
        self.stopping = True
        self.wakeup.set()

    def cycle(self, now: float) -> bool:
        """One round: check the share, finish open journal entries, look, screen and sort."""
        try:
            if not self._inbox_online():
                return False
            self._refresh_session(now)
            if self.session is None:
                return False
            self._replay_journal()
            self._look(now)
            still_open = {e.source for e in self.journal.open_entries()}
            ready = [p for p in self.files.stable(time.monotonic()) if p not in still_open]
            links = [p for p in ready if os.path.islink(p)]
            files = [p for p in ready if p not in links and not waits_for_its_image(p)]
            for link in links:
                self._sort_link(link)
            if files:
                self._screen_and_sort(files[:self.s.batch])
            return bool(links or files)
        except Exception as exc:  # noqa: BLE001 - the job must never stop quietly
            self.log("problem", detail=f"{type(exc).__name__}: {exc}")
            self.walk_due = 0.0
            return False

    def _tick(self) -> float:
        if self.s.once or self.files.files:
            return max(0.1, min(self.s.settle / 2, self.s.poll or 1.0))
        return self.s.poll or self.s.rescan

    # ------------------------------------------------------------ the share and the session

    def _inbox_online(self) -> bool:
        try:
            online = self.s.inbox.is_dir() and os.access(self.s.inbox, os.R_OK | os.X_OK)
            next(os.scandir(self.s.inbox), None)
        except OSError:
            online = False
        if online and self.offline:
            self.log("inbox_online", inbox=str(self.s.inbox))
            self.walk_due = 0.0
            self._stop_observer()
        elif not online and not self.offline:
            self.log("inbox_offline", inbox=str(self.s.inbox), detail="paused: files are not treated as gone")
        self.offline = not online
        return online

    def _refresh_session(self, now: float) -> None:
        if self.session is not None and now < self.walk_due:
            return
        try:
            fresh = self.open_session(self.session.stamp if self.session else None)
        except Exception as exc:  # noqa: BLE001 - a config or register that cannot be read pauses the job
            if self.session is not None:
                self.session.close()
                self.session = None
            why = f"cannot load the trust config or register: {exc}"
            if why != self.paused:
                self.log("paused", detail=why)
            self.paused = why
            return
        self.paused = None
        if fresh is not None:
            if self.session is not None:
                self.session.close()
                self.log("reloaded", detail="config, register or reference photos changed")
            self.session = fresh

    # ------------------------------------------------------------ screening and sorting

    def _replay_journal(self) -> None:
        for entry in self.journal.open_entries():
            if entry.source in self.stuck or self.retry_at.get(entry.source, 0.0) > time.monotonic():
                continue
            try:
                outcome = complete(self.journal, entry)
            except OSError as exc:
                self._retry(entry.source, f"sorting interrupted: {exc}")
                continue
            self.log("recovered", file=self._rel(entry.source), outcome=outcome,
                     destination=str(entry.image) if outcome == "sorted" else None)
            self._forget(entry.source)

    def _screen_and_sort(self, ready: list[Path]) -> None:
        # what the records and the audit call each file: its path, or with the bytes of a name
        # that is not UTF-8 written \xff; one file per name in a batch, so each answer has its file
        shown: dict[str, Path] = {}
        for p in ready:
            shown.setdefault(_display(p), p)
        started = {p: time.monotonic() for p in shown.values()}
        # the sidecars as they were before screening: one that changes meanwhile means screen again
        sides = {p: self._sidecars(p) for p in shown.values()}
        for screening in self.session.screener.screen((p, name) for name, p in shown.items()):
            path = shown[screening.path]
            try:
                self._sort(path, screening, time.monotonic() - started[path], sides=sides.get(path, ()))
            except OSError as exc:
                # transient (share gone, disk full): the file stays in the inbox and is tried again
                self._retry(path, str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug in sorting one file must not stop the job
                self._sort_as_error(path, f"could not be sorted: {type(exc).__name__}: {exc}")
            if self.stopping:
                return

    def _sidecars(self, path: Path) -> tuple[tuple[Path, str], ...]:
        out = []
        for side in sidecars_of(path):
            try:
                out.append((side, sha256_of(side)))
            except OSError:
                pass  # gone or unreadable: not taken along; if it comes back it is sorted alone
        return tuple(out)

    def _sort(self, path: Path, screening: Screening, seconds: float, may_defer: bool = True,
              sides: tuple[tuple[Path, str], ...] = ()) -> None:
        if not os.path.lexists(path):
            if self._inbox_online():
                self.log("vanished", file=self._rel(path), detail="removed from the inbox before it was sorted")
                self.files.forget(path)
            return
        if (may_defer and _undecodable(screening) and not _not_an_image(path)
                and self.files.age(path, time.monotonic()) < self.s.grace):
            # probably still being copied (a slow share pausing mid-file): try again later
            self.files.defer(path, time.monotonic() + self.s.settle)
            self.log("deferred", file=self._rel(path), detail=_decode_error(screening))
            return
        if may_defer and os.path.islink(path):
            self.files.forget(path)  # became a link after it was seen: sorted as one by the next look
            return
        if may_defer and self._sidecars(path) != sides:
            self.files.forget(path)  # found again by the next walk, and screened with it
            self.log("changed", file=self._rel(path), detail="its XMP sidecar came, went or changed "
                                                             "while it was screened: screening again")
            return
        sha = screening.sha256 or _sha_or_none(path)
        if sha is None:
            raise OSError(f"cannot be read: {_decode_error(screening)}")
        verdict = self.session.trail.verdict(screening, self.session.rules_for_today())
        folder = self.s.into / FOLDERS[verdict.status] / path.parent.relative_to(self.s.inbox)
        image, targets = free_names(folder, path.name, [p.name for p, _ in sides], self.journal.reserved())
        entry = self.journal.begin(path, sha, image, verdict.to_json(),
                                   tuple(Sidecar(p, h, t) for (p, h), t in zip(sides, targets)))
        outcome = complete(self.journal, entry)
        self._forget(path)
        if outcome != "sorted":
            self.log(outcome, file=self._rel(path), detail="changed while being screened: screening again"
                     if outcome == "changed" else "removed from the inbox before it was sorted")
            return
        self.log("sorted", file=self._rel(path), status=verdict.status.value, destination=str(image),
                 seconds=round(seconds, 3), reasons=sorted({r.kind.value for r in verdict.reasons}),
                 **({"sidecars": [str(t) for t in targets]} if targets else {}))

    def _sort_link(self, path: Path) -> None:
        """A symbolic link is never screened, read or followed: the link itself goes to error/."""
        try:
            target = os.readlink(path)
        except OSError:
            return  # gone already (or no longer a link): the next look decides
        why = (f"a symbolic link (to {target}) is never followed: the link itself was moved here, "
               f"not what it points to")
        self.log("link", file=self._rel(path), detail=why)
        self._sort_as_error(path, why)

    def _sort_as_error(self, path: Path, why: str) -> None:
        """Last resort for one file: error/ with the reason, unless even that fails (then retried)."""
        try:
            sha = None if os.path.islink(path) else _sha_or_none(path)  # a link has no content of its own
            screening = Screening(_display(path), sha, (CheckResult(Check.DECODE, error=why),))
            self._sort(path, screening, 0.0, may_defer=False)
        except Exception as exc:  # noqa: BLE001
            self._retry(path, f"{why}; and then: {exc}")

    def _retry(self, path: Path, why: str) -> None:
        """Try this file again later, waiting longer each time; with --once, give up after a few."""
        tries = self.failures[path] = self.failures.get(path, 0) + 1
        self.log("retry", file=self._rel(path), detail=why, attempt=tries)
        if self.s.once and tries >= ONCE_ATTEMPTS:
            self.stuck[path] = why
            self.files.forget(path)
            return
        until = time.monotonic() + min(self.s.settle * 2 ** (tries - 1), 60.0)
        self.files.defer(path, until)
        self.retry_at[path] = until

    def _forget(self, path: Path) -> None:
        self.files.forget(path)
        self.failures.pop(path, None)
        self.retry_at.pop(path, None)

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.s.inbox)) if inside(path, self.s.inbox) else str(path)


def _undecodable(screening: Screening) -> bool:
    decode = next((r for r in screening.results if r.check is Check.DECODE), None)
    return screening.sha256 is None or decode is None or not decode.complete


def _not_an_image(path: Path) -> bool:
    """Recognisably something else by content (text, an Office file, Thumbs.db): no amount of
    waiting makes it a photo, so it is sorted at once rather than retried for the grace period.
    A copy still being written starts with its own header (or zeros), never with these."""
    from screening.files import describe

    try:
        with open(path, "rb") as f:
            return describe(f.read(64)) is not None
    except OSError:
        return False


def _decode_error(screening: Screening) -> str:
    return next((r.error or "" for r in screening.results if r.check is Check.DECODE), "not decoded")


def _sha_or_none(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except OSError:
        return None


def _display(path: Path) -> str:
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))
