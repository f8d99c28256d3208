"""What the red team 31 cost cases (RT31-8, -20, -21) take on the whole screening path, beside an ordinary photo.

Each case is screened once in a fresh child process (the stand-in face check and a text check that
reads nothing, as in tests/test_redteam31.py): its CPU seconds and the growth of the child's peak
resident memory over what it held before the screening (imports and the file built). The cases are
run interleaved, `--rounds` times each, so a change of load moves every case alike; the load average
is printed at the start and the end.

    PYTHONPATH=. .venv/bin/python bench/bench_rt31_costs.py [--rounds 2] [--only NAME] [--trees A,B]

With --trees, each case is run under each tree in turn (PYTHONPATH set to it: a copy of the code before
a change, and after), interleaved: before/after in one run.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build(name: str) -> tuple[str, bytes]:
    from tests.test_redteam29 import _pchunk, _png
    from tests.test_redteam31 import _captioned, _cbor_store, _nested_store, _shared_description

    cases = {
        "ordinary photo (peer)": lambda: ("ordinary.jpg", _captioned("Sports day 2026, Year 6 v Year 5, 3-1")),
        "RT31-8 1 MB CBOR of 0s in PNG caBX": lambda: (
            "cbor.png", _png(_pchunk(b"caBX", _cbor_store(b"\x9f" + b"\x00" * 1_000_000 + b"\xff")))),
        "RT31-20 1000 IFDs share a 40 KB text": lambda: ("shared.jpg", _shared_description(1000)),
        "RT31-20 peer: 1 IFD, 40 KB text": lambda: ("one.jpg", _shared_description(1)),
        "RT31-21 100 KB CBOR under 30 superboxes": lambda: (
            "nested.png", _png(_pchunk(b"caBX", _nested_store(30, _cbor_text_list(100_000))))),
        "RT31-21 peer: the same unnested": lambda: (
            "flat.png", _png(_pchunk(b"caBX", _nested_store(0, _cbor_text_list(100_000))))),
    }
    return cases[name]()


def _cbor_text_list(size: int) -> bytes:
    """A CBOR array of short texts, about `size` bytes (an ordinary shape, many leaves), of indefinite
    length (a definite one of this size was refused before fix33d: cbor checked its whole count
    against the bytes left at every item)."""
    item = b"\x66" + b"abcdef"
    return b"\x9f" + item * (size // len(item)) + b"\xff"


NAMES = ["ordinary photo (peer)", "RT31-8 1 MB CBOR of 0s in PNG caBX", "RT31-20 1000 IFDs share a 40 KB text",
         "RT31-20 peer: 1 IFD, 40 KB text", "RT31-21 100 KB CBOR under 30 superboxes",
         "RT31-21 peer: the same unnested"]


def child(name: str) -> dict:
    from tests.test_redteam6 import kinds, verdict
    from tests.test_video import TOML

    from screening.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "screening.toml").write_text(TOML)
        config = load_config(Path(tmp) / "screening.toml")
        filename, data = build(name)
        path = Path(tmp) / filename
        path.write_bytes(data)
        before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu = time.process_time()
        _, decision = verdict(path, config)
        cpu = time.process_time() - cpu
        after_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"name": name, "bytes": len(data), "cpu": cpu, "rss_mb": (after_rss - before_rss) / 1024,
            "found": sorted(kinds(decision) or {"cleared"})}


def main() -> None:
    if "--child" in sys.argv:
        print(json.dumps(child(sys.argv[sys.argv.index("--child") + 1])))
        return
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 1
    names = [sys.argv[sys.argv.index("--only") + 1]] if "--only" in sys.argv else NAMES
    print(f"load average at start: {os.getloadavg()}")
    trees = sys.argv[sys.argv.index("--trees") + 1].split(",") if "--trees" in sys.argv else [os.getcwd()]
    rows: dict[str, list[dict]] = {}
    for _ in range(rounds):
        for name in names:
            for tree in trees:
                env = {**os.environ, "PYTHONPATH": tree}
                out = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True,
                                     check=True, cwd=tree, env=env).stdout
                rows.setdefault(f"{name} [{Path(tree).name}]", []).append(json.loads(out.strip().splitlines()[-1]))
    print(f"load average at end: {os.getloadavg()}")
    print("| case | file bytes | CPU s (each round) | peak RSS growth MB | verdict |")
    print("|---|---|---|---|---|")
    for name, runs in rows.items():
        cpu = ", ".join(f"{r['cpu']:.2f}" for r in runs)
        rss = ", ".join(f"{r['rss_mb']:.0f}" for r in runs)
        print(f"| {name} | {runs[0]['bytes']:,} | {cpu} | {rss} | {', '.join(runs[0]['found'])} |")


if __name__ == "__main__":
    main()
