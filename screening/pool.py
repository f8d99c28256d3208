"""Screen many files in a process pool: a worker that crashes or hangs costs only its file.

Memory stays bounded by a window of files in flight; a result cache answers files screened
before without sending them to a worker.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from screening.config import Config
from screening.detectors import Detector, Names, build_detectors
from screening.model import Check, Screening
from screening import pool_split
from screening.heap import keep_freed_memory
from screening.pool_preload import start_forkserver
from screening.pipeline import crashed, describe, file_options, screen_file, video_format

_WORKER: dict[str, Any] = {}


def _init_worker(config: Config, gallery: Any, factory: Callable | None, parent: int, started: Any,
                 people: Names | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _WORKER["started"] = started
    _exit_with(parent)
    one_thread()
    _WORKER["detectors"] = _build(factory, config, gallery, people)
    _WORKER["config"] = config


def one_thread() -> None:
    """One compute thread per screening process (OpenCV's, and so onnxruntime's in the face engine):
    the processes are the parallelism, so `--workers N` uses N cores; more threads only fight
    over the cores (issue 15: 2 processes gave 1.35x one process while each took 1.4 cores).
    Also the process's heap keeps what a look frees for the next one (heap.py)."""
    import cv2

    cv2.setNumThreads(1)
    keep_freed_memory()


def _build(factory: Callable | None, config: Config, gallery: Any, people: Names | None) -> dict[Check, Detector]:
    """The detectors of one process: a test's factory (config, gallery), or the registry's."""
    return factory(config, gallery) if factory is not None else build_detectors(config, gallery, people)


def _exit_with(parent: int) -> None:
    """End this worker when the process that started the pool is gone (SIGKILL leaves orphans)."""
    import threading

    def watch_parent():
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # alive, under another user: cannot happen here, keep going
                pass

    threading.Thread(target=watch_parent, name="exit-with-parent", daemon=True).start()


def _work(path: str, display: str, ticket: int, segment: tuple | None = None) -> Any:
    started = _WORKER.get("started")
    if started is not None:  # the parent times a file from here, not from when it was queued
        started.put((ticket, time.monotonic()))
    config: Config = _WORKER["config"]
    if segment is not None:  # one segment of a split clip (pool_split.py): a video_split.Part
        return pool_split.screen_segment(Path(path), _WORKER["detectors"], config, *segment)
    return screen_file(Path(path), _WORKER["detectors"], display=display, **file_options(config))


def screen_many(
    items: Iterable[tuple[Path, str]],
    config: Config,
    gallery: Any,
    *,
    workers: int = 0,
    factory: Callable[[Config, Any], dict[Check, Detector]] | None = None,
    cache: Any = None,
    people: Names | None = None,
) -> Iterator[Screening]:
    """Screen (path, display name) pairs, yielding as they finish; memory bounded by a window.

    A worker that dies (a crash inside a native library) costs only the files it held: they
    come back as errors and the pool is rebuilt for the rest. With a `cache` (cache.ResultCache)
    a file screened before under the same config and gallery is not screened again.
    """
    with Screener(config, gallery, workers=workers, factory=factory, cache=cache, people=people) as screener:
        yield from screener.screen(items)


class Screener:
    """A process pool that stays up between batches (the watch job screens batch after batch).

    Detectors are built once per worker, when the pool starts; a cache hit is answered here
    in the parent, before anything is sent to a worker.
    """

    def __init__(self, config: Config, gallery: Any, *, workers: int = 0,
                 factory: Callable[[Config, Any], dict[Check, Detector]] | None = None, cache: Any = None,
                 people: Names | None = None, split_clips: bool = True):
        self.config, self.gallery, self.factory, self.cache = config, gallery, factory, cache
        self.split_clips = split_clips  # a long clip's segments screened by the workers at once
        self.people = people  # the register's names, for the text check
        self.workers = workers or config.scan.workers or os.cpu_count() or 1
        self.pool: ProcessPoolExecutor | None = None
        self.detectors: dict[Check, Detector] | None = None

    def __enter__(self) -> Screener:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def screen(self, items: Iterable[tuple[Path, str]]) -> Iterator[Screening]:
        """Screen (path, display name) pairs, yielding each Screening as it finishes."""
        parts: dict = {}  # the segments of split clips, until all are in (pool_split.py)
        if self.workers > 1:
            items = largest_first(items)
        for screening in self._screen_uncached(self._answer_from_cache(items)):
            if isinstance(screening, pool_split.SegmentDone):
                screening = pool_split.joined(screening, parts, self.config)
                if screening is None:
                    continue
            if isinstance(screening, _Known):
                yield screening.screening
                continue
            if self.cache is not None:
                self.cache.store(screening)
            yield screening

    def _answer_from_cache(self, items: Iterable[tuple[Path, str]]) -> Iterator:
        for path, display in items:
            known = self.cache.lookup(path, display) if self.cache is not None else None
            yield _Known(known) if known is not None else (path, display)

    def _screen_uncached(self, items: Iterator) -> Iterator:
        if self.workers == 1:
            if self.detectors is None:
                one_thread()
                self.detectors = _build(self.factory, self.config, self.gallery, self.people)
            for item in items:
                if isinstance(item, _Known):
                    yield item
                    continue
                yield screen_file(item[0], self.detectors, display=item[1], **file_options(self.config))
            return

        yield from _Batch(self, pool_split.split(self, items)).run()

    def _renew_pool(self) -> None:
        self.close()
        self.pool = _new_pool(self.workers, self.config, self.gallery, self.factory, self.people)


def largest_first(items: Iterable[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """The items, largest file first (bytes, as the file system says; a file that cannot be read
    last, where its error costs nothing): the last file of a batch is then a small one, and no
    worker is left alone with a large TIFF or a panorama while the others have finished. Reports
    take records in any order (SPEC); only the order in which workers take the files changes."""
    def size(item: tuple[Path, str]) -> int:
        try:
            return Path(item[0]).stat().st_size
        except (OSError, ValueError):
            return -1

    return sorted(items, key=size, reverse=True)  # stable: same-size files keep their order


# How often the parent looks for stuck workers, and how long past twice the per-image limit a
# file may run, from the moment its worker started it, before its worker is stopped.
HANG_POLL_S = 5.0
HANG_GRACE_S = 60.0
_clock = time.monotonic  # the hang watchdog's "now" (same clock as the workers' start times; a test drives it)


def hang_limit(path: Path, config: Config) -> float:
    """How long a file may run in a worker before the parent takes the worker for stuck.

    A clip may take up to its own deadline (timeout_s plus seconds_per_clip_second per second of
    clip); the parent does not open videos itself (a hostile file may crash FFmpeg), so it
    allows the longest clip that is screened.
    """
    budget = config.scan.timeout_s
    if video_format(path) is not None:
        budget += config.video.max_duration_s * config.video.seconds_per_clip_second
    return 2 * budget + HANG_GRACE_S


def _kill_workers(pool: ProcessPoolExecutor | None) -> None:
    """SIGKILL the pool's workers: the executor then fails every pending future as broken."""
    for process in list(getattr(pool, "_processes", {}).values()):
        try:
            process.kill()
        except (OSError, AttributeError):
            pass


class _Batch:
    """One pass of files through the pool: a window of files in flight, crashes and hangs isolated.

    Files aboard a pool that died are screened again one at a time on a fresh pool, so a second
    death names its file exactly and the innocent ones are not blamed. A worker stuck inside
    native code (dlib, OpenCV) never sees its SIGALRM deadline: the parent stops the pool once a
    file has run far past the limit, timed from when its worker started it (a worker's own
    start-up and the queue do not count, so a busy machine cannot make a good file look stuck).
    """

    def __init__(self, screener: Screener, items: Iterator):
        self.screener = screener
        self.source = iter(items)
        self.window = screener.workers * 2
        self.pending: dict[Future, tuple[Path, str]] = {}
        self.tickets: dict[Future, int] = {}
        self.started: dict[int, float] = {}
        self.suspects: list[tuple[Path, str]] = []
        self.suspects_aboard: set[tuple[Path, str]] = set()  # the one suspect being screened alone
        self.stuck: set[tuple[Path, str]] = set()
        self.limits: dict[Future, float] = {}  # per file: a clip may run longer than a photo
        self.next_ticket = 0

    def run(self) -> Iterator:
        if self.screener.pool is None:
            self.screener._renew_pool()
        try:
            while True:
                known, broken = self._fill()
                yield from known
                if broken and not self.pending:
                    self.screener._renew_pool()
                    continue
                if not self.pending:
                    return
                done, _ = wait(self.pending, timeout=HANG_POLL_S, return_when=FIRST_COMPLETED)
                if not done:
                    self._stop_stuck_workers()
                    continue
                yield from self._reap(done)
        except BaseException:
            # abandoned mid-batch (a stop signal, an error in the caller): its queued work is dropped
            for future in self.pending:
                future.cancel()
            raise

    def _fill(self) -> tuple[list, bool]:
        """Submit files up to the window (one at a time while isolating a crash)."""
        known: list = []
        isolating = bool(self.suspects) or any(i in self.suspects_aboard for i in self.pending.values())
        while len(self.pending) < (1 if isolating else self.window):
            if self.suspects:
                item = self.suspects.pop(0)
                self.suspects_aboard = {item}
            else:
                item = next(self.source, None)
                if item is None:
                    break
                if isinstance(item, _Known):
                    known.append(item)
                    continue
            self.next_ticket += 1
            try:
                future = self.screener.pool.submit(_work, str(item[0]), item[1], self.next_ticket, *item[2:])
            except BrokenProcessPool:
                # a worker died between two files: this one was never aboard, it goes first
                self.suspects.insert(0, item)
                self.suspects_aboard = set()
                return known, True
            self.pending[future] = item
            self.tickets[future] = self.next_ticket
            self.limits[future] = hang_limit(item[0], self.screener.config)
        return known, False

    def _stop_stuck_workers(self) -> None:
        queue = getattr(self.screener.pool, "started", None)
        while queue is not None and not queue.empty():
            ticket, at = queue.get()
            self.started[ticket] = at
        now = _clock()
        over = [item for future, item in self.pending.items()
                if not future.done() and now - self.started.get(self.tickets[future], now) > self.limits[future]]
        if over:
            self.stuck.update(over)
            _kill_workers(self.screener.pool)  # every pending future now fails: handled in _reap

    def _reap(self, done) -> Iterator[Screening]:
        died = False
        for future in done:
            item = self.pending.pop(future)
            path, display = item[:2]
            self.tickets.pop(future, None)
            limit = self.limits.pop(future, 0.0)
            try:
                yield pool_split.tagged(item, future.result())
            except BrokenProcessPool:
                if item in self.suspects_aboard:
                    yield pool_split.tagged(item, crashed(path, display, self._why_lost(item, limit)))
                else:
                    self.suspects.append(item)
                died = True
            except Exception as exc:
                yield pool_split.tagged(item, crashed(path, display, f"screening failed: {describe(exc)}"))
        if died:
            self.suspects.extend(self.pending.values())
            self.pending.clear()
            self.tickets.clear()
            self.limits.clear()
            self.suspects_aboard = set()
            self.screener._renew_pool()

    def _why_lost(self, item: tuple[Path, str], limit: float) -> str:
        if item in self.stuck:
            return (f"did not finish within {limit:.0f} s (stuck inside a native library); "
                    "its worker was stopped")
        return "the worker process died while screening it"


@dataclass(frozen=True)
class _Known:
    """A screening answered from the cache, passing through the pool loop untouched."""

    screening: Screening


def _new_pool(workers: int, config: Config, gallery: Any, factory, people: Names | None = None) -> ProcessPoolExecutor:
    import multiprocessing

    # forkserver: workers never inherit the parent's threads or open SQLite handles
    start_forkserver(warm=factory is None)
    ctx = multiprocessing.get_context("forkserver")
    started = ctx.SimpleQueue()  # (ticket, monotonic time) as each worker starts a file
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(config, gallery, factory, os.getpid(), started, people))
    pool.started = started  # type: ignore[attr-defined]
    return pool
