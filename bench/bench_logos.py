"""Measure the logo and uniform checks on the generated set; print markdown tables.

    .venv/bin/python bench/make_logo_set.py      # once: builds bench/out/logo_set/
    .venv/bin/python bench/bench_logos.py [--workers 2] [--quick]

Table 1: logo recall by size band and rotation, false flags on decoys and clean photos, for
each step of the matcher (what each step buys). Table 2: uniform recall and false flags,
with and without `flag_colours_without_crest`. Table 3: time added per image. Thresholds are
the shipped defaults (LogoSettings, UniformSettings); nothing is tuned on this set here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from screening.config import load_config  # noqa: E402
from screening.model import Check, CheckResult, FaceFinding  # noqa: E402
from tests import crests  # noqa: E402

SET = REPO / "bench" / "out" / "logo_set"
OTHER_STYLES = {"badge", "wordmark", "shaded"}  # academies drawn by crests.draw_other
ABLATIONS = {  # label -> matcher steps (see screening/logo_match.py)
    "SIFT + ratio + RANSAC (>= 10 inliers)": frozenset(),
    "+ multi-scale references": frozenset({"multiscale"}),
    "+ appearance check (>= 5 inliers)": frozenset({"multiscale", "verify"}),
    "+ colour-and-shape cue": frozenset({"multiscale", "verify", "colour-shape"}),
    "+ ECC refinement, 3-match similarity (shipped)": frozenset({"multiscale", "verify", "colour-shape", "refine"}),
}
_W: dict = {}


def _init(steps, cache: str) -> None:
    import cv2

    cv2.setNumThreads(1)  # one core per worker: OpenCV's own threads would fight the pool
    from screening.detectors.logos import LogoDetector
    from screening.detectors.uniforms import UniformDetector

    config = load_config(SET / "screening.toml")
    _W["config"] = config
    _W["logos"] = LogoDetector(config, cache=Path(cache), steps=steps)
    _W["uniforms"] = UniformDetector(config, _W["logos"]) if steps == ABLATIONS[list(ABLATIONS)[-1]] else None


class _Picture:
    def __init__(self, rgb):
        self.frames = [rgb]


def _run(row: dict) -> dict:
    rgb = np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB"))
    pic = _Picture(rgb)
    t0 = time.perf_counter()
    logos = _W["logos"].detect(pic, {})
    t1 = time.perf_counter()
    out = {"logos": [(f.academy, f.score) for f in logos], "logo_s": t1 - t0}
    if _W["uniforms"] is not None:
        face = row.get("face")
        if face is None and row["kind"] in ("clean", "crest", "decoy"):
            face = crests.find_face(Image.fromarray(rgb))
        earlier = {Check.FACES: CheckResult(Check.FACES, (FaceFinding(tuple(face)),) if face else ())}
        t2 = time.perf_counter()
        uni = _W["uniforms"].detect(pic, earlier)
        out["uniform_s"] = time.perf_counter() - t2
        out["has_face"] = face is not None
        out["uniforms"] = [(f.academy, f.score, f.crest) for f in uni]
    return out


def run(steps, rows, workers: int, cache: Path) -> list[dict]:
    with Pool(workers, initializer=_init, initargs=(steps, str(cache))) as pool:
        return pool.map(_run, rows, chunksize=4)


def pct(hits: int, n: int) -> str:
    return f"{hits}/{n} ({100 * hits / n:.0f}%)" if n else "-"


def logo_table(results: dict[str, list[dict]], rows: list[dict], min_score: float) -> list[str]:
    def flagged(res) -> set[str]:
        return {a for a, s in res["logos"] if s >= min_score}

    cols = ["5-10%", "10-20%", ">20%", "standard", "other styles", "rot 0-5", "rot 10-15", "rot 30",
            "decoys flagged", "clean flagged", "wrong academy", "ms/image"]
    lines = ["| matcher | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for label, res in results.items():
        hits, tot = defaultdict(int), defaultdict(int)
        wrong = 0
        for row, r in zip(rows, res):
            got = flagged(r)
            if row["kind"] == "crest":
                ok = row["academy"] in got
                wrong += bool(got - {row["academy"]})
                keys = [row["band"], {0: "rot 0-5", 5: "rot 0-5", 10: "rot 10-15", 15: "rot 10-15",
                                      30: "rot 30"}[abs(row["angle"])]]
                if standard(row):
                    keys.append("standard")
                if row["academy"] in OTHER_STYLES:
                    keys.append("other styles")
                for k in keys:
                    hits[k] += ok
                    tot[k] += 1
            elif row["kind"] in ("decoy", "clean"):
                key = "decoys flagged" if row["kind"] == "decoy" else "clean flagged"
                hits[key] += bool(got)
                tot[key] += 1
        ms = 1000 * statistics.mean(r["logo_s"] for r in res)
        n_crest = sum(tot[b] for b in ("5-10%", "10-20%", ">20%"))
        cells = [pct(hits[c], tot[c]) for c in cols[:-2]] + [pct(wrong, n_crest), f"{ms:.0f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def standard(row: dict) -> bool:
    return (row["width_frac"] >= 0.10 and abs(row["angle"]) <= 15 and row["tilt"] <= 0.15
            and row["quality"] >= 70 and row["occlude"] == 0)


def uniform_table(rows: list[dict], res: list[dict], uniform_min: float) -> list[str]:
    kinds = [("uniform_crest", "academy uniform with crest"), ("uniform_colours", "academy colours, no crest"),
             ("decoy_uniform", "another school's uniform and crest"), ("plain_top", "plain top, other colour"),
             ("clean", "real clothes (untouched photos with a face)")]
    lines = ["| case | n | flagged (default: crest required) | flagged (colours without crest) |",
             "|---|---|---|---|"]
    for kind, label in kinds:
        n = a = b = 0
        for row, r in zip(rows, res):
            if row["kind"] != kind or (kind == "clean" and not r.get("has_face")):
                continue
            n += 1
            a += any(crest for _, _, crest in r["uniforms"])
            b += any(crest or score >= uniform_min for _, score, crest in r["uniforms"])
        lines.append(f"| {label} | {n} | {pct(a, n)} | {pct(b, n)} |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="only the shipped matcher, no ablation")
    ap.add_argument("--every", type=int, default=1, help="measure every Nth case only (a quicker look)")
    args = ap.parse_args()
    if not (SET / "truth.jsonl").is_file():
        print(f"{SET} is empty: run bench/make_logo_set.py first")
        return 2
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")][:: args.every]
    config = load_config(SET / "screening.toml")
    cache = SET / "cache"
    results = {}
    shipped = list(ABLATIONS)[-1]
    for label, steps in ABLATIONS.items():
        if args.quick and label != shipped:
            continue
        logo_rows = rows if label == shipped else [r for r in rows if r["kind"] in ("crest", "decoy", "clean")]
        res = run(steps, logo_rows, args.workers, cache)
        results[label] = (logo_rows, res)
        print(f"ran {label}", file=sys.stderr)

    counts = defaultdict(int)
    for r in rows:
        counts[r["kind"]] += 1
    print(f"Set: {dict(counts)} (bench/out/logo_set, seed in truth.jsonl order)\n")
    print(f"Logo check, threshold min_score = {config.logos.min_score} (recall: academy crest found; "
          "false flags: any academy flagged)\n")
    base_rows = [r for r in rows if r["kind"] in ("crest", "decoy", "clean")]
    aligned = {}
    for label, (lr, res) in results.items():
        by_file = {row["file"]: rr for row, rr in zip(lr, res)}
        aligned[label] = [by_file[r["file"]] for r in base_rows]
    print("\n".join(logo_table(aligned, base_rows, config.logos.min_score)))

    ship_rows, ship_res = results[shipped]
    print(f"\nUniform check (faces given; uniform min_score = {config.uniforms.min_score})\n")
    print("\n".join(uniform_table(ship_rows, ship_res, config.uniforms.min_score)))

    logo_ms = [1000 * r["logo_s"] for r in ship_res]
    uni_ms = [1000 * r["uniform_s"] for r in ship_res if "uniform_s" in r]
    sizes = [max(Image.open(SET / "cases" / r["file"]).size) for r in ship_rows]
    print("\nTime added per image (ms, one core each, photos up to 3000 px, median side "
          f"{int(statistics.median(sizes))} px)\n")
    print("| check | mean | median | p95 |\n|---|---|---|---|")
    for label, xs in (("logos", logo_ms), ("uniforms", uni_ms),
                      ("logos + uniforms", [a + b for a, b in zip(logo_ms, uni_ms)])):
        xs = sorted(xs)
        print(f"| {label} | {statistics.mean(xs):.0f} | {statistics.median(xs):.0f} | "
              f"{xs[int(0.95 * (len(xs) - 1))]:.0f} |")
    face_ms = time_faces(ship_rows[:20])
    if face_ms is not None:
        print(f"| faces (for comparison) | {face_ms:.0f} | | |")
    print("\n".join(trust_size_table(config, ship_rows[:20], face_ms)))
    return 0


def trust_size_table(config, rows: list[dict], face_ms: float | None) -> list[str]:
    """Logos + uniforms per image as the trust grows, on the photos faces were timed on (one process)."""
    import dataclasses

    from screening.detectors.logos import LogoDetector
    from screening.detectors.uniforms import UniformDetector

    lines = ["\nCost by trust size (the same 20 photos, one process, ms per image; faces "
             f"{face_ms:.0f} ms on them)\n" if face_ms else "\nCost by trust size (ms per image)\n",
             "| academies | logos | uniforms | logos + uniforms | vs faces |", "|---|---|---|---|---|"]
    images = [np.asarray(Image.open(SET / "cases" / r["file"]).convert("RGB")) for r in rows]
    for n in (1, 2, 5, len(config.academies)):
        sub = dataclasses.replace(config, academies=config.academies[:n])
        logos = LogoDetector(sub, cache=SET / "cache")
        uniforms = UniformDetector(sub, logos)
        t_logo = t_uni = 0.0
        for row, rgb in zip(rows, images):
            face = row.get("face") or crests.find_face(Image.fromarray(rgb))
            earlier = {Check.FACES: CheckResult(Check.FACES, (FaceFinding(tuple(face)),) if face else ())}
            t0 = time.perf_counter()
            logos.detect(_Picture(rgb), {})
            t1 = time.perf_counter()
            uniforms.detect(_Picture(rgb), earlier)
            t_logo += t1 - t0
            t_uni += time.perf_counter() - t1
        lo, un = 1000 * t_logo / len(rows), 1000 * t_uni / len(rows)
        ratio = f"{(lo + un) / face_ms:.2f}x" if face_ms else "-"
        lines.append(f"| {n} | {lo:.0f} | {un:.0f} | {lo + un:.0f} | {ratio} |")
    return lines


def time_faces(rows: list[dict]) -> float | None:
    """Mean ms of the project's face check on the same photos, if it is there."""
    try:
        from screening.detectors.faces import FaceDetector
    except ImportError:
        return None
    try:
        config = load_config(SET / "screening.toml")
        det = FaceDetector(config.faces, None)
        total = 0.0
        for row in rows:
            rgb = np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB"))
            t = time.perf_counter()
            det.detect(_Picture(rgb), {})
            total += time.perf_counter() - t
        return 1000 * total / len(rows)
    except Exception as exc:  # the face check is another team's; report, do not fail the bench
        print(f"(face check timing unavailable: {exc})", file=sys.stderr)
        return None


if __name__ == "__main__":
    sys.exit(main())
