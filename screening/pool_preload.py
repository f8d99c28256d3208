"""The forkserver the pool's workers fork from, started early and loaded with the models once.

The pool's workers are forked by multiprocessing's forkserver, never by the parent (which holds
threads and SQLite handles). `start_forkserver()` starts it with this module preloaded: the
forkserver then imports OpenCV, dlib, onnxruntime, every detector and format reader, and builds
the models that do not depend on the trust's config (CenterFace, dlib's 5-point landmark model,
dlib's recogniser converted to onnxruntime with its start-up check against dlib's descriptor,
SFace and YuNet (the second recogniser, sface.shared), the OCR models), each with one compute thread as the workers run them. A worker forked afterwards
finds them built (its copy of the forkserver's memory) and builds only what its config decides
(the logo references, the names to look for). `screening scan` starts the forkserver first thing
(cli.py), so all this runs on another core while the parent imports, reads the config, the
register and the folders.

Importing this module does nothing else anywhere but in that forkserver (it is told by WARM_ENV,
set only while the forkserver is started). Light: nothing heavy is imported at module level.

Fork safety: the forkserver runs no compute thread pool (onnxruntime makes none for one intra-op
thread and sequential execution; OpenBLAS is started with one thread); besides its main thread
it holds only one idle thread, which importing onnxruntime starts (measured: 2 threads, 224 MB).
Workers forked from it give the same boxes, descriptors and text as models built in the worker
(tests/test_pool_preload.py). Anything that fails here is not kept: the worker then builds it
itself, as before, and a check whose model cannot be built makes every file an error
(detectors._Unbuilt), never a clearance.
"""

from __future__ import annotations

import os

# Compute libraries' own thread pools in the forkserver and so in every worker: one thread each,
# as pool.one_thread() sets OpenCV's (the processes are the parallelism). Without it OpenBLAS
# starts a thread per core in every worker, before any of our code runs.
ONE_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WARM_ENV = "SCREENING_FORKSERVER_WARM"
# The test hook of detectors/__init__.py (fake detectors need no models); named here, not
# imported, to keep this module light.
_TEST_DETECTORS_ENV = "SCREENING_TEST_DETECTORS"


def start_forkserver(warm: bool = True) -> None:
    """Start the forkserver the pool's workers fork from, if it is not running yet; with `warm`,
    it imports and builds what every worker needs before it forks any (warm()). It then serves
    every pool of this process (the watch job's renewed pools too)."""
    import multiprocessing
    from multiprocessing import forkserver

    warm = warm and not os.environ.get(_TEST_DETECTORS_ENV)
    multiprocessing.get_context("forkserver").set_forkserver_preload(["__main__"] + ([__name__] if warm else []))
    env = {**ONE_THREAD_ENV, WARM_ENV: "1" if warm else ""}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)  # inherited by the forkserver, which is started now, and not kept here
    try:
        forkserver.ensure_running()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def start_for_scan(args: list[str]) -> None:
    """`screening scan ARGS`: start the warm forkserver now, before the command's own imports,
    unless the scan will not use the local pool (--workers 1, --scheduler, a single core). A
    wrong guess costs only time: the pool starts the forkserver itself when it needs one."""
    if any(a.startswith("--scheduler") for a in args) or "--help" in args or "-h" in args:
        return
    for i, a in enumerate(args):
        value = a.partition("=")[2] if a.startswith("--workers=") else (
            args[i + 1] if a == "--workers" and i + 1 < len(args) else None)
        if value is not None and value.strip() == "1":
            return
    if (os.cpu_count() or 1) > 1:
        start_forkserver()


def warm() -> list[str]:
    """Import and build what every worker needs; the names of the models that failed (left unbuilt)."""
    import cv2

    cv2.setNumThreads(1)  # as pool.one_thread() does in each worker: the models are built for one thread

    from screening.config import FaceSettings
    from screening.detectors import faces, location, logos, text, uniforms  # noqa: F401 - imported to be shared
    from screening.pipeline import screen_file  # noqa: F401 - imports every format reader
    from screening.vision import sface
    from screening.vision.face_engine import FaceEngine
    from screening.vision.ocr import OcrEngine
    from screening.vision.people import PeopleFinder  # noqa: F401

    failed = []
    # sface.shared: the second recogniser, asked about borderline faces (built once, shared)
    for name, build in (("faces", lambda: FaceEngine(FaceSettings())), ("text", OcrEngine),
                        ("second face recogniser", sface.shared)):
        try:
            build()
        except Exception:  # noqa: BLE001 - the worker builds it again and reports its failure
            failed.append(name)
    return failed


FAILED: list[str] | None = None  # what warm() could not build, in the forkserver
if os.environ.get(WARM_ENV) == "1":
    try:
        FAILED = warm()
    except Exception:  # noqa: BLE001 - an import failing here fails again, and is reported, in the worker
        FAILED = ["imports"]
