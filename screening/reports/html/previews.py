"""The pictures on the cards: a JPEG thumbnail of a photo, a strip of the frames of a clip that
hold findings. Both are base64-embedded (the report travels by email) and never raise: a
preview is a convenience, the verdict is reported in full without it."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from screening import imaging
from screening.digest import sha256_bytes, sha256_file
from screening.model import Verdict
from screening.reports.html.cards import box_divs
from screening.textsafe import for_html

# px, longest side: sharp in a card and still useful enlarged; ~40-70 KB per real photo,
# about 5 MB per 100 images (the original is one click further, where it can be reached)
THUMB_SIDE = 640
THUMB_QUALITY = 70


def thumbnail(verdict: Verdict) -> str | None:
    """A base64 JPEG of the upright first frame, or None when it cannot be shown (never raises)."""
    if not verdict.sha256:  # never read (a link out of the folder) or unreadable: nothing to show
        return None
    try:
        data = imaging.read_file(Path(verdict.path))
        if sha256_bytes(data) != verdict.sha256:
            return None  # the file changed since it was screened: its boxes would lie
        picture = imaging.load(Path(verdict.path), data)
        pixels, _ = picture.scaled(0, THUMB_SIDE)
        del picture, data
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, "JPEG", quality=THUMB_QUALITY, optimize=True)
        return base64.b64encode(buf.getvalue()).decode("ascii")
    except Exception:  # a preview is a convenience: the verdict is still reported in full
        return None


STRIP_FRAMES = 6  # frames shown for a video: the first times something was found
STRIP_SIDE = 200


def video_strip(v: Verdict, names: Mapping[str, str]) -> str | None:
    """For a video, a strip of the frames that hold findings, each with its boxes; "" when the
    clip cannot be shown, None for a photo (never raises: a preview is a convenience)."""
    from screening.formats import video
    from screening.pipeline import video_format

    path = Path(v.path)
    fmt = video_format(path)
    if fmt is None:
        return None
    if v.checks.get("decode") != "ok":
        return ""  # only clips a worker decoded to their end are opened here, in the parent
    try:
        if v.sha256 and sha256_file(path) != v.sha256:
            return ""
        times = sorted({x.time for x in (*v.faces, *v.reasons, *v.permitted_reasons)
                        if x.time is not None})[:STRIP_FRAMES] or [0.0]
        from PIL import Image

        figures = []
        with video.Clip(path, fmt) as clip:
            wanted = list(times)
            for frame in clip.frames():
                if not wanted:
                    break
                if frame.time + 0.0005 < wanted[0]:
                    continue
                t = wanted.pop(0)
                rgb = frame.rgb()
                at = replace(v, size=(rgb.shape[1], rgb.shape[0]),
                             faces=tuple(f for f in v.faces if f.time == t),
                             reasons=tuple(r for r in v.reasons if r.time == t),
                             permitted_reasons=tuple(r for r in v.permitted_reasons if r.time == t))
                img = Image.fromarray(rgb)
                img.thumbnail((STRIP_SIDE, STRIP_SIDE))
                buf = io.BytesIO()
                img.save(buf, "JPEG", quality=THUMB_QUALITY)
                thumb = base64.b64encode(buf.getvalue()).decode("ascii")
                figures.append(f'<figure><div class="pic"><img alt="{for_html(path.name)} at '
                               f'{t:.2f} s" src="data:image/jpeg;base64,{thumb}">{"".join(box_divs(at, names))}'
                               f'</div><figcaption>{t:.2f} s</figcaption></figure>')
        return f'<div class="stage strip">{"".join(figures)}</div>' if figures else ""
    except Exception:
        return ""
