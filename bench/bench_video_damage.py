"""Cost of the VP8/VP9 cross-check (formats/video_check.py, RT15-12), run by hand:
`.venv/bin/python bench/bench_video_damage.py [--quick]`.

One clean 1080p 30 fps clip per codec (a drawn panning scene, generated here), decoded to its
end through formats/video.py `Clip.frames()` (what every screening does first), CPU seconds of
this process, with the cross-check (and HEVC's strict decoder options) and without them (the
peer, same run, alternated). Prints a markdown table. --quick: 3 s clips, 1 round (about a
minute on an idle 2-core machine); otherwise 6 s clips, 3 rounds (the best of each is kept).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from screening.formats import video, video_check  # noqa: E402
from tests.clips import scene  # noqa: E402

CODECS = [("h264", "mp4", "libx264", {"preset": "veryfast"}), ("hevc", "mov", "libx265", {"preset": "ultrafast"}),
          ("vp8", "webm", "libvpx", {"deadline": "realtime", "cpu-used": "8"}),
          ("vp9", "webm", "libvpx-vp9", {"deadline": "realtime", "cpu-used": "8"})]


def write(path: Path, codec: str, fmt: str, options: dict, seconds: float) -> Path:
    import av

    background = scene((1920, 1080), pan=40.0)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=30, options=options)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.codec_context.gop_size = 60
        for i in range(round(seconds * 30)):
            for packet in stream.encode(av.VideoFrame.from_ndarray(background(i / 30), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def decode_cpu(path: Path, fmt: str, checked: bool) -> tuple[float, int]:
    saved = dict(video_check.REFERENCE), dict(video_check.STRICT)
    if not checked:
        video_check.REFERENCE.clear()
        video_check.STRICT.clear()
    try:
        start = time.process_time()
        with video.Clip(path, fmt) as clip:
            n = sum(1 for _ in clip.frames())
        return time.process_time() - start, n
    finally:
        video_check.REFERENCE.update(saved[0])
        video_check.STRICT.update(saved[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds, rounds = (3.0, 1) if args.quick else (6.0, 3)
    print("| codec | clip s | frames | decode CPU s, no cross-check (peer) | with it | ratio |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, fmt, codec, options in CODECS:
            path = write(Path(tmp) / f"{name}.{'mov' if fmt == 'mov' else fmt}", codec, fmt, options, seconds)
            container = video.sniff(path.read_bytes()[:4096])
            before, after, frames = [], [], 0
            for _ in range(rounds):
                cpu, frames = decode_cpu(path, container, False)
                before.append(cpu)
                after.append(decode_cpu(path, container, True)[0])
            print(f"| {name} | {seconds:.0f} | {frames} | {min(before):.2f} | {min(after):.2f} | "
                  f"{min(after) / min(before):.2f}x |", flush=True)


if __name__ == "__main__":
    main()
