"""CPU cost of the sibling-list pairing (screening/vision/name_siblings.py) and of the name matcher
on 300 KB captions (random prose of list words, repeated lists, a run of commas, middle names), and
of siblings() alone at 300 KB and 1.2 MB (linear: 4x the text, about 4x the time). Run it with two
trees interleaved, in one shell, and compare CPU seconds (process time):

    for r in 1 2; do for t in ../main .; do PYTHONPATH=$t .venv/bin/python bench/bench_siblings.py $t; done; done
"""

from __future__ import annotations

import random
import sys
import time

from screening.vision import names as nm
from screening.vision.name_forms import siblings


def _cpu(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    tree = sys.argv[1] if len(sys.argv) > 1 else "."
    rng = random.Random(1)
    words = "Amelia Tom Ella Hart Smith and the from Year 4 (Year 6) twins family went home, & / + or Miss".split()
    texts = {"prose": " ".join(rng.choice(words) for _ in range(60000))[:300_000],
             "lists": ("Amelia and Tom Hart, " * 20000)[:300_000], "commas": ("a, " * 100000)[:300_000],
             "words": ("Amelia Rose Mae " * 20000)[:300_000]}
    matcher = nm.Matcher(nm.targets([], [("P1", "Amelia Hart"), ("P2", "Tom Smith")]), floor=0.7)
    for name, text in texts.items():
        s = _cpu(lambda: sum(1 for _ in siblings(text)))
        f = _cpu(lambda: matcher.find(text))
        print(f"{tree:10} {name:7} siblings {s:6.3f}s  Matcher.find {f:6.3f}s")
    for name, unit in [("asides", "(Year 4) + / or twins Hart family, "), ("surname-first", "a, ")]:
        a, b = (_cpu(lambda n=n: sum(1 for _ in siblings((unit * (n // len(unit) + 1))[:n])))
                for n in (300_000, 1_200_000))
        print(f"{tree:10} {name:13} siblings 300 KB {a:.3f}s  1.2 MB {b:.3f}s")


if __name__ == "__main__":
    main()
