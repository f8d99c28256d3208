"""The kill-and-restart soak of `screening watch`, shared by tests/test_watch_soak.py (which
asserts) and bench/bench_watch_soak.py (which prints its figures).

About 200 files arrive in waves: renamed in whole, written slowly with a pause, downloaded as
`.part` then renamed, with XMP sidecars, as junk that is no image, renamed or deleted inside
the inbox after arriving, in a sub-folder moved in at once, with hostile names; links to a
private file, to folders and to nowhere are planted too, with a hard link to the private
file and a FIFO. The job (a real process, fake
detectors) is SIGKILLed at seeded random moments and started again. Every wait is on a
condition with a generous bound, never a sleep that assumes the machine is fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .fake_detectors import photo
from .test_config_register import write_trust
from .tree import snapshot

REPO = Path(__file__).resolve().parents[1]
BLUE, RED = (0, 0, 255), (255, 0, 0)
FOLDERS = ("cleared", "needs-permission", "error")
HOSTILE = ["=HYPERLINK(x)", "[bold red]x", "[/]y", "a\nsorted cleared", "esc\x1b[2J", "csi\x9b31m",
           "-rf", "@SUM(A1)", "caf\udce9-not-utf8"]
BOUND = 90.0  # seconds any one condition may take before the soak is declared stuck


@dataclass
class Soak:
    root: Path
    seed: int = 13
    files: int = 200
    kills: int = 10
    expected: dict[str, str] = field(default_factory=dict)  # sha256 -> status folder it must end in
    maybe: set[str] = field(default_factory=set)  # sha256 of files deleted from the inbox: gone, or sorted once
    sidecar_of: dict[str, str] = field(default_factory=dict)  # sidecar sha256 -> its image's sha256
    links: dict[str, str] = field(default_factory=dict)  # link name -> target
    kill_moments: list[str] = field(default_factory=list)
    sorted_at_kill: list[int] = field(default_factory=list)
    seconds: float = 0.0
    outside_changed: set[str] = field(default_factory=set)

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def into(self) -> Path:
        return self.root / "screened"

    @property
    def log(self) -> Path:
        return self.root / "watch.log"


def run(root: Path, *, seed: int = 13, files: int = 200, kills: int = 10) -> Soak:
    """Set up a trust in `root`, run the soak, return what it expects (nothing asserted here)."""
    soak = Soak(root, seed, files, kills)
    write_trust(root)
    soak.inbox.mkdir()
    rng = random.Random(seed)
    outside = _plant_outside(root)
    waves = _plan(soak, rng, outside)
    before = snapshot(root, skip=("inbox", "screened", ".screening", "staging", "watch.log", "consents"))

    env = {**os.environ, "PYTHONPATH": str(REPO), "SCREENING_TEST_DETECTORS": "tests.fake_detectors:by_colour"}
    command = [sys.executable, "-m", "screening", "watch", "inbox", "--settle", "0.3", "--grace", "30",
               "--workers", "1", "--log", str(soak.log)]
    started_at = time.monotonic()
    writers: list[threading.Thread] = []
    job = _start(command, root, env, soak, runs=1)
    for k in range(kills):
        writers += _release(waves[k] if k < len(waves) else [], rng, soak.inbox)
        moment = rng.choice(["progress", "progress", "progress", "startup"])
        soak.kill_moments.append(moment)
        if moment == "progress":
            goal = _sorted(soak) + rng.randint(1, 12)
            _wait(lambda: _sorted(soak) >= goal or (_idle(soak) and _done(writers)), "sorting to progress")
        time.sleep(rng.uniform(0.0, 0.25))  # a random moment, not a pause the job needs
        job.send_signal(signal.SIGKILL)
        job.wait()
        soak.sorted_at_kill.append(_sorted(soak))
        job = _start(command, root, env, soak, runs=k + 2)
    for wave in waves[kills:]:
        writers += _release(wave, rng, soak.inbox)
    for w in writers:
        w.join(timeout=BOUND)
    _wait(lambda: _idle(soak), "the inbox to empty")
    job.send_signal(signal.SIGTERM)
    job.wait(timeout=BOUND)
    once = subprocess.run(command + ["--once"], cwd=root, env=env, timeout=BOUND, capture_output=True)
    soak.seconds = time.monotonic() - started_at
    if once.returncode != 0:
        raise AssertionError(f"the last --once run exited {once.returncode}: {once.stderr.decode()[-2000:]}")
    after = snapshot(root, skip=("inbox", "screened", ".screening", "staging", "watch.log", "consents"))
    soak.outside_changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    return soak


def check(soak: Soak) -> None:
    """Every regular file exactly once in its folder, byte-identical, with its record; every
    link sorted as a link into error/; nothing left in the inbox; nothing outside changed."""
    found: dict[str, list[Path]] = {}
    links: dict[str, list[Path]] = {}
    for folder in FOLDERS:
        for p in (soak.into / folder).rglob("*") if (soak.into / folder).is_dir() else ():
            if p.is_symlink():
                links.setdefault(p.name, []).append(p)
                assert folder == "error", f"link {p} sorted into {folder}"
            elif p.is_file() and not p.name.endswith(".json"):
                found.setdefault(_sha(p), []).append(p)
    for sha, folder in soak.expected.items():
        where = found.get(sha, [])
        assert len(where) == 1, f"{sha[:12]} expected once in {folder}, found {where}"
        assert where[0].relative_to(soak.into).parts[0] == folder, f"{where[0]} should be in {folder}"
        if sha in soak.sidecar_of:
            (image,) = found[soak.sidecar_of[sha]]
            assert where[0].parent == image.parent, f"sidecar {where[0]} parted from {image}"
        else:
            record = json.loads(where[0].with_name(where[0].name + ".json").read_text())
            assert record["sha256"] == sha, where[0]
    for sha in soak.maybe:
        assert len(found.get(sha, [])) <= 1, f"deleted file {sha[:12]} sorted twice: {found[sha]}"
    strays = set(found) - set(soak.expected) - soak.maybe
    assert not strays, f"files nobody dropped: {[found[s] for s in strays]}"
    for name, target in soak.links.items():
        assert len(links.get(name, [])) == 1, f"link {name}: {links.get(name)}"
        assert os.readlink(links[name][0]) == target
    left = [p for p in soak.inbox.rglob("*") if p.is_file() or p.is_symlink()]
    assert left == [], f"left in the inbox: {left}"
    assert stat.S_ISFIFO(os.lstat(soak.inbox / "pipe.jpg").st_mode), "a FIFO is left alone, never opened"
    (hard,) = found[_sha(soak.root / "outside" / "encodings.sqlite")]
    assert stat.S_IMODE(hard.stat().st_mode) == 0o600, "the private store's hard link was widened"
    assert [p for p in soak.into.rglob("*") if "screening-tmp" in p.name] == []
    assert soak.outside_changed == set(), f"changed outside the inbox and --into: {soak.outside_changed}"


# ---------------------------------------------------------------- the files and how they arrive


def _plant_outside(root: Path) -> Path:
    """What an attacker's links point at: a private store and a folder of photos."""
    outside = root / "outside"
    photo(outside / "keep.png", BLUE)
    photo(outside / "deeper" / "keep2.png", RED)
    (outside / "encodings.sqlite").write_bytes(b"SQLite format 3\0 face encodings")
    (outside / "encodings.sqlite").chmod(0o600)
    old = time.time() - 3600  # long written: its hard link is an error at once, not a copy arriving
    os.utime(outside / "encodings.sqlite", (old, old))
    return outside


def _plan(soak: Soak, rng: random.Random, outside: Path) -> list[list]:
    """Make every file in staging/ and return the arrival steps, shuffled into waves."""
    staging = soak.root / "staging"
    steps: list = []
    n = 0

    def image(name: str, folder: Path | None = None) -> tuple[Path, str]:
        nonlocal n
        n += 1
        colour = RED if rng.random() < 0.35 else BLUE
        p = photo((folder or staging / f"{n:03}") / f"drawn-{n}.png", colour)
        named = p.parent / name  # drawn first: a name that is not UTF-8 cannot seed photo()'s noise
        named.parent.mkdir(parents=True, exist_ok=True)  # a hostile name may hold a `/`
        p = p.rename(named)
        sha = _sha(p)
        soak.expected[sha] = "needs-permission" if colour == RED else "cleared"
        return p, sha

    # of 200: 20 slow, 15 downloads, 10 image+sidecar pairs, 10 junk, 10 tidied away, 8 hostile
    # names, 17 in a folder moved in at once, 100 renamed in whole
    share = {"slow": 0.10, "part": 0.075, "sidecar": 0.05, "junk": 0.05, "moved": 0.05}
    kinds = [k for k, part in share.items() for _ in range(round(soak.files * part))] + ["hostile"] * len(HOSTILE)
    folder_files = round(soak.files * 0.085)
    kinds += ["rename"] * (soak.files - folder_files - sum(2 if k == "sidecar" else 1 for k in kinds))
    for i, kind in enumerate(kinds):
        if kind == "sidecar":
            p, sha = image(f"IMG_{i}.png")
            side = staging / f"{n:03}" / f"img_{i}.XMP"
            side.write_text(f"<x:xmpmeta>{i}</x:xmpmeta>")
            soak.expected[_sha(side)] = soak.expected[sha]
            soak.sidecar_of[_sha(side)] = sha
            steps.append(("pair", (side, p), p.name))  # the sidecar, then its image, together
        elif kind == "junk":
            n += 1
            p = staging / f"{n:03}" / f"notes-{i}.jpg"
            p.parent.mkdir(parents=True)
            p.write_bytes(f"not a photo {i}".encode() * 10)
            old = time.time() - 3600  # long finished: an error at once, not a copy still arriving
            os.utime(p, (old, old))
            soak.expected[_sha(p)] = "error"
            steps.append(("rename", p, p.name))
        elif kind == "hostile":
            name = HOSTILE[i % len(HOSTILE)] + f"{i}.png"
            p, _ = image(name)
            steps.append(("rename", p, name))  # "[/]y" arrives as a folder "[" holding "]y..."
        else:
            p, _ = image(f"p{i:03}.png")
            steps.append((kind, p, p.name))
    if folder_files:  # a folder of photos moved in at once, with a folder inside
        folder = staging / "folder"
        for j in range(folder_files):
            image(f"f{j}.png", folder / ("inner" if j % 3 else ""))
        steps.append(("rename", folder, "arrived-folder"))
    for j in range(8):  # dropped, then deleted again: gone, or sorted once if the job was quicker
        n += 1
        p = photo(staging / f"{n:03}" / f"d{j}.png", BLUE)
        soak.maybe.add(_sha(p))
        steps.append(("deleted", p, p.name))
    # a hard link to the private store (a regular file of the inbox: sorted, never widened) and a FIFO
    soak.expected[_sha(outside / "encodings.sqlite")] = "error"
    steps += [("hardlink", outside / "encodings.sqlite", "hard.jpg"), ("fifo", None, "pipe.jpg")]
    soak.links = {"enc.jpg": str(outside / "encodings.sqlite"), "outlink": str(outside),
                  "deeplink": str(outside / "deeper"), "dangling.png": str(outside / "nothing.png"),
                  "keep.png": str(outside / "keep.png")}
    steps += [("link", target, name) for name, target in soak.links.items()]
    rng.shuffle(steps)
    per_wave = max(1, len(steps) // (soak.kills + 2))
    return [steps[i:i + per_wave] for i in range(0, len(steps), per_wave)]


def _release(wave: list, rng: random.Random, inbox: Path) -> list[threading.Thread]:
    """Make one wave arrive; slow writers keep writing in threads (returned)."""
    threads = []
    for kind, source, name in wave:
        target = inbox / name
        target.parent.mkdir(parents=True, exist_ok=True)  # a hostile name may hold a `/`
        if kind == "link":
            os.symlink(source, target)
        elif kind == "hardlink":
            os.link(source, target)
        elif kind == "fifo":
            os.mkfifo(target)
        elif kind == "pair":
            side, image = source
            side.rename(inbox / side.name)
            image.rename(target)
        elif kind == "slow":
            t = threading.Thread(target=slow_write, args=(target, source.read_bytes(), rng.uniform(0.3, 1.2)))
            t.start()
            threads.append(t)
        elif kind == "part":  # a download: written under a temporary name, then renamed
            partial = target.with_name(name + ".part")
            partial.write_bytes(source.read_bytes())
            partial.rename(target)
        elif kind == "moved":  # arrives, then someone tidies it into a sub-folder under a new name
            source.rename(target)
            (inbox / "tidied").mkdir(exist_ok=True)
            try:
                target.rename(inbox / "tidied" / ("moved-" + name))
            except FileNotFoundError:
                pass  # the job sorted it first
        elif kind == "deleted":
            source.rename(target)
            try:
                target.unlink()
            except FileNotFoundError:
                pass  # the job sorted it first
        else:
            source.rename(target)
    return threads


def slow_write(path: Path, data: bytes, pause: float) -> None:
    """Half the file, a pause (a slow SMB copy), then the rest."""
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        time.sleep(pause)
        f.write(data[len(data) // 2:])


# ---------------------------------------------------------------- the job


def _start(command, root, env, soak: Soak, runs: int) -> subprocess.Popen:
    job = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(lambda: _count(soak, '"event": "started"') >= runs or job.poll() is not None, "the job to start")
    if job.poll() is not None:
        raise AssertionError(f"the watch job exited {job.returncode} on start")
    return job


def _sorted(soak: Soak) -> int:
    return _count(soak, '"event": "sorted"') + _count(soak, '"event": "recovered"')


def _count(soak: Soak, needle: str) -> int:
    try:
        return soak.log.read_text(errors="replace").count(needle)
    except FileNotFoundError:
        return 0


def _idle(soak: Soak) -> bool:
    """Nothing but empty folders left in the inbox."""
    return not any(p.is_file() or p.is_symlink() for p in soak.inbox.rglob("*"))


def _done(threads: list[threading.Thread]) -> bool:
    return not any(t.is_alive() for t in threads)


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {BOUND:g} s for {what}")
        time.sleep(0.02)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
