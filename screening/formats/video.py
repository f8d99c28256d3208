"""Video files: recognised by content, checked whole, decoded to the end with PyAV.

MP4/MOV/M4V/3GP (ISO base media / QuickTime), WebM/MKV (Matroska) and AVI. The container's
structure is walked first (a box or chunk that runs past the end of the file, a missing
`moov`, bytes that are not a box after the last one: the file is incomplete). Then every
frame is decoded, in order, one at a time (memory does not grow with the clip's length), and
a frame that fails to decode, a decoder that reports damage, or frames that do not add up to
the declared duration raise VideoError: a clip that was not seen to its end is never cleared.

Frames come out upright: the display matrix (phone clips are stored sideways with a rotation
to apply) is applied, as players do. Audio is not decoded or screened.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The container side (sniffing, structure, data tracks) is in video_container.py, sampling in
# video_sampling.py; their names are re-exported here for the modules that read videos.
from screening.formats.video_container import (  # noqa: F401 (re-exported)
    AVI, FORMATS, HARMLESS_MEBX_KEYS, MATROSKA, MAX_METADATA_BOX, MP4, Box, VideoError, _chapter_tags,
    _harmless_track, _mebx_keys, _shown_size, _track_name, check_structure, mp4_data_tracks, mp4_edit_problem, sniff, top_level_boxes)
from screening.formats.video_check import crosscheck, ffmpeg_message as _ffmpeg_message, strict_options

# The last frame may end this far from the declared duration (seconds, and share of it):
# containers round durations, and audio may run a little longer than the picture.
DURATION_SLACK_S = 0.5
DURATION_SLACK_SHARE = 0.02
# Decoded frames may differ from the declared count by this many, and never by more than
# FRAME_SLACK_S of picture at the clip's frame rate (at 1 fps: not one frame), before it is an error.
FRAME_SLACK = 2
FRAME_SLACK_S = 0.25
# Frames larger than this are refused before decoding (an 8K frame is 33 MP).
MAX_FRAME_PIXELS = 40_000_000
# One decoded frame, its conversions and the display turn: video_frame.py (names re-exported).
from screening.formats.video_frame import (  # noqa: E402,F401 (re-exported)
    FINE_THUMB, THUMB, Frame, _display_matrix, _turn_of, converted, transparent, upright)


# ---------------------------------------------------------------- decoding


@dataclass(frozen=True)
class Probe:
    """What the container says about the clip, before any frame is decoded."""

    container: str  # MP4, MATROSKA, AVI
    codec: str  # h264, hevc, vp9...
    width: int  # as shown (pixels made square), before the display rotation of the first frame
    height: int
    duration: float | None  # seconds, as the container declares it
    fps: float | None
    declared_frames: int  # 0 when the container does not say
    metadata: dict[str, str]  # container and video stream tags, as FFmpeg reads them


@dataclass(frozen=True)
class Window:
    """A segment of a split clip: frames from `start` to before `end` (seconds from `origin`, the
    time of the clip's first frame); `turn` is the clip's display turn (read from its first frame)."""

    origin: float
    start: float
    end: float
    last: bool
    turn: tuple[int, bool, int]

    def holds(self, rel: float, first: bool) -> bool:
        if first and rel > self.start + 1e-3:
            raise VideoError(f"the segment from {self.start:.2f} s starts at {rel:.2f} s: a gap in the clip")
        return self.start - 1e-6 <= rel and (self.last or rel < self.end - 1e-6)


class Clip:
    """An open video file: probe() then frames() once, in order. Use as a context manager."""

    def __init__(self, path: Path, fmt: str, *, max_duration_s: float | None = None):
        import av

        self.path = Path(path)
        self.fmt = fmt
        try:
            # Decoders report damage instead of hiding it; one thread, so that their log lines
            # reach us (PyAV's log capture deadlocks with frame threads). Every sample in the file
            # is decoded, including those an MP4 edit list (elst) would skip: it may hide picture.
            self.container = av.open(str(path), mode="r", metadata_errors="replace",
                                     options={"err_detect": "crccheck+bitstream+buffer+explode", "threads": "1",
                                              **({"ignore_editlist": "1"} if fmt == MP4 else {})})
        except av.FFmpegError as exc:
            raise VideoError(f"cannot be opened as a video: {_ffmpeg_message(exc)}") from None
        except (OSError, ValueError) as exc:
            raise VideoError(f"cannot be opened as a video: {exc}") from None
        try:
            self.probe = self._probe(max_duration_s)
        except BaseException:
            self.container.close()
            raise

    def __enter__(self) -> Clip:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.container.close()

    def _probe(self, max_duration_s: float | None) -> Probe:
        c = self.container
        videos = [s for s in c.streams.video]
        if not videos:
            raise VideoError("no video stream in the file (audio is not screened)")
        if len(videos) > 1:
            raise VideoError(f"{len(videos)} video streams in the file; only clips with one are screened")
        stream = videos[0]
        self.stream = stream
        ctx = stream.codec_context
        if ctx is None or not ctx.name:
            raise VideoError("the video codec is unknown to the decoder")
        ctx.thread_count, ctx.thread_type = 1, "NONE"
        strict_options(ctx)  # HEVC stops at damage it notices (RT15-12)
        w, h = ctx.width, ctx.height
        if w <= 0 or h <= 0:
            raise VideoError(f"the video stream declares no picture size ({w}x{h})")
        self.sar, self.coded = stream.sample_aspect_ratio or ctx.sample_aspect_ratio, (w, h)
        self.shown = _shown_size(w, h, self.sar)
        if self.shown is not None:
            w, h = self.shown
        if w * h > MAX_FRAME_PIXELS:
            raise VideoError(f"frames of {w}x{h} are over the {MAX_FRAME_PIXELS / 1e6:.0f} MP limit")
        duration = None
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif c.duration is not None:
            duration = c.duration / 1_000_000
        if duration is not None and (not math.isfinite(duration) or duration < 0):
            raise VideoError(f"the clip declares an impossible duration ({duration})")
        if max_duration_s is not None and duration is not None and duration > max_duration_s:
            raise VideoError(f"the clip lasts {duration:.0f} s, longer than the {max_duration_s:.0f} s that "
                             "are screened ([video] max_duration_s)")
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else None
        self.turn = (0, False, 0)  # known from the first frame's display matrix
        self._refuse_unscreened(c, stream)
        metadata = {str(k): str(v) for k, v in c.metadata.items()}
        metadata.update({f"stream:{k}": str(v) for k, v in stream.metadata.items()})
        for other in c.streams:  # an audio stream's tags may hold a location too (Matroska LOCATION)
            if other is not stream:
                metadata.update({f"stream{other.index}:{k}": str(v) for k, v in other.metadata.items()})
        metadata.update(_chapter_tags(c))
        return Probe(self.fmt, ctx.name, w, h, duration, fps, int(stream.frames or 0), metadata)

    def _refuse_unscreened(self, c, video_stream) -> None:
        """VideoError for any stream but the video and audio: subtitles, attachments, telemetry and
        timed metadata are not screened, and may hold a name, a picture or a position. A QuickTime
        timecode track, and Apple timed metadata whose keys are all known to be harmless, are allowed."""
        if any(k.lower() == "alpha_mode" and str(v).strip() not in ("", "0") for k, v in video_stream.metadata.items()):
            # VP8/VP9 in WebM carry it beside the picture (BlockAdditional); FFmpeg's decoders drop it, a
            # browser lays the picture over the page with it, so it can draw what the planes do not (RT10-7)
            raise VideoError("the video has a transparency (alpha) channel, which is not screened: the clip "
                             "cannot be cleared; export it without transparency")
        tracks = mp4_data_tracks(self.path) if self.fmt == MP4 else {}
        edits = mp4_edit_problem(self.path) if self.fmt == MP4 else None
        if edits:
            raise VideoError(f"{edits}: the clip cannot be cleared; export it again without edits")
        ids = {s.id for s in c.streams}
        for track_id, (kind, keys) in tracks.items():  # a track the demuxer does not expose is not screened
            if track_id not in ids and not _harmless_track(kind, keys):
                raise VideoError(f"track {track_id} ({kind or 'unknown format'}), which the decoder does not "
                                 "read, is not screened: the clip cannot be cleared")
        for s in c.streams:
            if s is video_stream or s.type == "audio":
                continue
            if s.type == "data" and s.id in tracks:
                if _harmless_track(*tracks[s.id]):
                    continue
                what = _track_name(*tracks[s.id])
            elif s.type == "attachment":
                name = s.metadata.get("filename") or s.metadata.get("FILENAME") or "unnamed"
                mime = s.metadata.get("mimetype") or s.metadata.get("MIMETYPE") or "no MIME type"
                what = f"an attachment ({name!r}, {mime})"
            elif s.type == "subtitle":
                what = "a subtitle stream"
            else:
                what = f"a {s.type or 'unknown'} stream"
            raise VideoError(f"{what} is not screened: the clip cannot be cleared")

    @property
    def rotation(self) -> int:
        """Degrees clockwise the stored frames are turned to be upright: 0, 90, 180 or 270."""
        return self.turn[2]

    @property
    def size(self) -> tuple[int, int]:
        """Upright width and height (after the display rotation)."""
        w, h = self.probe.width, self.probe.height
        return (h, w) if self.turn[2] in (90, 270) else (w, h)

    def frames(self, window: Window | None = None) -> Iterator[Frame]:
        """Every frame, decoded in order; VideoError as soon as anything is wrong, or at the end.

        With a `window` (a segment of a split clip, video_split.py), decoding starts at the keyframe
        at or before its start, frames before it are decoded and dropped, and it stops at the first
        frame at or after its end; a segment that does not reach its end, or whose first frame is
        after its start (a gap), is an error. The whole clip's counts are checked by the caller."""
        import av

        previous_level = av.logging.get_level()
        av.logging.set_level(av.logging.ERROR)
        self.kept, self.last_end, self.reached_end = 0, 0.0, False
        self.first_at = self.stopped_at = None  # (a window) the first frame kept, the frame that ended it
        try:
            with av.logging.Capture(local=False) as logs:
                try:
                    yield from self._decoded(logs, window)
                    self._check_logs(logs, self.kept, None)
                except av.FFmpegError as exc:
                    raise VideoError(f"decoding stopped at frame {self.kept + 1}: {_ffmpeg_message(exc)}") from None
        finally:
            av.logging.set_level(previous_level)
        if window is None:
            self._check_complete(self.kept, self.last_end)
        elif not window.last and not self.reached_end:
            raise VideoError(f"the segment from {window.start:.2f} s ended before {window.end:.2f} s: the clip "
                             "was not seen to its end")
        elif window.last:
            self._check_duration(self.last_end)

    def _decoded(self, logs: list, window: Window | None) -> Iterator[Frame]:
        stream, number, start = self.stream, 0, None
        frame_step = 1.0 / self.probe.fps if self.probe.fps else 0.0
        if window is not None:
            start, self.turn = window.origin, window.turn
            if window.start > 0:
                self.container.seek(int((window.origin + window.start) / stream.time_base), stream=stream,
                                    backward=True, any_frame=False)
        check = crosscheck(self.probe.codec)  # VP8/VP9: each frame against libvpx's (RT15-12)
        for packet in self.container.demux(stream):
            if packet.is_corrupt:
                raise VideoError(f"damaged data near {self._at(packet, start)}: the demuxer flagged a corrupt packet")
            check.feed(packet)
            for frame in stream.decode(packet):
                self._check_logs(logs, number, start)
                check.compare(frame)
                t = self._checked_time(frame, number, start, frame_step)
                if start is None:
                    start = t
                    found = _display_matrix(frame)
                    if found is not None:
                        self.turn = _turn_of(*found)
                rel = max(0.0, t - start)
                number += 1
                if window is not None and not window.holds(rel, number == 1):
                    if rel >= window.end - 1e-6:
                        self.reached_end, self.stopped_at = True, rel
                        return
                    if self.kept:  # a frame before the start after one kept: it would be seen by no segment
                        raise VideoError(f"frame at {rel:.2f} s comes after the segment from {window.start:.2f} s "
                                         "began: frames out of order, the clip cannot be split")
                    continue
                if not self.kept:
                    self.first_at = rel
                duration = float(frame.duration * frame.time_base) if (
                    frame.duration and frame.time_base) else frame_step
                self.last_end = max(self.last_end, rel + duration)
                yield Frame(self.kept, rel, bool(frame.key_frame), frame, self.turn[:2], self._shown_of(frame))
                self.kept += 1
        check.finish()

    def _shown_of(self, frame) -> tuple[int, int] | None:
        """The size a frame of non-square pixels is shown at, from its own size: a picture size that
        changes mid-stream is not squeezed to the first frame's (RT26-4)."""
        if self.shown is None or (frame.width, frame.height) == self.coded:
            return self.shown
        return _shown_size(frame.width, frame.height, self.sar)

    @staticmethod
    def _checked_time(frame, number: int, start, frame_step: float) -> float:
        if getattr(frame, "is_corrupt", False):
            raise VideoError(f"frame {number + 1} is damaged (the decoder could not decode it completely)")
        for entry in getattr(frame, "side_data", None) or ():
            kind = str(getattr(entry, "type", "")).upper()
            if "A53_CC" in kind:  # CEA-608/708 captions in the picture stream
                raise VideoError(f"frame {number + 1} carries closed captions, which are not screened (players "
                                 "show them as text): the clip cannot be cleared")
            if "SPHERICAL" in kind:  # Spherical Video V1/V2, Matroska Projection: shown in a sphere viewer
                raise VideoError("a 360-degree clip (it declares a spherical projection): YouTube, Facebook and VLC "
                                 "show it in a sphere viewer, and its views are not screened yet (its flat map "
                                 "stretches what is high up or low down): the clip cannot be cleared (RT27-9)")
        if transparent(frame):
            raise VideoError(f"frame {number + 1} has a transparency (alpha) channel, which is not screened (an "
                             "editor or a browser shows the clip over a page with it): the clip cannot be cleared; "
                             "export it without transparency")
        if frame.width * frame.height > MAX_FRAME_PIXELS:
            raise VideoError(f"frame {number + 1} is {frame.width}x{frame.height}, over "
                             f"the {MAX_FRAME_PIXELS / 1e6:.0f} MP limit")
        t = frame.time
        if t is None:
            if not frame_step:
                raise VideoError(f"frame {number + 1} has no timestamp and the clip no frame rate")
            t = number * frame_step + (start or 0.0)
        return t

    @staticmethod
    def _at(packet, start) -> str:
        if packet.pts is not None and packet.time_base:
            return f"{float(packet.pts * packet.time_base) - (start or 0.0):.2f} s"
        return "an unknown time"

    @staticmethod
    def _check_logs(logs: list, number: int, start) -> None:
        import av

        for log in logs:
            level, name, message = log[0], log[1], log[2]
            if level <= av.logging.ERROR:
                raise VideoError(f"the decoder reported damage by frame {number + 1}: {str(message).strip()} "
                                 f"({name})")

    def _check_complete(self, number: int, last_end: float) -> None:
        check_count(self.probe, number)
        self._check_duration(last_end)

    def _check_duration(self, last_end: float) -> None:
        probe = self.probe
        if probe.duration is not None and probe.duration > 0:
            slack = max(DURATION_SLACK_S, DURATION_SLACK_SHARE * probe.duration)
            if abs(last_end - probe.duration) > slack:
                raise VideoError(f"the frames seen cover {last_end:.2f} s, the container declares "
                                 f"{probe.duration:.2f} s: the clip was not seen to its end")


def check_count(probe: Probe, number: int) -> None:
    """VideoError when `number` decoded frames do not add up to the clip's declared count."""
    if number == 0:
        raise VideoError("no frame of the video could be decoded")
    declared = probe.declared_frames
    allowed = min(FRAME_SLACK, math.floor(FRAME_SLACK_S * probe.fps + 1e-9)) if probe.fps else 0
    if declared and abs(number - declared) > allowed:
        raise VideoError(f"{number} frames decoded, the container declares {declared}: the clip was not "
                         "seen to its end")


# Sampling lives in video_sampling.py (it needs Frame, defined above).
from screening.formats.video_sampling import Sample, samples  # noqa: E402,F401 (re-exported)
