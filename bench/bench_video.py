"""Video benchmark, run by hand: `.venv/bin/python bench/bench_video.py [--quick]`.

Every clip is generated here (tests/clips.py: a drawn panning scene, the public-domain
astronaut's head pasted on it for a chosen time), so nothing from ../shared/data is needed.
Prints markdown tables, each row measured in this one run:

1. recall: an unknown face on screen for 1 s, and for 0.3 s, at a random time and place
   (320x240 clips, the real face check): share of clips where it is reported;
2. GPS in metadata (QuickTime ©xyz, 3GPP loci, Apple ISO6709 item, Android ©xyz, Matroska
   tag, XMP in a uuid box): share found by the location check;
3. speed: 1080p clips (a tripod shot and a panning one, heads coming and going every half
   second) screened with every check (text included) on 2 processes, as real-time factor
   (screening wall time / clip seconds), with change gating ([video] change_threshold) and
   without it (every due check on every whole frame; --quick leaves this row to 3b),
   against the peer measured in the same run: decoding the same clips to their end;
3b. CPU seconds per second of clip, per pass of each check, one 1080p clip in 1 process,
   gating on and off, with decoding alone as the peer (robust to a busy machine);
4. memory: peak RSS of `screening scan` on one clip, for a clip and one three times as long;
5. one long clip on 2 processes, split into keyframe-aligned segments screened at once
   (video_split.py) against not split (one worker screens it all): wall and CPU seconds of the
   workers, with decoding alone as the peer, same run.

--quick (about 3 minutes on an idle 2-core machine; far longer on a busy one) uses fewer and
shorter clips (4 s); `--only 3` runs the speed sections alone.

Last measured (docs/video.md, "Measured": branch vidspeed5 against main, bench/profile_video.py,
each clip in one process set up as a pool worker, load average 17-28): the same findings; page faults
100-270 thousand -> 2-52 thousand a clip and the kernel's CPU 0.04-0.15 -> 0.00-0.02 s per clip
second (the heap keeps what a look frees, screening/heap.py); whole screening, CPU s per clip second,
tripod about 1.0-1.25 and panning 1.2-1.7 on both, the load moving it more than the change. Table
3's "x real time" and 3b's CPU s per clip second measure different things: see WHAT_THE_ROWS_MEAN.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_scan import run  # noqa: E402

from tests.clips import Appearance, head, write_clip  # noqa: E402

PUBLIC = REPO / "samples" / "public-domain"


def trust_config(root: Path) -> Path:
    """The demo trust (its logos and consents), with its stores in a temporary folder."""
    toml = (REPO / "samples" / "screening.toml").read_text()
    toml = toml.replace('"../', f'"{REPO}/').replace(f'encodings = "{REPO}/consents/.encodings.sqlite"',
                                                     f'encodings = "{root}/encodings.sqlite"')
    toml = toml.replace('state = "out/state.sqlite"', f'state = "{root}/state.sqlite"')
    (root / "screening.toml").write_text(toml)
    return root / "screening.toml"


# ---------------------------------------------------------------- 1. recall


def recall(root: Path, n: int, shown: float, rng: random.Random, detectors, config) -> tuple[int, int]:
    from screening import pipeline
    from screening.model import FaceFinding

    picture, face = head(PUBLIC, 130)
    found = 0
    for i in range(n):
        start = rng.uniform(0, 3.0 - shown)
        at = (rng.randrange(0, 320 - picture.shape[1]), rng.randrange(0, 240 - picture.shape[0]))
        clip = write_clip(root / f"recall-{shown}-{i}.mp4", 3.0, seed=i,
                          appearances=(Appearance(picture, start, shown, at),))
        s = pipeline.screen_file(clip, detectors, video=config.video)
        faces = [f for r in s.results for f in r.findings if isinstance(f, FaceFinding)]
        fx, fy = at[0] + face[0], at[1] + face[1]
        found += any(start - 0.01 <= f.time < start + shown + 0.01 and abs(f.box[0] - fx) < 25
                     and abs(f.box[1] - fy) < 25 for f in faces)
        clip.unlink()
    return found, n


# ---------------------------------------------------------------- 2. GPS


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _into_moov(data: bytes, child: bytes) -> bytes:
    at = data.rfind(b"moov") - 4
    (size,) = struct.unpack(">I", data[at:at + 4])
    return data[:at] + struct.pack(">I", size + len(child)) + data[at + 4:] + child


def gps_clips(root: Path) -> list[tuple[str, Path]]:
    tag = {"location": "+53.8021-001.5476/"}
    made = [(f"encoder tag in {s}", write_clip(root / f"gps{s}", 1.0, metadata=tag))
            for s in (".mov", ".mp4", ".3gp", ".mkv", ".webm")]
    plain = write_clip(root / "plain.mp4", 1.0).read_bytes()
    text = b"+53.8021-001.5476/"
    android = _box(b"udta", _box(b"\xa9xyz", struct.pack(">HH", len(text), 0x15C7) + text))
    (root / "android.mp4").write_bytes(_into_moov(plain, android))
    keys = {"com.apple.quicktime.location.ISO6709": "+53.8021-001.5476+075.000/"}
    meta = _box(b"meta", _box(b"hdlr", b"\x00" * 8 + b"mdta" + b"\x00" * 13)
                + _box(b"keys", struct.pack(">II", 0, 1) + b"".join(_box(b"mdta", k.encode()) for k in keys))
                + _box(b"ilst", _box(struct.pack(">I", 1), _box(b"data", struct.pack(">II", 1, 0)
                                                                 + next(iter(keys.values())).encode()))))
    (root / "iphone.mov").write_bytes(_into_moov(plain, meta))
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="53,48.126N" '
           b'exif:GPSLongitude="1,32.856W"/></rdf:RDF></x:xmpmeta>')
    (root / "xmp.mp4").write_bytes(plain + _box(b"uuid", bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC") + xmp))
    return made + [("Android ©xyz atom", root / "android.mp4"), ("iPhone ISO6709 item", root / "iphone.mov"),
                   ("XMP in a uuid box", root / "xmp.mp4")]


# ---------------------------------------------------------------- 3. speed


def hd_clip(path: Path, seconds: float, seed: int, pan: float = 8.0, gop: int = 0, tilt: float = 0.0) -> Path:
    """1080p, 30 fps: a head 360 px tall comes on screen at a random place for half a second,
    in 60% of the half seconds; `pan` px/s of camera pan (0: a tripod); `tilt` px/s of the
    picture moving up as well (a diagonal pan; the heads move with it); a keyframe every `gop`
    frames (0: the encoder's default, 250)."""
    import numpy as np

    picture, _ = head(PUBLIC, 360)
    rng = random.Random(seed)
    appearances = tuple(Appearance(picture, t, 0.5, (rng.randrange(0, 1920 - picture.shape[1]),
                                                     rng.randrange(0, 1080 - picture.shape[0])))
                        for t in [x * 0.5 for x in range(int(seconds * 2))] if rng.random() < 0.6)

    def tilted(t, pixels):
        up = int(t * tilt)
        return np.ascontiguousarray(np.concatenate([pixels[up:], pixels[:up][::-1]])) if up else pixels

    return write_clip(path, seconds, size=(1920, 1080), fps=30, seed=seed, appearances=appearances, pan=pan,
                      gop=gop, frame_hook=tilted if tilt else None)


# The clips of section 3: (name, pan px/s, tilt px/s); --diagonal adds the third.
KINDS = (("tripod", 0.0, 0.0), ("panning 8 px/s", 8.0, 0.0))
DIAGONAL = ("panning 8 px/s and tilting 4 px/s", 8.0, 4.0)


def profile(clip: Path, config, trust, threshold: float) -> list[tuple[str, int, float, float]]:
    """(pass, calls, megapixels, CPU seconds) of screening one clip in this process; the last
    row is the whole screening's CPU seconds (decoding, gating and merging included)."""
    import dataclasses

    from screening import pipeline, video_passes, video_screening
    from screening.detectors import build_detectors

    detectors = build_detectors(trust.config, trust.gallery, trust.names)
    cost: dict[str, list] = {}
    build = video_passes.build_passes

    def timed(*args, **kwargs):
        passes = build(*args, **kwargs)
        for p in passes:
            p.run = _timed(p.run, cost.setdefault(p.name, [0, 0.0, 0.0]))
        return passes

    video_screening.build_passes = timed
    try:
        start = time.process_time()
        pipeline.screen_file(clip, detectors, video=dataclasses.replace(config.video, change_threshold=threshold))
        total = time.process_time() - start
    finally:
        video_screening.build_passes = build
    rows = [(name, n, mp, sec) for name, (n, mp, sec) in cost.items()]
    return rows + [("whole screening (decoding, gating, merging included)", 0, 0.0, total)]


def decode_cpu(path: Path) -> float:
    start = time.process_time()
    decode_only([path])
    return time.process_time() - start


def _timed(run, into: list):
    def wrapper(pixels, earlier):
        start = time.process_time()
        try:
            return run(pixels, earlier)
        finally:
            into[0] += 1
            into[1] += pixels.shape[0] * pixels.shape[1] / 1e6
            into[2] += time.process_time() - start
    return wrapper


def decode_only(paths: list[Path]) -> float:
    from screening.formats import video

    start = time.perf_counter()
    for p in paths:
        with video.Clip(p, video.MP4) as clip:
            for _ in clip.frames():
                pass
    return time.perf_counter() - start


def screen_all(screener, paths: list[Path]) -> float:
    start = time.perf_counter()
    for s in screener.screen([(p, str(p)) for p in paths]):
        if not s.results[0].complete:
            raise SystemExit(f"{s.path}: {s.results[0].error}")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter clips (a few minutes)")
    ap.add_argument("--only", default="1,2,3,4,5", help="sections to run, e.g. 3 (speed and CPU only)")
    ap.add_argument("--diagonal", action="store_true",
                    help="section 3 also screens a clip panning and tilting at once (the grid moved both ways)")
    ap.add_argument("--seconds", type=float, default=None,
                    help="length of the speed clips of section 3 (default 4 with --quick, else 10)")
    args = ap.parse_args()
    sections = set(args.only.split(","))
    n_recall, hd_seconds = (4, 4.0) if args.quick else (30, 10.0)
    hd_seconds = args.seconds or hd_seconds

    from screening.config import load_config
    from screening.trust import open_trust

    root = Path(tempfile.mkdtemp(prefix="bench-video-"))
    try:
        cfg_path = trust_config(root)
        config = load_config(cfg_path)
        trust = open_trust(cfg_path)
        trust.enrol()
        if "1" in sections:
            recall_table(root, config, n_recall)
        if "2" in sections:
            gps_table(root, config)
        if "3" in sections:
            speed(root, trust, config, hd_seconds, whole_peer=not args.quick,
                  kinds=KINDS + (DIAGONAL,) if args.diagonal else KINDS)
        if "4" in sections:
            memory_table(root, cfg_path)
        if "5" in sections:
            split_table(root, trust, config, 20.0)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def recall_table(root: Path, config, n: int) -> None:
    from screening.detectors.faces import FaceDetector
    from screening.model import Check

    rng = random.Random(18)
    faces_only = {Check.FACES: FaceDetector(config.faces, None)}
    print("\n## 1. Recall: an unknown face on screen for a while (320x240, 3 s clips, real face check)\n")
    print("| on screen | clips | found | share | target |\n|---|---|---|---|---|")
    for shown, target in ((1.0, "100%"), (0.3, ">= 90%")):
        found, total = recall(root, n, shown, rng, faces_only, config)
        print(f"| {shown} s | {total} | {found} | {found / total:.0%} | {target} |", flush=True)


def gps_table(root: Path, config) -> None:
    from screening import pipeline
    from screening.detectors.location import LocationDetector
    from screening.model import Check

    class Nothing:
        def detect(self, picture, earlier):
            return []

    print("\n## 2. GPS in video metadata (location check)\n")
    print("| where | found |\n|---|---|")
    location = {Check.LOCATION: LocationDetector(config), Check.FACES: Nothing()}
    hits = 0
    clips = gps_clips(root)
    for name, clip in clips:
        s = pipeline.screen_file(clip, location, video=config.video)
        ok = any(getattr(f, "lat", None) is not None and abs(f.lat - 53.8021) < 1e-3
                 for r in s.results for f in r.findings)
        hits += ok
        print(f"| {name} | {'yes' if ok else 'NO'} |", flush=True)
    print(f"| **all** | **{hits}/{len(clips)}** |")


def memory_table(root: Path, cfg_path: Path) -> None:
    print("\n## 4. Peak memory of `screening scan` on one clip (640x360, every check, 1 process)\n")
    print("| clip | wall s | peak RSS MB |\n|---|---|---|")
    picture, _ = head(PUBLIC, 200)
    for length in (3.0, 9.0):
        clip = write_clip(root / f"mem{int(length)}.mp4", length, size=(640, 360),
                          appearances=(Appearance(picture, 1.0, 1.0, (100, 50)),))
        wall, peak, _code, _cpu = run([str(REPO / ".venv" / "bin" / "screening"), "scan", str(clip), "--config",
                                 str(cfg_path), "--workers", "1"], cwd=root)
        print(f"| {length:g} s | {wall:.1f} | {peak:.0f} |", flush=True)


def speed(root: Path, trust, config, hd_seconds: float, whole_peer: bool = True, kinds=KINDS) -> None:
    import dataclasses

    from screening.pool import Screener

    print(f"\n## 3. Speed: two 1080p 30 fps clips of {hd_seconds:g} s, every check, 2 processes "
          f"(load average {os.getloadavg()[0]:.1f} at the start)\n", flush=True)
    rows = []
    for kind, pan, tilt in kinds:
        hd = [hd_clip(root / f"hd-{int(pan)}-{int(tilt)}-{i}.mp4", hd_seconds, i, pan, tilt=tilt) for i in range(2)]
        decode = decode_only(hd)
        rows.append((kind, "decoding to the end, no checks (1 process)", decode, decode))
        variants = [("screening, change gating", config.video.change_threshold)]
        if whole_peer:  # --quick: the CPU table below has this peer
            variants.append(("screening, no gating (every due check on every whole frame)", 0.0))
        for label, threshold in variants:
            video = dataclasses.replace(trust.config.video, change_threshold=threshold)
            with Screener(dataclasses.replace(trust.config, video=video), trust.gallery, workers=2,
                          people=trust.names) as screener:
                screen_all(screener, [write_clip(root / "warm.mp4", 0.5)] * 2)  # workers up, models loaded
                rows.append((kind, label, screen_all(screener, hd), decode))
    seconds = 2 * hd_seconds
    print("| clip | what | wall s | x real time | x decoding |\n|---|---|---|---|---|")
    for kind, name, s, decode in rows:
        print(f"| {kind} | {name} | {s:.1f} | {s / seconds:.2f} | {s / decode:.1f} |")
    print(f"\ntarget: screening <= 1.0x real time (x real time: wall / {seconds:g} s, the two clips' lengths "
          "added, one clip per process; see after table 3b)")
    cpu(root, trust, config, hd_seconds, kinds)


def cpu(root: Path, trust, config, hd_seconds: float, kinds=KINDS) -> None:
    """CPU seconds per second of clip, one clip in this process: what one worker needs to keep
    up with real time (the wall times above are inflated by whatever else the machine runs)."""
    from screening.pool import one_thread

    one_thread()  # this process set up as a pool worker is: one OpenCV thread, its heap's settings
    print(f"\n## 3b. CPU seconds per second of clip, one {hd_seconds:g} s 1080p clip, 1 process set up as a "
          "pool worker, per pass\n")
    gated = config.video.change_threshold
    header = "| pass | " + " | ".join(f"{kind}, {g} | runs, MP" for kind, _, _ in kinds
                                      for g in ("gating", "no gating")) + " |"
    print(header + "\n|---|" + "---|" * 4 * len(kinds))
    columns = []
    clips = [root / f"hd-{int(pan)}-{int(tilt)}-0.mp4" for _, pan, tilt in kinds]
    for clip in clips:
        for threshold in (gated, 0.0):
            columns.append({name: (n, mp, sec) for name, n, mp, sec in profile(clip, config, trust, threshold)})
    decode = [decode_cpu(clip) for clip in clips]
    for name in columns[0]:
        cells = []
        for col in columns:
            n, mp, sec = col.get(name, (0, 0.0, 0.0))
            cells += [f"{sec / hd_seconds:.2f}", f"{n}, {mp:.1f}" if n else ""]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("| decoding alone (peer, same run) | " + " | ".join(
        f"{decode[k // 2] / hd_seconds:.2f} | " for k in range(2 * len(kinds))) + "")
    print(f"\nload average now {os.getloadavg()[0]:.1f}")
    print(WHAT_THE_ROWS_MEAN)


# What the speed rows measure, and how they relate (printed after table 3b).
WHAT_THE_ROWS_MEAN = """
What the rows mean (c: this table's CPU s per clip second, whole screening; L: a clip's length in s;
2 idle cores):

- table 3, "x real time": the wall time of screening two clips at once, one per process, divided by
  the *sum* of their lengths (2 L). Each worker needs about c x L of CPU, the two side by side, so
  x real time is about c / 2 plus the pool's own costs (handing out the clips, a worker's start on
  each); the target row (<= 1.0x real time on 2 processes) holds with c up to about 2, less those
  costs. A busy machine inflates the wall time, not c.
- table 3b (this table): one clip in one process. c x L is how long one worker takes to screen one
  clip alone: c <= 1.0 is what one process keeping up with clips as long as they play needs (a clip
  screened in its own length).
- one clip alone on 2 processes (section 5, `--only 5`): the clip is split into keyframe-aligned
  segments screened at once (video_split.py); its latency is the busiest worker's CPU time, about
  c x L / 2 plus what splitting costs (each segment decodes from a keyframe, and its first frame is
  looked at whole by every check). Its "x real time" is wall / L, for one clip."""


def _workers_cpu(screener) -> dict[int, float]:
    """CPU seconds (user + system) each of the pool's worker processes has used so far."""
    used = {}
    for process in list(getattr(screener.pool, "_processes", {}).values()):
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        used[process.pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def split_table(root: Path, trust, config, seconds: float) -> None:
    """One 1080p clip (panning, a keyframe every 2 s as phones write them) on 2 processes, split
    into segments screened at once and not split; decoding alone is the peer, same run."""
    from screening.pool import Screener

    print(f"\n## 5. One {seconds:g} s 1080p 30 fps clip (panning 8 px/s), every check, 2 processes: "
          "split or not\n", flush=True)
    clip = hd_clip(root / "long.mp4", seconds, 5, 8.0, gop=60)
    rows = []
    decode_wall = decode_only([clip])
    decoding = decode_cpu(clip)
    rows.append(("decoding to the end, no checks (1 process)", decode_wall, decoding, decoding))
    for label, split in (("not split (one worker screens it all)", False), ("split (2 segments at once)", True)):
        with Screener(trust.config, trust.gallery, workers=2, people=trust.names, split_clips=split) as screener:
            screen_all(screener, [write_clip(root / "warm.mp4", 0.5)] * 2)  # workers up, models loaded
            before = _workers_cpu(screener)
            start = time.perf_counter()
            (s,) = list(screener.screen([(clip, "long.mp4")]))
            wall = time.perf_counter() - start
            after = _workers_cpu(screener)
        if not s.results[0].complete:
            raise SystemExit(f"{s.results[0].error}")
        each = sorted((after[pid] - before.get(pid, 0.0) for pid in after), reverse=True)
        rows.append((label, wall, sum(each), max(each)))
    print("| what | wall s | x real time | workers' CPU s (sum) | CPU s per clip s | busiest worker's CPU s "
          "(x clip length: the wall time on 2 idle cores) | x decoding wall |\n|---|---|---|---|---|---|---|")
    for label, wall, used, busiest in rows:
        print(f"| {label} | {wall:.1f} | {wall / seconds:.2f} | {used:.1f} | {used / seconds:.2f} | "
              f"{busiest:.1f} ({busiest / seconds:.2f}) | {wall / decode_wall:.1f} |")
    print(f"\nsplit / not split, wall: {rows[2][1] / rows[1][1]:.2f}; CPU: {rows[2][2] / rows[1][2]:.2f}; "
          f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
