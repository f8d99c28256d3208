"""Compressed data where a picture written as text decodes to (textlayers): unpacked, within one budget.

Read: gzip members and zlib streams anywhere in the payload, zip archives' entries (stored or
deflated: base64 of a `.zip` is how many APIs ship an upload), bzip2 and xz streams, and raw deflate
(PHP's gzdeflate, pako.deflateRaw, .NET's DeflateStream: no header) at the payload's start. A stream
cut off gives what it holds up to the cut, as the tools write it.

The budget is one per text, shared by every layer under it (a stream inside a stream inside a
stream counts once in all, RT30-7): past it the text is refused (ValueError), never passed over.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib

# Bytes all the compressed data under one text may unpack to (as a metadata block's inflated limit).
MAX_UNPACKED = 16 << 20
# gzip headers one payload may hold before it is refused (by chance: one in 16 million bytes);
# zlib headers (two bytes, 4 in 65536 by chance) and zip entries tried in one payload.
MAX_GZIP = 64
MAX_ZLIB = 256
MAX_ZIP = 64


class Budget:
    """The bytes left to unpack under one text."""

    def __init__(self, total: int | None = None):
        self.left = MAX_UNPACKED if total is None else total

    def take(self, n: int, where: str) -> None:
        if n > self.left:
            raise ValueError(f"the {where} holds compressed data over {MAX_UNPACKED >> 20} MB in all: refused")
        self.left -= n


def unpacked(blob: bytes, where: str, budget: Budget) -> list[bytes]:
    """What the compressed streams in `blob` unpack to (module docstring), each non-empty."""
    gzip_at = _places(blob, (b"\x1f\x8b\x08",), MAX_GZIP + 1)
    if len(gzip_at) > MAX_GZIP:
        raise ValueError(f"the {where} holds more than {MAX_GZIP} gzip headers in one run: refused")
    streams = [(at, 47) for at in gzip_at]  # 47: zlib reads a gzip header
    streams += [(at, 15) for at in _places(blob, (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"), MAX_ZLIB)]
    out = [_inflate(blob[at:], wbits, where, budget) for at, wbits in sorted(streams)]
    out += [_zip_entry(blob, at, where, budget) for at in _places(blob, (b"PK\x03\x04",), MAX_ZIP)]
    for magic, opener in ((b"BZh", bz2.BZ2Decompressor), (b"\xfd7zXZ\x00", lzma.LZMADecompressor)):
        out += [_stream(opener(), blob[at:], where, budget) for at in _places(blob, (magic,), MAX_GZIP)]
    if not any(out):  # no header anywhere: raw deflate, from the start
        out.append(_inflate(blob, -15, where, budget))
    return [data for data in out if data]


def _places(blob: bytes, needles: tuple[bytes, ...], most: int) -> list[int]:
    out = []
    for needle in needles:
        at = blob.find(needle)
        while at >= 0 and len(out) < most:
            out.append(at)
            at = blob.find(needle, at + 1)
    return out


def _inflate(data: bytes, wbits: int, where: str, budget: Budget) -> bytes:
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(data, budget.left + 1)
    except zlib.error:
        return b""  # not a stream after all (its header only looked like one)
    budget.take(len(out), where)
    return out


def _stream(d, data: bytes, where: str, budget: Budget) -> bytes:
    try:
        out = d.decompress(data, max_length=budget.left + 1)
    except (OSError, EOFError, lzma.LZMAError):
        return b""
    budget.take(len(out), where)
    return out


def _zip_entry(blob: bytes, at: int, where: str, budget: Budget) -> bytes:
    """A zip local file header's entry: stored, or deflated (read to its end or its cut)."""
    if at + 30 > len(blob):
        return b""
    method, size = struct.unpack_from("<H", blob, at + 8)[0], struct.unpack_from("<I", blob, at + 18)[0]
    name_len, extra_len = struct.unpack_from("<HH", blob, at + 26)
    start = at + 30 + name_len + extra_len
    if method == 0:
        data = blob[start:start + size] if size else blob[start:]
        budget.take(len(data), where)
        return data
    return _inflate(blob[start:], -15, where, budget) if method == 8 else b""
