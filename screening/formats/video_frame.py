"""One decoded video frame: upright RGB and the small thumbnails sampling compares, converted
through one kept FFmpeg scaler per size and format; the display matrix players apply."""

from __future__ import annotations

import math
import struct
import threading
from dataclasses import dataclass

import numpy as np

from screening.formats.video_container import VideoError
from screening.formats.video_fields import deinterlaced, fields

# Side of the grey thumbnail scene changes are measured on.
THUMB = (64, 36)
# ... and of the one a flash between two screened frames is looked for on (video_flash.py).
FINE_THUMB = (128, 72)


@dataclass
class Frame:
    """One decoded frame, upright pixels on demand (most frames are never converted)."""

    number: int  # 0-based, in presentation order
    time: float  # seconds from the start of the first frame
    key: bool
    _frame: object  # av.VideoFrame
    _turn: tuple[int, bool]  # (quarter turns counter-clockwise, mirror first)
    _shown: tuple[int, int] | None = None  # (width, height) players show non-square pixels at

    def rgb(self) -> np.ndarray:
        """HxWx3 uint8, upright, at the size players show (non-square pixels stretched, RT6-14)."""
        w, h = self._shown or (None, None)
        pixels = converted(self._frame, w, h, "rgb24")
        if getattr(self._frame, "interlaced_frame", False):  # as players show it: not combed (RT26-5)
            pixels = deinterlaced(pixels)
        return upright(pixels, *self._turn)

    def looks(self) -> list[np.ndarray]:
        """What players show of the frame, upright: rgb(), or for a combed interlaced frame each of
        its fields in turn (video_fields.fields: a face in one field only is seen, RT27-5)."""
        if not getattr(self._frame, "interlaced_frame", False):
            return [self.rgb()]
        w, h = self._shown or (None, None)
        return [upright(p, *self._turn) for p in fields(converted(self._frame, w, h, "rgb24"))]

    @property
    def pixels(self) -> int:
        """Decoded pixels (what holding the frame costs in memory, 1.5 bytes each in 4:2:0)."""
        return int(self._frame.width) * int(self._frame.height)

    def grey_thumb(self) -> np.ndarray:
        return converted(self._frame, *THUMB, "gray").astype(np.float32)

    def fine_thumb(self) -> np.ndarray:
        """The thumbnail flashes between samples are looked for on (formats/video_flash.py):
        FINE_THUMB, HxWx3 (Y, U, V: a red face on a grey of the same brightness shows in U, V)."""
        return np.moveaxis(converted(self._frame, *FINE_THUMB, "yuv444p"), 0, -1).astype(np.float32)


_converters = threading.local()


def converted(frame, width: int | None, height: int | None, fmt: str) -> np.ndarray:
    """frame (an av.VideoFrame) as an array of `fmt` at width x height (None: its own size).

    The same as frame.reformat(...).to_ndarray(), but through one converter per size and format
    (and thread), kept from frame to frame: frame.reformat() sets up FFmpeg's scaler afresh for
    every frame, which cost 5-6 ms a 1080p frame, eight times the conversion itself."""
    from av.video.reformatter import VideoReformatter

    cache = getattr(_converters, "by_kind", None)
    if cache is None:
        cache = _converters.by_kind = {}
    key = (width, height, fmt)
    if key not in cache:
        cache[key] = VideoReformatter()
    return cache[key].reformat(frame, width=width, height=height, format=fmt).to_ndarray()


def upright(pixels: np.ndarray, quarter_turns: int, mirror: bool) -> np.ndarray:
    if mirror:
        pixels = pixels[:, ::-1]
    if quarter_turns % 4:
        pixels = np.rot90(pixels, quarter_turns)
    return np.ascontiguousarray(pixels)


def _turn_of(quarter_turns: int, mirror: bool) -> tuple[int, bool, int]:
    """(quarter turns counter-clockwise for np.rot90, mirror first, clockwise degrees)."""
    return quarter_turns % 4, mirror, (-90 * quarter_turns) % 360


# FFmpeg's autorotate as upright()'s (turns, mirror): cclock_flip (1, True), clock_flip (3, True),
# clock (3, False), cclock (1, False), vflip (2, True), hflip (0, True).
def _display_matrix(frame) -> tuple[int, bool] | None:
    """(quarter turns counter-clockwise, mirror first) from a frame's DISPLAYMATRIX, read as FFmpeg's
    player reads it: the rotation of the raw matrix, then the flips its signs ask for (RT10-8: a
    transposing matrix is a quarter turn and a mirror, not its opposite)."""
    for entry in getattr(frame, "side_data", None) or ():
        if "DISPLAYMATRIX" not in str(getattr(entry, "type", "")).upper():
            continue
        raw = bytes(entry)
        if len(raw) < 36:
            raise VideoError("damaged display matrix in the clip")
        m = [float(v) for v in struct.unpack("<9i", raw[:36])]
        scale0, scale1 = math.hypot(m[0], m[3]), math.hypot(m[1], m[4])
        if not scale0 or not scale1:
            raise VideoError("damaged display matrix in the clip (it collapses the picture)")
        theta = -round(-math.degrees(math.atan2(m[1] / scale1, m[0] / scale0)))  # fftools get_rotation()
        theta -= 360 * math.floor(theta / 360 + 0.9 / 360)
        if abs(theta - 90) < 1:
            return (1, True) if m[3] > 0 else (3, False)
        if abs(theta - 270) < 1:
            return (3, True) if m[3] < 0 else (1, False)
        if abs(theta - 180) < 1:
            hflip, vflip = m[0] < 0, m[4] < 0
            return (2, False) if hflip and vflip else (0, True) if hflip else (2, True) if vflip else (0, False)
        if abs(theta) < 1 or abs(theta - 360) < 1:
            return (2, True) if m[4] < 0 else (0, False)
        raise VideoError(f"the clip asks to be displayed rotated by {theta:.1f} degrees; only quarter "
                         "turns are supported")
    return None


def transparent(frame) -> bool:
    """Whether a decoded frame (an av.VideoFrame) can show transparency: its pixel format has an alpha
    plane that is not opaque everywhere, or a palette whose used colours are not all opaque. Decoding
    to RGB drops it, but an editor, a slide or a browser lays the frame over a page with it, so it can
    draw what the colour planes do not (RT26-1: a face drawn by the alpha of a ProRes 4444 clip)."""
    fmt = frame.format
    if any(c.is_alpha for c in fmt.components):
        try:
            alpha = converted(frame, None, None, "rgba")[..., 3]
        except Exception:
            return True  # an alpha plane that cannot be read is not known to be opaque
        return bool(alpha.min() < 255)
    if fmt.has_palette:  # FFmpeg's PAL8: indices, then 256 native-endian 0xAARRGGBB entries
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:frame.height, :frame.width]
        palette = np.frombuffer(frame.planes[1], np.uint32)
        if len(palette) < 256:
            return True
        return bool(((palette[np.unique(rows)] >> 24) & 0xFF).min() < 255)
    return False
