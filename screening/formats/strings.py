"""The printable strings of a binary block, as `strings` and exiftool's decoders show them.

Maker notes, APPn segments no reader here parses, Photoshop's slices: each maker and tool
keeps text there in a layout of its own (Panasonic's BabyName and Landmark, Photoshop's
'Save for Web' comment in UTF-16, J. River's people tags). Rather than one decoder per
layout, every run of text in them is read: UTF-8 (ASCII included) and UTF-16 of either byte
order. The text check only flags the register's and the academies' names, so the noise
of binary data read as letters costs time, not answers.

Not so for the location check: binary data holds chance postcodes ("E53NO", "m01cr", or "E9U" and
"9UP" of two runs joined: about 1 in 300 random 4 KB blocks). In the strings of a block no reader
parses (a JPEG APPn segment: GoPro's GPMF, Qualcomm's, Kodak's FPXR), a postcode counts only in a
run that reads as words (another word of 3 letters or more in it), or in any run when half the runs
or more have a word (a block of text: "Vendor", "LS6 2AB"; binary data's runs are mostly not)
(RT31-18); a run that is a whole postcode as printed, upper case with its space ("LS6 2AB": a maker's
NUL-padded Landmark or address field), counts alone (RT33a-6). Positions are read in all of it.
"""

from __future__ import annotations

import re

from screening.formats.postcodes import POSTCODE

_ALONE = re.compile(POSTCODE.pattern.replace(" ", " ?"))  # a printed postcode, spaced or not

# Shortest run read as text: "Amelia" is 6, a surname of 3 ("Ng") inside a longer run is kept.
MIN_RUN = 4
# At most this many bytes of one block are searched (a maker note is some KB; a huge one is cut).
MAX_BYTES = 1 << 20
_UTF8 = re.compile(rb"(?:[\x20-\x7e\t]|[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}){%d,}" % MIN_RUN)
# UTF-16 of Latin letters (U+0020..U+017F), read in each byte order at each alignment; a run mostly
# of letters beyond ASCII is binary data read as text, not a caption
_UTF16 = re.compile("[\u0020-\u007e\u00a0-\u017f]{%d,}" % MIN_RUN)


def printable_strings(blob: bytes) -> list[str]:
    """Each run of printable text in `blob` (once, in order), with at least two letters in it."""
    blob = blob[:MAX_BYTES]
    found: list[str] = [m.group().decode("utf-8", "replace") for m in _UTF8.finditer(blob)]
    for codec in ("utf-16-be", "utf-16-le"):
        for start in (0, 1):
            end = len(blob) - (len(blob) - start) % 2
            found += [t for t in _UTF16.findall(blob[start:end].decode(codec, "replace"))
                      if sum(c < "\x80" for c in t) >= 0.8 * len(t)]
    out = []
    for text in found:
        text = " ".join(text.split())
        if len(text) >= MIN_RUN and sum(c.isalpha() for c in text) >= 2 and all(c.isprintable() for c in text):
            out.append(text)
    return list(dict.fromkeys(out))


def strings_text(blob: bytes) -> str:
    """The block's strings as one caption, each run on a line of its own ("" when there are none)."""
    return "\n".join(printable_strings(blob))


# where (formats/jpeg.py's and common.photoshop_blocks' labels) the strings of an unparsed binary block
# are read as a comment: an APPn segment no reader parses, a Photoshop resource with no text of its own
# (print settings, plug-in data: RT33b-7)
_BINARY_WHERE = re.compile(r"^(?:the )?(?:JPEG APP\d+ segment |Photoshop resource \(resource 0x[0-9A-Fa-f]{4}\)(?!'s))")
# a word of 3 letters or more, standing apart or as a key ("addr=", "Home:": RT33c-5)
_WORD = re.compile(r"(?<![^\s=:;,/])[A-Za-z]{3,}[.,;:!?=]?(?![^\s=:;,/])")


def from_binary(where: str) -> bool:
    """The text at `where` is the strings of a binary block (a JPEG APPn segment no reader parses, a
    Photoshop resource that holds no text of its own)."""
    return _BINARY_WHERE.match(where) is not None


def worded_runs(text: str, found) -> list[str]:
    """What `found(run)` finds in the runs of a block's strings that read as words (RT31-18), or that
    are a whole postcode as printed (RT33a-6)."""
    runs = text.split("\n")
    worded = [_WORD.search(run) is not None for run in runs]
    if 2 * sum(worded) >= len(runs):  # a block of text ("Vendor", "LS6 2AB"): every run
        return [hit for run in runs for hit in found(run)]
    out = []
    for run in runs:
        hits = list(found(run))
        alone = _ALONE.fullmatch(run.strip()) is not None  # "LS6 2AB", "LS62AB": a field of its own (RT33a-6, RT33c-5)
        if hits and (alone or any(m.group() not in " ".join(hits) for m in _WORD.finditer(run))):
            out += hits
    return out
