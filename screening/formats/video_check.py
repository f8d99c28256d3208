"""A second, independent decode of VP8 and VP9 clips, compared with the first (RT15-12).

FFmpeg's own VP8 and VP9 decoders conceal a damaged packet: the frames after it decode wrong
and nothing is reported. VP8 and VP9 are defined bit-exactly by their reference decoder
(libvpx, inside PyAV's wheel), so a clean stream decodes to the same pixels in both; a damaged
one does not (they conceal differently), or libvpx refuses it outright. Each frame FFmpeg's
decoder yields is compared, plane by plane, with libvpx's frame of the same packet; the frames
screened are still FFmpeg's (they carry the stream's side data, e.g. the display rotation).

HEVC (iPhone clips) has no second decoder in the wheel: its decoder is asked to stop on
damage (`err_detect` with `explode`), which catches some damage, not all (docs/video.md).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from screening.formats.video_container import VideoError

# The reference decoder for each codec FFmpeg decodes by itself.
REFERENCE = {"vp8": "libvpx", "vp9": "libvpx-vp9"}
# Decoder options for codecs without a reference decoder: stop at damage rather than conceal it.
STRICT = {"hevc": {"err_detect": "crccheck+bitstream+buffer+explode"}}


def strict_options(ctx) -> None:
    """Ask the stream's decoder to stop on damage, where that is known not to refuse clean clips."""
    options = STRICT.get(ctx.name)
    if options:
        ctx.options = {**dict(ctx.options or {}), **options}


class NoCheck:
    """For codecs without a reference decoder."""

    def feed(self, packet) -> None:
        pass

    def compare(self, frame) -> None:
        pass

    def finish(self) -> None:
        pass


def crosscheck(codec_name: str) -> Crosscheck | NoCheck:
    return Crosscheck(codec_name) if codec_name in REFERENCE else NoCheck()


class Crosscheck:
    """The reference decode of the same packets: feed() each packet, then compare() each frame
    the stream's decoder gave for it, in order; finish() after the last (flushing) packet."""

    def __init__(self, codec_name: str):
        import av

        self.name = REFERENCE[codec_name]
        self.deep = False  # a 10/12-bit VP9 stream: not compared (deep_vp9)
        self.ctx = av.CodecContext.create(self.name, "r")
        self.ctx.thread_count = 1
        self.pending: deque = deque()
        self.number = 0

    def feed(self, packet) -> None:
        import av

        if self.deep:
            if shallow_vp9(packet):  # 8-bit frames after a 10-bit start would go unchecked (RT17-3)
                raise VideoError(f"the VP9 stream changes from 10/12-bit to 8-bit by frame {self.number + 1}: "
                                 "it cannot be checked, so it is not cleared")
            return
        if self.number == 0 and not self.pending and deep_vp9(self.name, packet):
            self.deep = True  # this libvpx decodes 8 bits only: FFmpeg's decoder alone (docs/video.md)
            return
        try:
            self.pending.extend(self.ctx.decode(packet))
        except av.FFmpegError as exc:
            raise VideoError(f"damaged picture data by frame {self.number + 1}: the reference decoder "
                             f"({self.name}) refuses it ({ffmpeg_message(exc)})") from None

    def compare(self, frame) -> None:
        self.number += 1
        if self.deep:
            return
        if not self.pending:
            raise VideoError(f"damaged picture data at frame {self.number}: the reference decoder "
                             f"({self.name}) gives no frame for it")
        if not same_picture(frame, self.pending.popleft()):
            raise VideoError(f"damaged picture data at frame {self.number}: it decodes to different "
                             f"pictures in FFmpeg's decoder and the reference decoder ({self.name})")

    def finish(self) -> None:
        if not self.deep and self.pending:
            raise VideoError(f"damaged picture data: the reference decoder ({self.name}) gives "
                             f"{len(self.pending)} more frame(s) than the clip's decoder")


def deep_vp9(reference: str, packet) -> bool:
    """A VP9 stream of profile 2 or 3 (10 or 12 bits: HDR video, RT16-1), from its first frame's
    header (frame marker 0b10, then the profile's low and high bits)."""
    data = bytes(packet)
    if reference != "libvpx-vp9" or not data or data[0] >> 6 != 0b10:
        return False
    return (data[0] >> 4) & 1 == 1  # profile_high_bit: profiles 2 and 3


def shallow_vp9(packet) -> bool:
    """A VP9 frame header of profile 0 or 1 (8 bits)."""
    data = bytes(packet)
    return bool(data) and data[0] >> 6 == 0b10 and (data[0] >> 4) & 1 == 0


def same_picture(a, b) -> bool:
    """True when two decoded frames hold the same pixels (same format, size and every plane)."""
    if (a.width, a.height, a.format.name) != (b.width, b.height, b.format.name) or len(a.planes) != len(b.planes):
        return False
    depth = 2 if a.format.components and a.format.components[0].bits > 8 else 1
    for pa, pb in zip(a.planes, b.planes):
        rows, width = pa.height, pa.width * depth
        if (pb.height, pb.width) != (pa.height, pa.width):
            return False
        va = np.frombuffer(pa, np.uint8)[:rows * pa.line_size].reshape(rows, pa.line_size)[:, :width]
        vb = np.frombuffer(pb, np.uint8)[:rows * pb.line_size].reshape(rows, pb.line_size)[:, :width]
        if not np.array_equal(va, vb):
            return False
    return True


def ffmpeg_message(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc).replace("\n", " ")
