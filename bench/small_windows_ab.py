"""The small-crest windows before and after the view's tiles' spectra were shared, in one process:
`.venv/bin/python bench/small_windows_ab.py [--academies 2 10 50] [--photos 8] [--kind blazer_crest]`.

Each photo goes through LogoDetector.detect with the first N academies of the bench's 51-academy
trust (bench/out/logo_set, make_logo_set.py; 40 share one crest layout). Every call of
small.windows() is made twice on the same input, the old way (tests/small_oracle.py: one
cv2.matchTemplate per reference and size) and the new, in alternating order, each timed in CPU
seconds (time.process_time: the machine is shared), and their windows compared (boxes and
academies equal, scores within 1e-4). The detector carries on with the new windows. Prints,
per trust size: the windows' CPU seconds old and new, the logo check's CPU seconds with each
(the detect call less the other implementation's windows), the share of the windows in it,
and how many calls differed (must be 0).
"""

from __future__ import annotations

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
from screening.detectors.logos import LogoDetector  # noqa: E402
from screening.vision.logo_match import small  # noqa: E402
from tests import small_oracle  # noqa: E402

SET = REPO / "bench" / "out" / "logo_set"


class _Picture:
    def __init__(self, rgb):
        self.frames = [rgb]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--academies", type=int, nargs="+", default=[2, 10, 50])
    ap.add_argument("--photos", type=int, default=8)
    ap.add_argument("--kind", default="blazer_crest")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r["kind"] == args.kind and (r.get("face") or args.kind != "blazer_crest")]
    images = [np.asarray(Image.open(SET / "cases" / r["file"]).convert("RGB")) for r in rows[:args.photos]]
    big = load_config(SET / "trust50.toml")
    new_windows = small.windows
    print(f"{len(images)} photos ({args.kind})")
    print("| academies | windows calls | windows old (s) | windows new (s) | new/old | logos old (s) | logos new (s) "
          "| windows' share old / new | calls differing |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.academies:
        det = LogoDetector(dataclasses.replace(big, academies=big.academies[:n]), cache=SET / "cache")
        det.detect(_Picture(images[0]), {})  # warm: the index is built on first use
        spent = {"old": 0.0, "new": 0.0}
        calls, differ = [0], [0]

        def both(work, scale, refs, templates_of):
            runs = [("old", small_oracle.windows), ("new", new_windows)]
            out = {}
            for name, fn in (runs if calls[0] % 2 else runs[::-1]):
                t = time.process_time()
                out[name] = fn(work, scale, refs, templates_of)
                spent[name] += time.process_time() - t
            calls[0] += 1
            a, b = out["old"], out["new"]
            if [(w.box, w.academies) for w in a] != [(w.box, w.academies) for w in b] or \
                    any(abs(x.score - y.score) >= 1e-4 for x, y in zip(a, b)):
                differ[0] += 1
            return b

        small.windows = both
        try:
            t = time.process_time()
            for rgb in images:
                det.detect(_Picture(rgb), {})
            total = time.process_time() - t
        finally:
            small.windows = new_windows
        old_logos, new_logos = total - spent["new"], total - spent["old"]
        print(f"| {n} | {calls[0]} | {spent['old']:.2f} | {spent['new']:.2f} | {spent['new'] / max(spent['old'], 1e-9):.2f} "
              f"| {old_logos:.1f} | {new_logos:.1f} | {spent['old'] / old_logos:.0%} / {spent['new'] / new_logos:.0%} "
              f"| {differ[0]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
