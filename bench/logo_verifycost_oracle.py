"""The logo check before and after verifycost, photo by photo in one process: same findings, and the CPU.
`.venv/bin/python bench/logo_verifycost_oracle.py [--academies 1 10 51] [--kinds crest family_crest ...]
[--per-kind 10] [--every 1]`

For each trust size (the first N academies of the bench's 51-academy trust, 40 of them sharing one
crest layout; bench/out/logo_set, make_logo_set.py) every photo is screened by the logo check as it
was (tests/logo_oracle.py: the appearance check, the naming vote and the index bookkeeping before
they kept the reference's side of their work) and as it is, one after the other, alternating which
goes first. Prints every difference of findings (academy, box, detail, `also` exactly; score to
1e-6) and the CPU seconds (time.process_time) of each side: an A/B the machine's load does not skew.
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
from tests.logo_oracle_run import differences, findings  # noqa: E402

SET = REPO / "bench" / "out" / "logo_set"
KINDS = ("crest", "family_crest", "decoy", "clean", "blazer_crest", "blazer_crest_cut", "uniform_crest")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--academies", type=int, nargs="+", default=[1, 10, 51])
    ap.add_argument("--kinds", nargs="+", default=list(KINDS))
    ap.add_argument("--per-kind", type=int, default=10)
    ap.add_argument("--every", type=int, default=1, help="every n-th photo of a kind")
    args = ap.parse_args()
    if not (SET / "truth.jsonl").is_file():
        print(f"{SET} is empty: run bench/make_logo_set.py first")
        return 2
    cv2.setNumThreads(1)
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    chosen = [r for k in args.kinds for r in [r for r in rows if r["kind"] == k][::args.every][:args.per_kind]]
    big = load_config(SET / "trust50.toml")
    total_diff = 0
    print("| academies | photos | findings | differing photos | CPU s before | CPU s now | now/before |")
    print("|---|---|---|---|---|---|---|")
    for n in args.academies:
        det = LogoDetector(dataclasses.replace(big, academies=big.academies[:n]), cache=SET / "cache")
        cpu = {True: 0.0, False: 0.0}
        count = differing = 0
        for k, row in enumerate(chosen):
            rgb = np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB"))
            if k == 0:  # warm: the index built, the references' memos filled, cast.fragile asked
                findings(det, rgb, oracle=False)
                findings(det, rgb, oracle=True)
            got = {}
            for oracle in ((True, False) if k % 2 else (False, True)):
                c = time.process_time()
                got[oracle] = findings(det, rgb, oracle=oracle)
                cpu[oracle] += time.process_time() - c
            diff = differences(got[True], got[False])
            count += len(got[False])
            if diff:
                differing += 1
                print(f"  {n} academies, {row['file']}: " + "; ".join(diff))
        total_diff += differing
        print(f"| {n} | {len(chosen)} | {count} | {differing} | {cpu[True]:.2f} | {cpu[False]:.2f} "
              f"| {cpu[False] / max(cpu[True], 1e-9):.2f} |", flush=True)
    return 1 if total_diff else 0


if __name__ == "__main__":
    sys.exit(main())
