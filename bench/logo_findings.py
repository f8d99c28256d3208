"""Every finding of the logo check on bench cases, saved to compare two trees case by case.

    .venv/bin/python bench/logo_findings.py dump OUT.json [--every 4] [--clean-every 4] [--only odd|even]
                                                  [--kinds crest decoy ...] [--like DUMP.json]
                                                  [--trust screening.toml] [--workers 2]
                                                  [--without STEP ...] [--cases FILE ...]
    .venv/bin/python bench/logo_findings.py compare BEFORE.json AFTER.json
    .venv/bin/python bench/logo_findings.py table DUMP.json    (the miss table by size band and style)

`dump` runs the logo check (the bench trust, bench/out/logo_set, built by make_logo_set.py) on
every Nth crest, decoy and clean case of each kind and size band (the thinning bench_logos.py
--every uses) and the family crests, and writes each case's findings: academy (and the
academies it may also be), score, box. `compare` says, case by case, which academies at or
above min_score each tree names: crests lost, crests gained, decoys or clean photos newly
flagged, and how many cases are identical. A change that is to cost less must leave every
case's named academies as they were (scores may move) or only gain crests.

`--without STEP ...` runs the detector without those steps (detectors/logos.py STEPS: the check as
before them, exactly). Each case also records `cast`: how many placements the "cast" step judged
again (logo_match.cast.worth) and how many it changed (cast_free returned another placement); a
case where it changed none has exactly the findings it has without the step. `degenerate` counts the
placements() calls whose best affine fit was not sane and asked for a similarity (step "degenerate"):
a case with none has exactly the findings it has without that step. `hidden` counts the placements
the "hidden" step judged again on the part in view (logo_match.hidden.uncovered) and how many it
changed: a case where it changed none has exactly the findings it has without the step. `windows`
counts the small-crest passes (logo_match.small._merge) and those whose windows differ from the best
MAX_WINDOWS places by score alone (the rule before issue 16, recall33): a case where none differ has
exactly the findings it had before.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SET = REPO / "bench" / "out" / "logo_set"
_W: dict = {}


class _Picture:
    def __init__(self, rgb):
        self.frames = [rgb]


def _init(trust: str, without=()) -> None:
    import cv2

    cv2.setNumThreads(1)  # one core per worker, as in a scan's pool
    from screening.config import load_config
    from screening.detectors.logos import STEPS, LogoDetector
    from screening.vision.logo_match import cast

    _W["det"] = LogoDetector(load_config(SET / trust), cache=SET / "cache", steps=STEPS - set(without))
    _W["cast"] = [0, 0]
    free = cast.cast_free

    def counted(cand, p, *a, **k):  # how often the cast step judged a placement again, and changed it
        q = free(cand, p, *a, **k)
        _W["cast"][0] += 1
        _W["cast"][1] += q is not p
        return q

    cast.cast_free = counted
    from screening.vision.logo_match import index

    _W["degenerate"] = [0]
    similarity = index._similarity

    def asked(*a, **k):  # how often a degenerate affine fit made placements() ask for a similarity
        _W["degenerate"][0] += 1
        return similarity(*a, **k)

    index._similarity = asked
    from screening.vision.logo_match import hidden

    _W["hidden"] = [0, 0]
    uncovered = hidden.uncovered

    def judged(p, *a, **k):  # how often the hidden step judged a placement again, and changed it
        q = uncovered(p, *a, **k)
        _W["hidden"][0] += 1
        _W["hidden"][1] += q is not p
        return q

    hidden.uncovered = judged
    from screening.vision.logo_match import small

    _W["windows"] = [0, 0]
    merge = small._merge

    def ranked(found, *a, **k):  # how often the small-crest windows were chosen, and how often not as before
        before = merge([small.Window(w.box, w.score, set(w.academies)) for w in found], each_first=False)  # as before
        kept = merge(found, *a, **k)
        _W["windows"][0] += 1
        _W["windows"][1] += sorted((w.box, sorted(w.academies)) for w in kept) != \
            sorted((w.box, sorted(w.academies)) for w in before)
        return kept

    small._merge = ranked


def _run(row: dict) -> dict:
    rgb = np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB"))
    t, cpu = time.perf_counter(), time.process_time()
    _W["cast"][:] = [0, 0]
    _W["degenerate"][0] = 0
    _W["hidden"][:] = [0, 0]
    _W["windows"][:] = [0, 0]
    found = _W["det"].detect(_Picture(rgb), {})
    return {"file": row["file"], "kind": row["kind"], "band": row.get("band"), "academy": row.get("academy"),
            "seconds": time.perf_counter() - t, "cpu": time.process_time() - cpu, "cast": list(_W["cast"]),
            "degenerate": _W["degenerate"][0], "hidden": list(_W["hidden"]),
            "windows": list(_W["windows"]),
            "findings": [{"academy": f.academy, "also": list(f.also), "score": f.score, "box": list(f.box),
                          "detail": f.detail} for f in found]}


def cases(every: int, clean_every: int | None = None, only: str | None = None) -> list[dict]:
    """Every Nth case of each kind and size band (the untouched photos every `clean_every`th, when
    given); `only` "odd" or "even" keeps the cases of odd or even number (a tuning half and a
    reporting half)."""
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    groups = defaultdict(list)
    for r in rows:
        if r["kind"] in ("crest", "decoy", "clean", "family_crest"):
            if only and int(r["file"][:4]) % 2 != (only == "odd"):
                continue
            groups[r["kind"], r.get("band")].append(r)
    return [r for (kind, _), g in groups.items() for r in g[::clean_every if kind == "clean" and clean_every else every]]


def dump(args) -> int:
    rows = cases(args.every, args.clean_every, args.only)
    if args.like:  # the very cases of another dump (e.g. to run main again on the cases that differ)
        wanted = {r["file"] for r in _load(args.like)}
        rows = [r for r in cases(1) if r["file"] in wanted]
    if args.kinds:
        rows = [r for r in rows if r["kind"] in args.kinds]
    if args.cases:  # these case files (e.g. the misses), whatever the thinning
        rows = [r for r in cases(1) if r["file"] in args.cases or r["file"][:4] in args.cases]
    t = time.perf_counter()
    if args.interleave:  # kinds and bands taken in turn: a run cut short still samples each
        groups = defaultdict(list)
        for r in rows:
            groups[r["kind"], r.get("band")].append(r)
        rows = [r for k in range(max(map(len, groups.values()))) for g in groups.values() if k < len(g)
                for r in g[k:k + 1]]
    out = []
    with Pool(args.workers, initializer=_init, initargs=(args.trust, tuple(args.without))) as pool, \
            open(f"{args.out}.partial", "w", encoding="utf-8") as partial:
        for row in pool.imap(_run, rows, chunksize=1):  # each case saved as it ends: a long run can be cut
            out.append(row)
            partial.write(json.dumps(row) + "\n")
            partial.flush()
    Path(args.out).write_text(json.dumps(out, indent=0), encoding="utf-8")
    print(f"{len(out)} cases in {time.perf_counter() - t:.0f} s, logo check {sum(r['seconds'] for r in out):.0f} s "
          f"in all -> {args.out}")
    return 0


def named(row: dict, min_score: float) -> frozenset:
    return frozenset(frozenset([f["academy"], *f["also"]]) for f in row["findings"] if f["score"] >= min_score)


def _load(path: str) -> list[dict]:
    """A dump, or the .partial lines of one cut short."""
    text = Path(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()] if path.endswith(".partial") \
        else json.loads(text)


def compare(args) -> int:
    from screening.config import LogoSettings

    min_score = LogoSettings().min_score
    before, after = {r["file"]: r for r in _load(args.before)}, {r["file"]: r for r in _load(args.after)}
    same = lost = gained = flagged = changed = 0
    for name in sorted(before.keys() & after.keys()):
        b, a = before[name], after[name]
        nb, na = named(b, min_score), named(a, min_score)
        if nb == na:
            same += 1
            continue
        right = b["academy"]
        had = any(right in n for n in nb) if right else False
        has = any(right in n for n in na) if right else False
        what = ("crest lost" if had and not has else "crest gained" if has and not had else
                "newly flagged" if not right and len(na) > len(nb) else "names changed")
        lost += what == "crest lost"
        gained += what == "crest gained"
        flagged += what == "newly flagged"
        changed += what == "names changed"
        print(f"{name} ({b['kind']} {b.get('band')} {right}): {what}: "
              f"{sorted(map(sorted, nb))} -> {sorted(map(sorted, na))}")
    tb = sum(before[n]["seconds"] for n in before.keys() & after.keys())
    ta = sum(after[n]["seconds"] for n in before.keys() & after.keys())
    print(f"{len(before.keys() & after.keys())} cases: {same} identical, {lost} crests lost, {gained} gained, "
          f"{flagged} decoys/clean newly flagged, {changed} other changes; logo check {tb:.0f} s -> {ta:.0f} s "
          f"({ta / max(tb, 1e-9):.2f}x, runs at different times: load differs)")
    return 1 if lost or flagged or changed else 0


STYLES = ("shield", "badge", "wordmark", "shaded", "embroidered")


def table(args) -> int:
    """The miss table of a dump: crests found by size band (and turn) and drawing style, decoys and
    untouched photos flagged, crest photos naming another academy too; the misses listed."""
    from screening.config import LogoSettings

    min_score = LogoSettings().min_score
    rows = _load(args.dump)
    found: dict = defaultdict(lambda: [0, 0])
    misses, wrong = [], 0
    for r in rows:
        if r["kind"] != "crest":
            continue
        style = r["academy"] if r["academy"] in STYLES else "shield"
        got = named(r, min_score)
        hit = any(r["academy"] in n for n in got)
        wrong += any(r["academy"] not in n for n in got)
        for key in ((r["band"], style), (r["band"], "all"), ("all", style), ("all", "all")):
            found[key][0] += hit
            found[key][1] += 1
        if not hit:
            misses.append(f"{r['file']} ({r['band']}, {r['academy']})")
    bands = [b for b in ("5-10%", "10-20%", ">20%", "40-60 px", "turned 30-45") if (b, "all") in found] + ["all"]
    print("| style | " + " | ".join(bands) + " |\n|---|" + "---|" * len(bands))
    for style in (*STYLES, "all"):
        cells = [f"{found[b, style][0]}/{found[b, style][1]}" if (b, style) in found else "-" for b in bands]
        print(f"| {style} | " + " | ".join(cells) + " |")
    for kind in ("decoy", "clean"):
        some = [r for r in rows if r["kind"] == kind]
        flagged = [r["file"] for r in some if named(r, min_score)]
        print(f"{kind}: {len(flagged)}/{len(some)} flagged {flagged}")
    print(f"crest photos naming another academy too: {wrong}/{found['all', 'all'][1]}")
    print("missed: " + ", ".join(misses))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--every", type=int, default=4)
    d.add_argument("--clean-every", type=int, default=None, help="thin the untouched photos differently")
    d.add_argument("--only", choices=("odd", "even"), default=None, help="cases of odd or even number only")
    d.add_argument("--interleave", action="store_true", help="take the kinds and bands in turn")
    d.add_argument("--kinds", nargs="*", default=None, help="only these kinds (crest, decoy, clean, family_crest)")
    d.add_argument("--like", default=None, help="the cases of this dump (or .partial), nothing else")
    d.add_argument("--trust", default="screening.toml", help="trust file in the bench set (trust50.toml: 51 academies)")
    d.add_argument("--workers", type=int, default=2)
    d.add_argument("--without", nargs="*", default=[], help="logo steps left out (the check as before them)")
    d.add_argument("--cases", nargs="*", default=None, help="only these cases (file names or 4-digit numbers)")
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    t = sub.add_parser("table")
    t.add_argument("dump")
    args = ap.parse_args()
    if args.cmd == "table":
        return table(args)
    if not (SET / "truth.jsonl").is_file():
        print(f"{SET} is empty: run bench/make_logo_set.py first")
        return 2
    return dump(args) if args.cmd == "dump" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
