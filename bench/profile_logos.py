"""Where the logo check's time goes, run by hand:
`.venv/bin/python bench/profile_logos.py [--academies 10] [--photos 8] [--kind blazer_crest] [--top 30]
[--without STEP ...]`.

cProfile of `LogoDetector.detect` (one process, one OpenCV thread, as a worker of the scan's
pool) on the photos bench_logos.py's trust-size table times (blazers with crests), with the
first N academies of the bench's 51-academy trust (bench/out/logo_set, make_logo_set.py).
Prints the logo check's CPU time a photo, then the functions with the most time of their own and the
most time under them. `--without STEP ...` leaves those logo steps out (detectors/logos.py STEPS).
"""

from __future__ import annotations

import os

# one thread for the compute libraries, as the scan's pool workers have (pool_preload.ONE_THREAD_ENV):
# set before numpy loads OpenBLAS, whose own threads would count as the logo check's CPU
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import cProfile
import dataclasses
import io
import json
import pstats
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from screening.config import load_config  # noqa: E402
from screening.detectors.logos import STEPS, LogoDetector  # noqa: E402

SET = REPO / "bench" / "out" / "logo_set"


class _Picture:
    def __init__(self, rgb):
        self.frames = [rgb]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--academies", type=int, default=10)
    ap.add_argument("--photos", type=int, default=8)
    ap.add_argument("--kind", default="blazer_crest")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--without", nargs="*", default=[], help="logo steps left out")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r["kind"] == args.kind and (r.get("face") or args.kind != "blazer_crest")]
    rows = rows[:args.photos]
    big = load_config(SET / "trust50.toml")
    det = LogoDetector(dataclasses.replace(big, academies=big.academies[:args.academies]), cache=SET / "cache",
                       steps=STEPS - set(args.without))
    images = [np.asarray(Image.open(SET / "cases" / r["file"]).convert("RGB")) for r in rows]
    det.detect(_Picture(images[0]), {})  # warm: the index is built on first use
    prof = cProfile.Profile(time.process_time)  # CPU time: a shared machine's load does not skew the shares
    t = time.perf_counter()
    cpu = time.process_time()
    prof.enable()
    for rgb in images:
        det.detect(_Picture(rgb), {})
    prof.disable()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"{len(images)} photos ({args.kind}), {args.academies} academies"
          f"{', without ' + ' '.join(args.without) if args.without else ''}: {1000 * wall / len(images):.0f} ms "
          f"a photo, CPU {1000 * cpu / len(images):.0f} ms a photo (under the profiler)")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
