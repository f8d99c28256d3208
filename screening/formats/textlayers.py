"""Pictures written as text one layer further than textpictures' readings (RT25-4..11).

textpictures reads base64, hex, hex dumps and `data:` URIs. Tools write bytes in other ways too, and
any of them gives the picture back in one line of code:

- one number a byte: hex with separators (`ff-d8-ff`: .NET's BitConverter, `bytes.hex("-")`),
  unpadded hex (`ff d8 ff e0 0 10`: printf "%x "), decimal lists (`[255, 216, 255, ...]`: Node's
  Buffer.toJSON, a JSON byte array);
- Ascii85 (PDF, PostScript; bare or between `<~ ~>`) and base85 (git's binary patches);
- compressed: what a reading decodes to is gzip or zlib data (base64 of a gzip'd picture, `H4sI...`:
  how web APIs ship blobs), inflated and read again;
- written twice: what a reading decodes to is itself text (base64 of the base64 text, hex of it),
  read again, up to MAX_DEPTH layers deep (deeper still is an error, never passed over).

This module finds the payloads (`payloads`) and unwraps them (`inflated`, `is_text`);
textpictures.written searches them for pictures, by the same rule as every other reading.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

import numpy as np

# Layers of text in text read (the text itself is the first); deeper is refused.
MAX_DEPTH = 8
# The fewest numbers a list needs to be read as bytes (textpictures.MIN_BYTES).
MIN_NUMBERS = 48
# Bytes one compressed payload may inflate to before the text is refused (a zip bomb).
MAX_INFLATED = 64 << 20
# gzip headers one decoded run may hold before it is refused (by chance: one in 16 million bytes);
# zlib headers (two bytes, 4 in 65536 by chance) tried in one run.
MAX_GZIP = 64
MAX_ZLIB = 256

_SPACE = b" \t\r\n\f\v"
# Numbers one a byte: a first number, then (separator, number) pairs, possessive: no backtracking.
# (At least 8 numbers a match: a digit alone, in hex or a word, is no match and costs nothing.)
_DECIMALS = re.compile(rb"(?<![0-9])[0-9]{1,3}(?:(?:[ \t\r\n]*[,;][ \t\r\n]*|[ \t\r\n]+)[0-9]{1,3}(?![0-9])){7,}+")
_HEX_BYTES = re.compile(rb"(?<![0-9A-Fa-f])[0-9A-Fa-f]{1,2}(?![0-9A-Fa-f])"
                        rb"(?:[ \t\r\n,;:\-]{1,4}[0-9A-Fa-f]{1,2}(?![0-9A-Fa-f])){7,}+")
_NUMBER = re.compile(rb"[0-9A-Fa-f]{1,3}")
# Digits as "h", the separators of a number list as "s": a list of MIN_NUMBERS is a run of 95 of them.
_LIST_CLASS = bytes(0x68 if c in b"0123456789ABCDEFabcdef" else 0x73 if c in b" \t\r\n,;:-[]" else 0x2E
                    for c in range(256))
_LIST_RUN = re.compile(rb"[hs]{%d}" % (2 * MIN_NUMBERS - 1))
_DIGITS = b"0123456789"
_B64_RUN = re.compile(rb"[A-Za-z0-9+/_\-]{64,}+=*")


class _Base85:
    """An 85-character alphabet (Ascii85's or RFC 1924's, git's), decoded with numpy: the standard
    library's decoders are Python loops, a second a megabyte."""

    def __init__(self, how: str, alphabet: bytes, zero: bytes | None):
        self.how, self.zero = how, zero
        self.value = np.full(256, 255, np.uint8)
        self.value[np.frombuffer(alphabet, np.uint8)] = np.arange(85, dtype=np.uint8)
        members = alphabet + (zero or b"")
        self.klass = bytes(0x61 if c in members else 0x2E for c in range(256))
        word = b"[" + re.escape(members) + b"]"
        # a word of 40 characters of the alphabet, then its further words (lines): possessive, linear
        self.run = re.compile(word + rb"{40,}+(?:[ \t\r\n]++" + word + rb"++)*+")

    def runs(self, text: bytes):
        if b"a" * 40 not in text.translate(self.klass):  # no word of 40 of its characters (prose): none
            return
        for m in self.run.finditer(text):
            compact = m.group(0).translate(None, _SPACE)
            # a quarter of the alphabet is punctuation: a run with little is base64, hex or a word
            if len(compact.translate(None, _ALNUM)) >= len(compact) // 10:
                yield compact

    def decode(self, chars: bytes) -> bytes | None:
        if self.zero:
            chars = chars.replace(self.zero, b"!!!!!")  # Ascii85's "z": four zero bytes
        pad = -len(chars) % 5
        digits = self.value[np.frombuffer(chars + b"u" * pad if self.zero else chars + b"~" * pad, np.uint8)]
        if (digits == 255).any():
            return None
        groups = digits.reshape(-1, 5).astype(np.uint64) @ (85 ** np.arange(4, -1, -1, dtype=np.uint64))
        if (groups > 0xFFFFFFFF).any():
            return None
        return groups.astype(">u4").tobytes()[:len(chars) // 5 * 4 + (4 - pad if pad else 0)]


_ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/"
_A85 = _Base85("Ascii85", bytes(range(0x21, 0x76)), b"z")
_B85 = _Base85("base85", b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~", None)
_TEXTUAL = bytes(range(0x20, 0x7F)) + _SPACE + b"\x00"


def payloads(text: bytes):
    """(how it is written, the bytes it decodes to) for each run of numbers a byte, Ascii85 and base85
    in `text`: the bytes, not yet searched for pictures."""
    yield from _number_lists(text)
    if b"<~" in text:
        text = text.replace(b"<~", b"\n").replace(b"~>", b"\n")
    for code in (_A85, _B85):
        for compact in code.runs(text):
            for cut in range(5):  # a group is 5 characters: a word glued before the run shifts them
                decoded = code.decode(compact[cut:])
                if decoded is not None:
                    yield code.how, decoded


def _number_lists(text: bytes):
    if not _LIST_RUN.search(text.translate(_LIST_CLASS)):
        return
    for how, pattern, base in (("decimal numbers", _DECIMALS, 10), ("hex numbers", _HEX_BYTES, 16)):
        for m in pattern.finditer(text):
            numbers = _NUMBER.findall(m.group(0))
            if len(numbers) < MIN_NUMBERS:
                continue
            values = [int(n, base) for n in numbers]
            if max(values) <= 255:
                yield how, bytes(values)


def inflated(blob: bytes, where: str) -> list[bytes]:
    """What the gzip members and zlib streams in `blob` inflate to, wherever they start (bytes before
    them: a header, a stray byte); a stream cut off gives what it holds up to the cut, as `gunzip`
    writes it. Past MAX_INFLATED in all, or more than MAX_GZIP gzip headers: ValueError (the caller
    refuses the text). zlib's two-byte header is weak: the first MAX_ZLIB places are tried."""
    starts = _places(blob, (b"\x1f\x8b\x08",), MAX_GZIP + 1)
    if len(starts) > MAX_GZIP:
        raise ValueError(f"the {where} holds more than {MAX_GZIP} gzip headers in one run: refused")
    starts += _places(blob, (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"), MAX_ZLIB)
    out: list[bytes] = []
    left = MAX_INFLATED
    for at in sorted(starts):
        d = zlib.decompressobj(47 if blob[at] == 0x1F else 15)  # 47: a gzip header
        try:
            data = d.decompress(blob[at:], left + 1)
        except zlib.error:
            continue  # not a stream after all (its header only looked like one)
        if len(data) > left:
            raise ValueError(f"the {where} holds compressed data over {MAX_INFLATED >> 20} MB: refused")
        left -= len(data)
        if data:
            out.append(data)
    return out


def _places(blob: bytes, needles: tuple[bytes, ...], most: int) -> list[int]:
    out = []
    for needle in needles:
        at = blob.find(needle)
        while at >= 0 and len(out) < most:
            out.append(at)
            at = blob.find(needle, at + 1)
    return out


def is_text(blob: bytes) -> bool:
    """Whether decoded bytes are themselves text that may hold a picture written out: three quarters
    printable ASCII, white space or NUL (UTF-8 with some accented letters, UTF-16; random or
    compressed bytes are about 40%)."""
    return len(blob) >= 64 and len(blob.translate(None, _TEXTUAL)) <= len(blob) // 4


def layer_readings(text: bytes):
    """(how, bytes) for each base64 and hex run of `text` decoded whole, every alignment: the bytes a
    further layer (compressed data, text in text) may lie in."""
    compact = text.translate(None, _SPACE)
    for m in _B64_RUN.finditer(compact):
        run = m.group(0).rstrip(b"=").replace(b"-", b"+").replace(b"_", b"/")
        if len(run) - len(run.translate(None, _DIGITS)) < 2:
            continue  # base64 of 48 bytes or more has digits (prose run together has none)
        for align in range(4):
            part = run[align:]
            part = part[:-1] if len(part) % 4 == 1 else part + b"=" * (-len(part) % 4)  # its last bytes too
            try:
                yield "base64", base64.b64decode(part)
            except binascii.Error:
                continue
    hexes = compact.translate(None, b",;:-")
    for m in re.finditer(rb"[0-9A-Fa-f]{96,}", hexes):
        for align in range(2):
            part = m.group(0)[align:]
            yield "hex", binascii.unhexlify(part[:len(part) // 2 * 2])
