"""Names in text read by OCR: normalising, OCR-tolerant matching, joining the lines of a sign.

A name matches a piece of text when, letters and digits only and case ignored, the text holds
the name with few edits; OCR's usual confusions (0/O, 1/l/I, 5/S, 8/B, rn/m, vv/w, cl/d) cost
a fifth of an edit. Spaces, punctuation, apostrophes and line breaks are ignored, so "ST
AIDAN'S / ACADEMY" on two lines is "staidansacademy". The ends of a name must fall on word
ends in the text (a space, punctuation, the end of the line, or a lower-to-upper case change),
so "Amelia Hart" is not found in "Amelia Hartley"; names long enough to be distinctive
(LONG letters) are found anywhere, because OCR often drops the spaces of capitals.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Cost of one confusable substitution, as a share of an ordinary edit.
CONFUSION_COST = 0.2
# Names with at least this many letters are found without word ends.
LONG = 12
# Names with fewer letters than this match only with confusions, never with a real edit.
SHORT = 6

_CONFUSABLE = [set("o0q"), set("il1|!"), set("s5$"), set("b8"), set("z2"), set("g6")]
_PAIRS = {(a, b) for group in _CONFUSABLE for a in group for b in group if a != b}
# one character of the name read as two of the text, or two as one
_SPLITS = {"m": ("rn", "nn"), "w": ("vv",), "d": ("cl",), "h": ("li",), "k": ("lc",)}
# every confusable character as its group's first, for the trigram index
_FOLD = str.maketrans({c: sorted(group)[0] for group in _CONFUSABLE for c in group})


@dataclass(frozen=True)
class Target:
    """A name to look for: an academy's name or alias, or a register person's full name."""

    kind: str  # "academy" or "person"
    id: str  # academy id or person_id
    name: str  # as written in the config or register
    forms: tuple[str, ...]  # normalised spellings: the name, and "last first" for a person


@dataclass(frozen=True)
class Match:
    target: Target
    similarity: float  # 1 - edits / letters of the name (confusions count a fifth)
    start: int  # span of the match in the text (characters of the text as read)
    end: int


def letters(text: str) -> str:
    """Lower-case letters and digits only, accents removed: 'St Aidan's' -> 'staidans'."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain.lower() if c.isalnum() and not unicodedata.combining(c))


def academy_target(academy_id: str, name: str) -> Target:
    return Target("academy", academy_id, name, (letters(name),))


def person_target(person_id: str, name: str) -> Target | None:
    """First and last name together, in either order; None for a single-word name (too weak)."""
    words = [w for w in name.replace(",", " ").split() if letters(w)]
    if len(words) < 2:
        return None
    first, last = letters(words[0]), letters(words[-1])
    forms = dict.fromkeys([letters(name), first + last, last + first])
    return Target("person", person_id, name, tuple(forms))


def targets(academies: Iterable[tuple[str, Sequence[str]]], people: Iterable[tuple[str, str]]) -> tuple[Target, ...]:
    """Targets for (academy id, [name, aliases...]) and (person_id, name) pairs."""
    out = [academy_target(aid, n) for aid, names in academies for n in names if letters(n)]
    out += [t for pid, n in people if (t := person_target(pid, n)) is not None]
    return tuple(out)


class Matcher:
    """Finds targets in texts; a trigram index keeps a register of thousands cheap."""

    def __init__(self, targets: Sequence[Target], floor: float = 0.7):
        self.targets = tuple(targets)
        self.floor = floor
        self.index: dict[str, set[int]] = {}
        self.grams: dict[tuple[int, int], int] = {}
        for i, t in enumerate(self.targets):
            for k, form in enumerate(t.forms):
                grams = _trigrams(form.translate(_FOLD))
                self.grams[i, k] = len(grams)
                for g in grams:
                    self.index.setdefault(g, set()).add(i)

    def find(self, text: str) -> list[Match]:
        """Every target found in `text` with similarity >= floor, best per target."""
        plain, where = _letters_with_positions(text)
        if not plain:
            return []
        folded = plain.translate(_FOLD)
        grams = _trigrams(folded)
        hits: dict[int, int] = {}
        for g in grams:
            for i in self.index.get(g, ()):
                hits[i] = hits.get(i, 0) + 1
        found = []
        short = {i for i, t in enumerate(self.targets) if any(len(f) < 4 for f in t.forms)}
        for i in set(hits) | short:
            target = self.targets[i]
            best: Match | None = None
            for k, form in enumerate(target.forms):
                # each edit spoils at most three trigrams: skip forms that cannot reach the floor
                edits = (1 - self.floor) * len(form)
                if len(form) >= 4 and hits.get(i, 0) < self.grams[i, k] - 3 * edits:
                    continue
                m = _best_alignment(form, plain, text, where)
                if m is None:
                    continue
                cost, start, end = m
                if len(form) < SHORT and cost >= 1:
                    continue
                sim = 1 - cost / len(form)
                if sim >= self.floor and (best is None or sim > best.similarity):
                    best = Match(target, round(sim, 3), start, end)
            if best is not None:
                found.append(best)
        return sorted(found, key=lambda m: -m.similarity)


def _trigrams(s: str) -> set[str]:
    return {s[i:i + 3] for i in range(len(s) - 2)} if len(s) >= 3 else {s} if s else set()


def _letters_with_positions(text: str) -> tuple[str, list[int]]:
    """The letters() of text, and for each the index in text of the character it came from."""
    out, where = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKD", ch).lower():
            if c.isalnum() and not unicodedata.combining(c):
                out.append(c)
                where.append(i)
    return "".join(out), where


def _sub_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return CONFUSION_COST if (a, b) in _PAIRS else 1.0


def _best_alignment(name: str, plain: str, text: str, where: list[int]) -> tuple[float, int, int] | None:
    """The cheapest span of `plain` holding `name` (approximate substring, Sellers' algorithm).

    Spans must start and end on word ends of the original text unless the name is LONG.
    Returns (cost, start, end) with start/end indices into `text`.
    """
    m, n = len(name), len(plain)
    inf = float("inf")
    # cost[i][j]: best cost of name[:i] ending at plain[:j]; start[i][j]: where that span began
    prev = [0.0] * (n + 1)
    prev_start = list(range(n + 1))
    rows = [(prev, prev_start)]
    for i in range(1, m + 1):
        cur = [inf] * (n + 1)
        cur_start = [0] * (n + 1)
        cur[0], cur_start[0] = float(i), 0
        a = name[i - 1]
        for j in range(1, n + 1):
            b = plain[j - 1]
            best, src = prev[j - 1] + _sub_cost(a, b), prev_start[j - 1]
            if prev[j] + 1 < best:
                best, src = prev[j] + 1, prev_start[j]
            if cur[j - 1] + 1 < best:
                best, src = cur[j - 1] + 1, cur_start[j - 1]
            if j >= 2 and plain[j - 2:j] in _SPLITS.get(a, ()) and prev[j - 2] + CONFUSION_COST < best:
                best, src = prev[j - 2] + CONFUSION_COST, prev_start[j - 2]
            if i >= 2 and name[i - 2:i] in _SPLITS.get(b, ()):
                before = rows[i - 2]
                if before[0][j - 1] + CONFUSION_COST < best:
                    best, src = before[0][j - 1] + CONFUSION_COST, before[1][j - 1]
            cur[j], cur_start[j] = best, src
        prev, prev_start = cur, cur_start
        rows.append((cur, cur_start))
    found: tuple[float, int, int] | None = None
    for j in range(1, n + 1):
        cost, s = prev[j], prev_start[j]
        if s >= j or (found is not None and cost >= found[0]):
            continue
        start, end = where[s], where[j - 1] + 1
        if m < LONG and not (_word_start(text, start) and _word_end(text, end)):
            continue
        found = (cost, start, end)
    return found


def _word_start(text: str, i: int) -> bool:
    if i == 0:
        return True
    before, here = text[i - 1], text[i]
    return not before.isalnum() or (before.islower() and here.isupper())


def _word_end(text: str, i: int) -> bool:
    if i >= len(text):
        return True
    before, here = text[i - 1], text[i]
    return not here.isalnum() or (before.islower() and here.isupper())
