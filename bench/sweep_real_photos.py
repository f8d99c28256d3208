"""Every untouched real photo of ../shared/data searched for the demo trust's crests, run by hand:
`.venv/bin/python bench/sweep_real_photos.py [--step 1]`.

None of those photos shows an academy crest, so every finding at or above min_score is a
false flag; it prints them and the time taken. tests/test_logo_criteria.py searches every
third photo of the same list (`--step 3` here) in the default test run; this is the whole sweep.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.real_photos import real_photos, sweep  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=int, default=1, help="every Nth photo only")
    args = ap.parse_args()
    if not (SHARED / "MANIFEST.md").is_file():
        print(f"{SHARED} not found")
        return 2
    t = time.perf_counter()
    photos = [path for path, _ in real_photos(SHARED)][:: args.step]
    decoded = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        flags = sweep(SHARED, photos, Path(tmp))
        searched = time.perf_counter() - t
    print(f"{len(photos)} photos (decoded and deduplicated in {decoded:.0f} s), searched in {searched:.0f} s "
          f"(2 processes): {len(flags)} flagged")
    for flag in flags:
        print("  " + flag)
    return 1 if flags else 0


if __name__ == "__main__":
    sys.exit(main())
