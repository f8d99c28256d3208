"""The process pool: every file gets one result, a dying worker costs only its own file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from tests.academy_trust import logo_folder
from screening.config import load_config
from screening.model import Check
from screening.pipeline import screen_file
from screening.pool import screen_many

from .test_config_register import GOOD


class DieOnName:
    """Kills its worker process outright (as a native crash would) on files named die*."""

    def detect(self, picture, earlier):
        if picture.path.name.startswith("die"):
            os._exit(70)
        return []


class Nothing:
    def detect(self, picture, earlier):
        return []


class Slow:
    def detect(self, picture, earlier):
        import time

        time.sleep(5)
        return []


def crashing(config, gallery, people=None):
    return {Check.LOCATION: Nothing(), Check.FACES: DieOnName(), Check.LOGOS: Nothing(), Check.UNIFORMS: Nothing(),
            Check.TEXT: Nothing()}


def config_in(tmp_path):
    logo_folder(tmp_path / "logos" / "north")
    (tmp_path / "screening.toml").write_text(GOOD)
    return load_config(tmp_path / "screening.toml")


def images(folder: Path, names):
    folder.mkdir(exist_ok=True)
    for n in names:
        Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(folder / n)
    return [(folder / n, n) for n in names]


def assert_only_this_file_failed(results: dict, items, bad: str, why: str) -> None:
    """Every file has a result; `bad` is a decode error saying `why`; every other check completed."""
    assert set(results) == {n for _, n in items}
    failed = results[bad].results[0]
    assert failed.check is Check.DECODE and why in failed.error
    for name, s in results.items():
        if name != bad:
            assert all(r.complete for r in s.results), name


def test_worker_crash_is_an_error_for_that_file_only(tmp_path):
    config = config_in(tmp_path)
    items = images(tmp_path / "b", [f"ok{i}.png" for i in range(6)] + ["die.png"])
    results = {s.path: s for s in screen_many(items, config, None, workers=2, factory=crashing)}
    assert_only_this_file_failed(results, items, "die.png", "worker process died")


def test_time_limit_makes_the_image_an_error(tmp_path):
    (p, _), = images(tmp_path / "b", ["slow.png"])
    # the limit is well above what decoding a small PNG and the empty location check take on a
    # busy machine (at 0.5 s a loaded machine timed out the decoding instead), well below Slow's 5 s
    s = screen_file(p, {Check.LOCATION: Nothing(), Check.FACES: Slow()}, timeout_s=2.0)
    faces = next(r for r in s.results if r.check is Check.FACES)
    assert not faces.complete and "timed out" in faces.error


def test_results_stream_in_any_order_but_all_arrive(tmp_path):
    config = config_in(tmp_path)
    items = images(tmp_path / "b", [f"{i}.png" for i in range(25)])
    got = [s.path for s in screen_many(iter(items), config, None, workers=2, factory=crashing)]
    assert sorted(got) == sorted(n for _, n in items)


def test_two_crashing_files_in_a_batch_are_the_only_errors(tmp_path):
    """Files aboard a pool that died are screened again one at a time: only the culprits are blamed."""
    config = config_in(tmp_path)
    names = [f"ok{i}.png" for i in range(10)]
    names[3], names[7] = "die3.png", "die7.png"
    items = images(tmp_path / "b", names)
    results = {s.path: s for s in screen_many(items, config, None, workers=2, factory=crashing)}
    failed = sorted(n for n, s in results.items() if not all(r.complete for r in s.results))
    assert failed == ["die3.png", "die7.png"]
    assert len(results) == 10



def test_pool_found_dead_when_submitting_is_renewed_and_no_file_is_lost(tmp_path, monkeypatch):
    """A worker can die between two files: then submit() itself raises BrokenProcessPool."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from screening import pool

    config = config_in(tmp_path)
    pools = []

    class DeadOnArrival:
        def __init__(self):
            self.inner = ThreadPoolExecutor(2)
            pools.append(self)

        def submit(self, fn, *args):
            if len(pools) == 1:
                raise BrokenProcessPool("a worker died while idle")
            return self.inner.submit(fn, *args)

        def shutdown(self, **kwargs):
            self.inner.shutdown(wait=False)

    monkeypatch.setattr(pool, "_new_pool", lambda *args: DeadOnArrival())
    monkeypatch.setitem(pool._WORKER, "detectors", {c: Nothing() for c in Check if c is not Check.DECODE})
    monkeypatch.setitem(pool._WORKER, "config", config)
    items = images(tmp_path / "b", [f"{i}.png" for i in range(6)])
    results = list(screen_many(items, config, None, workers=2))
    assert sorted(s.path for s in results) == sorted(n for _, n in items)
    assert all(r.complete for s in results for r in s.results)
    assert len(pools) == 2


class StuckInNativeCode:
    """Blocks SIGALRM and sleeps, as a hung dlib or OpenCV call would: the deadline never fires."""

    def detect(self, picture, earlier):
        import signal
        import time

        if picture.path.name.startswith("stuck"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(600)
        return []


def stuck_factory(config, gallery, people=None):
    return {Check.LOCATION: Nothing(), Check.FACES: StuckInNativeCode(), Check.LOGOS: Nothing(),
            Check.UNIFORMS: Nothing(), Check.TEXT: Nothing()}


def test_worker_stuck_in_native_code_is_stopped_and_only_its_file_is_an_error(tmp_path, monkeypatch):
    """Deterministic under any load: the test drives the watchdog's clock.

    The hang limit is timed from the moment a worker starts a file, and the good files keep the
    default per-image deadline (minutes), so no real delay can make one look stuck or time out.
    Real time never reaches the limit (over an hour); once every good file has come back, each
    reading of the clock jumps far past it, so the only file still running, the stuck one, is
    the one stopped.
    """
    import itertools
    import time

    from screening import pool

    results: dict = {}
    jumps = itertools.count(1)

    def clock():
        return time.monotonic() + (1e6 * next(jumps) if len(results) == 4 else 0.0)

    monkeypatch.setattr(pool, "_clock", clock)
    monkeypatch.setattr(pool, "HANG_POLL_S", 0.2)
    monkeypatch.setattr(pool, "HANG_GRACE_S", 3600.0)
    config = config_in(tmp_path)
    items = images(tmp_path / "b", [f"ok{i}.png" for i in range(4)] + ["stuck.png"])
    for s in screen_many(items, config, None, workers=2, factory=stuck_factory):
        results[s.path] = s
    assert_only_this_file_failed(results, items, "stuck.png", "did not finish within")


def threads_seen(config, gallery, people=None):
    """Detectors that record how many OpenCV threads their process runs with when built."""
    import cv2

    seen = Nothing()
    seen.threads = cv2.getNumThreads()
    return {Check.LOCATION: seen, Check.FACES: Nothing(), Check.LOGOS: Nothing(), Check.UNIFORMS: Nothing(),
            Check.TEXT: Nothing()}


def test_one_process_scan_runs_one_compute_thread_as_each_worker_does(tmp_path):
    import cv2

    from screening import pool

    built = []
    before = cv2.getNumThreads()
    try:
        config = config_in(tmp_path)
        screener = pool.Screener(config, None, workers=1,
                                 factory=lambda c, g, p=None: built.append(threads_seen(c, g)) or built[-1])
        with screener:
            list(screener.screen(images(tmp_path / "in", ["a.png"])))
        assert built[0][Check.LOCATION].threads == 1  # --workers N uses N cores, not N plus threads
    finally:
        cv2.setNumThreads(before)
