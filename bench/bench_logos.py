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
import os
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
from screening.model import Check, CheckResult, FaceFinding, PersonFinding  # noqa: E402
from tests import crests  # noqa: E402

SET = REPO / "bench" / "out" / "logo_set"
OTHER_STYLES = {"badge", "wordmark", "shaded", "embroidered"}  # academies drawn unlike draw_crest
ABLATIONS = {  # label -> matcher steps (see screening/vision/logo_match/)
    "SIFT + ratio + RANSAC (>= 10 inliers)": frozenset(),
    "+ multi-scale references": frozenset({"multiscale"}),
    "+ appearance check (>= 5 inliers)": frozenset({"multiscale", "verify"}),
    "+ colour-and-shape cue": frozenset({"multiscale", "verify", "colour-shape"}),
    "+ ECC refinement, 3-match similarity (each reference queries the photo)": frozenset({"multiscale", "verify", "colour-shape", "refine"}),
    "+ one index of all references, colour prefilter, one academy per place": frozenset(
        {"multiscale", "verify", "colour-shape", "refine", "prefilter", "index"}),
    "+ small crests searched again enlarged where their colours are (shipped)": frozenset(
        {"multiscale", "verify", "colour-shape", "refine", "prefilter", "index", "small"}),
}
SECTIONS = ("logos", "uniforms", "styles", "same-layout", "trust-size", "scan")
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
    from screening.vision.people import PeopleFinder

    _W["people"] = PeopleFinder()


class _Picture:
    def __init__(self, rgb):
        self.frames = [rgb]


def _run(row: dict) -> dict:
    rgb = np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB"))
    pic = _Picture(rgb)
    t0 = time.perf_counter()
    logos = _W["logos"].detect(pic, {})
    t1 = time.perf_counter()
    out = {"logos": [(a, f.score) for f in logos for a in (f.academy, *getattr(f, "also", ()))], "logo_s": t1 - t0}
    if _W["uniforms"] is not None:
        face = row.get("face")
        if face is None and row["kind"] in ("clean", "crest", "decoy", "family_crest"):
            face = crests.find_face(Image.fromarray(rgb))
        # what the face check reports besides the face: the bodies it saw (not timed here)
        bodies = tuple(PersonFinding(b.box, b.score) for b in _W["people"].find(rgb))
        earlier = {Check.FACES: CheckResult(Check.FACES, ((FaceFinding(tuple(face)),) if face else ()) + bodies),
                   Check.LOGOS: CheckResult(Check.LOGOS, tuple(logos))}
        t2 = time.perf_counter()
        uni = _W["uniforms"].detect(pic, earlier)
        out["uniform_s"] = time.perf_counter() - t2
        out["has_face"] = face is not None
        out["uniforms"] = [(f.academy, f.score, f.trim_score, f.crest_score) for f in uni]
    return out


def run(steps, rows, workers: int, cache: Path) -> list[dict]:
    with Pool(workers, initializer=_init, initargs=(steps, str(cache))) as pool:
        return pool.map(_run, rows, chunksize=4)


def pct(hits: int, n: int) -> str:
    return f"{hits}/{n} ({100 * hits / n:.0f}%)" if n else "-"


def logo_table(results: dict[str, tuple[list[dict], list[dict]]], min_score: float) -> list[str]:
    def flagged(res) -> set[str]:
        return {a for a, s in res["logos"] if s >= min_score}

    cols = ["40-60 px", "5-10%", "10-20%", ">20%", "turned 30-45", "standard", "other styles", "rot 0-5",
            "rot 10-15", "rot 30",
            "decoys flagged", "clean flagged", "wrong academy", "ms/image"]
    lines = ["| matcher | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for label, (rows, res) in results.items():
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
        ms = 1000 * statistics.mean(r["logo_s"] for row, r in zip(rows, res) if row["kind"] in ("crest", "decoy", "clean"))
        n_crest = sum(tot[b] for b in ("40-60 px", "5-10%", "10-20%", ">20%", "turned 30-45"))
        cells = [pct(hits[c], tot[c]) for c in cols[:-2]] + [pct(wrong, n_crest), f"{ms:.0f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def style_table(rows: list[dict], res: list[dict], min_score: float) -> list[str]:
    """The shipped matcher's misses by drawing style and size: found / cases."""
    bands = ["40-60 px", "5-10%", "10-20%", ">20%", "turned 30-45"]
    hits, tot = defaultdict(int), defaultdict(int)
    for row, r in zip(rows, res):
        if row["kind"] != "crest":
            continue
        style = row["academy"] if row["academy"] in OTHER_STYLES else "shield (draw_crest)"
        ok = row["academy"] in {a for a, sc in r["logos"] if sc >= min_score}
        for key in ((style, row["band"]), (style, "all"), ("all", row["band"]), ("all", "all")):
            hits[key] += ok
            tot[key] += 1
    lines = ["| style | " + " | ".join(bands) + " | all |", "|---" * (len(bands) + 2) + "|"]
    for style in ["shield (draw_crest)", *sorted(OTHER_STYLES), "all"]:
        cells = [f"{hits[style, b]}/{tot[style, b]}" if tot[style, b] else "-" for b in [*bands, "all"]]
        lines.append(f"| {style} | " + " | ".join(cells) + " |")
    return lines


def standard(row: dict) -> bool:
    if row.get("yaw") or row["band"] == "40-60 px":
        return False
    return (row["width_frac"] >= 0.10 and abs(row["angle"]) <= 15 and row["tilt"] <= 0.15
            and row["quality"] >= 70 and row["occlude"] == 0)


UNIFORM_KINDS = [
    ("blazer_crest", "blazer (lapel stripes, tie) with the crest whole"),
    ("blazer_crest_cut", "blazer with the crest cut by the frame (50-80% in view)"),
    ("blazer_trims", "blazer in academy colours with trims, no crest"),
    ("uniform_crest", "jumper (V collar) with the crest"),
    ("uniform_colours", "jumper in academy colours, no crest"),
    ("patterned_top", "striped or checked top in academy colours, no trims"),
    ("decoy_uniform", "another school's uniform and crest"),
    ("plain_top", "plain top, other colour"),
    ("clean", "real clothes (untouched photos with a face)"),
]


def uniform_flagged(findings, config, colours_alone: bool) -> bool:
    """What decide() makes of the uniform findings, with the shipped thresholds."""
    import dataclasses
    import datetime as dt

    from screening.model import UniformFinding
    from screening.policy import rules_for
    from screening.policy import decide

    rules = dataclasses.replace(rules_for(config, None, "website", dt.date(2026, 11, 27)),
                                required=(Check.UNIFORMS,), flag_colours_without_crest=colours_alone)
    found = tuple(UniformFinding(a, (0, 0, 1, 1), score, trim, crest) for a, score, trim, crest in findings)
    return bool(decide([CheckResult(Check.UNIFORMS, found)], rules).reasons)


def uniform_table(rows: list[dict], res: list[dict], config) -> list[str]:
    lines = ["| case | n | flagged (default) | flagged (colours alone flagged too) |", "|---|---|---|---|"]
    for kind, label in UNIFORM_KINDS:
        n = a = b = 0
        for row, r in zip(rows, res):
            if row["kind"] != kind or (kind == "clean" and not r.get("has_face")):
                continue
            n += 1
            a += uniform_flagged(r["uniforms"], config, False)
            b += uniform_flagged(r["uniforms"], config, True)
        lines.append(f"| {label} | {n} | {pct(a, n)} | {pct(b, n)} |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="only the shipped matcher, no ablation")
    ap.add_argument("--every", type=int, default=1, help="measure every Nth case only (a quicker look)")
    ap.add_argument("--ablation-every", type=int, default=1, help="earlier matchers on every Nth case only")
    ap.add_argument("--ablation", nargs="*", default=None, help="only these earlier matchers (by position, 0..)")
    ap.add_argument("--sections", nargs="*", default=None, choices=SECTIONS,
                    help="only these tables (default: all)")
    ap.add_argument("--without", nargs="*", default=[],
                    help="trust-size: also each trust size without these logo steps, photo by photo beside it")
    args = ap.parse_args()
    if not (SET / "truth.jsonl").is_file():
        print(f"{SET} is empty: run bench/make_logo_set.py first")
        return 2
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    # --every thins the many crest, decoy and clean cases; the few uniform and same-layout ones all run
    thin = [r for r in rows if r["kind"] in ("crest", "decoy", "clean")]
    groups = defaultdict(list)  # thinned within each kind and size band, so every column keeps cases
    for r in thin:
        groups[r["kind"], r.get("band")].append(r["file"])
    keep = {f for g in groups.values() for f in g[:: args.every]} | {r["file"] for r in rows if r not in thin}
    rows = [r for r in rows if r["file"] in keep]
    sections = set(args.sections or SECTIONS)
    config = load_config(SET / "screening.toml")
    cache = SET / "cache"
    results = {}
    shipped = list(ABLATIONS)[-1]
    pooled = rows
    if not sections & {"logos", "styles"}:  # the uniform table needs only the uniform cases and clean photos
        pooled = [r for r in rows if r["kind"] not in ("crest", "decoy", "family_crest")]
    for label, steps in ABLATIONS.items():
        if not sections & {"logos", "styles", "uniforms"}:
            break
        if label != shipped and (args.quick or "logos" not in sections or (
                args.ablation is not None and str(list(ABLATIONS).index(label)) not in args.ablation)):
            continue
        logo_rows = (pooled if label == shipped else
                     [r for r in rows if r["kind"] in ("crest", "decoy", "clean")][:: args.ablation_every])
        res = run(steps, logo_rows, args.workers, cache)
        results[label] = (logo_rows, res)
        print(f"ran {label}", file=sys.stderr)

    counts = defaultdict(int)
    for r in rows:
        counts[r["kind"]] += 1
    print(f"Set: {dict(counts)} (bench/out/logo_set, seed in truth.jsonl order)\n")
    ship_rows, ship_res = results.get(shipped, (rows, None))
    if "logos" in sections:
        print(f"Logo check, threshold min_score = {config.logos.min_score} (recall: academy crest found; "
              "false flags: any academy flagged)\n")
        print("\n".join(logo_table(results, config.logos.min_score)))
    if "uniforms" in sections:
        print(f"\nUniform check (faces given; uniform min_score = {config.uniforms.min_score})\n")
        print("\n".join(uniform_table(ship_rows, ship_res, config)))
        time_table(ship_rows, ship_res)
    if "styles" in sections:
        print("\nMisses by drawing style and size (shipped matcher): found / cases\n")
        print("\n".join(style_table(ship_rows, ship_res, config.logos.min_score)))
    if "same-layout" in sections:
        print("\n".join(same_layout_table(rows)))
    if "trust-size" in sections:
        n_timed = 8 if args.quick else 20
        timed = [r for r in rows if r.get("face") and r["kind"] == "blazer_crest"][:n_timed]
        face_ms, face_results = time_faces(timed)
        print("\n".join(trust_size_table(timed, face_ms, face_results, args.without)))
    if "scan" in sections:
        scan_rows = [r for r in rows if r["kind"] in ("clean", "blazer_crest", "crest")]
        print("\n".join(whole_scan_table(scan_rows[:: max(1, len(scan_rows) // (12 if args.quick else 26))][:26])))
    return 0


def time_table(rows: list[dict], res: list[dict]) -> None:
    logo_ms = [1000 * r["logo_s"] for r in res]
    uni_ms = [1000 * r["uniform_s"] for r in res if "uniform_s" in r]
    sizes = [max(Image.open(SET / "cases" / r["file"]).size) for r in rows]
    print("\nTime added per image (ms, one core each, photos up to 3000 px, median side "
          f"{int(statistics.median(sizes))} px)\n")
    print("| check | mean | median | p95 |\n|---|---|---|---|")
    for label, xs in (("logos", logo_ms), ("uniforms", uni_ms),
                      ("logos + uniforms", [a + b for a, b in zip(logo_ms, uni_ms)])):
        xs = sorted(xs)
        print(f"| {label} | {statistics.mean(xs):.0f} | {statistics.median(xs):.0f} | "
              f"{xs[int(0.95 * (len(xs) - 1))]:.0f} |")


def trust_size_table(rows: list[dict], face_ms: float | None, face_results: list | None,
                     without=()) -> list[str]:
    """Logos + uniforms per image as the trust grows, on the photos faces were timed on (one process).

    The uniform check is given what the face check found on each photo, as in a scan. With `without`
    (logo steps), each trust size is also run without them, photo by photo right after the detector
    with every step (the before and after of a change in one run); CPU time of the logo check too."""
    import dataclasses

    from screening.detectors.logos import STEPS, LogoDetector
    from screening.detectors.uniforms import UniformDetector

    big = load_config(SET / "trust50.toml")
    lines = [f"\nCost by trust size (the same {len(rows)} photos, one process, ms per image; faces "
             f"{face_ms:.0f} ms on them)\n" if face_ms else "\nCost by trust size (ms per image)\n",
             "| academies | logos | uniforms | logos + uniforms | vs faces | logos CPU |", "|---|---|---|---|---|---|"]
    images = [np.asarray(Image.open(SET / "cases" / r["file"]).convert("RGB")) for r in rows]
    if face_results is not None:
        faces = [CheckResult(Check.FACES, tuple(found)) for found in face_results]
    else:
        faces = [CheckResult(Check.FACES, (FaceFinding(tuple(row["face"])),)) for row in rows]
    for n in (1, 2, 10, len(big.academies)):
        sub = dataclasses.replace(big, academies=big.academies[:n])
        variants = {"": STEPS, **({f" without {' '.join(without)}": STEPS - set(without)} if without else {})}
        checks = {k: (LogoDetector(sub, cache=SET / "cache", steps=v),) for k, v in variants.items()}
        checks = {k: (lg[0], UniformDetector(sub, lg[0])) for k, lg in checks.items()}
        times = {k: [0.0, 0.0, 0.0] for k in checks}  # logos, uniforms, logos CPU
        for face, rgb in zip(faces, images):
            for k, (logos, uniforms) in checks.items():
                earlier = {Check.FACES: face}
                t0, c0 = time.perf_counter(), time.process_time()
                found = logos.detect(_Picture(rgb), {})
                t1, c1 = time.perf_counter(), time.process_time()
                earlier[Check.LOGOS] = CheckResult(Check.LOGOS, tuple(found))  # as a scan gives it
                uniforms.detect(_Picture(rgb), earlier)
                times[k][0] += t1 - t0
                times[k][1] += time.perf_counter() - t1
                times[k][2] += c1 - c0
        for k, (t_logo, t_uni, c_logo) in times.items():
            lo, un = 1000 * t_logo / len(rows), 1000 * t_uni / len(rows)
            ratio = f"{(lo + un) / face_ms:.2f}x" if face_ms else "-"
            lines.append(f"| {n}{k} | {lo:.0f} | {un:.0f} | {lo + un:.0f} | {ratio} | {1000 * c_logo / len(rows):.0f} |")
    return lines


def same_layout_table(rows: list[dict]) -> list[str]:
    """In the 50-academy trust (40 sharing north's layout): which academies each crest photo names."""
    from screening.config import LogoSettings
    from screening.detectors.logos import LogoDetector

    det = LogoDetector(load_config(SET / "trust50.toml"), cache=SET / "cache")
    min_score = LogoSettings().min_score
    cases = [r for r in rows if r["kind"] == "family_crest"]
    cases += [r for r in rows if r["kind"] == "crest" and r["academy"] in ("north", "south")
              and standard(r)][:10]
    alone = among = wrong = 0
    for row in cases:
        rgb = np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB"))
        findings = [f for f in det.detect(_Picture(rgb), {}) if f.score >= min_score]
        named = [{f.academy, *getattr(f, "also", ())} for f in findings]
        alone += {row["academy"]} in named and len(named) == 1
        among += any(row["academy"] in n and len(n) > 1 for n in named)
        # a wrong academy named: any finding that names (alone) an academy other than the right one
        wrong += any(row["academy"] not in n for n in named)
    return ["\nSame layout, 50 academies (40 share north's shield, each in its own colours, initials and "
            "emblem): crest photos of north, south and same-layout academies\n",
            "| crest photos | right academy named alone | named as one of several, the right one among them "
            "| a finding naming only wrong academies |", "|---|---|---|---|",
            f"| {len(cases)} | {pct(alone, len(cases))} | {pct(among, len(cases))} | {pct(wrong, len(cases))} |"]


def whole_scan_table(rows: list[dict]) -> list[str]:
    """`screening scan` as a process on the same photos with a 2- and a 50-academy trust."""
    import shutil
    import subprocess
    import tempfile

    exe = [sys.executable, "-m", "screening"]  # this checkout's package, wherever the venv points
    lines = ["\nWhole scan (`screening scan`, every check, 2 processes, no result cache; the same "
             f"{len(rows)} photos)\n", "| trust | seconds | vs 2 academies |", "|---|---|---|"]
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for r in rows:
            shutil.copy(SET / "cases" / r["file"], folder / r["file"])
        big = (SET / "trust50.toml").read_text(encoding="utf-8")
        two = big.split("[[academy]]")
        (SET / "trust2.toml").write_text("[[academy]]".join(two[:3]), encoding="utf-8")
        (Path(tmp) / "cache").mkdir()
        (Path(tmp) / "cache" / "logos").symlink_to(SET / "cache")  # reference features computed already
        for label, cfg in (("2 academies", "trust2.toml"), ("50 academies", "trust50.toml")):
            env = {**os.environ, "SCREENING_CACHE": str(Path(tmp) / "cache"), "PYTHONPATH": str(REPO)}
            cmd = [*exe, "scan", str(folder), "--config", str(SET / cfg), "--quiet"]
            if "--no-cache" in subprocess.run(cmd[:4] + ["--help"], capture_output=True, text=True, env=env).stdout:
                cmd.append("--no-cache")
            t = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp)
            times[label] = time.perf_counter() - t
            if done.returncode not in (0, 1):  # 1: some photo needs permission; anything else failed
                return [f"\n(whole scan failed with {label}: {done.stderr.strip()[-300:]})"]
    for label, t in times.items():
        lines.append(f"| {label} | {t:.1f} | {t / times['2 academies']:.2f}x |")
    return lines


def time_faces(rows: list[dict]) -> tuple[float | None, list | None]:
    """Mean ms of the project's face check on the same photos, and its findings on each (the
    uniform check reads them: faces and the bodies it saw), if it is there."""
    try:
        from screening.detectors.faces import FaceDetector
    except ImportError:
        return None, None
    try:
        config = load_config(SET / "screening.toml")
        det = FaceDetector(config.faces, None)
        total, found = 0.0, []
        for row in rows:
            rgb = np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB"))
            t = time.perf_counter()
            found.append(det.detect(_Picture(rgb), {}))
            total += time.perf_counter() - t
        return 1000 * total / len(rows), found
    except Exception as exc:  # the face check is another team's; report, do not fail the bench
        print(f"(face check timing unavailable: {exc})", file=sys.stderr)
        return None, None


if __name__ == "__main__":
    sys.exit(main())
