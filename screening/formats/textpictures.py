"""Pictures written as text: one reader for every place a file holds text (RT22-3/8/14).

A comment, caption, tag or XMP value can carry a picture written out in letters, and any tool
decodes it back: base64 (`base64 -d`, a browser's `data:` URI, exiftool's `-b`) or hex (`xxd -r`,
ImageMagick's "Raw profile" text). The reader finds them whatever the wrapping:

- base64 in the standard or the URL-safe alphabet, with line breaks, indents or spaces anywhere,
  XML character references for line breaks (`&#xA;`), in any of its 4 alignments (a stray
  character before it, or bytes before the picture in the decoded data: the picture is searched
  for anywhere in what the text decodes to, not only at its start), a `data:...;base64,` URI;
- a percent-encoded `data:` URI;
- hex with or without spaces, line breaks, `0x`/`\\x` prefixes (padded or not) and commas, in
  either nibble alignment, and hex dumps (xxd, `hexdump -C`: offsets and the character column
  taken off);
- any of these in UTF-16 text (Windows' XPComment, a UNICODE UserComment).

A file's several texts (a PNG's text chunks, a clip's tags) are also read joined, in file order
(across): base64 split between two of them, the first too short to be read alone, is found whole
(RT25-12/14).

A run of text shorter than MIN_BYTES decoded bytes cannot hold a picture worth screening and is
not decoded. What the text decodes to is searched with exif_images.picture_starts, the rule for
bytes lying in a file: a JPEG counts when its markers reach a frame header, a PNG by its
signature... So random base64, a hex colour list, an ICC profile written in hex decode to bytes
that begin no picture and are not views; a run that decodes to the start of a picture that then
does not decode (cut off, damaged) makes the file an error, like a cut-off picture in the bytes.

Cost is linear and small: runs are found by a byte translation and a literal search (no
backtracking), every run of one kind is decoded in one call (the runs joined, so each of the
alignments is one decode of the whole), and the result is searched by signature. More than
MAX_PICTURES pictures in one text is refused.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
from urllib.parse import unquote_to_bytes

from screening.formats import textlayers as layers
from screening.formats import textunpack as unpack
from screening.formats.common import Embedded, ImageError
from screening.formats.exif_images import picture_starts

# The fewest decoded bytes a picture worth screening takes (the smallest JPEG with its tables is
# over 120 bytes, a PNG of one pixel 67): shorter runs are not decoded.
MIN_BYTES = 48
# Pictures one text may carry before it is refused as hostile.
MAX_PICTURES = 16

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"
_HEX = b"0123456789ABCDEFabcdef"
_SPACE = b" \t\r\n\f\v"


def _classes(members: bytes, mark: bytes = b"a") -> bytes:
    """A translation table: each member byte to `mark`, every other byte to '.'."""
    return bytes(mark[0] if c in members else 0x2E for c in range(256))


_B64_CLASS, _HEX_CLASS = _classes(_B64), _classes(_HEX)
_URLSAFE = bytes.maketrans(b"-_", b"+/")
_UTF16_CLASS = bytes(0x61 if 0x20 <= c < 0x7F else 0x30 if c == 0 else 0x2E for c in range(256))
# Runs found as a literal prefix then a greedy tail: the search never backtracks.
_B64_RUN = re.compile(rb"a" * (MIN_BYTES * 4 // 3) + rb"a*")
_HEX_RUN = re.compile(rb"a" * (MIN_BYTES * 2) + rb"a*")
_UTF16_RUN = re.compile(rb"a0" * 32)
_UTF32_RUN = re.compile(rb"a000" * 32)
_CHAR_REFS = re.compile(rb"&#(?:x0*[aAdD9]|0*(?:10|13|9));")
_PREFIXED = re.compile(rb"(?:0[xX]|\\x)([0-9A-Fa-f])(?![0-9A-Fa-f])")  # 0x7, \x7: one digit, padded
_DUMP_LINE = re.compile(rb"\n[ \t]*[0-9A-Fa-f]{6,16}(?::[ \t]|[ \t]{1,2}[0-9A-Fa-f]{2})")  # (a literal first: fast)
# A dump's line: its offset, groups of hex digits (bounded: no backtracking blow-up), then its
# character column (xxd's, `hexdump -C`'s |...|, od's >...<) or nothing; a last line of an offset alone.
_DUMP_ROW = re.compile(rb"(?m)^[ \t]*[0-9A-Fa-f]{6,16}:?((?:[ \t]{1,3}[0-9A-Fa-f]{2,16}){1,256})(?:[ \t][^\r\n]*)?$"
                       rb"|^[ \t]*[0-9A-Fa-f]{6,16}:?[ \t]*$")
# hexdump's and od's `*` line: the line before it repeats up to the next line's offset.
_FOLD = re.compile(rb"(?m)^[ \t]*([0-9A-Fa-f]{6,16}):?[^\r\n]*\r?\n\*[ \t]*\r?\n(?=[ \t]*([0-9A-Fa-f]{6,16}))")
# A data: URI that declares a picture: its type, whether base64, its payload.
_IMAGE_URI = re.compile(rb"data:image/([\w.+-]{1,40})((?:;[\w.+=-]{0,40}){0,4}?;base64)?(?:;[\w.+=-]{0,40}){0,4},"
                        rb"([A-Za-z0-9+/=_\-%\s]{16,})")
# Bytes a text's folded dump lines may unfold to, all together.
MAX_UNFOLDED = 16 << 20
_PERCENT_URI = re.compile(rb"data:[\w.+/-]*(?:;[\w.+=-]*)*,((?:[A-Za-z0-9!$&'()*+,;=:@/?~._-]|%[0-9A-Fa-f]{2}){"
                          + str(MIN_BYTES).encode() + rb",})")


def text_pictures(text: bytes, where: str) -> list[Embedded]:
    """Every picture written as text (base64, hex, a `data:` URI) in these bytes, each as the bytes
    its run of text decodes to from the picture's start, named "picture written in base64 in the
    {where}"; more than MAX_PICTURES is an ImageError."""
    return [Embedded(f"picture {how} in the {where}", blob) for how, blob in written(text, where)]


def across(texts: list[bytes], where: str) -> list[Embedded]:
    """Pictures written as text across several texts of one file, read one after the other as a
    tool joining them reads them (a PNG's text chunks, a clip's tags: RT25-12/14), in file order,
    joined by a line break. A picture one text holds whole is left to that text's own reader (it is
    not listed twice); a picture's start that the joined texts cut off is an ImageError, as in one
    text (a picture split in the other order: its start, in the last text, runs off the end)."""
    texts = [t for t in texts if t.strip()]
    if len(texts) < 2:
        return []
    alone = set()
    for text in texts:
        try:
            alone.update(blob for _, blob in written(text, where))
        except ImageError:
            pass  # that text's own reader reports it; the texts joined are read below all the same
    return [Embedded(f"picture {how} in the {where}", blob) for how, blob in written(b"\n".join(texts), where)
            if not any(blob.startswith(a) for a in alone)]


def written(text: bytes, where: str, depth: int = 1, budget: unpack.Budget | None = None) -> list[tuple[str, bytes]]:
    """(how it is written: "written in hex", the bytes from the picture's start) of every picture
    written as text in these bytes, and in the layers under them (textlayers: numbers, base85,
    escapes, compressed data, text in text) up to textlayers.MAX_DEPTH, all the compressed data under
    one text within one budget (textunpack); `where` names them in the ImageError for more than
    MAX_PICTURES."""
    budget = budget or unpack.Budget()
    found: list[tuple[str, bytes]] = []
    seen: set[bytes] = set()
    _declared(text, where)
    raw: list[tuple[str, bytes]] = []  # (read last: a data: URI's exact reading of the same picture first)
    for variant, utf, rewritten in _variants(text):
        for blob, encoding in _decoded(variant):
            if encoding == "cut":
                raise ImageError(f"the {where} holds the start of a JPEG written as text, cut off before its "
                                 "frame: the picture cannot be screened (the rest may be in another text)")
            _add(found, seen, f"written in {encoding}{utf}", blob, where)
        if rewritten == "percent":  # a picture's own bytes percent-encoded ('?file=%FF%D8%FF...', RT33a-11)
            raw += [(f"written as bytes{utf}", variant[at:]) for at in picture_starts(variant, 0, set())
                    if _escaped(variant[at:at + 3], text)]  # (a start only ever raw is the blob readers')
        if depth < layers.MAX_DEPTH and not rewritten:  # (the layers' alphabets hold '%' and quotes: as written)
            for how, blob in _layered(variant, where, depth, budget):
                _add(found, seen, f"{how}{utf}", blob, where)
    for how, blob in raw:
        _add(found, seen, how, blob, where)
    return found


def _add(found: list, seen: set, how: str, blob: bytes, where: str) -> None:
    """One picture once: another reading that gives the same bytes, or more or fewer of them after
    its end (a run read as hex and as escapes), is the same picture."""
    if blob in seen or any(blob.startswith(b) or b.startswith(blob) for _, b in found):
        return
    seen.add(blob)
    found.append((how, blob))
    if len(found) > MAX_PICTURES:
        raise ImageError(f"the {where} holds more than {MAX_PICTURES} pictures written as text: refused")


def _layered(text: bytes, where: str, depth: int, budget: unpack.Budget):
    """(how, bytes from a picture's start) of the pictures under one more layer (textlayers)."""
    for how, payload in layers.payloads(text):
        yield from ((f"written in {how}", payload[at:]) for at in picture_starts(payload, 0, set()))
        yield from _inner(how, payload, where, depth, budget)
    for how, payload in layers.layer_readings(text):  # (their pictures: _decoded's)
        yield from _inner(how, payload, where, depth, budget)


def _inner(how: str, payload: bytes, where: str, depth: int, budget: unpack.Budget):
    """Pictures in what `payload` holds: its compressed streams unpacked (and what they hold, a
    layer down), text in it read again."""
    try:
        streams = unpack.unpacked(payload, where, budget)
    except ValueError as exc:
        raise ImageError(str(exc)) from None
    for data in streams:
        yield from ((f"compressed, written in {how}", data[at:]) for at in picture_starts(data, 0, set()))
        if depth + 1 < layers.MAX_DEPTH:
            yield from _inner(f"compressed, {how}", data, where, depth + 1, budget)
    if layers.is_text(payload):
        yield from ((f"{h} (in {how})", b) for h, b in _deeper(payload, where, depth, budget))


def _deeper(text: bytes, where: str, depth: int, budget: unpack.Budget) -> list[tuple[str, bytes]]:
    """written() one layer down; text written in text past MAX_DEPTH layers is refused, never passed over."""
    if depth + 1 >= layers.MAX_DEPTH and any(layers.layer_readings(text)):
        raise ImageError(f"the {where} holds text written in text more than {layers.MAX_DEPTH} layers deep: refused")
    return written(text, where, depth + 1, budget)


def _declared(text: bytes, where: str) -> None:
    """A `data:image/...` URI is a picture a browser shows: one that holds no picture screened here
    (an icon of bitmaps, RT25-19; an SVG; AVIF and HEIC were until RT31-28) is an ImageError, never passed over."""
    if b"data:image" not in text:
        return
    for match in _IMAGE_URI.finditer(text):
        payload = match.group(3)
        try:
            blob = _unbase64(payload.translate(None, _SPACE)) if match.group(2) else unquote_to_bytes(payload)
        except (binascii.Error, ValueError):
            blob = b""
        if next(picture_starts(blob, 0, set()), None) is None:  # (an icon's PNG lies past its header)
            kind = match.group(1).decode("ascii", "replace")
            raise ImageError(f"the {where} holds a data:image/{kind} picture that cannot be screened here")


def _escaped(start: bytes, text: bytes) -> bool:
    """Whether `text` holds these first bytes of a picture percent-encoded, once or more (%FF or %25FF
    for each byte that is not a letter or digit): decoding made a picture start there (RT33c-2: any
    JPEG's first bytes written raw elsewhere in the text must not hide one)."""
    parts = [re.escape(bytes([b])) + b"|" if chr(b).isalnum() and b < 128 else b"" for b in start]
    pattern = b"".join(b"(?:" + p + b"%(?:25){0,2}" + b"%02X" % b + b")" for p, b in zip(parts, start))
    return re.search(pattern, text, re.IGNORECASE) is not None


def _variants(text: bytes):
    """The text as written, and its halves when it holds UTF-16 text (each code unit's low byte), its
    quarters when UTF-32; each also percent-decoded when it holds %XX escapes (a link's query,
    '?img=%2F9j%2F4AAQ': RT31-13) and with its quoted string literals joined where a script splits one
    ('"/9j/4AAQ..." + "..."', adjacent literals, a line continuation), when it holds any: (form, how,
    "percent" or "literals" when rewritten, else ""). A rewritten form is read for base64, hex and
    data: URIs only (uuencode, Ascii85 and escapes hold '%' and quotes of their own: rewriting them
    would give a damaged second copy)."""
    for form, utf in _widths(text):
        for rewritten, how in _rewritten(form):  # first: a literal of the picture read alone is its start only
            kind = "literals" if "literals" in how else "percent"
            yield rewritten, f"{how}{utf}", kind
        yield form, utf, ""


# A split between two string literals: a quote, an operator or nothing (adjacent literals), the same quote.
_LITERAL_JOIN = re.compile(rb"""(["'])[ \t\r\n]*+(?:\+|\.|&|&[ \t]*_|\|\||,|\\)?[ \t\r\n]*+\1""")
_PERCENT = re.compile(rb"%[0-9A-Fa-f]{2}")
# Percent-encoding undone at most this many times over (coordtext.readings_of's 3 for positions).
PERCENT_LAYERS = 3


def _rewritten(text: bytes):
    """(the text percent-decoded, how), (its literals joined, how), (both, how): each that differs."""
    forms = [(text, "")]
    decoded, how = text, " (percent-encoded)"
    for _ in range(PERCENT_LAYERS):  # a link in a redirect link: '%252F9j' (RT33a-11)
        if b"%" not in decoded or not _PERCENT.search(decoded):
            break
        decoded = unquote_to_bytes(decoded)
        forms.append((decoded, how))
        how = " (percent-encoded again)" if how == " (percent-encoded)" else how
    for form, how in list(forms):
        if (b'"' in form or b"'" in form) and _LITERAL_JOIN.search(form):
            forms.append((_LITERAL_JOIN.sub(b"", form), f"{how} (string literals joined)"))
    yield from forms[1:]


def _widths(text: bytes):
    """The text as written, and its halves when it holds UTF-16 text, its quarters when UTF-32."""
    yield text, ""
    if b"\x00" not in text:
        return
    classes = text.translate(_UTF16_CLASS)
    if _UTF16_RUN.search(classes):
        yield text[0::2], " (UTF-16 text)"
        yield text[1::2], " (UTF-16 text)"
    if _UTF32_RUN.search(classes):  # UTF-32 (RT25-11): each code unit's low byte, in either byte order
        for k in range(4):
            yield text[k::4], " (UTF-32 text)"


def _decoded(text: bytes):
    """(bytes from a picture's start to the end of its run, "base64" or "hex") for every picture."""
    if b"&#" in text:
        text = _CHAR_REFS.sub(b" ", text)
    yield from _base64_pictures(text.translate(None, _SPACE))
    yield from _hex_pictures(text)
    if b"data:" in text:
        for match in _PERCENT_URI.finditer(text):
            blob = unquote_to_bytes(match.group(1))
            yield from ((blob[at:], "a data: URI") for at in picture_starts(blob, 0, set()))


def _base64_pictures(compact: bytes):
    runs = [m.span() for m in _B64_RUN.finditer(compact.translate(_B64_CLASS))]
    if runs:
        yield from ((blob, cut or "base64") for blob, cut in _joined(compact, runs, 6, _unbase64))


def _hex_pictures(text: bytes):
    if b"0x" in text or b"0X" in text or b"\\x" in text:
        text = _PREFIXED.sub(rb"0\1", text).replace(b"0x", b"").replace(b"0X", b"").replace(b"\\x", b"")
    texts = [text]
    if _DUMP_LINE.search(b"\n" + text[:64]) or _DUMP_LINE.search(text):  # a hex dump: also read with its offsets and character column taken off
        texts.append(_DUMP_ROW.sub(rb"\1", _unfolded(text)))
    for each in texts:
        compact = each.translate(None, _SPACE + b",;:")
        runs = [m.span() for m in _HEX_RUN.finditer(compact.translate(_HEX_CLASS))]
        if runs:
            yield from ((blob, cut or "hex") for blob, cut in _joined(compact, runs, 4, binascii.unhexlify))


def _unfolded(text: bytes) -> bytes:
    """A dump with its `*` lines (repeats of the line before, 16 bytes a line) written out, up to
    MAX_UNFOLDED bytes in all (past that a fold stays: the picture across it is cut off, an error)."""
    if b"*" not in text:
        return text
    budget = [MAX_UNFOLDED]

    def unfold(match: re.Match) -> bytes:
        whole = match.group(0)
        line = whole[:whole.rindex(b"*")]
        count = max(0, (int(match.group(2), 16) - int(match.group(1), 16)) // 16 - 1)
        if count * len(line) > budget[0]:
            return whole
        budget[0] -= count * len(line)
        return line * (count + 1)
    return _FOLD.sub(unfold, text)


def _unbase64(chars: bytes) -> bytes:
    return base64.b64decode(chars.translate(_URLSAFE))


def _joined(compact: bytes, runs: list[tuple[int, int]], bits: int, decode):
    """Pictures in every run of characters of `bits` bits each (base64 6, hex 4), in every alignment:
    the runs are joined with a filler of one group of characters (so a run's alignment is its offset
    in the joined text), the whole decoded once per alignment, each picture cut at its run's end."""
    group = 4 if bits == 6 else 2  # characters that decode to whole bytes
    filler = b"A" * group if bits == 6 else b"00"
    joined = filler.join(compact[a:b] for a, b in runs) + filler  # (a run's last partial group decodes too)
    ends, pos = [], 0
    for a, b in runs:
        pos += b - a
        ends.append(pos)
        pos += group
    for align in range(group):
        decoded = decode(joined[align:align + (len(joined) - align) // group * group])
        starts = set()
        for at in picture_starts(decoded, 0, set()):
            starts.add(at)
            end = ends[min(bisect.bisect_right(ends, align + at * 8 // bits), len(ends) - 1)]
            yield decoded[at:(end - align) * bits // 8], None
        at = decoded.find(b"\xff\xd8\xff")
        while at >= 0:  # a JPEG's start whose segments run on, well formed, to its run's end (RT25-13)
            end = ends[min(bisect.bisect_right(ends, align + at * 8 // bits), len(ends) - 1)]
            if at not in starts and _runs_off(decoded, at, (end - align) * bits // 8):
                yield b"", "cut"
            at = decoded.find(b"\xff\xd8\xff", at + 1)


def _runs_off(b: bytes, at: int, end: int) -> bool:
    """Whether the JPEG starting at `at` has at least one whole segment, every segment well formed,
    and runs past `end` before any frame header: the start of a picture whose rest is elsewhere."""
    pos, whole = at + 2, 0
    while pos + 4 <= end:
        if b[pos] != 0xFF:
            return False
        marker = b[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker < 0xC0 or 0xD0 <= marker <= 0xD9 or (0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC)):
            return False  # not a segment a JPEG starts with, or a frame header (picture_starts judged it)
        pos += 2 + (b[pos + 2] << 8 | b[pos + 3])
        whole += pos <= end
    return whole >= 1
