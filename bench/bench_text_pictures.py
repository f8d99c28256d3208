"""What reading text for pictures costs (formats/textpictures.py) on large hostile texts.

For each text (50 MB, or 8 MB with --quick): the reader's time and peak memory, and, as the peer
measured in the same run, one `base64.b64encode` of the same bytes (a single C pass over them).

    PYTHONPATH=. .venv/bin/python bench/bench_text_pictures.py [--quick]
"""

from __future__ import annotations

import base64
import random
import sys
import time
import tracemalloc


def texts(size: int) -> dict[str, bytes]:
    rng = random.Random(0)
    words = b"the school sports day took place on the north field with year six children running".split()
    prose = b" ".join(rng.choice(words) for _ in range(size // 5))[:size]
    lines = base64.encodebytes(rng.randbytes(size * 3 // 4))[:size]
    dump = b"".join(b"%08x  %s  |................|\n*\n" % (i * 32, b" ".join(b"%02x" % c for c in rng.randbytes(16)))
                    for i in range(size // 80))
    return {"'A' x N": b"A" * size, "hex digits": b"0123456789abcdef" * (size // 16),
            "random base64 in lines": lines, "prose": prose, "random bytes": rng.randbytes(size),
            "short base64 runs": (b"QUJD" * 17 + b".") * (size // 69),
            "a hex dump folding every line": dump[:size]}


def timed(fn, *args) -> tuple[float, float]:
    """(seconds, peak MB allocated: a second call, traced)."""
    start = time.perf_counter()
    fn(*args)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak / (1 << 20)


def main() -> int:
    from screening.formats.textpictures import text_pictures

    size = (8 if "--quick" in sys.argv else 50) << 20
    print(f"| text ({size >> 20} MB) | reader s | reader peak MB | peer: b64encode s | reader / peer |")
    print("|---|---|---|---|---|")
    for name, text in texts(size).items():
        seconds, peak = timed(text_pictures, text, "bench")
        peer, _ = timed(base64.b64encode, text)
        print(f"| {name} | {seconds:.2f} | {peak:.0f} | {peer:.2f} | {seconds / peer:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
