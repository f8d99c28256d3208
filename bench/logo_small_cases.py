"""Small crests of every bench academy (40-60 px and 5-10% of the width) with same-size decoys, on
real photos the bench set (make_logo_set.py) pastes no crest on, with a seed of its own:
`.venv/bin/python bench/logo_small_cases.py [--photos 22] [--seed 33] [--without STEP ...]`.

The tuning set of issue 16, recall33 (crests with too few keypoint matches to be placed): the bench
set's odd half misses none of that class, so this makes more of it without touching the even
half. Each photo gets one crest of one academy (cycling through all 11) at 40-60 px or at 5-10% of
its width, and two decoys of the same size: the academy's layout in other colours (or, for the
other drawing styles, another school's drawing in that style) and another school's random badge.
Written to bench/out/logo_small/ (git-ignored, never committed), then searched with the bench trust
in one process, with every logo step and (`--without`) without those steps, one after the other.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import cv2
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import make_logo_set as M  # noqa: E402
from logo_new_cases import compare  # noqa: E402
from shared_photos import SHARED, big_enough, shared_photos  # noqa: E402
from tests import crests  # noqa: E402

OUT = REPO / "bench" / "out" / "logo_small"


def _drawn(aid: str) -> Image.Image:
    return Image.open(M.OUT / "logos" / aid / "crest.png").convert("RGBA")


def _decoy(aid: str, seed: int) -> Image.Image:
    """The academy's layout in other colours (a shield academy), or another school's drawing in
    the academy's style (the other styles)."""
    if aid in M.ACADEMIES:
        return crests.draw_crest(crests.decoy_of(M.ACADEMIES[aid][0], seed=seed), 512)
    if aid == "embroidered":
        return crests.embroidered(crests.style_from_seed(seed, simple=False), seed=seed)
    return crests.draw_other(M.OTHER[aid][0], seed)


def build(n_photos: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    used = {r["photo"] for r in map(json.loads, open(M.OUT / "truth.jsonl", encoding="utf-8")) if r["kind"] != "clean"}
    paths = [p for p in shared_photos() if str(p.relative_to(SHARED)) not in used]
    rng.shuffle(paths)
    (OUT / "cases").mkdir(parents=True, exist_ok=True)
    ids = [*M.ACADEMIES, *M.OTHER]
    rows = []
    for i, path in enumerate(big_enough(paths, n_photos)):
        im = M.load(path)
        aid = ids[i % len(ids)]
        extra = "40-60 px" if i % 2 == 0 else None
        for kind, crest in (("crest", _drawn(aid)), ("decoy", _decoy(aid, 7000 + i)),
                            ("other", crests.draw_crest(crests.style_from_seed(8000 + i), 512))):
            out, meta = M.crest_case(im, crest, rng, "5-10%", 0, seed=3000 + i, extra=extra)
            out = M.degrade(out, rng, meta)
            name = f"{i:02d}_{kind}_{aid}.jpg"
            out.save(OUT / "cases" / name, quality=98)
            rows.append({"file": name, "kind": kind, "academy": aid if kind == "crest" else None, "lookalike": aid,
                         "photo": str(path.relative_to(SHARED)), **meta})
    (OUT / "truth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=22)
    ap.add_argument("--seed", type=int, default=33)
    ap.add_argument("--without", nargs="*", default=[])
    ap.add_argument("--reuse", action="store_true", help="search the cases already written")
    args = ap.parse_args()
    if not (M.OUT / "truth.jsonl").is_file():
        print(f"{M.OUT} is empty: run bench/make_logo_set.py first")
        return 2
    cv2.setNumThreads(1)
    from screening.config import load_config
    from screening.detectors.logos import STEPS, LogoDetector

    rows = ([json.loads(line) for line in open(OUT / "truth.jsonl", encoding="utf-8")] if args.reuse
            else build(args.photos, args.seed))
    config = load_config(M.OUT / "screening.toml")
    dets = {"all steps": LogoDetector(config, cache=M.OUT / "cache")}
    if args.without:
        dets[f"without {' '.join(args.without)}"] = LogoDetector(config, cache=M.OUT / "cache",
                                                                 steps=STEPS - set(args.without))
    compare(rows, dets, OUT / "cases", "size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
