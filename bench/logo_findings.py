"""Every finding of the logo check on bench cases, saved to compare two trees case by case.

    .venv/bin/python bench/logo_findings.py dump OUT.json [--every 4] [--trust screening.toml] [--workers 2]
    .venv/bin/python bench/logo_findings.py compare BEFORE.json AFTER.json

`dump` runs the logo check (the bench trust, bench/out/logo_set, built by make_logo_set.py) on
every Nth crest, decoy and clean case of each kind and size band (the thinning bench_logos.py
--every uses) and the family crests, and writes each case's findings: academy (and the
academies it may also be), score, box. `compare` says, case by case, which academies at or
above min_score each tree names: crests lost, crests gained, decoys or clean photos newly
flagged, and how many cases are identical. A change that is to cost less must leave every
case's named academies as they were (scores may move) or only gain crests.
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


def _init(trust: str) -> None:
    import cv2

    cv2.setNumThreads(1)  # one core per worker, as in a scan's pool
    from screening.config import load_config
    from screening.detectors.logos import LogoDetector

    _W["det"] = LogoDetector(load_config(SET / trust), cache=SET / "cache")


def _run(row: dict) -> dict:
    rgb = np.asarray(Image.open(SET / "cases" / row["file"]).convert("RGB"))
    t = time.perf_counter()
    found = _W["det"].detect(_Picture(rgb), {})
    return {"file": row["file"], "kind": row["kind"], "band": row.get("band"), "academy": row.get("academy"),
            "seconds": time.perf_counter() - t,
            "findings": [{"academy": f.academy, "also": list(f.also), "score": f.score, "box": list(f.box),
                          "detail": f.detail} for f in found]}


def cases(every: int) -> list[dict]:
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    groups = defaultdict(list)
    for r in rows:
        if r["kind"] in ("crest", "decoy", "clean", "family_crest"):
            groups[r["kind"], r.get("band")].append(r)
    return [r for g in groups.values() for r in g[::every]]


def dump(args) -> int:
    rows = cases(args.every)
    t = time.perf_counter()
    with Pool(args.workers, initializer=_init, initargs=(args.trust,)) as pool:
        out = pool.map(_run, rows, chunksize=2)
    Path(args.out).write_text(json.dumps(out, indent=0), encoding="utf-8")
    print(f"{len(out)} cases in {time.perf_counter() - t:.0f} s, logo check {sum(r['seconds'] for r in out):.0f} s "
          f"in all -> {args.out}")
    return 0


def named(row: dict, min_score: float) -> frozenset:
    return frozenset(frozenset([f["academy"], *f["also"]]) for f in row["findings"] if f["score"] >= min_score)


def compare(args) -> int:
    from screening.config import LogoSettings

    min_score = LogoSettings().min_score
    before = {r["file"]: r for r in json.loads(Path(args.before).read_text(encoding="utf-8"))}
    after = {r["file"]: r for r in json.loads(Path(args.after).read_text(encoding="utf-8"))}
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--every", type=int, default=4)
    d.add_argument("--trust", default="screening.toml", help="trust file in the bench set (trust50.toml: 51 academies)")
    d.add_argument("--workers", type=int, default=2)
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    args = ap.parse_args()
    if not (SET / "truth.jsonl").is_file():
        print(f"{SET} is empty: run bench/make_logo_set.py first")
        return 2
    return dump(args) if args.cmd == "dump" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
