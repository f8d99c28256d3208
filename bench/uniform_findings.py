"""Every finding of the uniform check on bench cases, to compare two trees case by case.

    .venv/bin/python bench/uniform_findings.py earlier TRUST OUT.pkl [--clean-every 2] [--workers 2]
                                                  [--kind clean ...] [--no-logos] [--academies N] [--scan]
    .venv/bin/python bench/uniform_findings.py dump TRUST OUT.json [--earlier EARLIER.pkl] [--no-logos]
                                                  [--tree CHECKOUT] [--kind clean ...] [--profile N]
                                                  [--academies N]
    .venv/bin/python bench/uniform_findings.py compare BEFORE.json AFTER.json

`earlier` runs the checks the uniform check reads (faces, logos) on every uniform case of the
bench set (bench/out/logo_set, make_logo_set.py: blazers, jumpers, tops, other schools'
uniforms) and every Nth untouched photo, with a trust file of the set (trust2.toml,
trust50.toml), and pickles their results: those checks are the same for both trees compared, so
they are run once. `dump` runs the uniform check alone on those cases, given those results as a
scan gives them (without `--earlier`: the uniform cases only, their true face boxes given as the
face check's findings and no logo check, so every chest is searched), and writes each case's
findings (academy, box, the three scores, the detail) and its time (wall and CPU: process_time);
`--no-logos` leaves the logo check's findings out (every chest searched; `earlier --no-logos` runs
the face check only), `--tree` runs another checkout's package (the
tree before a change), `--profile N` prints cProfile's N heaviest functions (CPU time) and a
table of the check's parts (half-crest search, chest crest search, colours, trims). `--academies N`
keeps the trust file's first N academies (as bench/profile_logos.py does; `dump` reads it from
`earlier`'s pickle when not given); `earlier --scan` takes the 13 photos of bench_logos.py's
whole-scan table instead of the uniform cases. `compare` says, case by
case, whether every finding is identical (scores, boxes and wording included), and which
academies each tree would flag at the default thresholds where they differ.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pickle
import pstats
import sys
import time
from multiprocessing import Pool
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SET = REPO / "bench" / "out" / "logo_set"
UNIFORM_KINDS = ("blazer_crest", "blazer_crest_cut", "blazer_trims", "uniform_crest", "uniform_colours",
                 "patterned_top", "decoy_uniform", "plain_top")
_W: dict = {}


def cases(clean_every: int) -> list[dict]:
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    clean = [r for r in rows if r["kind"] == "clean"]
    return [r for r in rows if r["kind"] in UNIFORM_KINDS] + clean[::clean_every]


def scan_cases() -> list[dict]:
    """The 13 photos of bench_logos.py's whole-scan table (`--quick --sections scan`)."""
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r["kind"] in ("clean", "blazer_crest", "crest")]
    return rows[:: max(1, len(rows) // 12)][:26]


def _picture(row: dict):
    from screening import imaging

    path = SET / "cases" / row["file"]
    return imaging.load(path, imaging.read_file(path), max_frames=64)


def _config(trust: str, academies: int | None):
    """The trust file's config, with only its first `academies` academies when given."""
    import dataclasses

    from screening.config import load_config

    config = load_config(SET / trust)
    return config if academies is None else dataclasses.replace(config, academies=config.academies[:academies])


def _init_earlier(trust: str, logos: bool = True, academies: int | None = None) -> None:
    import cv2

    cv2.setNumThreads(1)  # one core per worker, as in a scan's pool
    from screening.detectors.faces import FaceDetector
    from screening.detectors.logos import LogoDetector

    config = _config(trust, academies)
    _W["faces"] = FaceDetector(config.faces, None)
    _W["logos"] = LogoDetector(config, cache=SET / "cache") if logos else None


def _earlier(row: dict):
    from screening.model import Check, CheckResult

    picture = _picture(row)
    out = {}
    for check, det in ((Check.FACES, _W["faces"]), (Check.LOGOS, _W["logos"])):
        if det is not None:
            out[check] = CheckResult(check, tuple(det.detect(picture, dict(out))))
    return row["file"], out


def earlier(args) -> int:
    rows = scan_cases() if args.scan else cases(args.clean_every)
    if args.kind:
        rows = [r for r in rows if r["kind"] in args.kind]
    t = time.perf_counter()
    with Pool(args.workers, initializer=_init_earlier, initargs=(args.trust, not args.no_logos, args.academies)) as pool:
        results = dict(pool.imap(_earlier, rows, chunksize=1))
    with open(args.out, "wb") as fh:
        pickle.dump({"trust": args.trust, "academies": args.academies, "rows": rows, "results": results}, fh)
    print(f"{len(rows)} cases, faces and logos with {args.trust}: {time.perf_counter() - t:.0f} s -> {args.out}")
    return 0


def dump(args) -> int:
    if args.tree:  # another checkout's package (the tree before a change)
        sys.path.insert(0, str(Path(args.tree).resolve()))
    import cv2

    cv2.setNumThreads(1)
    from screening.detectors.logos import LogoDetector
    from screening.detectors.uniforms import UniformDetector
    from screening.model import Check, CheckResult, FaceFinding

    if args.earlier:
        with open(args.earlier, "rb") as fh:
            saved = pickle.load(fh)
        rows, given = saved["rows"], saved["results"]
        if args.academies is None:
            args.academies = saved.get("academies")
    else:  # the uniform cases, their true face given
        rows = [r for r in cases(10 ** 9) if r.get("face")]
        given = {r["file"]: {Check.FACES: CheckResult(Check.FACES, (FaceFinding(tuple(r["face"])),))} for r in rows}
    if args.kind:
        rows = [r for r in rows if r["kind"] in args.kind]
    if args.no_logos:
        given = {k: {c: v for c, v in g.items() if c is not Check.LOGOS} for k, g in given.items()}
    config = _config(args.trust, args.academies)
    det = UniformDetector(config, LogoDetector(config, cache=SET / "cache"))
    print(f"uniform check from {sys.modules['screening'].__file__}", file=sys.stderr)
    pictures = {r["file"]: _picture(r) for r in rows}
    det.detect(pictures[rows[0]["file"]], dict(given[rows[0]["file"]]))  # warm (the index is built)
    prof = cProfile.Profile(time.process_time) if args.profile else None  # CPU: load does not skew it
    out = []
    for row in rows:
        earlier_results = dict(given[row["file"]])
        t, cpu = time.perf_counter(), time.process_time()
        if prof:
            prof.enable()
        found = det.detect(pictures[row["file"]], earlier_results)
        if prof:
            prof.disable()
        out.append({"file": row["file"], "kind": row["kind"], "academy": row.get("academy"),
                    "seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - cpu,
                    "findings": [{"academy": f.academy, "box": list(f.box), "score": f.score,
                                  "trim_score": f.trim_score, "crest_score": f.crest_score,
                                  "detail": f.detail} for f in found]})
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump({"trust": args.trust, "cases": out}, fh, indent=1)
    total, cpu = sum(c["seconds"] for c in out), sum(c["cpu_seconds"] for c in out)
    print(f"{len(out)} cases, uniform check with {args.trust}: {total:.1f} s wall, {cpu:.1f} s CPU "
          f"({1000 * cpu / len(out):.0f} ms CPU a case)")
    if prof:
        for order in ("tottime", "cumulative"):
            s = io.StringIO()
            pstats.Stats(prof, stream=s).sort_stats(order).print_stats(args.profile)
            print(s.getvalue())
        print(parts(prof, len(out)))
    return 0


# The uniform check's parts, by the function that does each (cumulative CPU time under the profiler)
PARTS = {"half-crest search": ("uniforms.py", "_half_crest"), "chest crest search": ("uniforms.py", "_crest"),
         "colours": ("uniforms.py", "_main_shares"), "trims": ("uniforms.py", "_trim_scores"),
         "own body search (HOG)": ("uniforms.py", "bodies"), "whole check": ("uniforms.py", "detect"),
         "one half at one width (of one reference)": ("halves.py", "_match")}


def parts(prof, n: int) -> str:
    """Where the uniform check's CPU time went: each part's seconds and calls (the last: how many
    reference halves the half-crest search placed and judged, 4 halves x 6 badge widths of each
    academy searched on each torso)."""
    stats = pstats.Stats(prof).stats  # {(file, line, name): (calls, ncalls, tottime, cumtime, callers)}
    got = {label: sum(v[3] for (f, _, name), v in stats.items() if f.endswith(file) and name == fn)
           for label, (file, fn) in PARTS.items()}
    calls = {label: sum(v[1] for (f, _, name), v in stats.items() if f.endswith(file) and name == fn)
             for label, (file, fn) in PARTS.items()}
    return ("| " + " | ".join(PARTS) + " |\n| " + " | ".join(
        f"{got[k]:.2f} s ({calls[k]} calls)" for k in PARTS) + f" |\n({n} cases; CPU seconds under cProfile)")


def flagged(case: dict) -> set[str]:
    """Academies decide() would flag as a uniform at the default thresholds (crest 0.62, or
    colour 0.5 with trims 0.5)."""
    return {f["academy"] for f in case["findings"]
            if f["crest_score"] >= 0.62 or (f["score"] >= 0.5 and f["trim_score"] >= 0.5)}


def compare(args) -> int:
    before = {c["file"]: c for c in json.load(open(args.before, encoding="utf-8"))["cases"]}
    after = {c["file"]: c for c in json.load(open(args.after, encoding="utf-8"))["cases"]}
    same, differ = 0, []
    for name, b in before.items():
        a = after.get(name)
        if a is None:
            differ.append(f"{name}: missing after")
        elif a["findings"] == b["findings"]:
            same += 1
        else:
            differ.append(f"{name} ({b['kind']}): flagged {sorted(flagged(b))} -> {sorted(flagged(a))}\n"
                          f"    before {b['findings']}\n    after  {a['findings']}")
    tb, ta = (sum(c["seconds"] for c in d.values()) for d in (before, after))
    cb, ca = (sum(c.get("cpu_seconds", 0.0) for c in d.values()) for d in (before, after))
    print(f"{same}/{len(before)} cases identical; uniform check {tb:.1f} s -> {ta:.1f} s wall ({ta / tb:.2f}x), "
          f"{cb:.1f} s -> {ca:.1f} s CPU ({ca / max(cb, 1e-9):.2f}x)")
    for line in differ:
        print(line)
    return 0 if not differ else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("earlier")
    e.add_argument("trust")
    e.add_argument("out")
    e.add_argument("--clean-every", type=int, default=2)
    e.add_argument("--workers", type=int, default=2)
    e.add_argument("--kind", nargs="*", default=None, help="only the cases of these kinds (e.g. clean)")
    e.add_argument("--no-logos", action="store_true", help="the face check only (every chest then searched)")
    e.add_argument("--academies", type=int, default=None, help="only the trust's first N academies")
    e.add_argument("--scan", action="store_true", help="the whole-scan table's 13 photos instead of the uniform cases")
    d = sub.add_parser("dump")
    d.add_argument("trust")
    d.add_argument("out")
    d.add_argument("--earlier", default=None, help="the faces' and logos' results (`earlier`)")
    d.add_argument("--no-logos", action="store_true", help="leave the logo check's findings out")
    d.add_argument("--tree", default=None, help="run the screening package of this checkout")
    d.add_argument("--kind", nargs="*", default=None, help="only the cases of these kinds (e.g. clean)")
    d.add_argument("--profile", type=int, default=0)
    d.add_argument("--academies", type=int, default=None,
                   help="only the trust's first N academies (as `earlier` was run with)")
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    args = ap.parse_args()
    return {"earlier": earlier, "dump": dump, "compare": compare}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
