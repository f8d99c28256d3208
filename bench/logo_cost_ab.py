"""Logos + uniforms against the face check as the trust grows, in one process:
`.venv/bin/python bench/logo_cost_ab.py [--academies 1 10 50] [--photos 8] [--rounds 2] [--without STEP ...]
[--with STEP ...]` (`--with photo-grey`: a step measured and not shipped, beside the shipped check).

`--without confirm own-resolution` also runs, for each trust size, a logo detector without those
steps (screening/detectors/logos.py STEPS: the tree before them, exactly), photo by photo beside the
one with every step: the before and after of a change in one run, against the same face check.

The machine is shared, so times move by 2x within minutes: each photo is run through the face
check, then the logo and uniform checks with each trust size (the first N academies of the
bench's 51-academy trust, 40 of them sharing one crest layout), one after the other, so all
see the same load. Photos: the blazers with crests of bench/out/logo_set (make_logo_set.py),
as bench_logos.py's trust-size table. Prints ms per photo and the ratios to the face check.
"""

from __future__ import annotations

import os

# one thread for the compute libraries, as the scan's pool workers have (pool_preload.ONE_THREAD_ENV):
# set before numpy loads OpenBLAS, whose own threads would count as the logo check's CPU
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from screening.config import load_config  # noqa: E402
from screening.model import Check, CheckResult  # noqa: E402

SET = REPO / "bench" / "out" / "logo_set"


class _Picture:
    def __init__(self, rgb):
        self.frames = [rgb]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--academies", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--photos", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--without", nargs="*", default=[], help="also run each trust size without these logo steps")
    ap.add_argument("--with", dest="opt_in", nargs="*", default=[], help="...and with these steps not shipped")
    args = ap.parse_args()
    if not (SET / "truth.jsonl").is_file():
        print(f"{SET} is empty: run bench/make_logo_set.py first")
        return 2
    cv2.setNumThreads(1)  # one core, as a worker of the scan's pool
    from screening.detectors.faces import FaceDetector
    from screening.detectors.logos import STEPS, LogoDetector
    from screening.detectors.uniforms import UniformDetector

    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r.get("face") and r["kind"] == "blazer_crest"][:args.photos]
    images = [np.asarray(Image.open(SET / "cases" / r["file"]).convert("RGB")) for r in rows]
    big = load_config(SET / "trust50.toml")
    faces = FaceDetector(load_config(SET / "screening.toml").faces, None)
    checks = {}
    for n in args.academies:
        sub = dataclasses.replace(big, academies=big.academies[:n])
        if args.without:
            before = LogoDetector(sub, cache=SET / "cache", steps=STEPS - set(args.without))
            checks[f"{n} without {' '.join(args.without)}"] = (before, UniformDetector(sub, before))
        if args.opt_in:  # steps not shipped (e.g. photo-grey), to measure what they would save
            extra = LogoDetector(sub, cache=SET / "cache", steps=STEPS | set(args.opt_in))
            checks[f"{n} with {' '.join(args.opt_in)}"] = (extra, UniformDetector(sub, extra))
        logos = LogoDetector(sub, cache=SET / "cache")
        checks[n] = (logos, UniformDetector(sub, logos))
    spent = {"faces": 0.0, **{n: 0.0 for n in checks}}
    cpu = dict.fromkeys(spent, 0.0)  # process CPU time: what the load of other processes does not inflate
    for rgb in images[:1]:  # warm: models loaded, the indexes built
        faces.detect(_Picture(rgb), {})
        for logos, _ in checks.values():
            logos.detect(_Picture(rgb), {})
    for _ in range(args.rounds):
        for rgb in images:
            t, c = time.perf_counter(), time.process_time()
            found = faces.detect(_Picture(rgb), {})
            spent["faces"] += time.perf_counter() - t
            cpu["faces"] += time.process_time() - c
            for n, (logos, uniforms) in checks.items():
                t, c = time.perf_counter(), time.process_time()
                earlier = {Check.FACES: CheckResult(Check.FACES, tuple(found))}
                earlier[Check.LOGOS] = CheckResult(Check.LOGOS, tuple(logos.detect(_Picture(rgb), {})))
                uniforms.detect(_Picture(rgb), earlier)
                spent[n] += time.perf_counter() - t
                cpu[n] += time.process_time() - c
    count = len(images) * args.rounds
    print(f"{len(images)} blazer photos x {args.rounds} rounds, one process, one OpenCV thread; ms per photo\n")
    print("| check | ms | vs faces | CPU ms | CPU vs faces |\n|---|---|---|---|---|")
    for label, seconds in spent.items():
        what = "faces" if label == "faces" else f"logos + uniforms, {label} academies"
        print(f"| {what} | {1000 * seconds / count:.0f} | {seconds / spent['faces']:.2f}x "
              f"| {1000 * cpu[label] / count:.0f} | {cpu[label] / cpu['faces']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
