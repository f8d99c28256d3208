"""GIF: completeness (the trailer byte ends the file), and the comment extensions. Pillow decodes the frames."""

from __future__ import annotations

from screening.formats.common import Embedded, Found, ImageError, MetadataError
from screening.formats.jpeg import after_end, images_in


def check(data: bytes) -> None:
    if not data.rstrip(b"\x00").endswith(b";"):
        raise ImageError("truncated GIF: no trailer byte at the end of the file")


def blocks(data: bytes, found: Found) -> None:
    """Every comment extension, in any frame (Pillow keeps one, and drops a long one)."""
    found.comments.extend((f"GIF comment at byte {at}", text) for at, text in comments(data))


def comments(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, text) of each comment extension; a block structure that breaks off raises MetadataError."""
    return [(at, body) for label, at, body in extensions(data)[0] if label == 0xFE]


def embedded(data: bytes) -> list[Embedded]:
    """Pictures carried in comment, application or plain-text extensions, and after the trailer (RT15-10)."""
    try:
        found, end = extensions(data)
    except MetadataError as exc:
        raise ImageError(f"the GIF's blocks cannot be walked: {exc}") from None
    names = {0xFE: "comment", 0xFF: "application extension", 0x01: "plain-text extension"}
    pictures = [image for label, at, body in found if label != 0xF9
                for image in images_in(body, f"GIF {names.get(label, f'extension 0x{label:02X}')} at byte {at}")]
    return pictures + after_end(data, end, [], "GIF trailer")


def extensions(data: bytes) -> tuple[list[tuple[int, int, bytes]], int]:
    """((label, offset, body) of every extension, offset after the trailer); a structure that breaks off raises."""
    if len(data) < 13:
        raise MetadataError("GIF header is cut off")
    pos = 13 + _table(data[10])
    out = []
    while pos < len(data):
        kind = data[pos]
        if kind == 0x3B:  # trailer
            return out, pos + 1
        if kind == 0x21 and pos + 1 < len(data):
            label, start = data[pos + 1], pos
            pos, body = _sub_blocks(data, pos + 2)
            out.append((label, start, body))
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
