"""GIF: completeness (the trailer byte ends the file). Pillow decodes the frames."""

from __future__ import annotations

from screening.formats.common import ImageError


def check(data: bytes) -> None:
    if not data.rstrip(b"\x00").endswith(b";"):
        raise ImageError("truncated GIF: no trailer byte at the end of the file")
