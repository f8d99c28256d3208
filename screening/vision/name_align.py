"""Where a name lies in a text with OCR's confusions allowed: Sellers' approximate-substring
alignment, vectorised over the text with numpy one letter of the name at a time.

Costs are counted in fifths of an edit, as integers (a confusion or a split costs 1, an edit 5),
so every sum and comparison is exact: the float sums the pure-Python version made (0.2 + 0.2 +
0.2 is not 0.6) could break a tie the wrong way. The moves are chosen in the same order as
before (diagonal, a name letter missing, a text letter too many, the two splits), each only when
strictly cheaper than the ones before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from screening.vision.names import Form

# Cost of one confusable substitution, as a share of an ordinary edit.
CONFUSION_COST = 0.2
# Names with at least this many letters are found without word ends.
LONG = 16
_DIGIT_LOOKALIKES = frozenset("OoIlSZB")  # 0, 1, 5, 2, 8 as OCR misreads them before a digit
# Names with fewer letters than this match only with confusions, never with a real edit.
SHORT = 6

_CONFUSABLE = [set("o0q"), set("il1|!"), set("s5$"), set("b8"), set("z2"), set("g6")]
_PAIRS = {(a, b) for group in _CONFUSABLE for a in group for b in group if a != b}
# one character of the name read as two of the text, or two as one
_SPLITS = {"m": ("rn", "nn"), "w": ("vv",), "d": ("cl",), "h": ("li",), "k": ("lc",)}
# the name's two letters read as one of the text: "rn" -> "m"
_JOINED = {pair: one for one, pairs in _SPLITS.items() for pair in pairs}

EDIT, CONFUSION = 5, 1  # costs in fifths of an edit
_BIG = 1 << 30  # no way to get there
# moves: (name letters, text letters, cost in fifths)
_MOVES = ((1, 1, None), (1, 0, EDIT), (0, 1, EDIT), (1, 2, CONFUSION), (2, 1, CONFUSION))
_AS_FLOAT = {0: 0.0, CONFUSION: CONFUSION_COST, EDIT: 1.0}


class _Text:
    """A text's letters as numbers, with each name letter's substitution costs made once."""

    def __init__(self, plain: str):
        self.plain = plain
        self.codes = np.frombuffer(plain.encode("utf-32-le"), dtype=np.uint32)
        self._subs: dict[str, np.ndarray] = {}
        self._splits: dict[str, np.ndarray] = {}
        self._joins: dict[str, np.ndarray] = {}

    def sub(self, a: str) -> np.ndarray:
        """cost of reading name letter `a` as each text letter (index j-1 for column j)"""
        if a not in self._subs:
            cost = np.full(len(self.plain), EDIT, dtype=np.int32)
            for b in {b for x, b in _PAIRS if x == a}:
                cost[self.codes == ord(b)] = CONFUSION
            cost[self.codes == ord(a)] = 0
            self._subs[a] = cost
        return self._subs[a]

    def split(self, a: str) -> np.ndarray:
        """columns j (>= 2) where the text's two letters before j are name letter `a` split in two"""
        if a not in self._splits:
            mask = np.zeros(len(self.plain) + 1, dtype=bool)
            for pair in _SPLITS.get(a, ()):
                mask[2:] |= (self.codes[:-1] == ord(pair[0])) & (self.codes[1:] == ord(pair[1]))
            self._splits[a] = mask
        return self._splits[a]

    def joined(self, pair: str) -> np.ndarray | None:
        """columns j where the text letter j-1 is the name's two letters `pair` read as one"""
        one = _JOINED.get(pair)
        if one is None:
            return None
        if one not in self._joins:
            mask = np.zeros(len(self.plain) + 1, dtype=bool)
            mask[1:] = self.codes == ord(one)
            self._joins[one] = mask
        return self._joins[one]


@lru_cache(maxsize=16)
def _prepared(plain: str) -> _Text:
    return _Text(plain)


def _table(name: str, text: _Text, limit: int = _BIG) -> tuple[np.ndarray, np.ndarray] | None:
    """Sellers' table in fifths of an edit, and each cell's move (an index into _MOVES): the first
    of the moves, in _MOVES' order, that reaches the cell's cost. None once two rows running cost
    more than `limit` everywhere: every alignment passes through one of any two rows (a split skips
    one, never two) and no move lowers the cost, so none could end within it."""
    m, n = len(name), len(text.plain)
    cost = np.zeros((m + 1, n + 1), dtype=np.int32)
    move = np.zeros((m + 1, n + 1), dtype=np.int8)
    steps = np.arange(n + 1, dtype=np.int32) * EDIT
    diag, left = np.empty(n + 1, dtype=np.int32), np.empty(n + 1, dtype=np.int32)
    diag[0] = left[0] = _BIG
    low = 0  # the cheapest cell of the row before (row 0 costs nothing)
    for i in range(1, m + 1):
        a, up = name[i - 1], cost[i - 1]
        diag[1:] = up[:-1] + text.sub(a)
        down = up + EDIT
        best = np.minimum(diag, down)
        split = join = None
        if (at := text.split(a)).any():
            split = np.full(n + 1, _BIG, dtype=np.int32)
            split[2:][at[2:]] = up[:-2][at[2:]] + CONFUSION
            np.minimum(best, split, out=best)
        if i >= 2 and (at := text.joined(name[i - 2:i])) is not None and at.any():
            join = np.full(n + 1, _BIG, dtype=np.int32)
            join[at] = cost[i - 2][:-1][at[1:]] + CONFUSION
            np.minimum(best, join, out=best)
        best[0] = i * EDIT
        row = np.minimum.accumulate(best - steps) + steps  # a text letter too many: row[j-1] + EDIT
        left[1:] = row[:-1] + EDIT
        choice = np.full(n + 1, 4, dtype=np.int8)  # set in reverse order: the first move in _MOVES wins
        if split is not None:
            choice[split == row] = 3
        choice[left == row] = 2
        choice[down == row] = 1
        choice[diag == row] = 0
        choice[0] = 1
        cost[i], move[i] = row, choice
        was, low = low, int(row.min())
        if low > limit and was > limit:
            return None
    return cost, move


def _best_alignment(form: Form, plain: str, text: str, where: Sequence[int],
                    floor: float, anywhere: bool = False) -> tuple[float, int, int] | None:
    """The best span of `plain` holding the name (approximate substring, Sellers' algorithm).

    Its similarity is the lower of the whole name's (1 - cost / letters) and that of its weakest
    identifying word, so "Trinity South" is not "Trinity North" however long the rest. Spans
    start and end on word ends of the original text unless the name is LONG. Returns
    (similarity, start, end), start/end indices into `text`, or None below `floor`.
    """
    name = form.plain
    m, n = len(name), len(plain)
    if n == 0:
        return None
    budget = (1 - floor) * m
    limit = int(EDIT * budget) + 1  # a loose first cut in fifths; the float sum below decides
    table = _table(name, _prepared(plain), limit)
    if table is None:
        return None
    cost, move = table
    word_of = [k for k, w in enumerate(form.words) for _ in w]
    found: tuple[float, int, int] | None = None
    last = cost[m]
    for j in np.flatnonzero(last[1:] <= limit) + 1:
        j = int(j)
        k, steps = _path(cost, move, j)
        total = 0.0
        for _, c in reversed(steps):  # summed in floats in the order the pure-Python table summed them
            total += c
        if total > budget:
            continue
        per_word = [0.0] * len(form.words)
        for i, c in steps:
            per_word[word_of[max(0, i - 1)]] += c
        if k >= j:
            continue
        if m < SHORT and total >= 1:  # a short name: confusions only, no real edit
            continue
        start, end = where[k], where[j - 1] + 1
        if m < LONG and not anywhere and not (_word_start(text, start) and _word_end(text, end)):
            continue
        sim = 1 - total / m
        for w, used, key in zip(form.words, per_word, form.distinctive):
            if key:
                sim = min(sim, 1 - used / len(w))
        if sim >= floor and (found is None or sim > found[0]):
            found = (sim, start, end)
    return found


def _path(cost: np.ndarray, move: np.ndarray, j: int) -> tuple[int, list[tuple[int, float]]]:
    """Where the best alignment ending at column j starts, and its steps from the end back:
    (row, cost as the float the pure-Python table added: 0.0, CONFUSION_COST or 1.0)."""
    steps: list[tuple[int, float]] = []
    i, k = len(cost) - 1, j
    while i > 0:
        di, dj, c = _MOVES[move[i, k]]
        steps.append((i, _AS_FLOAT[int(cost[i, k] - cost[i - 1, k - 1]) if c is None else c]))
        i, k = i - di, k - dj
    return k, steps


def _word_start(text: str, i: int) -> bool:
    if i == 0:
        return True
    before, here = text[i - 1], text[i]
    return not before.isalnum() or (before.islower() and here.isupper()) or (before.isdigit() and here.isalpha())


def _word_end(text: str, i: int) -> bool:
    """A name ends before a space or mark, a capital after lower case, or a number run into it
    ("amelia_hart07", "HART2026"), including the number as OCR misreads it ("HARTO7": 0 as O)."""
    if i >= len(text):
        return True
    before, here = text[i - 1], text[i]
    if not here.isalnum() or (before.islower() and here.isupper()):
        return True
    if not before.isalpha():
        return False
    j = i
    while j < len(text) and text[j] in _DIGIT_LOOKALIKES:
        j += 1
    return j < len(text) and text[j].isdigit()
