"""Pictures written as text one layer further than textpictures' readings (RT25-4..11, RT30-1..7).

textpictures reads base64, hex, hex dumps and `data:` URIs. Tools write bytes in other ways too, and
any of them gives the picture back in one line of code:

- one number a byte: octal of three digits and binary of eight (`od -b`, "%08b": RT31-13), hex with separators (`ff-d8-ff`: .NET's BitConverter, `bytes.hex("-")`),
  unpadded hex (`ff d8 ff e0 0 10`: printf "%x ", indented), decimal lists (`[255, 216, 255, ...]`:
  Node's Buffer.toJSON, a JSON byte array; signed, as Java's byte[]; a size or count among them
  taken & 255, as Buffer.from does);
- escaped bytes (Python's bytes repr, C octal escapes, JSON's \\u00XX);
- Ascii85 (PDF, PostScript; bare or between `<~ ~>`), base85 and git binary patches, uuencode,
  base32, quoted-printable;
- compressed: what a reading decodes to is gzip, zlib, zip, bzip2, xz or raw deflate data
  (textunpack.py, one budget a text), unpacked and read again;
- written twice: what a reading decodes to is itself text (base64 of the base64 text, hex of it,
  UTF-8 or UTF-16), read again, up to MAX_DEPTH layers deep (deeper still is an error).

This module finds the payloads (`payloads`, `layer_readings`) and says which are text (`is_text`);
textunpack.py unpacks compressed ones;
textpictures.written searches them for pictures, by the same rule as every other reading.
"""

from __future__ import annotations

import base64
import binascii
import re

import numpy as np

# Layers of text in text read (the text itself is the first); deeper is refused.
MAX_DEPTH = 8
# The fewest numbers a list needs to be read as bytes (textpictures.MIN_BYTES).
MIN_NUMBERS = 48
_SPACE = b" \t\r\n\f\v"
# Numbers one a byte: a first number, then (separator, number) pairs, possessive: no backtracking.
# (At least 8 numbers a match: a digit alone, in hex or a word, is no match and costs nothing.)
# Signed (Java's byte[]: -128..127) or not; any width (a count or a size among them is taken & 255,
# as Node's Buffer.from does: RT30-1); separators with indents (RT30-5).
_DECIMALS = re.compile(rb"(?<![0-9])-?[0-9]{1,5}(?:(?:[ \t\r\n]*[,;][ \t\r\n]*|[ \t\r\n]+)-?[0-9]{1,5}(?![0-9])){7,}+")
_HEX_BYTES = re.compile(rb"(?<![0-9A-Fa-f])[0-9A-Fa-f]{1,2}(?![0-9A-Fa-f])"
                        rb"(?:[ \t\r\n,;:\-]{1,24}[0-9A-Fa-f]{1,2}(?![0-9A-Fa-f])){7,}+")
# Octal bytes of three digits (od -b, printf "%03o ") and binary bytes of eight (RT31-13), separated likewise.
_SEPARATOR = rb"(?:[ \t\r\n]*[,;][ \t\r\n]*|[ \t\r\n]+)"
_OCTALS = re.compile(rb"(?<![0-9])[0-3][0-7]{2}(?:" + _SEPARATOR + rb"[0-3][0-7]{2}(?![0-9])){7,}+")
_BINARIES = re.compile(rb"(?<![0-9])[01]{8}(?:" + _SEPARATOR + rb"[01]{8}(?![0-9])){7,}+")
_NUMBER = {10: re.compile(rb"-?[0-9]{1,5}"), 16: re.compile(rb"[0-9A-Fa-f]{1,2}"), 8: re.compile(rb"[0-7]{3}"),
           2: re.compile(rb"[01]{8}")}
# Digits as "h", the separators of a number list as "s": a list of MIN_NUMBERS is a run of 95 of them.
_LIST_CLASS = bytes(0x68 if c in b"0123456789ABCDEFabcdef" else 0x73 if c in b" \t\r\n,;:-[]{}()" else 0x2E
                    for c in range(256))
_LIST_RUN = re.compile(rb"[hs]{%d}" % (2 * MIN_NUMBERS - 1))
_DIGITS = b"0123456789"
_B64_RUN = re.compile(rb"[A-Za-z0-9+/_\-]{64,}+=*")
_B32_RUN = re.compile(rb"[A-Z2-7]{64,}+=*")
_QP = re.compile(rb"=(?:[0-9A-F]{2}|\r?\n)")
_ESCAPE = re.compile(rb"\\(?:x([0-9A-Fa-f]{2})|([0-7]{1,3})|u([0-9A-Fa-f]{4})|(.))", re.S)
# A run of printable text (and white space) holding escapes: possessive, linear.
_ESCAPED_RUN = re.compile(rb"[ -~\t\r\n]{%d,}+" % (2 * MIN_NUMBERS))
_SINGLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"0": b"\x00", b"a": b"\x07", b"b": b"\x08", b"f": b"\x0c",
           b"v": b"\x0b", b"\\": b"\\", b"'": b"'", b'"': b'"', b"/": b"/"}
# A git binary patch line: its length letter, then 5 to 65 base85 characters, alone on its line.
_B85_LINE = re.compile(rb"(?m)^([A-Za-z])([0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]{5,65})\r?$")
# uuencode: lines of a length character then 4 characters per 3 bytes (' ' to '`'), 2 lines at least.
_UU_BLOCK = re.compile(rb"(?m)(?:^M[ -`]{60}\r?\n){2,}+(?:^[ -`][ -`]{0,60}\r?$)?")


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
_CONTROLS = bytes(range(1, 9)) + b"\x0b\x0c" + bytes(range(14, 32)) + b"\x7f"


def payloads(text: bytes):
    """(how it is written, the bytes it decodes to) for each run of numbers a byte, escaped bytes,
    Ascii85, base85, a git binary patch, uuencode, base32 and quoted-printable in `text`: the bytes,
    not yet searched for pictures."""
    yield from _number_lists(text)
    for reader in (_escaped, _git_patch, _uuencoded, _base32, _quoted_printable):
        yield from reader(text)
    if b"<~" in text:
        text = text.replace(b"<~", b"\n").replace(b"~>", b"\n")
    for code in (_A85, _B85):
        for compact in code.runs(text):
            for cut in range(5):  # a group is 5 characters: a word glued before the run shifts them
                decoded = code.decode(compact[cut:])
                if decoded is not None:
                    yield code.how, decoded


def _escaped(text: bytes):
    """Bytes written as escapes among printable characters (Python's bytes repr, C octal escapes,
    JSON's \\u00XX of bytes read as Latin-1: RT30-3): each run of printable text holding
    MIN_NUMBERS escapes or more, the escapes unescaped, the rest as it is (binary data around a
    text, an EXIF block's thumbnail, is not a run)."""
    if text.count(b"\\") < MIN_NUMBERS:
        return

    def one(m: re.Match) -> bytes:
        hex_, octal, uni, single = m.groups()
        if hex_ is not None:
            return bytes([int(hex_, 16)])
        if octal is not None:
            return bytes([int(octal, 8) & 0xFF])
        if uni is not None:
            value = int(uni, 16)
            return bytes([value]) if value < 256 else chr(value).encode("utf-8", "replace")
        return _SINGLE.get(single, single)

    for m in _ESCAPED_RUN.finditer(text):
        run = m.group(0)
        if run.count(b"\\") >= MIN_NUMBERS:
            yield "escaped bytes", _ESCAPE.sub(one, run)


def _git_patch(text: bytes):
    """A git binary patch's lines (a length letter, then base85 of that many bytes; the whole zlib'd:
    RT30-4), each line decoded to its length."""
    if b"\n" not in text or not _B85_LINE.search(text):
        return
    lines = []
    for m in _B85_LINE.finditer(text):
        code, body = m.group(1)[0], m.group(2)
        n = code - 0x40 if code <= 0x5A else code - 0x60 + 26
        decoded = _B85.decode(body)
        if decoded is None or len(decoded) < n:
            continue
        lines.append((m.start(), m.end(), decoded[:n]))
    run: list[bytes] = []
    end = -1
    for start, stop, data in lines + [(-2, -2, b"")]:
        if start != end + 1 and run:  # a new block of lines
            if len(run) > 1:
                yield "a git binary patch", b"".join(run)
            run = []
        run.append(data)
        end = stop


def _uuencoded(text: bytes):
    """uuencode's lines ("M" then 60 characters: 45 bytes), a block of them decoded (RT30-6)."""
    for m in _UU_BLOCK.finditer(text):
        try:
            yield "uuencode", b"".join(binascii.a2b_uu(line) for line in m.group(0).split(b"\n") if line.strip())
        except binascii.Error:
            continue


def _base32(text: bytes):
    compact = text.translate(None, _SPACE)
    for m in _B32_RUN.finditer(compact):
        run = m.group(0).rstrip(b"=")
        for part in (run + b"=" * (-len(run) % 8), run[:len(run) // 8 * 8]):  # its last bytes, if they decode
            try:
                yield "base32", base64.b32decode(part)
                break
            except binascii.Error:
                continue


def _quoted_printable(text: bytes):
    equals = text.count(b"=")  # quoted-printable: nearly every "=" an escape ("=FF") or a soft line break
    if equals >= MIN_NUMBERS and len(_QP.findall(text)) >= 0.9 * equals:
        yield "quoted-printable", binascii.a2b_qp(text)


def _number_lists(text: bytes):
    if not _LIST_RUN.search(text.translate(_LIST_CLASS)):
        return
    for how, pattern, base in (("decimal numbers", _DECIMALS, 10), ("hex numbers", _HEX_BYTES, 16),
                               ("octal numbers", _OCTALS, 8), ("binary numbers", _BINARIES, 2)):
        for m in pattern.finditer(text):
            data = bytes(int(n.group(), base) & 0xFF for n in _NUMBER[base].finditer(m.group(0)))  # (no list held)
            if len(data) >= MIN_NUMBERS:
                yield how, data


def is_text(blob: bytes) -> bool:
    """Whether decoded bytes are themselves text that may hold a picture written out: almost no
    control characters (UTF-8 with accented letters, UTF-16's NULs in every other byte pass; random,
    compressed or picture bytes are an eighth control characters)."""
    if len(blob) < 64:
        return False
    controls = len(blob) - len(blob.translate(None, _CONTROLS))
    if controls > len(blob) // 100:
        return False
    nuls = blob.count(0)
    return nuls <= len(blob) // 100 or max(blob[0::2].count(0), blob[1::2].count(0)) >= nuls * 0.98


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
