"""Runs every check on one image, and over many images in a process pool.

Nothing that happens to one file can stop the batch or make it `cleared`: a check that
raises or runs out of time is recorded as not complete, and decide() refuses to clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import imaging
from .config import Config
from .model import Check, CheckResult, Verdict
from .policy import Rules, decide
from .register import Register


class Detector(Protocol):
    def detect(self, picture: imaging.Picture, earlier: dict[Check, CheckResult]) -> list: ...


@dataclass(frozen=True)
class Screening:
    """What the checks found in one file, before any decision (cacheable, re-decidable)."""

    path: str
    sha256: str | None
    results: tuple[CheckResult, ...]
    size: tuple[int, int] | None = None
    seconds: float = 0.0


class CheckTimeout(Exception):
    pass


def build_detectors(config: Config, gallery: Any, people: Names | None = None) -> dict[Check, Detector]:
    """Every available check's detector, built once per process (models load here).

    A check whose module is missing is left out; decide() then refuses to clear any image,
    because a check that does not exist is a check that did not run. So is the text check when
    the register's names (`people`: (person_id, name) pairs) were not given.
    """
    import importlib

    hook = os.environ.get(TEST_DETECTORS_ENV)
    if hook:
        return _test_factory(hook)(config, gallery)
    detectors: dict[Check, Detector] = {}
    for check, module, cls in _DETECTORS:
        try:
            detector_cls = getattr(importlib.import_module(f"screening.detectors.{module}"), cls)
        except ImportError:
            continue
        if check is Check.FACES:
            detectors[check] = detector_cls(config.faces, gallery)
        elif check is Check.UNIFORMS:
            detectors[check] = detector_cls(config, detectors.get(Check.LOGOS))
        elif check is Check.TEXT:
            if people is not None:
                detectors[check] = detector_cls(config, people)
        else:
            detectors[check] = detector_cls(config)
    return detectors


# TEST HOOK, for end-to-end tests of whole processes (watch killed and restarted): names a
# factory of fake detectors as "tests.MODULE:FUNCTION". Only a module of the test package, and
# only a function marked `screening_test_factory = True`, is accepted, so it cannot be set off
# by accident in production (the installed package has no tests module at all).
TEST_DETECTORS_ENV = "SCREENING_TEST_DETECTORS"


def _test_factory(hook: str) -> Callable:
    import importlib

    module, _, name = hook.partition(":")
    if not module.startswith("tests.") or not name:
        raise ValueError(f"{TEST_DETECTORS_ENV}={hook!r}: only tests.MODULE:FUNCTION is accepted")
    factory = getattr(importlib.import_module(module), name)
    if getattr(factory, "screening_test_factory", False) is not True:
        raise ValueError(f"{TEST_DETECTORS_ENV}={hook!r}: not marked as a test factory")
    return factory


_DETECTORS = (
    (Check.LOCATION, "location", "LocationDetector"),
    (Check.FACES, "faces", "FaceDetector"),
    (Check.LOGOS, "logos", "LogoDetector"),
    (Check.UNIFORMS, "uniforms", "UniformDetector"),
    (Check.TEXT, "text", "TextDetector"),
)

# The register's names as the text check looks for them: (person_id, name) of every person,
# whatever their consent. Consent stays with decide().
Names = tuple[tuple[str, str], ...]


def _build(factory: Callable | None, config: Config, gallery: Any, people: Names | None) -> dict[Check, Detector]:
    """The detectors of one process: a test's factory (config, gallery), or the real ones."""
    return factory(config, gallery) if factory is not None else build_detectors(config, gallery, people)


def screen_file(path: Path, detectors: dict[Check, Detector], *, display: str | None = None,
                timeout_s: float = 300.0, max_frames: int = 64) -> Screening:
    """Run every check on one file. Never raises: failures become incomplete checks."""
    started = time.monotonic()
    shown = display or str(path)
    try:
        data = imaging.read_file(path)
    except imaging.ImageError as exc:
        return Screening(shown, None, (CheckResult(Check.DECODE, error=str(exc)),),
                         seconds=time.monotonic() - started)
    sha = hashlib.sha256(data).hexdigest()
    results: dict[Check, CheckResult] = {}
    picture = None
    with _deadline(timeout_s):
        try:
            picture = imaging.load(path, data, max_frames=max_frames)
            results[Check.DECODE] = CheckResult(Check.DECODE)
        except imaging.ImageError as exc:
            results[Check.DECODE] = CheckResult(Check.DECODE, error=str(exc))
        except CheckTimeout:
            results[Check.DECODE] = CheckResult(Check.DECODE, error=f"decoding took longer than {timeout_s:.0f} s")
        except Exception as exc:  # a decoder bug is still just a file we could not screen
            results[Check.DECODE] = CheckResult(Check.DECODE, error=f"decoding failed: {_describe(exc)}")

        for check, detector in detectors.items():
            if picture is None:
                results[check] = _run_without_pixels(check, detector, path, data)
                continue
            try:
                findings = detector.detect(picture, dict(results))
                results[check] = CheckResult(check, tuple(findings))
            except CheckTimeout:
                results[check] = CheckResult(check, error=f"timed out: the image took longer than {timeout_s:.0f} s")
                break
            except Exception as exc:
                results[check] = CheckResult(check, error=f"failed: {_describe(exc)}")
    size = picture.size if picture is not None else None
    return Screening(shown, sha, tuple(results.values()), size, time.monotonic() - started)


def _run_without_pixels(check: Check, detector: Detector, path: Path, data: bytes) -> CheckResult:
    """Metadata checks still run on a file whose pixels did not decode, so the report says all."""
    metadata_only = getattr(detector, "detect_undecoded", None)
    if metadata_only is None:
        return CheckResult(check, error="not run: the image could not be decoded")
    try:
        return CheckResult(check, tuple(metadata_only(path, data)))
    except Exception as exc:
        return CheckResult(check, error=f"failed: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (in {Path(frame[0].filename).name}:{frame[0].lineno})" if frame else ""
    return f"{type(exc).__name__}: {text}{where}"


class _deadline:
    """Raise CheckTimeout in this (main) thread after `seconds`; a no-op where SIGALRM is absent."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.usable = hasattr(signal, "SIGALRM") and seconds > 0 and _in_main_thread()

    def __enter__(self):
        if self.usable:
            self.previous = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False

    @staticmethod
    def _fire(signum, frame):
        raise CheckTimeout()


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def verdict(screening: Screening, rules: Rules) -> Verdict:
    """The decision on one screened file, in report form."""
    decision = decide(screening.results, rules)
    checks = {r.check.value: ("ok" if r.complete else r.error or "failed") for r in screening.results}
    return Verdict(
        path=screening.path,
        sha256=screening.sha256,
        status=decision.status,
        channel=rules.channel,
        reasons=decision.reasons,
        faces=decision.faces,
        checks=checks,
        size=screening.size,
    )


def rules_for(config: Config, register: Register | None, channel: str, today: dt.date) -> Rules:
    return Rules(
        channel=channel,
        today=today,
        people=dict(register.people) if register else {},
        face_tolerance=config.faces.tolerance,
        face_margin=config.faces.margin,
        logo_min_score=config.logos.min_score,
        uniform_min_score=config.uniforms.min_score,
        flag_colours_without_crest=config.uniforms.flag_colours_without_crest,
        academy_names={a.id: a.name for a in config.academies},
        text_min_similarity=config.text.min_similarity,
        text_min_read_score=config.text.min_read_score,
        text_unreadable_min_px=config.text.unreadable_min_px,
    )


# ---------------------------------------------------------------- many files


_WORKER: dict[str, Any] = {}


def _init_worker(config: Config, gallery: Any, factory: Callable | None, parent: int,
                 people: Names | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _exit_with(parent)
    import cv2

    cv2.setNumThreads(1)  # the pool is the parallelism: OpenCV threads in every worker only fight over cores
    _WORKER["detectors"] = _build(factory, config, gallery, people)
    _WORKER["config"] = config


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


def _work(path: str, display: str) -> Screening:
    config: Config = _WORKER["config"]
    return screen_file(Path(path), _WORKER["detectors"], display=display,
                       timeout_s=config.scan.timeout_s, max_frames=config.scan.max_frames)


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
                 people: Names | None = None):
        self.config, self.gallery, self.factory, self.cache = config, gallery, factory, cache
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
        for screening in self._screen_uncached(self._answer_from_cache(items)):
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
                self.detectors = _build(self.factory, self.config, self.gallery, self.people)
            for item in items:
                if isinstance(item, _Known):
                    yield item
                    continue
                yield screen_file(item[0], self.detectors, display=item[1], timeout_s=self.config.scan.timeout_s,
                                  max_frames=self.config.scan.max_frames)
            return

        window = self.workers * 2
        source = iter(items)
        pending: dict[Future, tuple[Path, str]] = {}
        # Files aboard a pool that died: screened again one at a time on a fresh pool, so a
        # second death names its file exactly and the innocent ones are not blamed.
        suspects: list[tuple[Path, str]] = []
        suspects_aboard: set[tuple[Path, str]] = set()  # the one suspect being screened alone
        # A worker stuck inside native code (dlib, OpenCV) never sees its SIGALRM deadline: the
        # parent stops the pool once a file has been running far past the limit.
        running_since: dict[Future, float] = {}
        stuck: set[tuple[Path, str]] = set()
        limit = 2 * self.config.scan.timeout_s + HANG_GRACE_S
        if self.pool is None:
            self.pool = _new_pool(self.workers, self.config, self.gallery, self.factory, self.people)
        try:
            while True:
                isolating = bool(suspects) or any(item in suspects_aboard for item in pending.values())
                broken = False
                while len(pending) < (1 if isolating else window):
                    if suspects:
                        item = suspects.pop(0)
                        suspects_aboard = {item}
                    else:
                        item = next(source, None)
                        if item is None:
                            break
                        if isinstance(item, _Known):
                            yield item
                            continue
                    try:
                        pending[self.pool.submit(_work, str(item[0]), item[1])] = item
                    except BrokenProcessPool:
                        # a worker died between two files: this one was never aboard, it goes first
                        suspects.insert(0, item)
                        suspects_aboard = set()
                        broken = True
                        break
                if broken and not pending:
                    self._renew_pool()
                    continue
                if not pending:
                    return
                done, _ = wait(pending, timeout=HANG_POLL_S, return_when=FIRST_COMPLETED)
                if not done:
                    now = time.monotonic()
                    over = [item for future, item in pending.items()
                            if future.running() and now - running_since.setdefault(future, now) > limit]
                    if over:
                        stuck.update(over)
                        _kill_workers(self.pool)  # every pending future now fails: handled below
                    continue
                died = False
                for future in done:
                    path, display = pending.pop(future)
                    running_since.pop(future, None)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        if (path, display) in suspects_aboard:
                            why = (f"did not finish within {limit:.0f} s (stuck inside a native library); "
                                   "its worker was stopped" if (path, display) in stuck
                                   else "the worker process died while screening it")
                            yield _crashed(path, display, why)
                        else:
                            suspects.append((path, display))
                        died = True
                    except Exception as exc:
                        yield _crashed(path, display, f"screening failed: {_describe(exc)}")
                if died:
                    suspects.extend(pending.values())
                    pending.clear()
                    running_since.clear()
                    suspects_aboard = set()
                    self._renew_pool()
        except BaseException:
            # abandoned mid-batch (a stop signal, an error in the caller): its queued work is dropped
            for future in pending:
                future.cancel()
            raise

    def _renew_pool(self) -> None:
        self.close()
        self.pool = _new_pool(self.workers, self.config, self.gallery, self.factory, self.people)


# How often the parent looks for stuck workers, and how long past twice the per-image limit a
# file may run before its worker is stopped (twice: a file queued behind a slow one looks running).
HANG_POLL_S = 5.0
HANG_GRACE_S = 60.0


def _kill_workers(pool: ProcessPoolExecutor | None) -> None:
    """SIGKILL the pool's workers: the executor then fails every pending future as broken."""
    for process in list(getattr(pool, "_processes", {}).values()):
        try:
            process.kill()
        except (OSError, AttributeError):
            pass


@dataclass(frozen=True)
class _Known:
    """A screening answered from the cache, passing through the pool loop untouched."""

    screening: Screening


def _new_pool(workers: int, config: Config, gallery: Any, factory, people: Names | None = None) -> ProcessPoolExecutor:
    import multiprocessing

    # forkserver: workers never inherit the parent's threads or open SQLite handles
    ctx = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(config, gallery, factory, os.getpid(), people))


def _crashed(path: Path, display: str, why: str) -> Screening:
    try:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        sha = None
    return Screening(display, sha, (CheckResult(Check.DECODE, error=why),))
