"""Peak memory and time of one hostile file each, through decoding and the location check.

Every file is screened in a fresh process (peak RSS is per process), by screening's decode
stage plus the metadata readers, and by the peer measured in the same run: plain Pillow
decoding every frame to RGB, as a naive reader would. Target: every file under 2 GB.

    .venv/bin/python bench/bench_hostile.py           # the full-size reproductions (~3 min)
    .venv/bin/python bench/bench_hostile.py --quick   # smaller bombs (~1 min)
    .venv/bin/python bench/bench_hostile.py --before ../main   # also an older checkout, same run
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import hostile as H  # noqa: E402

LIMIT_MB = 2048

# VmHWM is this process's own peak (ru_maxrss would carry the parent's peak over fork and exec).
_PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

_OURS = _PEAK + """
import json, sys, time
from pathlib import Path
from screening import imaging
try:
    from screening.formats.metadata import MetadataError
except ImportError:  # a checkout from before the formats/ package
    from screening.metadata import MetadataError
from screening.config import LocationSettings
from screening.detectors.location import LocationDetector
from types import SimpleNamespace
path = Path(sys.argv[1]); data = path.read_bytes(); t = time.monotonic(); outcome = []
try:
    p = imaging.load(path, data); outcome.append(f"decoded {len(p.frames)} view(s)")
except imaging.ImageError as e:
    outcome.append("error: " + str(e)[:70])
try:
    LocationDetector(SimpleNamespace(academies=(), location=LocationSettings())).detect_undecoded(path, data)
except MetadataError as e:
    outcome.append("metadata error: " + str(e)[:50])
print(json.dumps([peak_mb(), time.monotonic() - t, "; ".join(outcome)]))
"""

_PEER = _PEAK + """
import json, sys, time
from PIL import Image
t = time.monotonic(); outcome = "decoded"
try:
    with Image.open(sys.argv[1]) as im:
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i); im.convert("RGB")
except Exception as e:
    outcome = "error: " + (str(e) or type(e).__name__)[:60]
print(json.dumps([peak_mb(), time.monotonic() - t, outcome]))
"""


def cases(quick: bool) -> dict[str, bytes]:
    return {
        "alpha-face.png": H.alpha_face("RGBA"),
        "thumbnail-face.jpg": H.jpeg_with_exif_thumbnail(),
        "appended-face.jpg": H.jpeg_with_appended_jpeg(),
        "mpf-face.jpg": H.jpeg_with_mpf(),
        "subifd-face.tif": H.tiff_with_subifd(),
        "cut-with-eoi.jpg": H.jpeg_cut_with_eoi(0.4),
        "first-scan-only.jpg": H.progressive_first_scan(),
        "int32.tif": H.tiff_int32(),
        "ztxt-bomb.png": H.png_ztxt_bomb(100 if quick else 900),
        "apng-64x12MP.png": H.apng_frames(16 if quick else 64, 4000, 3000),
        "xmp-openers.png": H.png_xmp_openers(30_000 if quick else 300_000),
    }


def run(script: str, path: Path, checkout: Path = REPO, timeout: float = 600) -> tuple[float, float, str]:
    python = checkout / ".venv" / "bin" / "python" if checkout != REPO else Path(sys.executable)
    try:
        out = subprocess.run([str(python), "-c", script, str(path)], capture_output=True, text=True,
                             timeout=timeout, cwd=checkout, check=False)
        return tuple(json.loads(out.stdout.strip().splitlines()[-1]))
    except subprocess.TimeoutExpired:
        return float("nan"), timeout, "timed out"
    except (IndexError, json.JSONDecodeError):
        return float("nan"), float("nan"), "crashed: " + out.stderr.strip()[-80:]


_COST = """
import json, sys, time
from pathlib import Path
from types import SimpleNamespace
from screening import imaging
from screening.config import LocationSettings
from screening.detectors.location import LocationDetector
files = [Path(p) for p in sys.argv[1:]]
detector = LocationDetector(SimpleNamespace(academies=(), location=LocationSettings()))
imaging.load(files[0])  # imports and first-call costs are not per photo
t = time.monotonic(); errors = 0
for f in files:
    try:
        p = imaging.load(f); detector.detect(p, {})
    except Exception:
        errors += 1
print(json.dumps([len(files) / (time.monotonic() - t), errors]))
"""


def decode_cost(before: Path | None, count: int) -> None:
    """Decode plus location check per real photo of ../shared/data: this checkout vs `before`."""
    shared = REPO.parent / "shared" / "data"
    photos = sorted(p for p in shared.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif", ".tiff"))
    if not photos:
        print("(../shared/data not found: no decode-cost figures)")
        return
    photos = [str(p) for p in photos[:count]]
    rows = [("this checkout", REPO)] + ([("before", before.resolve())] if before else [])
    print(f"\n| decode + location check, {len(photos)} photos of ../shared/data, 1 process | images/s | errors |")
    print("|---|---|---|")
    for label, checkout in rows:
        python = checkout / ".venv" / "bin" / "python" if checkout != REPO else Path(sys.executable)
        out = subprocess.run([str(python), "-c", _COST, *photos], capture_output=True, text=True, cwd=checkout,
                             timeout=1800, check=False)
        rate, errors = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {label} | {rate:.1f} | {errors} |", flush=True)


def _cells(m: tuple[float, float, str]) -> str:
    return f"{m[0]:.0f} MB | {m[1]:.2f} s | {m[2]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller bombs")
    parser.add_argument("--before", type=Path, help="another checkout (with its .venv) measured alike")
    args = parser.parse_args()
    worst = 0.0
    before = " before peak RSS | time | outcome |" if args.before else ""
    print(f"| file | size | screening peak RSS | time | outcome | Pillow peak RSS | time | outcome |{before}")
    print("|---|---|---|---|---|---|---|---|" + ("---|---|---|" if args.before else ""))
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in cases(args.quick).items():
            path = Path(tmp) / name
            path.write_bytes(data)
            ours, peer = run(_OURS, path), run(_PEER, path)
            worst = max(worst, ours[0])
            row = f"| {name} | {len(data) / 1024:.0f} KB | {_cells(ours)} | {_cells(peer)} |"
            if args.before:
                row += f" {_cells(run(_OURS, path, args.before.resolve()))} |"
            print(row, flush=True)
    print(f"\nworst peak RSS of screening: {worst:.0f} MB (limit {LIMIT_MB} MB)")
    decode_cost(args.before, 40 if args.quick else 200)
    return 0 if worst < LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
