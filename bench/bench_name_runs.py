"""Needless names from text: the name matcher (vision/names.py) over ordinary prose, each line as
written, in capitals, and in capitals without its spaces (as PP-OCRv4 reads a line of capitals,
RT20-1/2), against the text set's register and academies (bench/make_text_set.py). Prints how many
lines name someone at [text] min_similarity, per rendering, and the matcher's time per line.

    PYTHONPATH=. .venv/bin/python bench/bench_name_runs.py [--quick] [--show] CORPUS...

CORPUS: files or folders of prose (e.g. the Debian changelogs under /usr/share/doc, gzipped or
not). The code measured is the `screening` imported: PYTHONPATH=<another checkout> measures that one.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
import time
import tomllib
from pathlib import Path

from screening.config import TextSettings
from screening.vision import names as nm

SET = Path(__file__).resolve().parent / "out" / "text_set"


def lines(paths: list[str], limit: int) -> list[str]:
    out: list[str] = []
    files = sorted(f for p in map(Path, paths) for f in ([p] if p.is_file() else p.rglob("changelog*")) if f.is_file())
    for f in files:
        opener = gzip.open if f.suffix == ".gz" else open
        try:
            with opener(f, "rt", errors="replace") as fh:
                out += [s.strip() for s in fh if len(s.strip()) >= 12]
        except (OSError, EOFError):
            continue
        if len(out) >= limit:
            break
    return out[:limit]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--quick", action="store_true", help="5000 lines instead of 30000")
    ap.add_argument("--show", action="store_true", help="print the lines that name someone")
    args = ap.parse_args()
    if not (SET / "register.csv").is_file():
        print(f"{SET} not found: run bench/make_text_set.py first")
        return 0
    config = tomllib.loads((SET / "screening.toml").read_text())
    academies = [(a["id"], [a["name"], *a.get("aliases", [])]) for a in config["academy"]]
    with open(SET / "register.csv", newline="") as fh:
        people = [(r["person_id"], r["name"]) for r in csv.DictReader(fh)]
    matcher = nm.Matcher(nm.targets(academies, people))
    texts = lines(args.corpus, 5000 if args.quick else 30000)
    renderings = {"as written": lambda s: s, "capitals": str.upper,
                  "capitals, no spaces": lambda s: "".join(s.upper().split())}
    print(f"## {len(texts)} lines, {len(people)} people, {len(academies)} academies, "
          f"min_similarity {TextSettings.min_similarity}")
    print("| rendering | lines naming someone | ms per line |")
    print("|---|---|---|")
    for label, render in renderings.items():
        named, started = [], time.perf_counter()
        for s in texts:
            found = [m for m in matcher.find(render(s)) if m.similarity >= TextSettings.min_similarity]
            if found:
                named.append((render(s), found))
        ms = 1000 * (time.perf_counter() - started) / max(1, len(texts))
        print(f"| {label} | {len(named)} | {ms:.2f} |")
        if args.show:
            for text, found in named[:20]:
                print(f"    {text[:100]!r}: {[(m.target.name, m.similarity) for m in found]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
