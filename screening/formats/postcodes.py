"""UK postcodes written as text: on a sign, a GPS stamp, in a caption ("LS6 2AB", "ls6 2ab", "LS62AB").

Upper case with its space, as printed, follows the government's published pattern (BS 7666)
whatever its letters ("GIR 0AA" too). The forms a person types or an OCR engine reads (all
lower case, or without the space) must also start with one of the 121 postcode areas the Royal
Mail uses and stand alone as a token (not inside "DMC-FZ72EB", "IMG_LS62AB.jpg", "SN:LS62AB";
without its space, not after "S/N", "serial no.", "model"), so a camera model, a serial number
or a file name is not a postcode. An ordinal in lower case ("b1 2nd") is not one either.
Not read: mixed case ("Ls6 2ab"), other countries' codes.
Still read although not postcodes: product codes of that shape standing alone ("GL520SM") and
a git commit's short name ("da920ee": "ec1a1bb" is a real postcode of the same shape).
"""

from __future__ import annotations

import re

# gov.uk's published postcode pattern (BS 7666), upper case with its space, as a whole word
POSTCODE = re.compile(r"\b(?:GIR 0AA|(?:[A-Z][0-9]{1,2}|[A-Z][A-HJ-Y][0-9]{1,2}|[A-Z][0-9][A-Z]"
                      r"|[A-Z][A-HJ-Y][0-9][A-Z]?) [0-9][A-Z]{2})\b")
_PATTERN = re.compile(POSTCODE.pattern.replace(" ", " ?"))
# The Royal Mail's postcode areas (and BF, British Forces)
AREAS = frozenset((
    "AB AL B BA BB BD BF BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC EH EN EX "
    "FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG "
    "NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS "
    "TW UB W WA WC WD WF WN WR WS WV YO ZE").split())
# a token: not joined to a word, a model number's hyphen, a file name's dot or underscore, a "SN:" prefix
_TYPED = re.compile(r"(?<![\w\-./:#@\\])(?P<area>[A-Za-z]{1,2})(?P<district>[0-9][0-9A-Za-z]?)(?P<space> ?)"
                    r"(?P<inward>[0-9][A-Za-z]{2})(?![\w\-/:#@\\]|\.\w)")
_ORDINAL = re.compile(r"1st|2nd|3rd|[04-9]th")
# what comes before a serial or model number: "S/N LS62AB", "Serial no. LS62AB", "model: SE12AB"
_LABEL = re.compile(r"(?i)\b(?:s/?n|serial(?:\s*(?:no|number))?|model|part(?:\s*no)?|no|ref|id|fw|firmware|version|"
                    r"lens|body|cat(?:alogue)?)\W{0,3}$")


def postcodes(text: str) -> list[str]:
    """UK postcodes in `text`, as written, in the order found."""
    found = [(m.start(), m.group(0)) for m in POSTCODE.finditer(text)]
    printed = {start for start, _ in found}
    for m in _TYPED.finditer(text):
        if m.start() not in printed and _typed(m):
            found.append((m.start(), m.group(0)))
    return [code for _, code in sorted(found)]


def _typed(m: re.Match) -> bool:
    code = m.group(0)
    if not (code.isupper() or code.islower()) or m["area"].upper() not in AREAS:
        return False
    if code.islower() and _ORDINAL.fullmatch(m["inward"]):
        return False
    if not m["space"] and _LABEL.search(m.string[max(0, m.start() - 20):m.start()]):
        return False
    return _PATTERN.fullmatch(code.upper()) is not None
