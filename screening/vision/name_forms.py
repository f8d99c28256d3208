"""How names are spelt: letters folded for comparing, a name's other spellings (marked letters
spelt out or reduced, a church school's abbreviations, denomination and status left out), and the
variants of a text that names are also looked for in. Used by names.py, which matches them."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .name_siblings import MAX_SIBLINGS, siblings  # noqa: F401 (names.py, tests)

# Words of academy names that say what kind of school it is, not which: an error there does not
# decide whether a name was read, and "St" may be left off a sign.
GENERIC = frozenset({"academy", "primary", "secondary", "school", "high", "college", "junior", "infant",
                     "infants", "nursery", "church", "of", "england", "ce", "c", "e", "rc", "the", "trust",
                     "catholic", "voluntary", "aided", "community", "free", "upper", "lower", "middle",
                     "sixth", "form", "st", "saint", "and", "roman", "cofe", "ciw", "in", "6th", "ss", "sts",
                     "saints"})
# "St" and "Saint", "Ss", "Sts" and "Saints" are each written for the other (RT20-4).
SAINTS = (("st", "saint"), ("ss", "sts", "saints"))


# Letters that carry no accent for Unicode to strip (NFKD leaves them whole), as a sign in
# capitals or an English OCR model spells them: "Łukasz" is read "LUKASZ", "Groß" is "GROSS" (RT6-15).
_OWN_LETTERS = {"ł": "l", "ø": "o", "ß": "ss", "ẞ": "ss", "ı": "i", "þ": "th", "æ": "ae", "œ": "oe",
                "đ": "d", "ð": "d", "ħ": "h", "ŀ": "l", "ŧ": "t", "ŋ": "n", "ĸ": "k", "ſ": "s", "ƒ": "f"}


# Cyrillic and Greek letters that look like Latin capitals or small letters (Unicode UTS #39
# confusables): a caption "Аmelia Нart" with a Cyrillic А and Н shows "Amelia Hart" (RT20-8).
_LOOKALIKES = {"А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
               "Х": "X", "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
               "Ѕ": "S", "ѕ": "s", "І": "I", "Ј": "J", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I",
               "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ο": "o"}


@lru_cache(maxsize=8192)
def _folded(ch: str) -> str:
    """One character as the letters() it contributes: look-alikes as Latin, lower case, accents off,
    own letters spelt."""
    out = []
    for c in "".join(_LOOKALIKES.get(x, x) for x in unicodedata.normalize("NFKD", ch)).lower():
        c = _OWN_LETTERS.get(c, c)
        out.extend(x for x in c if x.isalnum() and not unicodedata.combining(x))
    return "".join(out)


def letters(text: str) -> str:
    """Lower-case letters and digits only, accents removed: 'St Aidan's' -> 'staidans', 'Groß' -> 'gross'."""
    return "".join(_folded(ch) for ch in text)


def _words(text: str) -> list[str]:
    """Words of a name: apostrophes join ('Aidan's' is one word), other punctuation splits."""
    spaced = "".join(c if c.isalnum() or c in "'’" else " " for c in text)
    return [w for w in (letters(x) for x in spaced.split()) if w]


# The customary ASCII spellings of marked letters (German kit and passports: Müller -> MUELLER;
# Serbo-Croatian Đorđe -> DJORDJE): a name is also looked for spelt this way (RT6-40), and both the
# name and the text are also compared with those pairs reduced to one letter (RT7-8/9: a register
# that writes "Koehn" and a sign "Köhn", or "Bjorn" and a shirt "BJOERN").
_SPELT_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "đ": "dj", "Đ": "Dj",
                            "å": "aa", "Å": "Aa", "ø": "oe", "Ø": "Oe"})
_PAIRS_REDUCED = re.compile(r"(?<=[aou])e|(?<=a)a|(?<=d)j", re.IGNORECASE)  # the letter dropped
# The standard abbreviations of church schools' names (signs, kit, letterheads): RT6-31, RT7-11/12.
_ABBREVIATED = [(("church", "of", "england"), (("ce",), ("c", "of", "e"), ("cofe",), ("c", "e"))),
                (("roman", "catholic"), (("rc",), ("r", "c"), ("catholic",))),
                (("catholic",), (("rc",), ("r", "c"))),
                (("church", "in", "wales"), (("ciw",), ("c", "in", "w")))]
# What a church school's name may carry or leave out on a sign: its denomination and status
# (RT7-17/18). A name is also looked for without them, and a text is also read without them.
_DENOMINATION = re.compile(r"\b(?:church\s+of\s+england|church\s+in\s+wales|c\.?\s*in\s*w\b\.?|ciw|"
                           r"roman\s+catholic|catholic|c\.?\s*of\s*e\b\.?|cofe|"
                           r"c\.\s*e\.?|ce|r\.\s*c\.?|rc)(?=\W|$)", re.IGNORECASE)
# Its status (voluntary aided or controlled) may be on one side only: left out of both, whatever
# the denomination (RT7-18).
_STATUS = re.compile(r"\b(?:voluntary\s+(?:aided|controlled)|v\.?\s*[ac]\.?)(?=\W|$)", re.IGNORECASE)


# Ordinals in words and in figures, each written for the other ("Sixth Form" as "6th Form": RT20-7).
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                  "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
                  "eighteenth", "nineteenth", "twentieth")
_ORDINALS = {w: f"{n}{'th' if 10 <= n <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
             for n, w in enumerate(_ORDINAL_WORDS, 1)}
_ORDINALS.update({f: w for w, f in list(_ORDINALS.items())})


def _spellings(name: str) -> list[list[str]]:
    """The name's words; with marked letters spelt out; with those pairs reduced; with ß as the B
    an English OCR model reads (RT6-17); without a church school's status; and with its ordinals
    in figures for words and words for figures (RT20-7)."""
    out = [_words(name), _words(name.translate(_SPELT_OUT)), _words(_PAIRS_REDUCED.sub("", name))]
    if _STATUS.search(name):
        out.append(_words(_STATUS.sub(" ", name)))
    if "ß" in name or "ẞ" in name:
        out.append(_words(name.replace("ß", "b").replace("ẞ", "B")))
    out += [[_ORDINALS.get(w, w) for w in words] for words in out if any(w in _ORDINALS for w in words)]
    return [list(w) for w in dict.fromkeys(tuple(w) for w in out if w)]


def possessives(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The words with one identifying word's apostrophe-s (or plain final s) left off, or one added:
    signs drop or add it ("ST AIDAN ACADEMY" for St Aidan's Academy and the reverse: RT20-3)."""
    out = []
    for i, w in enumerate(words):
        if w in GENERIC or not w.isalpha() or len(w) < 3:
            continue
        if w.endswith("s") and not w.endswith("ss") and len(w) >= 4:
            out.append(words[:i] + (w[:-1],) + words[i + 1:])
        elif not w.endswith("s"):
            out.append(words[:i] + (w + "s",) + words[i + 1:])
    return out


def _bare(name: str) -> tuple[str, ...] | None:
    """The name's words without a church school's denomination and status, if it has one."""
    if not _DENOMINATION.search(name):
        return None
    words = tuple(_words(_DENOMINATION.sub(" ", _STATUS.sub(" ", name))))
    return words if words and any(w not in GENERIC for w in words) else None


def _abbreviations(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The words with "Church of England" / "Roman Catholic" written the short ways, and the reverse."""
    out = []
    for full, shorts in _ABBREVIATED:
        for a, b in [(full, s) for s in shorts] + [(s, full) for s in shorts]:
            for i in range(len(words) - len(a) + 1):
                if words[i:i + len(a)] == a:
                    out.append(words[:i] + b + words[i + len(a):])
                    break
    return out


def _text_variants(text: str):
    """(variant, kept, bare) to look for names in: the text itself (kept None), and, where they
    differ, the text with ae/oe/ue/aa/dj reduced to one letter, and the text without a church
    school's denomination (bare: only names that carry none are looked for there, RT7-13/17);
    `kept` maps each character of a variant to its index in the text."""
    yield text, None, False
    for pattern in (_PAIRS_REDUCED, _STATUS, _DENOMINATION):
        dropped = set()
        for m in pattern.finditer(text):
            dropped.update(range(m.start(), m.end()))
        if dropped:
            kept = [i for i in range(len(text)) if i not in dropped]
            yield "".join(text[i] for i in kept), kept, pattern is _DENOMINATION
    yield from siblings(text)


# Forenames listed with one surname ("Amelia and Tom Hart", "Hart, Tom and Amelia", "the Hart twins,
# Amelia and Tom": RT31-12, RT33b-1/2/3/8/9): name_siblings.py pairs each with the surname.
# Titles a register writes before staff names ("Mrs Sarah Jones", as MIS exports list staff): the
# name is also looked for without its title, and as title and surname ("Mrs Jones": a door sign, a
# badge) (RT12-21). A title followed by one word only is never reduced to that word.
TITLES = frozenset({"mr", "mrs", "miss", "ms", "mx", "dr", "prof", "professor", "sir", "dame", "rev", "revd",
                    "reverend"})
# A known-as name written in brackets or quotes ("Oliver Bennett (Ollie)", 'Oliver "Ollie" Bennett'):
# another first name of the same person (RT12-22).
_KNOWN_AS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|\"([^\"]*)\"|\u201c([^\u201d]*)\u201d")
# Words that say what kind of school it is: a sign or kit may leave off the words after the last
# of them ("Northfield Primary" for "Northfield Primary Academy"), never all of them (RT12-27).
KIND = frozenset({"academy", "primary", "secondary", "school", "high", "college", "junior", "infant", "infants",
                  "nursery"})


def known_as(name: str) -> tuple[str, list[str]]:
    """The name without its bracketed or quoted parts, and the known-as first names among them:
    one word of letters ("(Ollie)"); not "(Year 5)" or a note (RT14-4). A former surname
    ("(née Smith)") is returned as "née Smith" for the caller to pair with the first name."""
    parts = [next(g for g in m.groups() if g is not None) for m in _KNOWN_AS.finditer(name)]
    rest = _KNOWN_AS.sub(" ", name)
    if not _words(rest):  # the whole name in quotes or brackets: that is the name (RT13-1)
        return " ".join(parts), []
    kept = []
    for part in parts:
        words = _words(part)
        if len(words) == 1 and words[0].isalpha() or len(words) == 2 and words[0] in _FORMERLY:
            kept.append(part)
    return rest, kept


# words before a former surname in brackets: "Sarah Jones (née Smith)" is also "Sarah Smith" (RT14-5)
_FORMERLY = frozenset({"nee", "formerly", "was", "born"})


def untitled(words: list[str]) -> tuple[str | None, list[str]]:
    """(title, the rest) when the name starts with a title and more than it follows."""
    if len(words) >= 2 and words[0] in TITLES:
        return words[0], words[1:]
    return None, words


def academy_writings(name: str) -> list[str]:
    """The name as written and, when it joins two names with '&', '+' or 'and', with each of the
    others and with none (signs and kit write "St Peter and St Paul" for "St Peter & St Paul": RT12-26)."""
    if not re.search(r"[&+]|\band\b", name, re.IGNORECASE):
        return [name]
    joined = re.sub(r"\s*[&+]\s*", " and ", name)
    return list(dict.fromkeys([name, joined, re.sub(r"\band\b", " ", joined, flags=re.IGNORECASE)]))


# A kind-of-school word cut short where the text ends (a head or the frame hides the end of the
# sign: "ST AIDAN'S ACAD"): its first 3 or 5 letters, one letter more or less within an edit (RT12-29).
_CUT = frozenset(k[:n] for k in KIND for n in (3, 5) if len(k) > n + 1)


def generic(word: str, named: frozenset[str] = frozenset()) -> bool:
    """A word that does not say which school: GENERIC, or a kind word cut short that is not a
    word of the name itself ("Prima Academy" is identified by "prima": RT13-2)."""
    return word in GENERIC or (word in _CUT and word not in named)


def shortened(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The name's words without a leading "The" (RT12-31); without the words after its last
    kind-of-school word, one at a time, while a kind word and an identifying word remain (RT12-27);
    and with its last word, a kind word, cut short (RT12-29)."""
    out = []
    if len(words) > 2 and words[0] == "the":
        out.append(words[1:])
    for base in [words] + out:
        cut = base
        while len(cut) > 2 and cut[-1] in GENERIC:
            cut = cut[:-1]
            if any(w in KIND for w in cut) and any(w not in GENERIC for w in cut):
                out.append(cut)
    ends = [f for f in [words] + out if f[-1] in KIND and any(w not in GENERIC for w in f)]
    out += [f[:-1] + (f[-1][:n],) for f in ends for n in (3, 5) if len(f[-1]) > n + 1]
    return out
