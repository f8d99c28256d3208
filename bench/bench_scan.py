"""Whole-batch benchmark, run by hand: `.venv/bin/python bench/bench_scan.py [FOLDER]`.

Prints one markdown table, every row measured in this one run as a whole process
(wall time and peak RSS from the kernel's accounting of the finished child):

- `screening scan` on FOLDER (every check, all cores, no result cache)
- the decode floor: only opening and decoding the same files (screening.imaging.load)
- the location check alone (metadata only, no pixels decoded), against
- `exiftool -n -GPS* -r FOLDER`, the usual tool for location alone (if installed)
- `face_recognition --cpus 2` (the CLI users would pick instead) on the same files' faces

FOLDER defaults to ../shared/data beside the checkout.

`--mixed N` measures issue 15's scan targets instead, on a mixed batch of N photos drawn evenly
from every folder of the shared data (portraits, groups, HEIC/WebP/TIFF, GPS; the demo trust's
two academies): `scan --no-cache` with 2 worker processes and with 1, and the face_recognition
CLI with `--cpus 2` on the same folder (faces only; it reads only its JPEG/PNG files). `--quick`
is `--mixed 36`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".heic", ".heif", ".webp", ".gif", ".bmp"}


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int, float]:
    """Wall seconds, peak total RSS (MB) of the process tree, exit code, and CPU seconds (user +
    system) of every process of the tree (pool workers are children of a forkserver, which the
    kernel's accounting of the command alone would miss), all sampled from /proc."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, cpu = 0, {}
    while proc.poll() is None:
        rss, ticks = tree_usage(proc.pid)
        peak = max(peak, rss)
        cpu.update(ticks)
        time.sleep(0.05)
    return time.perf_counter() - start, peak / 2**20, proc.returncode, sum(cpu.values()) / os.sysconf("SC_CLK_TCK")


def tree_usage(root: int) -> tuple[int, dict[int, int]]:
    """Bytes resident in `root` and all its descendants now, and each one's CPU ticks so far."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    ticks: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * page
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    total, todo, seen = 0, [root], {}
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        seen[pid] = ticks.get(pid, 0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total, seen


DECODE_FLOOR = """
import sys
from pathlib import Path
from screening import files, imaging
for path, _ in files.inputs(sys.argv[1:]):
    try:
        imaging.load(path)
    except imaging.ImageError:
        pass
"""


LOCATION_ONLY = """
import sys
from pathlib import Path
from screening import files
from screening.config import load_config
from screening.detectors.location import LocationDetector
detector = LocationDetector(load_config(Path(sys.argv[1])))
for path, _ in files.inputs(sys.argv[2:]):
    try:
        detector.detect_undecoded(path, path.read_bytes())
    except Exception:
        pass
"""


def mixed_batch(data: Path, into: Path, n: int) -> int:
    """N photos (copies: scan never reads a link out of its folder) taken evenly from the sorted
    images of each top folder of DATA."""
    groups = {}
    for p in sorted(data.rglob("*")):
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
            groups.setdefault(p.relative_to(data).parts[0], []).append(p)
    picks: list[Path] = []
    while len(picks) < n and any(groups.values()):
        for name in sorted(groups):
            if groups[name] and len(picks) < n:
                items = groups[name]
                picks.append(items.pop(len(items) // 2 if len(picks) % 2 else 0))
    for i, p in enumerate(picks):
        shutil.copyfile(p, into / f"{i:03d}_{p.name}")
    return len(picks)


def mixed(folder: Path, config: str, n: int) -> int:
    """Issue 15's scan rows: scan with 2 and 1 processes and the CLI, one after the other."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        batch, known = Path(tmp) / "batch", Path(tmp) / "known"
        batch.mkdir()
        known.mkdir()
        n = mixed_batch(folder, batch, n)
        knn = folder / "face_recognition" / "examples" / "knn_examples" / "train"
        for d in sorted(knn.iterdir()) if knn.is_dir() else []:
            for p in sorted(d.iterdir()):
                (known / f"{d.name}_{p.name}").symlink_to(p)
        scan = [str(VENV_BIN / "screening"), "scan", str(batch), "--config", config, "--quiet", "--no-cache",
                "--jsonl", os.path.join(tmp, "r.jsonl")]
        rows = [("face_recognition CLI --cpus 2 (faces only)",
                 run([str(VENV_BIN / "face_recognition"), "--cpus", "2", str(known), str(batch)])),
                ("screening scan --workers 2 --no-cache (every check)", run(scan + ["--workers", "2"])),
                ("screening scan --workers 1 --no-cache (every check)", run(scan + ["--workers", "1"]))]
    print(f"\nmixed batch: {n} photos from {folder}, {os.cpu_count()} cores, "
          f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end\n")
    print("| command | wall s | images/s | CPU s | cores obtained | peak RSS MB (process tree) | exit |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, (wall, rss, code, cpu) in rows:
        print(f"| {label} | {wall:.1f} | {n / wall:.2f} | {cpu:.0f} | {cpu / wall:.2f} | {rss:.0f} | {code} |")
    cli, two, one = (r[1][0] for r in rows)
    print(f"\nscan (2 processes) / CLI (2 processes): {two / cli:.2f}x wall time; "
          f"scan 2 processes vs 1: {one / two:.2f}x faster")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--config", default=str(REPO / "samples" / "screening.toml"))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command; the median is shown")
    parser.add_argument("--mixed", type=int, metavar="N", help="issue 15's rows on a mixed batch of N photos")
    parser.add_argument("--quick", action="store_true", help="--mixed 36")
    parser.add_argument("--venv", type=Path, help="run the commands of this virtualenv (another checkout, "
                                                  "for a before/after table); default: this checkout's .venv")
    args = parser.parse_args()
    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"no such folder: {folder}", file=sys.stderr)
        return 2
    if args.venv:
        global VENV_BIN
        VENV_BIN = args.venv / "bin"
    if args.mixed or args.quick:
        return mixed(folder, args.config, args.mixed or 36)
    n = sum(1 for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)

    rows: list[tuple[str, list[tuple[float, float, int]]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(("decode floor (imaging.load only, 1 process)",
                     [run([str(VENV_BIN / "python"), "-c", DECODE_FLOOR, str(folder)]) for _ in range(args.repeat)]))
        scan = [str(VENV_BIN / "screening"), "scan", str(folder), "--config", args.config, "--quiet",
                "--jsonl", os.path.join(tmp, "r.jsonl")]
        if "--no-cache" in subprocess.run(scan[:2] + ["--help"], capture_output=True, text=True).stdout:
            scan.append("--no-cache")
        rows.append(("screening scan (all checks, 2 processes)", [run(scan) for _ in range(args.repeat)]))
        rows.append(("location check only (metadata, 1 process)",
                     [run([str(VENV_BIN / "python"), "-c", LOCATION_ONLY, args.config, str(folder)])
                      for _ in range(args.repeat)]))
        if shutil.which("exiftool"):
            rows.append(("exiftool -n -GPS* -r (location only)",
                         [run(["exiftool", "-n", "-GPS*", "-r", str(folder)]) for _ in range(args.repeat)]))
        else:
            print("exiftool not installed (apt-get install libimage-exiftool-perl): its row is left out",
                  file=sys.stderr)

    print(f"\n{n} image files under {folder}, {os.cpu_count()} cores\n")
    print("| command | wall s | images/s | peak RSS MB (process tree) | exit |")
    print("|---|---:|---:|---:|---:|")
    for label, runs in rows:
        runs.sort()
        wall, rss, code, _ = runs[len(runs) // 2]
        print(f"| {label} | {wall:.1f} | {n / wall:.1f} | {rss:.0f} | {code} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
