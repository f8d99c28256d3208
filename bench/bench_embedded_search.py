"""The cost and the outcome of searching a photo's containers for embedded pictures (RT15-10):
formats.check (completeness + every embedded picture found) and metadata.read_blocks, on the
shared real photos. Run it against two checkouts to compare (PYTHONPATH picks the `screening`):

    PYTHONPATH=../main .venv/bin/python bench/bench_embedded_search.py --quick
    .venv/bin/python bench/bench_embedded_search.py --quick

Prints seconds, files, embedded pictures found, files refused (ImageError/MetadataError), and a
digest of the per-file outcomes so two runs can be diffed (--list writes them one per line)."""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shared_photos import SHARED  # noqa: E402

import screening  # noqa: E402
from screening import formats  # noqa: E402
from screening.formats import metadata  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="at most 400 files")
    parser.add_argument("--list", type=Path, help="write each file's outcome here")
    args = parser.parse_args()
    paths = sorted(p for p in SHARED.rglob("*") if p.is_file() and p.suffix.lower() in
                   (".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".dng")) if SHARED.is_dir() else []
    paths = paths[:400] if args.quick else paths
    if not paths:
        print("no shared photos: nothing measured")
        return
    outcomes, found, refused, spent = [], 0, 0, 0.0
    for p in paths:
        data = p.read_bytes()
        fmt = formats.sniff(data)
        if fmt is None:
            continue
        start = time.perf_counter()
        try:
            embedded = formats.check(fmt, data)
            metadata.read_blocks(data)
            outcome = f"{len(embedded)} embedded: " + "; ".join(e.where for e in embedded)
            found += len(embedded)
        except (formats.ImageError, formats.MetadataError) as exc:
            outcome, refused = f"refused: {exc}", refused + 1
        spent += time.perf_counter() - start
        outcomes.append(f"{p.relative_to(SHARED)}\t{outcome}")
    digest = hashlib.sha256("\n".join(outcomes).encode()).hexdigest()[:12]
    print(f"screening from {Path(screening.__file__).parent.parent.name}: {len(outcomes)} files, {spent:.2f} s "
          f"({1000 * spent / len(outcomes):.2f} ms/file), {found} embedded, {refused} refused, outcomes {digest}")
    if args.list:
        args.list.write_text("\n".join(outcomes) + "\n")


if __name__ == "__main__":
    main()
