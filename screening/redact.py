"""Publishable copies: faces of people without consent made unrecognisable, no location left.

Names read in the picture (the regions behind `text` reasons: a pupil's name on a certificate,
an academy's name on a banner) are made unreadable the same way.

The copy is made from the upright decoded pixels, so EXIF orientation is already applied and
the copy needs none; only the ICC colour profile is carried over. Nothing else of the
original's metadata survives: no EXIF (so no GPS IFD), no XMP, no IPTC, no comments.
Logos and uniforms are left as they are: hiding a crest still leaves an academy's uniform
and premises recognisable, so those images keep needing permission (see docs/review.md).
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from screening import imaging
from screening.digest import sha256_bytes
from screening.model import Box, Check, Kind, Screening, Verdict

# Each side of a face box grows by this share of its size: hair, ears and chin identify too.
GROW = 0.35
# The face area is reduced to this many blocks across before it is blurred.
BLOCKS = 6
# Each side of a text box grows by this share of its height (the detector's box is tight).
TEXT_GROW = 0.3

# Formats copied losslessly; everything else (JPEG, HEIC, WebP) becomes a JPEG.
_LOSSLESS = {"PNG", "BMP", "GIF", "TIFF"}


class RedactError(Exception):
    """No safe copy can be made of this file; the message says why in plain words."""


def faces_to_hide(v: Verdict) -> list[Box]:
    """Every face not of a person with consent for the verdict's channel (unknown ones too)."""
    return [f.box for f in v.faces if not (f.person_id and f.consented)]


def text_to_hide(v: Verdict) -> list[Box]:
    """Every region behind a `text` reason: a name read in the picture, or unreadable text."""
    return [r.box_on_picture for r in v.reasons if r.kind is Kind.TEXT and r.box_on_picture is not None]


def obliterate(pixels: np.ndarray, boxes: Iterable[Box], *, text: Iterable[Box] = ()) -> np.ndarray:
    """A copy of the pixels with every box (grown) pixelated to a few blocks, then blurred.

    `text` boxes grow by TEXT_GROW of their height on every side instead of GROW of their size.
    """
    import cv2

    out = pixels.copy()
    h, w = out.shape[:2]
    grown = [(b, round(b[2] * GROW), round(b[3] * GROW)) for b in boxes]
    grown += [(b, round(b[3] * TEXT_GROW), round(b[3] * TEXT_GROW)) for b in text]
    for (left, top, bw, bh), gx, gy in grown:
        x0, y0 = max(0, left - gx), max(0, top - gy)
        x1, y1 = min(w, left + bw + gx), min(h, top + bh + gy)
        if x1 <= x0 or y1 <= y0:
            continue
        region = out[y0:y1, x0:x1]
        rw, rh = x1 - x0, y1 - y0
        across = max(1, min(BLOCKS, rw))
        down = max(1, min(rh, round(BLOCKS * rh / rw)))
        small = cv2.resize(region, (across, down), interpolation=cv2.INTER_AREA)
        blocky = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_NEAREST)
        sigma = max(rw / across, rh / down) / 2
        out[y0:y1, x0:x1] = cv2.GaussianBlur(blocky, (0, 0), sigmaX=sigma, sigmaY=sigma)
    return out


def encode(pixels: np.ndarray, picture: imaging.Picture) -> tuple[bytes, str]:
    """The copy's file content and suffix: upright pixels, the RGB colour profile, nothing else."""
    from PIL import Image

    img = Image.fromarray(pixels)
    icc = picture.info.get("icc_profile")
    # An RGB profile only: the pixels are RGB now, a CMYK or grey profile would misdescribe them.
    options = {"icc_profile": icc} if isinstance(icc, bytes) and icc[16:20] == b"RGB " else {}
    buf = io.BytesIO()
    if picture.format in _LOSSLESS:
        img.save(buf, "PNG", optimize=False, **options)
        return buf.getvalue(), ".png"
    exif = Image.Exif()
    exif[0x0112] = 1  # the pixels are upright: say so, so no viewer rotates them again
    img.save(buf, "JPEG", quality=92, exif=exif.tobytes(), **options)
    return buf.getvalue(), ".jpg"


def make_copy(source: Path, screening: Screening, v: Verdict, into: Path, *, trust=None, rules=None) -> Path:
    """Write the redacted copy of `source` into the folder `into`; never overwrites anything.

    A video needs the trust and the rules: its faces are looked for again in every sampled
    frame and blurred in the frames between (redact_video.py).
    """
    by_check = {r.check: r for r in screening.results}
    for check, what in ((Check.DECODE, "faces"), (Check.FACES, "faces"), (Check.TEXT, "names")):
        result = by_check.get(check)
        if result is None or not result.complete:
            why = result.error if result is not None else "did not run"
            raise RedactError(f"no copy made: the {check.value} check {why}, so the {what} to "
                              "hide are not known")
    from screening.pipeline import video_format

    fmt = video_format(source)
    if fmt is not None:
        from screening import redact_video

        if trust is None or rules is None:
            raise RedactError("no copy made: a video is redacted with the trust's face check and rules")
        try:
            detector = redact_video.face_detector(trust.config, trust.gallery)
            copy, _frames = redact_video.make_video_copy(source, fmt, v.sha256, into, detector, rules,
                                                         trust.config.video)
        except redact_video.VideoRedactError as exc:
            raise RedactError(str(exc)) from None
        return copy
    try:
        data = imaging.read_file(source)
        if sha256_bytes(data) != v.sha256:
            raise RedactError("no copy made: the file changed after it was screened")
        picture = imaging.load(source, data, max_frames=1)
    except imaging.ImageError as exc:
        raise RedactError(f"no copy made: {exc}") from None
    hidden = obliterate(picture.frames[0], faces_to_hide(v), text=text_to_hide(v))
    content, suffix = encode(hidden, picture)
    return write_new(into, source.stem + suffix, content)


def write_new(folder: Path, name: str, content: bytes) -> Path:
    """Write content under `name` in folder, or name-1, name-2...: an existing file is never replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    # not mkstemp: its 0600 mode would make the copies unreadable to colleagues on a shared drive
    tmp = folder / f".redacting-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "xb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        stem, suffix = os.path.splitext(name)
        for n in range(0, 10_000):
            target = folder / (name if n == 0 else f"{stem}-{n}{suffix}")
            try:
                _link_or_copy(tmp, target, content)
                return target
            except FileExistsError:
                continue
        raise RedactError(f"no free name for {name} in {folder}")
    finally:
        tmp.unlink(missing_ok=True)


def _link_or_copy(tmp: Path, target: Path, content: bytes) -> None:
    """Put the finished file at target, failing if target exists (a hard link where possible)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise
    except OSError:  # file systems without hard links (some network shares)
        with open(target, "xb") as f:
            f.write(content)
