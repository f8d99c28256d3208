"""Names in text read by OCR: normalising, OCR-tolerant matching, joining the lines of a sign.

A name matches a piece of text when, letters and digits only and case ignored, the text holds
the name with few edits; OCR's usual confusions (0/O, 1/l/I, 5/S, 8/B, rn/m, vv/w, cl/d) cost
a fifth of an edit. Spaces, punctuation, apostrophes and line breaks are ignored, so "ST
AIDAN'S / ACADEMY" on two lines is "staidansacademy". The ends of a name must fall on word
ends in the text (a space, punctuation, the end of the line, or a lower-to-upper case change),
so "Amelia Hart" is not found in "Amelia Hartley"; names long enough to be distinctive
(LONG letters) are found anywhere, because OCR often drops the spaces of capitals; so are full
names and academy names of RUN_MIN letters inside a run of capitals without spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from screening.vision.name_align import (  # noqa: F401 (constants re-exported)
    _CONFUSABLE,
    _DIGIT_LOOKALIKES,
    _PAIRS,
    _SPLITS,
    CONFUSION_COST,
    LONG,
    SHORT,
    _best_alignment,
    _word_end,
    _word_start,
)
from screening.vision.name_forms import (
    GENERIC,
    SAINTS,
    TITLES,
    _abbreviations,
    _bare,
    _folded,
    _spellings,
    _text_variants,
    _words,
    academy_writings,
    generic,
    known_as,
    letters,
    possessives,
    shortened,
    untitled,
)

# every confusable character as its group's first, for the trigram index
_FOLD = str.maketrans({c: sorted(group)[0] for group in _CONFUSABLE for c in group})


@dataclass(frozen=True)
class Form:
    """One spelling of a name as its words, normalised, and which words identify it."""

    words: tuple[str, ...]
    distinctive: tuple[bool, ...]
    bare: bool = False  # the name without its church school denomination: compared with the text as read

    @property
    def plain(self) -> str:
        return "".join(self.words)


@dataclass(frozen=True)
class Target:
    """A name to look for: an academy's name or alias, or a register person's full name."""

    kind: str  # "academy" or "person"
    id: str  # academy id or person_id
    name: str  # as written in the config or register
    forms: tuple[Form, ...]  # the name, "last first" for a person, without "St" for an academy
    denominated: bool = False  # the name carries a denomination (CE, RC...): never read into a text without one


@dataclass(frozen=True)
class Match:
    target: Target
    similarity: float  # the lower of the whole name's and its weakest identifying word's
    start: int  # span of the match in the text (characters of the text as read)
    end: int


def academy_target(academy_id: str, name: str) -> Target:
    forms: list[tuple[str, ...]] = []
    for words in (w for written in academy_writings(name) for w in _spellings(written)):
        forms.append(tuple(words))
        for group in SAINTS:
            if words[0] in group and len(words) > 1:
                forms += [tuple(words[1:])] + [(other, *words[1:]) for other in group if other != words[0]]
    forms += [p for f in forms for p in possessives(f)]
    forms = list(dict.fromkeys(forms))
    forms += [s for f in forms for s in shortened(f)]
    forms += [a for f in forms for a in _abbreviations(f)]
    forms = list(dict.fromkeys(forms))
    bare = _bare(name)
    if not any(w not in GENERIC for w in _words(name)):  # "The Academy": every word has to count
        return Target("academy", academy_id, name, tuple(Form(f, (True,) * len(f)) for f in forms),
                      denominated=bare is not None)
    named = frozenset(w for words in _spellings(name) for w in words)
    made = [Form(f, tuple(not generic(w, named) for w in f)) for f in forms if any(not generic(w, named) for w in f)]
    if bare is not None and bare not in forms:  # the sign may leave the denomination out (RT7-17)
        made.append(Form(bare, tuple(w not in GENERIC for w in bare), bare=True))
    return Target("academy", academy_id, name, tuple(made), denominated=bare is not None)


def person_target(person_id: str, name: str) -> Target | None:
    """First and last name together, in either order. A one-word register name (a mononym: the
    person's whole name, RT6-32) is looked for as a whole word; None when the name has no letters.

    Also: without a title and as title and surname ("Mrs Sarah Jones": "Sarah Jones", "Mrs Jones");
    a known-as name in brackets or quotes as another first name ("Oliver Bennett (Ollie)": "Ollie
    Bennett"); with three words or more, the first name and the next-to-last ("María García López":
    "María García", the usual short form of a double surname; RT12-21/22/23)."""
    forms: list[tuple[str, ...]] = []
    written, others = known_as(name)
    for words in _spellings(written):
        title, words = untitled(words)
        if len(words) == 1:
            forms.append((title, words[0]) if title else (words[0],))
            continue
        first, last = words[0], words[-1]
        forms += [tuple(words), (first, last), (last, first)]
        if title:
            forms += [(title, *words), (title, last)]
        if len(words) >= 3:
            forms += [(first, words[-2]), (words[-2], first)]
        for other in (w for o in others for w in _spellings(o)):
            if len(other) == 1:  # another first name
                forms += [(other[0], last), (last, other[0])]
            else:  # née Smith: a former surname
                forms += [(first, other[-1]), (other[-1], first)]
    if not forms:
        return None
    return Target("person", person_id, name, tuple(Form(f, (True,) * len(f)) for f in dict.fromkeys(forms)))


def targets(academies: Iterable[tuple[str, Sequence[str]]], people: Iterable[tuple[str, ...]]) -> tuple[Target, ...]:
    """Targets for (academy id, [name, aliases...]) and (person_id, name[, role]) people."""
    out = [academy_target(aid, n) for aid, names in academies for n in names if letters(n)]
    out += [t for pid, n, *_ in people if (t := person_target(pid, n)) is not None]
    return tuple(out)


# Code points Unicode counts as letters (or marks) that every font draws blank: Hangul fillers,
# Khmer's inherent vowels, Mongolian variation selectors. A caption "Amelia\u3164Hart" shows
# "Amelia Hart" (RT29-13): they are read as spaces. (Invisible format characters, zero width
# joiners and the like, are not letters and already drop out of the letters compared.)
BLANK_LETTERS = {cp: " " for cp in (0x115F, 0x1160, 0x3164, 0xFFA0, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F)}


class Matcher:
    """Finds targets in texts; a trigram index keeps a register of thousands cheap."""

    def __init__(self, targets: Sequence[Target], floor: float = 0.7):
        self.targets = tuple(targets)
        self.floor = floor
        self.index: dict[str, set[int]] = {}
        self.grams: dict[tuple[int, int], int] = {}
        self.short = set()  # targets with a form too short for trigrams: always aligned
        for i, t in enumerate(self.targets):
            for k, form in enumerate(t.forms):
                grams = _trigrams(form.plain.translate(_FOLD))
                self.grams[i, k] = len(grams)
                if len(form.plain) < 4:
                    self.short.add(i)
                for g in grams:
                    self.index.setdefault(g, set()).add(i)

    def find(self, text: str) -> list[Match]:
        """Every target found in `text` (or in its variants: pairs reduced, denomination left out)
        with similarity >= floor, best per target; a one-word name inside another person's full
        name found there is that person's name, not the mononym's (RT7-15)."""
        best: dict[int, Match] = {}
        text = text.translate(BLANK_LETTERS)  # one character for one: positions in it stay the text's
        for variant, kept, bare in _text_variants(text):
            for m in self._find(variant, bare):
                if kept is not None:
                    m = Match(m.target, m.similarity, kept[m.start], kept[max(m.start, m.end - 1)] + 1)
                key = id(m.target)
                if key not in best or m.similarity > best[key].similarity:
                    best[key] = m
        found = list(best.values())
        fulls = [m for m in found if m.target.kind == "person" and len(m.target.forms[0].words) > 1]
        found = [m for m in found if not (m.target.kind == "person" and len(m.target.forms[0].words) == 1 and any(
            f.start <= m.start and m.end <= f.end and f.similarity >= m.similarity for f in fulls))]
        return sorted(found, key=lambda m: -m.similarity)

    def _find(self, text: str, bare_text: bool = False) -> list[Match]:
        plain, where = _letters_with_positions(text)
        if not plain:
            return []
        hits: dict[int, int] = {}
        for g in _trigrams(plain.translate(_FOLD)):
            for i in self.index.get(g, ()):
                hits[i] = hits.get(i, 0) + 1
        found = []
        for i in set(hits) | self.short:
            target = self.targets[i]
            if bare_text and target.denominated:
                continue  # its name without the denomination is compared with the text as read
            best: Match | None = None
            for k, form in enumerate(target.forms):
                if form.bare and bare_text:
                    continue
                # each edit spoils at most three trigrams: skip forms that cannot reach the floor
                if len(form.plain) >= 4 and hits.get(i, 0) < self.grams[i, k] - 3 * (1 - self.floor) * len(form.plain):
                    continue
                found_in = [_best_alignment(form, plain, text, where, self.floor)]
                if target.kind == "person" and len(form.words) == 2:
                    found_in += _with_words_between(form, text, self.floor)
                if target.kind == "academy" and len(form.plain) >= SHORT:
                    found_in += _inside_addresses(form, text, self.floor)
                if len(form.plain) >= RUN_MIN and (target.kind == "academy" or len(form.words) >= 2
                                                   and form.words[0] not in TITLES):
                    found_in += _inside_runs(form, text, self.floor)
                for m in found_in:
                    if m is not None and (best is None or m[0] > best.similarity):
                        best = Match(target, round(m[0], 3), m[1], m[2])
            if best is not None:
                found.append(best)
        return sorted(found, key=lambda m: -m.similarity)


# Words (or initials) a full name may have between its first and last name: "Amelia Rose Hart".
MAX_BETWEEN = 2
_WORD = re.compile(r"[^\W_]+")
# what may stand between the words of one name: spaces, an initial's dot, a hyphen; not a comma or "&",
# which separate two people's names ("Amelia Jones, Tom Hart"), nor a line break ("Amelia Jones" over
# "Tom Hart" on a list)
_NAME_GAP = re.compile(r"[ \t.\-'’]*")
# words that join two people's names rather than stand inside one ("Amelia and Hart")
_NOT_A_NAME = frozenset({"and", "or", "with", "to", "from", "by", "for", "of", "the", "und", "et"})
# a web address, an e-mail address or a hashtag, where words run together ("northfieldschool.org")
# (An address starts a word: tried once a word, not at every character of a long run without spaces,
# a base64 depth map's, which made the search quadratic: RT31-29.)
_ADDRESS = re.compile(r"(?:https?://|www\.|#)\S+|(?<![^\s(\[{<\"'])\S+@\S+|(?<![^\s(\[{<\"'])\S+\.(?:uk|org|com|net|"
                      r"edu|gov|info|io|academy|school|education|ie|eu|us)(?:[/:?#]\S*)?(?=[\s,;)]|$)", re.IGNORECASE)


def _with_words_between(form: Form, text: str, floor: float) -> list[tuple[float, int, int] | None]:
    """A two-word name with up to MAX_BETWEEN words of the text between its words, skipped."""
    words = _text_words(text)[0]
    near = [_near(text, name_word, floor) for name_word in form.words]
    out = []
    for a in sorted(near[0]):
        for b in range(a + 2, min(a + 2 + MAX_BETWEEN, len(words))):
            if not all(_NAME_GAP.fullmatch(text[words[k].end():words[k + 1].start()]) for k in range(a, b)) \
                    or words[b - 1].group().lower() in _NOT_A_NAME:
                break
            if b not in near[1]:
                continue
            left, right = words[a], words[b]
            joined = left.group() + " " + right.group()
            plain, where = _letters_with_positions(joined)
            m = _best_alignment(form, plain, joined, where, floor)
            if m is not None:
                at = [left.start() + x if x <= len(left.group()) else right.start() + x - len(left.group()) - 1
                      for x in (m[1], m[2])]
                out.append((m[0], at[0], at[1]))
    return out


@lru_cache(maxsize=16)
def _text_words(text: str) -> tuple[list[re.Match], list[int], dict[str, list[int]], dict]:
    """The words of a text, their letters' counts, which words hold each folded trigram, and room
    for _near's answers (made once per text: every two-word form looks at them)."""
    words = list(_WORD.finditer(text))
    sizes, holding = [], {}
    for k, word in enumerate(letters(m.group()) for m in words):
        sizes.append(len(word))
        for g in _trigrams(word.translate(_FOLD)):
            holding.setdefault(g, []).append(k)
    return words, sizes, holding, {}


def _near(text: str, name_word: str, floor: float) -> frozenset[int]:
    """A cheap first look: the words of the text that could be `name_word` as read (similar length,
    a trigram in common)."""
    _, sizes, holding, known = _text_words(text)
    if (name_word, floor) not in known:
        slack = max(1.0, (1 - floor) * len(name_word))
        known[name_word, floor] = frozenset(k for g in _trigrams(name_word.translate(_FOLD))
                                            for k in holding.get(g, ()) if abs(sizes[k] - len(name_word)) <= slack)
    return known[name_word, floor]


def _inside_addresses(form: Form, text: str, floor: float) -> list[tuple[float, int, int] | None]:
    """An academy name of SHORT letters or more anywhere inside a web or e-mail address or a hashtag."""
    out = []
    for token in _tokens(_ADDRESS, text):
        plain, where = _letters_with_positions(token.group())
        m = _best_alignment(form, plain, token.group(), where, floor, anywhere=True)
        if m is not None:
            out.append((m[0], token.start() + m[1], token.start() + m[2]))
    return out


# A run of capitals without spaces, as PP-OCRv4 reads a line of capitals ("AWARDEDTOAMELIAHART",
# "GONORTHFIELD!"): an academy name or alias, or a full name (first and last, never a first name
# or title and surname alone), of RUN_MIN letters or more is found anywhere in it (RT20-1/2).
RUN_MIN = 8
_RUN = re.compile(r"\S{%d,}" % RUN_MIN)


def _inside_runs(form: Form, text: str, floor: float) -> list[tuple[float, int, int] | None]:
    out = []
    for token in _tokens(_RUN, text):
        run = token.group()
        if any(c.islower() for c in run) or not any(c.isupper() for c in run):
            continue
        plain, where = _letters_with_positions(run)
        if len(plain) <= len(form.plain):
            continue  # the whole run is the name or less: the ordinary match decides
        m = _best_alignment(form, plain, run, where, floor, anywhere=True)
        if m is not None:
            out.append((m[0], token.start() + m[1], token.start() + m[2]))
    return out


@lru_cache(maxsize=32)
def _tokens(pattern: re.Pattern, text: str) -> list[re.Match]:
    return list(pattern.finditer(text))


def _trigrams(s: str) -> set[str]:
    return {s[i:i + 3] for i in range(len(s) - 2)} if len(s) >= 3 else {s} if s else set()


@lru_cache(maxsize=64)
def _letters_with_positions(text: str) -> tuple[str, tuple[int, ...]]:
    """The letters() of text, and for each the index in text of the character it came from
    (cached: every form of every target reads the same text)."""
    out, where = [], []
    for i, ch in enumerate(text):
        for c in _folded(ch):
            out.append(c)
            where.append(i)
    return "".join(out), tuple(where)
