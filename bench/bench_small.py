"""What the small-crest pass costs: the logo check with and without it, and the face check, in one run.

    .venv/bin/python bench/bench_small.py [--every 8] [--kinds crest clean decoy]

One process, one OpenCV thread. On every Nth case of bench/out/logo_set (make_logo_set.py) of
the given kinds, the logo check runs with every step (`small` included) and without `small`,
one after the other on each photo (so both see the same load), then the face check on the same
photos. Prints mean ms per photo of each and the ratios; the machine is shared, so only the
ratios measured here, in one run, mean anything.
"""

from __future__ import annotations

import argparse
import json
import statistics
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
    ap.add_argument("--every", type=int, default=8)
    ap.add_argument("--kinds", nargs="*", default=["crest", "clean", "decoy"])
    args = ap.parse_args()
    if not (SET / "truth.jsonl").is_file():
        print(f"{SET} is empty: run bench/make_logo_set.py first")
        return 2
    cv2.setNumThreads(1)
    config = load_config(SET / "screening.toml")
    with_small = LogoDetector(config, cache=SET / "cache")
    without = LogoDetector(config, cache=SET / "cache", steps=STEPS - {"small"})
    try:
        from screening.detectors.faces import FaceDetector

        faces = FaceDetector(config.faces, None)
    except Exception as exc:  # the face check is another team's; report, do not fail the bench
        print(f"(face check unavailable: {exc})", file=sys.stderr)
        faces = None
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r["kind"] in args.kinds][:: args.every]
    t_with, t_without, t_faces = [], [], []
    for row in rows:
        pic = _Picture(np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB")))
        for det, out in ((without, t_without), (with_small, t_with)):
            t = time.perf_counter()
            det.detect(pic, {})
            out.append(time.perf_counter() - t)
        if faces is not None:
            t = time.perf_counter()
            faces.detect(pic, {})
            t_faces.append(time.perf_counter() - t)
    ms = {k: 1000 * statistics.mean(v) for k, v in
          (("without", t_without), ("with", t_with), ("faces", t_faces)) if v}
    print(f"{len(rows)} photos ({', '.join(args.kinds)}, every {args.every}th), ms per photo, one process:\n")
    print("| logo check without the small pass | with it | ratio | face check (peer) | logos/faces before | after |")
    print("|---|---|---|---|---|---|")
    f = ms.get("faces")
    print(f"| {ms['without']:.0f} | {ms['with']:.0f} | {ms['with'] / ms['without']:.2f}x | "
          + (f"{f:.0f} | {ms['without'] / f:.2f}x | {ms['with'] / f:.2f}x |" if f else "- | - | - |"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
