"""Publishable copies of clips: faces of people without consent blurred in every frame, no metadata.

Two passes over the clip, one frame in memory at a time. The first looks for faces in the
frames the screening samples (every [video] sample_every_s, keyframes, scene changes) and
decides for each face, with the same rules as the verdict, whether it must be hidden. The
second decodes every frame again and blurs, in each, the faces to hide of the screened frames
on either side of it (grown by the distance a face can move between them), so a face is
hidden in the frames between samples too. The copy is an MP4 (H.264) of the upright frames:
no container or stream metadata is carried over (no GPS, no XMP, no place names). The first
audio stream is copied as it is (not decoded, not screened, its tags left behind) when its
codec can go in an MP4; otherwise the copy has no sound. Logos and uniforms are left as they
are, as for photos.
"""

from __future__ import annotations

import bisect
import os
import shutil
import uuid
from fractions import Fraction
from pathlib import Path

import numpy as np

from screening.config import Config, VideoSettings
from screening.digest import sha256_file
from screening.formats import video
from screening.model import Box, Check, CheckResult
from screening.policy import Rules, decide

# Audio codecs copied into the MP4 as they are (others are left out: the copy has no sound).
MP4_AUDIO = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"})
# Audio is written this far (seconds) ahead of the picture, so the two stay interleaved.
AUDIO_AHEAD_S = 0.5

# Between two screened frames a face may move; the blurred box grows by this share of its size
# (on top of redact.GROW) for the frames in between.
MOTION = 0.5


class VideoRedactError(Exception):
    pass


_BUILT: dict[tuple[int, int], object] = {}


def face_detector(config: Config, gallery):
    """The face check the copies are made with, built once per process (tests replace it)."""
    from screening.detectors.faces import FaceDetector

    key = (id(config), id(gallery))
    if key not in _BUILT:
        _BUILT.clear()
        _BUILT[key] = FaceDetector(config.faces, gallery)
    return _BUILT[key]


def faces_to_hide_by_time(path: Path, fmt: str, detector, rules: Rules,
                          settings: VideoSettings) -> list[tuple[float, list[Box]]]:
    """(time, boxes to hide) of every sampled frame, in time order."""
    from screening import imaging
    from screening.video_passes import stamped

    found = []
    with video.Clip(path, fmt, max_duration_s=settings.max_duration_s) as clip:
        for sample in video.samples(clip.frames(), settings.sample_every_s, settings.scene_change,
                                    settings.min_gap_s):
            # full-size frames, searched as photos are: every face of [faces] min_face_search px
            picture = imaging.Picture(path=path, data=b"", format="VIDEO FRAME", frames=[sample.rgb])
            faces = [stamped(f, sample.time) for f in detector.detect(picture, {})]
            decision = decide([CheckResult(Check.FACES, tuple(faces))], _faces_only(rules))
            boxes = [f.box for f in decision.faces if not (f.person_id and f.consented)]
            if found and found[-1][0] == sample.time:  # an interlaced frame's other field: one time, both fields' faces
                found[-1][1].extend(boxes)
            else:
                found.append((sample.time, boxes))
    return found


def _faces_only(rules: Rules) -> Rules:
    from dataclasses import replace

    return replace(rules, required=(Check.FACES,))


def boxes_at(t: float, hide: list[tuple[float, list[Box]]], times: list[float]) -> list[Box]:
    """The boxes to blur in the frame at time t: those of the screened frames either side of it,
    grown by MOTION, and the path between a face's box in one and its box in the other (a child
    running across the frame moves further than MOTION between two samples: RT12-16)."""
    i = bisect.bisect_right(times, t + 1e-6)
    near = []
    for j in (i - 1, i):
        if 0 <= j < len(hide):
            exact = abs(hide[j][0] - t) < 1e-6
            near += [b if exact else _grown(b, MOTION) for b in hide[j][1]]
    if 0 < i < len(hide) and abs(hide[i - 1][0] - t) >= 1e-6:
        near += _paths(hide[i - 1][1], hide[i][1])
    return near


def _paths(before: list[Box], after: list[Box]) -> list[Box]:
    """For each box of the earlier frame and each of the later one, the box covering both, grown
    by MOTION: wherever a face went in between, whichever later face it became (a face growing
    as it runs at the camera, another face appearing beside its path: RT14-2/3). More is blurred
    than moved; a copy blurs too much rather than too little."""
    out = []
    for a, b in ((a, b) for a in before for b in after):
        ga, gb = _grown(a, MOTION), _grown(b, MOTION)
        x0, y0 = min(ga[0], gb[0]), min(ga[1], gb[1])
        x1, y1 = max(ga[0] + ga[2], gb[0] + gb[2]), max(ga[1] + ga[3], gb[1] + gb[3])
        out.append((x0, y0, x1 - x0, y1 - y0))
    return out


def _grown(box: Box, share: float) -> Box:
    x, y, w, h = box
    gx, gy = round(w * share), round(h * share)
    return x - gx, y - gy, w + 2 * gx, h + 2 * gy


def make_video_copy(source: Path, fmt: str, sha256: str | None, into: Path, detector, rules: Rules,
                    settings: VideoSettings) -> tuple[Path, int]:
    """Write the redacted copy into `into` (never overwriting); returns it and how many frames
    had a face blurred."""
    import av

    from screening.redact import obliterate

    if sha256_file(source) != sha256:
        raise VideoRedactError("no copy made: the file changed after it was screened")
    try:
        video.check_structure(source, fmt)
        hide = faces_to_hide_by_time(source, fmt, detector, rules, settings)
        times = [t for t, _ in hide]
        into.mkdir(parents=True, exist_ok=True)
        tmp = into / f".redacting-{os.getpid()}-{uuid.uuid4().hex[:8]}.mp4"
        blurred = 0
        try:
            with video.Clip(source, fmt, max_duration_s=settings.max_duration_s) as clip, \
                    av.open(str(tmp), "w", format="mp4") as out, AudioCopy(source, out) as audio:
                rate = Fraction(clip.probe.fps or 25).limit_denominator(1001)
                stream = None
                for frame in clip.frames():
                    rgb = frame.rgb()
                    boxes = boxes_at(frame.time, hide, times)
                    if boxes:
                        rgb = obliterate(rgb, boxes)
                        blurred += 1
                    rgb = _even(rgb)
                    if stream is None:
                        stream = out.add_stream("libx264", rate=rate)
                        stream.height, stream.width = rgb.shape[:2]
                        stream.pix_fmt = "yuv420p"
                        stream.options = {"crf": "18", "preset": "veryfast"}
                    picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                    picture.pts = frame.number  # constant rate: the copy's frames, in order
                    picture.time_base = 1 / rate
                    for packet in stream.encode(picture):
                        out.mux(packet)
                    audio.until(frame.time + AUDIO_AHEAD_S)  # after the picture's stream exists
                if stream is not None:
                    for packet in stream.encode():
                        out.mux(packet)
                audio.until(float("inf"))
            copy = _place(tmp, into, source.stem + ".mp4")
        finally:
            tmp.unlink(missing_ok=True)
    except video.VideoError as exc:
        raise VideoRedactError(f"no copy made: {exc}") from None
    except av.FFmpegError as exc:
        raise VideoRedactError(f"no copy made: the copy could not be encoded: {exc}") from None
    return copy, blurred


class AudioCopy:
    """The source's first audio stream, copied packet by packet into `out` (no decoding, no
    tags); nothing when there is none or its codec cannot go in an MP4."""

    def __init__(self, source: Path, out):
        import av

        self.source, self.out = source, out
        self.input = av.open(str(source), mode="r", metadata_errors="replace")
        streams = [s for s in self.input.streams.audio if s.codec_context is not None]
        self.src = streams[0] if streams and streams[0].codec_context.name in MP4_AUDIO else None
        self.stream = out.add_stream_from_template(self.src) if self.src is not None else None
        if self.stream is not None:
            self.stream.time_base = self.src.time_base
            for key in list(self.stream.metadata):
                del self.stream.metadata[key]
        self.packets = self.input.demux(self.src) if self.src is not None else iter(())
        self.waiting = None

    def __enter__(self) -> AudioCopy:
        return self

    def __exit__(self, *exc) -> None:
        self.input.close()

    def until(self, seconds: float) -> None:
        """Mux the audio packets that start before `seconds` (from the clip's start)."""
        while self.stream is not None:
            packet = self.waiting or next(self.packets, None)
            self.waiting = None
            if packet is None:
                self.stream = None
                return
            if packet.dts is None or packet.size == 0:
                continue
            at = float((packet.pts if packet.pts is not None else packet.dts) * packet.time_base)
            if at > seconds:
                self.waiting = packet
                return
            packet.stream = self.stream
            self.out.mux(packet)


def _place(tmp: Path, folder: Path, name: str) -> Path:
    """Give the finished copy its name, or name-1, name-2...: an existing file is never replaced."""
    stem, suffix = os.path.splitext(name)
    for n in range(0, 10_000):
        target = folder / (name if n == 0 else f"{stem}-{n}{suffix}")
        try:
            os.link(tmp, target)
            return target
        except FileExistsError:
            continue
        except OSError:  # no hard links on this file system (some network shares)
            try:
                with open(tmp, "rb") as src, open(target, "xb") as dst:
                    shutil.copyfileobj(src, dst)
                return target
            except FileExistsError:
                continue
    raise VideoRedactError(f"no free name for {name} in {folder}")


def _even(rgb: np.ndarray) -> np.ndarray:
    """H.264 in 4:2:0 needs even sides: repeat the last row/column when one is odd."""
    h, w = rgb.shape[:2]
    if h % 2:
        rgb = np.concatenate([rgb, rgb[-1:]], axis=0)
    if w % 2:
        rgb = np.concatenate([rgb, rgb[:, -1:]], axis=1)
    return np.ascontiguousarray(rgb)
