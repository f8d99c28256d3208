"""Imported only by the scan pool's forkserver (pool.start_forkserver): the imports and models every
worker needs, loaded once, before the workers fork from it.

The pool's workers are forked by multiprocessing's forkserver, never by the parent (which holds
threads and SQLite handles). Preloaded with this module, the forkserver imports OpenCV, dlib,
onnxruntime, every detector and format reader, and builds the models that do not depend on the
trust's config: CenterFace, dlib's 5-point landmark model, dlib's recogniser converted to
onnxruntime (with its start-up check against dlib's descriptor, vision/recogniser.py) and the OCR
models, each with one compute thread as the workers run them. A worker forked afterwards finds
them built (its copy of the forkserver's memory) and builds only what its config decides (the
logo references, the names to look for). A scan starts the forkserver first thing, so this runs
while the parent reads the config, the register and the folders.

Fork safety: the forkserver runs no thread of its own here (onnxruntime makes no thread pool for
one intra-op thread and sequential execution; OpenBLAS is started with one thread), and forked
workers give the same boxes, descriptors and text as models built in the worker
(tests/test_pool_preload.py). Anything that fails here is simply not kept: the worker then
builds it itself, as before, and a check whose model cannot be built makes every file an error
(detectors._Unbuilt), never a clearance.
"""

from __future__ import annotations


def warm() -> list[str]:
    """Import and build what every worker needs; the names of the models that failed (left unbuilt)."""
    import cv2

    cv2.setNumThreads(1)  # as pool.one_thread() does in each worker: the models are built for one thread

    from screening.config import FaceSettings
    from screening.detectors import faces, location, logos, text, uniforms  # noqa: F401 - imported to be shared
    from screening.pipeline import screen_file  # noqa: F401 - imports every format reader
    from screening.vision.face_engine import FaceEngine
    from screening.vision.ocr import OcrEngine
    from screening.vision.people import PeopleFinder  # noqa: F401

    failed = []
    for name, build in (("faces", lambda: FaceEngine(FaceSettings())), ("text", OcrEngine)):
        try:
            build()
        except Exception:  # noqa: BLE001 - the worker builds it again and reports its failure
            failed.append(name)
    return failed


try:
    FAILED = warm()
except Exception:  # noqa: BLE001 - an import failing here fails again, and is reported, in the worker
    FAILED = ["imports"]
