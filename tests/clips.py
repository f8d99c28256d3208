"""Test clips made on the spot: a drawn, slowly panning scene, the astronaut's head on screen
for a chosen time, written with PyAV in any container, with GPS tags or a display rotation.

Used by tests/test_video.py and bench/bench_video.py; nothing here is shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# Where the face is in samples/public-domain/astronaut.png, and a head-and-shoulders crop round it.
ASTRONAUT_FACE = (175, 76, 90, 90)
HEAD_CROP = (130, 20, 310, 230)

# (PyAV format, codec) per file suffix.
CONTAINERS = {
    ".mp4": ("mp4", "libx264"),
    ".mov": ("mov", "libx264"),
    ".m4v": ("mp4", "libx264"),
    ".3gp": ("3gp", "libx264"),
    ".mkv": ("matroska", "libvpx-vp9"),
    ".webm": ("webm", "libvpx"),
    ".avi": ("avi", "mpeg4"),
}


@dataclass(frozen=True)
class Appearance:
    """A picture pasted on the scene from `start` for `seconds`, at (left, top) in upright pixels."""

    picture: np.ndarray
    start: float
    seconds: float
    at: tuple[int, int]

    def shown(self, t: float) -> bool:
        return self.start <= t < self.start + self.seconds

    def box(self, face_in_picture: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        x, y, w, h = face_in_picture
        return self.at[0] + x, self.at[1] + y, w, h


def head(public_domain: Path, height: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The astronaut's head and shoulders, `height` pixels tall, and the face box inside it."""
    with Image.open(public_domain / "astronaut.png") as img:
        crop = img.convert("RGB").crop(HEAD_CROP)
    scale = height / crop.height
    crop = crop.resize((round(crop.width * scale), height), Image.LANCZOS)
    fx, fy, fw, fh = ASTRONAUT_FACE
    face = (round((fx - HEAD_CROP[0]) * scale), round((fy - HEAD_CROP[1]) * scale), round(fw * scale), round(fh * scale))
    return np.asarray(crop), face


def scene(size: tuple[int, int], seed: int = 0, pan: float = 8.0) -> Callable[[float], np.ndarray]:
    """A drawn outdoor scene (sky, grass, blobs) panning slowly (`pan` px/s; 0: a camera on a
    tripod): frame at time t, upright RGB."""
    rng = np.random.default_rng(seed)
    w, h = size
    wide = Image.new("RGB", (w * 2, h), (90, 150, 70))
    d = ImageDraw.Draw(wide)
    d.rectangle((0, 0, w * 2, h // 2), fill=(130, 180, 235))
    for _ in range(40):
        x, y = int(rng.integers(0, w * 2)), int(rng.integers(h // 3, h))
        r = int(rng.integers(4, max(5, h // 10)))
        red, green, blue = (int(c) for c in rng.integers(30, 220, 3))
        # never pure red: tests use red squares as stand-in faces
        d.ellipse((x - r, y - r, x + r, y + r), fill=(red, max(green, 100), blue))
    pixels = np.asarray(wide)

    def frame(t: float) -> np.ndarray:
        shift = int(t * pan) % w
        return pixels[:, shift:shift + w].copy()

    return frame


def write_clip(path: Path, seconds: float, *, size=(320, 240), fps: int = 25, seed: int = 0,
               appearances: tuple[Appearance, ...] = (), rotation: int = 0,
               metadata: dict[str, str] | None = None, codec: str | None = None, pan: float = 8.0,
               frame_hook: Callable[[float, np.ndarray], np.ndarray] | None = None,
               audio: str | None = None, audio_tags: dict[str, str] | None = None, gop: int = 0) -> Path:
    """Write a clip; `rotation` (counter-clockwise degrees) is stored as the display matrix, and
    the frames are stored turned the other way, so a player (and the screening) shows them upright.
    `frame_hook(t, pixels)` may change each upright frame; `audio` (a codec, e.g. "aac") adds a
    440 Hz tone as a second stream, with `audio_tags` as its tags; `gop` (frames) sets the keyframe
    interval (0: the encoder's default)."""
    import av

    fmt, default_codec = CONTAINERS[path.suffix.lower()]
    background = scene(size, seed, pan)
    quarter = (rotation // 90) % 4
    stored = size if quarter % 2 == 0 else (size[1], size[0])
    with av.open(str(path), "w", format=fmt) as out:
        for key, value in (metadata or {}).items():
            out.metadata[key] = value
        stream = out.add_stream(codec or default_codec, rate=fps)
        stream.width, stream.height = stored
        if gop:
            stream.codec_context.gop_size = gop
        stream.pix_fmt = "yuvj420p" if stream.codec_context.name == "mjpeg" else "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        sound = _tone(out, audio, seconds, audio_tags) if audio else None
        for i in range(round(seconds * fps)):
            t = i / fps
            pixels = background(t)
            for a in appearances:
                if a.shown(t):
                    ph, pw = a.picture.shape[:2]
                    pixels[a.at[1]:a.at[1] + ph, a.at[0]:a.at[0] + pw] = a.picture
            if frame_hook is not None:
                pixels = frame_hook(t, pixels)
            if quarter:
                pixels = np.ascontiguousarray(np.rot90(pixels, -quarter))
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if sound is not None:
            sound()
    return path


def _tone(out, codec: str, seconds: float, tags: dict[str, str] | None):
    """Add an audio stream to `out`; returns the function that writes its samples."""
    import av

    rate = 48000
    stream = out.add_stream(codec, rate=rate)
    stream.layout = "mono"
    for key, value in (tags or {}).items():
        stream.metadata[key] = value

    def write():
        n = stream.codec_context.frame_size or 1024
        fmt = stream.codec_context.format.name  # fltp (AAC), s16 (PCM)...
        samples = np.sin(2 * np.pi * 440 * np.arange(round(seconds * rate)) / rate)
        samples = (samples * 20000).astype(np.int16) if fmt.startswith("s16") else samples.astype(np.float32)
        for start in range(0, len(samples) - n + 1, n):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + n], format=fmt, layout="mono")
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return write
