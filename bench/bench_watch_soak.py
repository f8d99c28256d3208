"""Kill-and-restart soak of `screening watch`, run by hand: `.venv/bin/python bench/bench_watch_soak.py [--quick]`.

Runs the soak of tests/test_watch_soak.py (fake detectors, a real `screening watch` process)
twice in this one run: with the job SIGKILLed at seeded random moments and started again,
and, as the peer, the same arrivals with no kill. Prints one markdown table: files, links,
kills, wall time, sort events and recoveries from the job's log, and whether the check
(every file once, byte-identical, nothing outside touched) passed. --quick: 100 files, 5 kills.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import watch_soak  # noqa: E402 - the scenario lives with the tests


def measure(files: int, kills: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-watch-soak-") as tmp:
        soak = watch_soak.run(Path(tmp), seed=seed, files=files, kills=kills)
        try:
            watch_soak.check(soak)
            verdict = "passed"
        except AssertionError as exc:
            verdict = f"FAILED: {str(exc)[:80]}"
        log = soak.log.read_text(errors="replace")
    return {"files": len(soak.expected) + len(soak.maybe), "links": len(soak.links), "kills": kills,
            "seconds": soak.seconds, "sorted": log.count('"event": "sorted"'),
            "recovered": log.count('"event": "recovered"'), "check": verdict}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 files, 5 kills")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    files, kills = (100, 5) if args.quick else (200, 10)
    rows = [("killed and restarted", measure(files, kills, args.seed)),
            ("peer: never killed", measure(files, 0, args.seed))]
    peer = rows[1][1]["seconds"]
    print("| run | files (incl. deleted) | links | kills | wall s | x peer | sorted | recovered | check |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, r in rows:
        print(f"| {name} | {r['files']} | {r['links']} | {r['kills']} | {r['seconds']:.1f} | "
              f"{r['seconds'] / peer:.2f} | {r['sorted']} | {r['recovered']} | {r['check']} |")
    return 0 if all(r["check"] == "passed" for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
