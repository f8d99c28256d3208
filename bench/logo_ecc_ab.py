"""What ECC alignment and its guard cost: the logo check on bench cases with alignment off, with
only the keypoint guard (issue 16, crestmiss round) and with the whole guard (verify.aligned), in
one process, each case through the three in turn (CPU seconds, so a busy machine matters less).

    .venv/bin/python bench/logo_ecc_ab.py N     (N even-numbered crest and decoy cases, spread)
"""
import json, sys, time
from pathlib import Path
import numpy as np
from PIL import Image
sys.path.insert(0, str(Path.cwd()))
import cv2; cv2.setNumThreads(1)
import bench.logo_findings as B
from screening.config import load_config
from screening.detectors import logos as L
import importlib; V = importlib.import_module("screening.vision.logo_match.verify")
det = L.LogoDetector(load_config(B.SET / "screening.toml"), cache=B.SET / "cache")
guarded = V.aligned
def off(p, grey, ab, src, dst, enough=0.0):
    return p
def crestmiss(p, grey, ab, src, dst, enough=0.0):
    better = V.refine(p, grey)
    if better is None or V.verify(better, grey, ab, enough).score <= p.score: return p
    if p.source == "features" and V.support(better, src, dst) < min(p.inliers, V.MIN_SUPPORT): return p
    return better
variants = {"off": off, "crestmiss": crestmiss, "guarded": guarded}
rows = [r for r in B.cases(1, None, "even") if r["kind"] in ("crest", "decoy")]
rows = rows[::max(1, len(rows) // int(sys.argv[1]))][: int(sys.argv[1])]
t = {k: 0.0 for k in variants}
for i, r in enumerate(rows):
    rgb = np.asarray(Image.open(B.SET / "cases" / r["file"]).convert("RGB"))
    names = list(variants)[i % 3:] + list(variants)[:i % 3]
    for k in names:
        L.lm.aligned = variants[k]
        t0 = time.process_time(); det.detect(B._Picture(rgb), {}); t[k] += time.process_time() - t0
    print(r["file"], {k: round(v, 1) for k, v in t.items()}, flush=True)
print("CPU seconds:", {k: round(v, 1) for k, v in t.items()}, "ratios to off:", {k: round(v / t["off"], 3) for k, v in t.items()})
