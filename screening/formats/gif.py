"""GIF: completeness (the trailer byte ends the file), and the comment extensions. Pillow decodes the frames."""

from __future__ import annotations

from screening.formats.common import Found, ImageError, MetadataError


def check(data: bytes) -> None:
    if not data.rstrip(b"\x00").endswith(b";"):
        raise ImageError("truncated GIF: no trailer byte at the end of the file")


def blocks(data: bytes, found: Found) -> None:
    """Every comment extension, in any frame (Pillow keeps one, and drops a long one)."""
    found.comments.extend((f"GIF comment at byte {at}", text) for at, text in comments(data))


def comments(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, text) of each comment extension; a block structure that breaks off raises MetadataError."""
    if len(data) < 13:
        raise MetadataError("GIF header is cut off")
    pos = 13 + _table(data[10])
    out = []
    while pos < len(data):
        kind = data[pos]
        if kind == 0x3B:  # trailer
            return out
        if kind == 0x21 and pos + 1 < len(data):
            label, start = data[pos + 1], pos
            pos, body = _sub_blocks(data, pos + 2)
            if label == 0xFE:
                out.append((start, body))
        elif kind == 0x2C and pos + 10 <= len(data):
            pos += 10 + _table(data[pos + 9]) + 1  # descriptor, local colour table, LZW code size
            pos, _ = _sub_blocks(data, pos)
        else:
            raise MetadataError(f"GIF block at byte {pos} is not an extension, an image or the trailer")
    raise MetadataError("GIF blocks run past the end of the file (no trailer)")


def _table(flags: int) -> int:
    return 3 * (2 << (flags & 7)) if flags & 0x80 else 0


def _sub_blocks(data: bytes, pos: int) -> tuple[int, bytes]:
    parts = []
    while True:
        if pos >= len(data):
            raise MetadataError("a GIF data block runs past the end of the file")
        size = data[pos]
        if size == 0:
            return pos + 1, b"".join(parts)
        parts.append(data[pos + 1:pos + 1 + size])
        pos += 1 + size
