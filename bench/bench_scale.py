"""Scale benchmark: pool scaling, peak memory by batch size, cached re-scan rate, watch latency.

Run by hand from the repository root: `.venv/bin/python bench/bench_scale.py` (a few minutes;
`--quick` for a smoke run). It prints one table, measured in this one run. Every command is
run as a whole `screening` process, as IT would run it. Inputs are drawn here, nothing from
../shared is needed:

- scaling: the REAL detectors (faces, location, logos, uniforms) on drawn outdoor scenes, some
  with an academy crest, with 1 and 2 worker processes;
- memory, re-scan and watch latency: real decoding and hashing of drawn 1024x768 JPEGs, with the
  fake detectors of tests/fake_detectors.py (the test hook), so thousands of images fit in minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from screening.detectors import TEST_DETECTORS_ENV  # noqa: E402
from tests import crests  # noqa: E402
from tests.academy_trust import backdrop  # noqa: E402  (drawn scenes, shared with the tests)

FAKES = "tests.fake_detectors:by_colour"
CONFIG = """trust = "Bench Trust"
channels = ["website", "social_media", "print"]
default_channel = "social_media"
[consent]
register = "consents/register.csv"
photos = "consents/photos"
[[academy]]
id = "north"
name = "Trinity North Academy"
logos = "logos/north"
uniform_colours = ["#1b2a4a", "#c8a200"]
sites = [{ lat = 53.8008, lon = -1.5491, radius_m = 400 }]
"""
REGISTER = "person_id,name,role,academy,biometric_consent,website,social_media,print,expires,withdrawn\n"


def make_trust(root: Path) -> None:
    (root / "logos" / "north").mkdir(parents=True)
    (root / "consents" / "photos").mkdir(parents=True)
    crests.preset("north", 512).save(root / "logos" / "north" / "crest.png")
    (root / "consents" / "register.csv").write_text(REGISTER)
    (root / "screening.toml").write_text(CONFIG)


def scenes(folder: Path, n: int) -> None:
    """Drawn 900x600 outdoor scenes; every third has the north crest on it."""
    folder.mkdir(parents=True)
    crest = crests.preset("north", 160)
    for i in range(n):
        img = backdrop(1000 + i)
        if i % 3 == 0:
            img.paste(crest, (300 + i % 200, 200), crest if crest.mode == "RGBA" else None)
        img.save(folder / f"scene{i:03}.jpg", quality=90)


def photos(folder: Path, n: int, distinct: int | None = None) -> None:
    """n 1024x768 JPEGs; with `distinct`, only that many different files and hard links for the rest."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:768, 0:1024]
    base = np.stack([x * 255 // 1024, y * 255 // 768, (x + y) * 255 // 1792], axis=-1).astype(np.uint8)
    made = distinct or n
    for i in range(made):
        pixels = base.copy()
        pixels[:64, :64] = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)  # every file different
        pixels[0, 0] = (0, 0, 255)  # the fakes see blue: cleared
        Image.fromarray(pixels).save(folder / f"img{i:05}.jpg", quality=88)
    for i in range(made, n):
        os.link(folder / f"img{i % made:05}.jpg", folder / f"img{i:05}.jpg")


class TreeSampler:
    """Samples a process and all its children until stopped: peak summed RSS, CPU seconds used."""

    def __init__(self, pid: int):
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.cpu: dict[int, float] = {}  # pid -> user + system seconds, last seen
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                        times = p.cpu_times()
                        self.cpu[p.pid] = times.user + times.system
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> tuple[int, float]:
        self.running = False
        self.thread.join()
        return self.peak, sum(self.cpu.values())


def screening(args: list[str], cwd: Path, fakes: bool) -> tuple[float, int, float]:
    """Run `screening ARGS`; (wall seconds, peak RSS and CPU seconds of the process tree, sampled)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if fakes:
        env[TEST_DETECTORS_ENV] = FAKES
    else:
        env.pop(TEST_DETECTORS_ENV, None)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "screening", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = TreeSampler(proc.pid)
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    peak, cpu = sampler.stop()
    if proc.returncode not in (0, 1, 2) or "Traceback" in err:
        raise SystemExit(f"screening {' '.join(args)} failed:\n{err}")
    return wall, peak, cpu


def fresh_state(root: Path) -> None:
    shutil.rmtree(root / ".screening", ignore_errors=True)


def watch_latency(root: Path, settle: float, poll: float | None, files: int) -> list[float]:
    """Seconds from a file's last byte (closed) to its appearance in a destination folder."""
    inbox, into = root / f"inbox-{settle}-{poll}", root / f"screened-{settle}-{poll}"
    inbox.mkdir()
    log = root / f"watch-{settle}-{poll}.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), TEST_DETECTORS_ENV: FAKES}
    command = [sys.executable, "-m", "screening", "watch", str(inbox), "--into", str(into),
               "--settle", str(settle), "--log", str(log), "--workers", "1"]
    if poll:
        command += ["--poll", str(poll)]
    job = subprocess.Popen(command, cwd=root, env=env)
    source = sorted((root / "latency-src").iterdir())
    latencies = []
    try:
        for i in range(files + 1):  # the first one warms the job up (detectors built) and is not counted
            data = source[i].read_bytes()
            name = f"lat{i:03}.jpg"
            with open(inbox / name, "wb") as f:
                f.write(data)
            last_byte = time.perf_counter()
            target = into / "cleared" / name
            deadline = last_byte + 60
            while not target.exists():
                if time.perf_counter() > deadline:
                    raise SystemExit(f"watch did not sort {name} within 60 s; see {log}")
                time.sleep(0.005)
            if i:
                latencies.append(time.perf_counter() - last_byte)
    finally:
        job.terminate()
        job.wait(timeout=60)
    return latencies


def _burn(seconds: float, out) -> None:
    started = time.time()
    while time.time() - started < seconds:
        pass
    out.put(os.times().user)


def cores_free(processes: int, seconds: float = 3.0) -> float:
    """How many cores `processes` pure-Python busy loops obtain now: what the machine can give."""
    import multiprocessing

    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_burn, args=(seconds, out)) for _ in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return sum(out.get() for _ in procs) / seconds


def scaling(root: Path, n_scenes: int) -> list[tuple[str, str]]:
    """The real detectors with 1 and 2 worker processes, and what the machine could give."""
    scenes(root / "scenes", n_scenes)
    rows = [("cores obtained by 1 / 2 busy-loop processes (machine check)",
             f"{cores_free(1):.2f} / {cores_free(2):.2f}")]
    rates = {}
    for workers in (1, 2):
        fresh_state(root)
        wall, peak, cpu = screening(["scan", "scenes", "--workers", str(workers), "--no-cache", "--quiet"],
                                    root, fakes=False)
        rates[workers] = n_scenes / wall
        rows.append((f"real detectors, {n_scenes} drawn 900x600 scenes, {workers} process(es)",
                     f"{wall:.1f} s, {rates[workers]:.2f} img/s, {cpu / n_scenes:.1f} CPU s/img, "
                     f"{cpu / wall:.2f} cores obtained, peak RSS {peak / 2**20:.0f} MiB"))
    rows.append(("scaling ratio 2 processes / 1", f"{rates[2] / rates[1]:.2f}x"))
    return rows


def memory(root: Path, sizes) -> list[tuple[str, str]]:
    """Peak RSS by batch size: fake detectors, real decoding, 2 workers, no cache."""
    rows = []
    for n in sizes:
        photos(root / f"mem{n}", n, distinct=min(n, 100))
        fresh_state(root)
        wall, peak, _ = screening(["scan", f"mem{n}", "--workers", "2", "--no-cache", "--quiet",
                                   "--jsonl", f"mem{n}.jsonl"], root, fakes=True)
        rows.append((f"peak RSS, {n} images 1024x768 (fake detectors, 2 workers)",
                     f"{peak / 2**20:.0f} MiB, {wall:.1f} s ({n / wall:.0f} img/s)"))
        shutil.rmtree(root / f"mem{n}")
    return rows


def rescan(root: Path, n: int) -> list[tuple[str, str]]:
    """A cached re-scan of unchanged images through `screening scan`."""
    photos(root / "rescan", n)
    fresh_state(root)
    first, _, _ = screening(["scan", "rescan", "--workers", "2", "--quiet"], root, fakes=True)
    again, _, _ = screening(["scan", "rescan", "--workers", "2", "--quiet"], root, fakes=True)
    bytes_each = statistics.mean(p.stat().st_size for p in (root / "rescan").iterdir())
    startup, _, _ = screening(["scan", "rescan/img00000.jpg", "--workers", "2", "--quiet"], root, fakes=True)
    return [(f"first scan, {n} images ({bytes_each / 1024:.0f} KiB each), fake detectors",
             f"{first:.1f} s ({n / first:.0f} img/s)"),
            (f"re-scan of the same {n} unchanged images (cache)",
             f"{again:.2f} s whole command = {n / again:.0f} img/s"),
            ("  of which: start-up (scan of 1 cached image)", f"{startup:.2f} s")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--scenes", type=int, default=16, help="images for the real-detector scaling rows")
    parser.add_argument("--only", choices=("scaling", "memory", "rescan", "watch"), action="append",
                        help="measure only these (default: all)")
    opts = parser.parse_args()
    n_scenes, sizes, n_rescan, n_latency = (2, (100, 300), 200, 3) if opts.quick else (opts.scenes, (100, 1000, 10000), 1000, 10)

    wanted = set(opts.only or ("scaling", "memory", "rescan", "watch"))
    load_before = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    rows: list[tuple[str, str]] = []
    try:
        make_trust(root)
        print(f"drawing inputs in {root} ...", file=sys.stderr)
        if "scaling" in wanted:
            rows += scaling(root, n_scenes)
        if "memory" in wanted:
            rows += memory(root, sizes)
        if "rescan" in wanted:
            rows += rescan(root, n_rescan)
        if "watch" in wanted:
            photos(root / "latency-src", n_latency + 1)
            for settle, poll in ((2.0, None), (0.5, None), (0.5, 1.0)):
                lat = watch_latency(root, settle, poll, n_latency)
                how = f"--poll {poll:g}" if poll else "inotify events"
                rows.append((f"watch latency, --settle {settle:g}, {how} ({len(lat)} files)",
                             f"median {statistics.median(lat):.2f} s, max {max(lat):.2f} s"))
    finally:
        if not opts.keep:
            shutil.rmtree(root, ignore_errors=True)

    width = max(len(r[0]) for r in rows)
    print(f"bench_scale ({'quick' if opts.quick else 'full'}), {psutil.cpu_count()} cores, "
          f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end (others' jobs share the cores)")
    print(f"| {'measure'.ljust(width)} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
