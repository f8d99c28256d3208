"""An AVIF holding both an image sequence (a `moov` track) and a primary image item: both are shown (RT29-30).

The AVIF spec asks an animated AVIF ('avis') to hold a primary image item beside its track, for
readers of stills. Which one a reader shows differs: libavif's automatic choice (Pillow, Chrome)
follows the major brand ('avis': the track, 'avif': the item, neither: the track if there is one);
readers of stills (libheif: GIMP, GNOME's viewers, ImageMagick, digiKam, thumbnailers) show the item;
FFmpeg-based players (mpv, VLC) play the track. Pillow decodes one of them as the file's frames;
the other is decoded here from a copy of the file that makes libavif choose it (the item: the track
renamed `free`, the brands 'avif' and 'mif1' for 'avis' and 'msf1'; the track: the major brand 'avis') and screened as a view.
It is usually the first frame again (then only the text check reads it). One that cannot be
decoded, or a track of more frames than are screened, makes the file an error.
"""

from __future__ import annotations

import io

import numpy as np

from screening.formats.avif import boxes
from screening.formats.common import ImageError
from screening.formats.pixels import to_rgb

MAX_FRAMES = 64


def _layout(data: bytes) -> tuple[int | None, bool]:
    """(offset of the top-level `moov` box's type, whether a `meta` box is there)."""
    moov, meta = None, False
    for kind, pos, _header, _size in boxes(data):
        if kind == b"moov" and moov is None:
            moov = pos + 4
        meta = meta or kind == b"meta"
    return moov, meta


def shows_track(data: bytes) -> bool:
    """Whether libavif's automatic choice (Pillow's) decodes the track rather than the item."""
    major = data[8:12]
    return major == b"avis" or (major != b"avif" and _layout(data)[0] is not None)


def other_views(data: bytes, budget: int) -> list[tuple[str, np.ndarray]]:
    """(where, RGB) of what the other readers show of an AVIF holding both a track and an item."""
    moov, meta = _layout(data)
    if moov is None or not meta:
        return []
    copy = bytearray(data)
    if shows_track(data):
        copy[moov:moov + 4] = b"free"
        copy[8:12] = b"avif"
        end = min(int.from_bytes(data[:4], "big"), len(data))  # the ftyp box: no sequence brand left in it
        for at in range(16, end - 3, 4):
            copy[at:at + 4] = {b"avis": b"avif", b"msf1": b"mif1"}.get(bytes(copy[at:at + 4]), bytes(copy[at:at + 4]))
        where = "primary image item of the animated AVIF, which readers of stills show"
    else:
        copy[8:12] = b"avis"
        where = "image sequence (track) of the AVIF, which video players show"
    try:
        frames = _decode(bytes(copy), budget)
    except ImageError as exc:
        raise ImageError(f"the {where} cannot be decoded ({exc}), so the file cannot be cleared") from None
    except Exception as exc:
        raise ImageError(f"the {where} cannot be decoded ({exc or type(exc).__name__}), so the file cannot be "
                         "cleared") from None
    if len(frames) == 1:
        return [(where, frames[0])]
    return [(f"frame {i} of the {where}", rgb) for i, rgb in enumerate(frames, start=1)]


def _decode(data: bytes, budget: int) -> list[np.ndarray]:
    from PIL import Image, ImageOps

    out = []
    with Image.open(io.BytesIO(data), formats=["AVIF"]) as img:
        count = getattr(img, "n_frames", 1)
        if count > MAX_FRAMES:
            raise ImageError(f"it has {count} frames, more than the {MAX_FRAMES} screened")
        for i in range(count):
            img.seek(i)
            img.load()
            budget -= img.width * img.height
            if budget < 0:
                raise ImageError("it is over the file's pixel budget")
            out.append(to_rgb(ImageOps.exif_transpose(img.copy())))  # upright, as the file's own frames
    return out
