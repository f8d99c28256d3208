"""New cases of the kinds the logo check misses, made with the bench set's own generator, and run:
`.venv/bin/python bench/logo_new_cases.py [--photos 12] [--seed 7] [--without cast]`.

Crests whose colours a cast can break (logo_match.cast.fragile: the embroidered academy, the
black-and-white badge) under a colour cast, on real photos of
../shared/data the bench set (bench/out/logo_set, make_logo_set.py) pastes no crest on (it has them
only as untouched photos), with a seed of its own; beside each, a decoy in the same drawing style that keeps the crest's colours (another
school's embroidered badge in the same thread and cloth; a ring-lettered badge of another name in
the badge's colours) under a cast: the decoys a cast-robust colour comparison could let through. Written to
bench/out/logo_new/ (git-ignored, never committed), then searched with the bench trust in one
process: each case with every logo step, and (`--without`) without those steps, one after the
other. Prints each case and the found / flagged counts of both.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import make_logo_set as M  # noqa: E402
from shared_photos import SHARED, big_enough, shared_photos  # noqa: E402
from tests import crests  # noqa: E402

OUT = REPO / "bench" / "out" / "logo_new"
# the bench academies whose colours a cast can break (logo_match.cast.fragile)
WEAK = ("embroidered", "badge")


def _cast(rng: random.Random) -> tuple[float, float, float]:
    """A strong colour cast of make_logo_set's range (gains 0.8-1.15): its gains at least 0.15 apart
    (bench 0226's: 0.89, 1.15, 0.92)."""
    while True:
        gains = tuple(round(rng.uniform(0.8, 1.15), 2) for _ in range(3))
        if max(gains) - min(gains) >= 0.15:
            return gains


def _decoy(aid: str, seed: int):
    """Another school's crest in the academy's drawing style, keeping its colours."""
    if aid == "embroidered":  # another school's embroidered badge, in the embroidered academy's thread and cloth
        style = crests.decoy_of(crests.style_from_seed(M.OTHER[aid][1], simple=False), seed=seed, keep_colours=True)
        return crests.embroidered(style, seed=seed)
    # a ring-lettered badge of another school in the badge academy's colours (draw_other's, from its seed)
    field, charge, accent = crests._three_colours(random.Random(M.OTHER[aid][1]))
    rng = random.Random(seed)
    words = rng.sample(crests._WORDS[:10], 2)
    n = 512 * crests._SS
    return crests._badge(rng, n, "HOLLYMOOR", words, field, charge, accent).resize((512, 512), Image.LANCZOS)


def build(n_photos: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    # photos no crest was pasted on in the bench set (it shows each of the others untouched)
    used = {r["photo"] for r in map(json.loads, open(M.OUT / "truth.jsonl", encoding="utf-8")) if r["kind"] != "clean"}
    paths = [p for p in shared_photos() if str(p.relative_to(SHARED)) not in used]
    rng.shuffle(paths)
    (OUT / "cases").mkdir(parents=True, exist_ok=True)
    drawn = {aid: Image.open(M.OUT / "logos" / aid / "crest.png").convert("RGBA") for aid in WEAK}
    rows = []
    for i, path in enumerate(big_enough(paths, n_photos)):
        im = M.load(path)
        aid = WEAK[i % len(WEAK)]
        band = ("5-10%", "10-20%", "turned 30-45", "40-60 px")[i % 4]
        extra = band if band in M.EXTRA else None
        for kind, crest in (("crest", drawn[aid]), ("decoy", _decoy(aid, 9000 + i))):
            out, meta = M.crest_case(im, crest, rng, "5-10%" if extra else band, 0 if extra else 5,
                                     seed=1000 + i, extra=extra)
            gains = _cast(rng)
            out = crests.jpeg(crests.colour_cast(out, gains), rng.choice((75, 85, 95)))
            name = f"{i:02d}_{kind}_{aid}.jpg"
            out.save(OUT / "cases" / name, quality=98)
            rows.append({"file": name, "kind": kind, "academy": aid if kind == "crest" else None, "lookalike": aid,
                         "photo": str(path.relative_to(SHARED)), "cast": gains, **meta})
    (OUT / "truth.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--without", nargs="*", default=["cast"])
    args = ap.parse_args()
    if not (M.OUT / "truth.jsonl").is_file():
        print(f"{M.OUT} is empty: run bench/make_logo_set.py first")
        return 2
    cv2.setNumThreads(1)
    from screening.config import load_config
    from screening.detectors.logos import STEPS, LogoDetector

    rows = build(args.photos, args.seed)
    config = load_config(M.OUT / "screening.toml")
    dets = {"all steps": LogoDetector(config, cache=M.OUT / "cache"),
            f"without {' '.join(args.without)}": LogoDetector(config, cache=M.OUT / "cache",
                                                            steps=STEPS - set(args.without))}
    compare(rows, dets, OUT / "cases", "cast")
    return 0


def compare(rows: list[dict], dets: dict, cases: Path, column: str) -> None:
    """A table of each case's best score and the academies each detector names at min_score, then
    per detector: crests found, decoys flagged, the logo check's CPU; `column` is the row's field
    shown after the band (logo_small_cases.py: "size")."""
    from screening.config import LogoSettings

    min_score = LogoSettings().min_score
    tally = {k: [0, 0, 0.0] for k in dets}  # crests found, decoys flagged, CPU seconds
    print(f"| case | kind | band | {column} | " + " | ".join(dets) + " |\n|---|---|---|---|" + "---|" * len(dets))
    for r in rows:
        rgb = np.asarray(Image.open(cases / r["file"]).convert("RGB"))
        cells = []
        for label, det in dets.items():
            t = time.process_time()
            found = det.search(rgb)
            tally[label][2] += time.process_time() - t
            named = {a: f.score for f in found if f.score >= min_score for a in (f.academy, *f.also)}
            best = max((f.score for f in found if r["lookalike"] in (f.academy, *f.also)), default=0.0)
            if r["kind"] == "crest":
                tally[label][0] += r["academy"] in named
            else:
                tally[label][1] += bool(named)
            cells.append(f"{best:.2f} {sorted(named) or '-'}")
        shown = f"{r['box'][2]} px" if column == "size" else r[column]
        print(f"| {r['file']} | {r['kind']} | {r['band']} | {shown} | " + " | ".join(cells) + " |", flush=True)
    n_crest = sum(r["kind"] == "crest" for r in rows)
    for label, (found, flagged, cpu) in tally.items():
        print(f"{label}: crests found {found}/{n_crest}, decoys flagged {flagged}/{len(rows) - n_crest}, "
              f"logo check {cpu:.1f} s CPU")


if __name__ == "__main__":
    sys.exit(main())
