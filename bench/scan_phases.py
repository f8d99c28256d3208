"""Where a whole `screening scan`'s time goes, worker by worker, run by hand:

    .venv/bin/python bench/scan_phases.py [--trees CHECKOUT ...] [--configs trust2.toml trust50.toml]
                                          [--rounds 2] [--workers 2] [--show-files]

Runs `screening scan --no-cache` as a process on the 13 photos of bench_logos.py's whole-scan
table (bench/out/logo_set), each config with each checkout, alternately (round 1: every tree with
every config, then round 2 ...), so the trees and configs are compared in one run on a shared
machine. Nothing in the screening package is changed: a `sitecustomize` put first on the scan's
PYTHONPATH wraps, once `screening.pool` is imported in a process, the worker's start-up
(`_init_worker`, its detectors built), each file (`_work`) and each check's `detect`, and the
forkserver's warm-up (`pool_preload.warm`), writing one JSON line per event (process id, wall
clock, the process's CPU time, peak RSS). Printed per run: wall time, every worker's CPU time and
per-check CPU, start-up (forkserver warm, workers' detectors built, first file started), each
worker's files and the time it sat idle at the end, peak RSS, and the load average.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SET = REPO / "bench" / "out" / "logo_set"

# Written as sitecustomize.py into a scratch folder first on the scan's PYTHONPATH.
HOOK = r'''
import functools, importlib.abc, importlib.util, json, os, resource, sys, time

_LOG = os.environ.get("SCAN_PHASES_LOG")


def log(ev, **kw):
    rec = {"ev": ev, "pid": os.getpid(), "t": time.time(), "cpu": time.process_time(),
           "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, **kw}
    with open(_LOG, "a") as f:
        f.write(json.dumps(rec) + "\n")


def _timed_detectors(dets):
    for check, det in dets.items():
        def detect(picture, earlier, _orig=det.detect, _check=str(check.value)):
            t, w = time.process_time(), time.perf_counter()
            try:
                return _orig(picture, earlier)
            finally:
                log("check", check=_check, dcpu=time.process_time() - t, dwall=time.perf_counter() - w)
        try:
            det.detect = detect
        except AttributeError:
            pass
    return dets


def _patch_pool(pool):
    init, work, build = pool._init_worker, pool._work, pool._build

    @functools.wraps(init)
    def _init_worker(*a, **k):
        log("init_start")
        try:
            return init(*a, **k)
        finally:
            log("init_end")

    @functools.wraps(work)
    def _work(path, display, *a, **k):
        log("file_start", file=os.path.basename(display))
        try:
            return work(path, display, *a, **k)
        finally:
            log("file_end", file=os.path.basename(display))

    @functools.wraps(build)
    def _build(*a, **k):
        log("build_start")
        dets = build(*a, **k)
        log("build_end")
        return _timed_detectors(dets)

    pool._init_worker, pool._work, pool._build = _init_worker, _work, _build
    new_pool = pool._new_pool

    @functools.wraps(new_pool)
    def _new_pool(*a, **k):
        log("pool_new")
        return new_pool(*a, **k)

    pool._new_pool = _new_pool


_PATCH = {"screening.pool": _patch_pool, "screening.pool_preload": lambda module: None}


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in _PATCH:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return None
        run = spec.loader.exec_module

        def exec_module(module, _run=run, _name=name):
            warming = _name == "screening.pool_preload" and os.environ.get("SCREENING_FORKSERVER_WARM") == "1"
            if warming:  # the forkserver warms up as it imports the module (its last lines)
                log("warm_start")
            _run(module)
            if warming:
                log("warm_end")
            _PATCH[_name](module)

        spec.loader.exec_module = exec_module
        return spec


if _LOG:
    sys.meta_path.insert(0, _Finder())
'''


def scan_photos() -> list[str]:
    """The 13 photos of bench_logos.py's whole-scan table (--quick)."""
    rows = [json.loads(line) for line in open(SET / "truth.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r["kind"] in ("clean", "blazer_crest", "crest")]
    return [r["file"] for r in rows[:: max(1, len(rows) // 12)][:26]]


def run_once(tree: Path, config: Path, folder: Path, cache: Path, hook: Path, log: Path, workers: int) -> dict:
    env = {**os.environ, "SCREENING_CACHE": str(cache), "PYTHONPATH": f"{hook}{os.pathsep}{tree}",
           "SCAN_PHASES_LOG": str(log)}
    cmd = [sys.executable, "-m", "screening", "scan", str(folder), "--config", str(config), "--quiet",
           "--no-cache", "--workers", str(workers)]
    load = os.getloadavg()[0]
    t0 = time.time()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=folder.parent)
    t1 = time.time()
    if done.returncode not in (0, 1):  # 1: some photo needs permission; anything else failed
        raise SystemExit(f"scan failed ({tree}, {config.name}): {done.stderr.strip()[-500:]}")
    events = [json.loads(line) for line in open(log, encoding="utf-8")] if log.exists() else []
    return {"t0": t0, "t1": t1, "load": load, "load_after": os.getloadavg()[0], "events": events}


def summary(run: dict, show_files: bool) -> list[str]:
    t0, events = run["t0"], run["events"]
    by_pid: dict[int, list[dict]] = collections.defaultdict(list)
    for e in events:
        by_pid[e["pid"]].append(e)
    out = []
    warm = [e for e in events if e["ev"] in ("warm_start", "warm_end")]
    if len(warm) == 2:
        out.append(f"  forkserver warm-up {warm[0]['t'] - t0:.1f} -> {warm[1]['t'] - t0:.1f} s "
                   f"(CPU {warm[1]['cpu'] - warm[0]['cpu']:.1f} s)")
    total_cpu, checks = 0.0, collections.Counter()
    for pid, es in by_pid.items():
        files = [e for e in es if e["ev"] in ("file_start", "file_end")]
        built = [e for e in es if e["ev"] in ("build_start", "build_end")]
        if not files:
            continue
        cpu = es[-1]["cpu"]
        total_cpu += cpu
        mine = collections.Counter()
        for e in es:
            if e["ev"] == "check":
                mine[e["check"]] += e["dcpu"]
        checks.update(mine)
        starts = [e for e in files if e["ev"] == "file_start"]
        ends = [e for e in files if e["ev"] == "file_end"]
        build = f"detectors built {built[0]['t'] - t0:.1f} -> {built[1]['t'] - t0:.1f} s (CPU {built[1]['cpu'] - built[0]['cpu']:.2f}), " \
            if len(built) == 2 else ""
        out.append(f"  worker {pid}: {build}files {starts[0]['t'] - t0:.1f} -> {ends[-1]['t'] - t0:.1f} s, "
                   f"{len(starts)} files, idle at the end {run['t1'] - ends[-1]['t']:.1f} s, CPU {cpu:.1f} s ("
                   + ", ".join(f"{c} {v:.1f}" for c, v in sorted(mine.items())) + f"), peak RSS {es[-1]['rss'] / 1024:.0f} MB")
        if show_files:
            for s, e in zip(starts, ends):
                out.append(f"    {s['file']:>16} {s['t'] - t0:6.1f} -> {e['t'] - t0:6.1f} s, wall {e['t'] - s['t']:5.1f}, "
                           f"CPU {e['cpu'] - s['cpu']:5.2f}")
    head = (f"wall {run['t1'] - t0:.1f} s, workers' CPU {total_cpu:.1f} s (" +
            ", ".join(f"{c} {v:.1f}" for c, v in sorted(checks.items())) +
            f"), load average {run['load']:.1f} -> {run['load_after']:.1f}")
    return [head, *out]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", nargs="*", default=[str(REPO)], help="checkouts to run (PYTHONPATH of the scan)")
    ap.add_argument("--configs", nargs="*", default=["trust2.toml", "trust50.toml"], help="in bench/out/logo_set")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--show-files", action="store_true", help="each file's start, end and CPU")
    args = ap.parse_args()
    if not (SET / "truth.jsonl").exists():
        print(f"no bench set at {SET} (bench/make_logo_set.py)", file=sys.stderr)
        return 2
    if "trust2.toml" in args.configs and not (SET / "trust2.toml").exists():
        big = (SET / "trust50.toml").read_text(encoding="utf-8").split("[[academy]]")  # as bench_logos.py makes it
        (SET / "trust2.toml").write_text("[[academy]]".join(big[:3]), encoding="utf-8")
    walls: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    cpus: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder, cache, hook = tmp / "photos", tmp / "cache", tmp / "hook"
        folder.mkdir()
        for name in scan_photos():
            shutil.copy(SET / "cases" / name, folder / name)
        cache.mkdir()
        (cache / "logos").symlink_to(SET / "cache")  # reference features computed already
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
        for rnd in range(args.rounds):
            for tree in args.trees:
                for cfg in args.configs:
                    log = tmp / f"r{rnd}_{args.trees.index(tree)}_{cfg}.jsonl"  # one log per run
                    run = run_once(Path(tree).resolve(), SET / cfg, folder, cache, hook, log, args.workers)
                    lines = summary(run, args.show_files)
                    print(f"round {rnd + 1}, {tree}, {cfg}: " + "\n".join(lines), flush=True)
                    walls[(tree, cfg)].append(run["t1"] - run["t0"])
                    cpus[(tree, cfg)].append(sum(e["cpu"] for e in _last_per_worker(run["events"])))
    print("\n| tree | config | wall s (each round) | workers' CPU s (each round) |\n|---|---|---|---|")
    for (tree, cfg), ws in walls.items():
        print(f"| {tree} | {cfg} | {' / '.join(f'{w:.1f}' for w in ws)} | {' / '.join(f'{c:.1f}' for c in cpus[(tree, cfg)])} |")
    if len(args.configs) == 2:
        a, b = args.configs
        for tree in args.trees:
            ratios = [wb / wa for wa, wb in zip(walls[(tree, a)], walls[(tree, b)])]
            cr = [cb / ca for ca, cb in zip(cpus[(tree, a)], cpus[(tree, b)])]
            print(f"\n{tree}: {b} vs {a}: wall {' / '.join(f'{r:.2f}x' for r in ratios)}, "
                  f"workers' CPU {' / '.join(f'{r:.2f}x' for r in cr)}")
    return 0


def _last_per_worker(events: list[dict]) -> list[dict]:
    """Each worker's last event (its CPU time then is the worker's whole)."""
    last: dict[int, dict] = {}
    for e in events:
        if e["ev"] in ("file_end", "check", "init_end"):
            last[e["pid"]] = e
    return list(last.values())


if __name__ == "__main__":
    sys.exit(main())
