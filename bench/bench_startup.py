"""What a screening worker's start-up costs, step by step, run by hand:
`.venv/bin/python bench/bench_startup.py [--config samples/screening.toml] [--runs 3]`.

Each run is a fresh interpreter that does what a pool worker did before the forkserver preload
(issue 15): import the libraries, then build every detector of the demo trust, timing each step
in CPU seconds of that process (time.process_time: what the step costs, whatever else the
machine is doing) and in wall seconds. Two columns per step: the derived model graphs built
(no disk cache: the first run after installing) and read from the model cache (model_cache.py).
The median over --runs is printed. Then one row for a worker forked from the warm forkserver
(pool_preload.py): the whole initialiser (detectors built from the preloaded models).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

STEPS = r"""
import json, sys, time
from pathlib import Path
rows = []
def lap(label, t=[time.process_time(), time.perf_counter()]):
    c, w = time.process_time(), time.perf_counter()
    rows.append((label, c - t[0], w - t[1])); t[0], t[1] = c, w
import cv2; cv2.setNumThreads(1); lap("import cv2")
import onnxruntime, dlib; lap("import onnxruntime, dlib")
from screening.trust import open_trust
from screening.detectors import faces, location, logos, text, uniforms
from screening.pipeline import screen_file; lap("import screening's detectors and format readers")
trust = open_trust(Path(sys.argv[1])); lap("(open the trust: config, register; the parent's work)")
from screening.config import FaceSettings
from screening.vision import centerface, face_engine, ocr, people, recogniser
face_engine._landmark_model(str(face_engine.models_dir() / "shape_predictor_5_face_landmarks.dat")); lap("dlib 5-point landmark model")
recogniser.Recogniser.cached(face_engine.models_dir() / face_engine.RESNET_FILE, None, 1); lap("recogniser: .dat -> onnx graph, session, start-up probe")
centerface.CenterFace(1); lap("CenterFace: free sizes, session")
ocr.OcrEngine(); lap("OCR: PP-OCRv4 detection + recognition sessions")
people.PeopleFinder(); lap("HOG people detector")
from screening.detectors import build_detectors
build_detectors(trust.config, trust.gallery, trust.names); lap("the rest of build_detectors (logo references, name matcher)")
rows.append(("onnx imported", float("onnx" in sys.modules), 0.0))
print(json.dumps(rows))
"""

FORKED = r"""
import json, sys, time
from pathlib import Path

def init_cost():
    return time.process_time()  # a forked child's CPU clock starts at zero: the initialiser's cost

if __name__ == "__main__":
    from screening import pool
    from screening.trust import open_trust
    trust = open_trust(Path(sys.argv[1]))
    pool.start_forkserver()
    time.sleep(float(sys.argv[2]))  # the forkserver's warm-up is done by then
    executor = pool._new_pool(1, trust.config, trust.gallery, None, trust.names)
    t = time.perf_counter()
    import __main__
    cpu = executor.submit(__main__.init_cost).result()
    print(json.dumps([("worker forked from the warm forkserver: whole initialiser", cpu, time.perf_counter() - t)]))
    executor.shutdown()
"""


def run(script: str, *args: str, cache: str) -> list:
    env = {**os.environ, "SCREENING_CACHE": cache, "PYTHONPATH": str(REPO)}
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run([sys.executable, f.name, *args], capture_output=True, text=True, env=env, check=True)
    finally:
        os.unlink(f.name)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(REPO / "samples" / "screening.toml"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    cold, warm, forked = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as empty:
            cold.append(run(STEPS, args.config, cache=empty))
        with tempfile.TemporaryDirectory() as cache:
            run(STEPS, args.config, cache=cache)  # fills the cache
            warm.append(run(STEPS, args.config, cache=cache))
            forked.append(run(FORKED, args.config, "8", cache=cache))
    print(f"\nworker start-up, {args.runs} runs (median), load average {load:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end\n")
    print("| step | CPU ms, empty cache (first run) | CPU ms, cache filled (models, logo references) | wall ms, empty / filled |")
    print("|---|---:|---:|---:|")
    total = [0.0, 0.0]
    for i, (label, _, _) in enumerate(cold[0]):
        if label == "onnx imported":
            print(f"| `onnx` package imported | {'yes' if cold[0][i][1] else 'no'} | {'yes' if warm[0][i][1] else 'no'} | |")
            continue
        c = statistics.median(r[i][1] for r in cold) * 1000
        w = statistics.median(r[i][1] for r in warm) * 1000
        cw = statistics.median(r[i][2] for r in cold) * 1000
        ww = statistics.median(r[i][2] for r in warm) * 1000
        if not label.startswith("("):
            total[0] += c
            total[1] += w
        print(f"| {label} | {c:.0f} | {w:.0f} | {cw:.0f} / {ww:.0f} |")
    print(f"| **a worker's start-up before (every step but the parent's)** | **{total[0]:.0f}** | **{total[1]:.0f}** | |")
    c = statistics.median(r[0][1] for r in forked) * 1000
    w = statistics.median(r[0][2] for r in forked) * 1000
    print(f"| **{forked[0][0][0]}** | | **{c:.0f}** | {w:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
