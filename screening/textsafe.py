"""Text from file names, metadata and the register, made safe for where it is written.

A file name is chosen by whoever drops the file: it may hold rich markup (`[bold red]`,
`[/]`), a newline that prints a fake line, ANSI escapes for the terminal, or a leading `=`
that a spreadsheet runs as a formula. Every such string goes through one of these on its way
out; JSON needs nothing (json.dumps escapes control characters).
"""

from __future__ import annotations

import re

# Characters that move the cursor, change colours or reorder text on a terminal: C0 and C1
# controls, DEL, line and paragraph separators, and the bidirectional overrides and isolates
# ("Trojan Source": a name that reads differently from what it is): every explicit embedding,
# override and isolate, the implicit marks LRM, RLM, ALM (U+061C, RT20-14) and the Syriac
# one (U+070F), and the deprecated format controls U+206A-206F (swapping, shaping, digit shapes).
# A name that is not valid UTF-8 arrives with its bad bytes as lone surrogates (\udcff):
# they cannot be written as UTF-8 at all, so they are escaped too.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u070f\u200e\u200f\u202a-\u202e\u2066-\u206f"
                          "\ud800-\udfff]")

# The same without C0: json.dumps escapes those inside strings, and outside strings they are
# the document's own layout (the newlines of indent=1).
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u061c\u070f\u200e\u200f\u202a-\u202e\u2066-\u206f\ud800-\udfff]")

# For a web page: newlines and tabs are only white space there, everything else printable() escapes
# is shown escaped (a right-to-left override would make "\u202egnp.exe" read "exe.png").
_HTML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u061c\u070f\u200e\u200f\u202a-\u202e"
                          "\u2066-\u206f\ud800-\udfff]")

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}

# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel,
# LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _visible(match: re.Match) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def printable(text: str) -> str:
    """Control, separator and bidi characters written as visible escapes (`\\n`, `\\x1b`, `\\u202e`)."""
    return _UNPRINTABLE.sub(_visible, str(text))


def for_html(text: object) -> str:
    """Text for an HTML page: markup escaped (html.escape, quotes included) and the controls that
    reorder or hide text shown as escapes, so a page shows a file's name as it is."""
    import html

    return html.escape(_HTML_UNSAFE.sub(_visible, str(text)))


def visible_in_html(text: str) -> str:
    """for_html() without the markup escaping, for a template engine that escapes by itself."""
    return _HTML_UNSAFE.sub(_visible, text)


def for_json(document: str) -> str:
    """A JSON text (json.dumps with ensure_ascii=False) with the characters printable() escapes
    written as \\uXXXX: the same JSON value, harmless when the line is shown on a terminal.
    (json.dumps escapes C0 controls itself, not DEL, C1 such as \\x9b (CSI), bidi controls or
    the lone surrogates of a name that is not UTF-8, which could not even be written.)"""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


# What rich reads as a markup tag (rich.markup.RE_TAGS): `[` then a lower-case letter, `#`, `/`
# or `@`, up to `]`. Escaped as rich.markup.escape does, without importing rich here.
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def for_terminal(text: object) -> str:
    """For a rich console with markup on: nothing in `text` styles, moves or hides output."""
    escaped = _TAG.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", printable(str(text)))
    if escaped.endswith("\\") and not escaped.endswith("\\\\"):
        escaped += "\\"  # a lone trailing backslash would escape the markup that follows it
    return escaped


def for_csv(value: object) -> object:
    """A spreadsheet cell that is never run as a formula (OWASP CSV-injection advice: a leading
    `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front). Numbers pass unchanged."""
    if not isinstance(value, str):
        return value
    value = printable(value)  # no bidi override reorders a name, no newline breaks a row for the eye
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_row(values) -> list:
    return [for_csv(v) for v in values]
