"""Forenames listed with one surname, as a family, a prize or a sports-day caption names siblings
("Amelia and Tom Hart", "Amelia, Tom & Ella Hart", "Hart, Tom and Amelia": RT31-12; "Amelia Rose and
Tom Hart", "the Hart twins, Amelia and Tom", "Miss Amelia and Master Tom (Hart)": RT33b-1/2/3): each
forename paired with the surname, as a short text names.py also looks for register names in.

The text is read once, left to right, as tokens: name words, joiners ("," "and" "&" "+" "/" "or") and
breaks (other punctuation, figures). Bracketed asides ("(Year 4)"), titles ("Miss", "Master") and
relation words ("her brother") are passed over; a bracketed single word ("(Hart)") is a word.
Consecutive words are one item (a name with its middle names); items joined by joiners are a chain.
In a text of mixed case, a word in lower case after an item's first is prose, no middle name ("Amelia
went home and Tom Hart": 'home' is the list's first forename). Fail closed: a pupil's name missed is
worse than a needless look, so a forename with words after it is still paired; only a common surname
among them ("Amelia Smith and Tom Hart") says the item is a person of another family."""

from __future__ import annotations

import re

# At most this many siblings' pairings are looked for in one text (each is a short text matched apart).
MAX_SIBLINGS = 512
_NAME_WORD = r"(?<![^\W_])(?<![^\W_]['’\-])(?>[^\W\d_]+(?:['’\-][^\W\d_]+)*)"
_TOKEN = re.compile(rf"(?P<aside>\(\s*(?P<one>{_NAME_WORD})\s*\)|[(\[][^()\[\]\n]{{0,80}}[)\]])|(?P<word>{_NAME_WORD})"
                    r"|(?P<join>[,&+/])|(?P<space>\s+)|(?P<other>[\d_]+|.)", re.DOTALL)
_JOIN_WORDS = frozenset({"and", "or"})
# Passed over between a list's items: titles and relation words ("Miss Amelia and Master Tom Hart",
# "Amelia and her brother Tom Hart").
_SKIP = frozenset({"mr", "mrs", "miss", "ms", "mx", "master", "dr", "her", "his", "their", "my", "our", "brother",
                   "sister", "brothers", "sisters", "twin", "cousin", "cousins"})
# A surname followed by one of these names the family of the list before or after it (RT33b-2).
_FAMILY = frozenset({"twins", "siblings", "family", "brothers", "sisters", "triplets", "children", "kids"})
_CONNECTORS = frozenset({"from", "of", "the"})  # "Amelia and Tom from the Hart family"
# Common surnames in England and Wales, less those also used as forenames or middle names (Lewis, Mason,
# Harrison, Ali, Ahmed, Singh, Kaur...: fail closed, "Tom Lewis and Amelia Hart" pairs Tom): a list item
# "Amelia Smith" is a person of another family, "Amelia Rose" a forename with a middle name (RT33b-1),
# and "Hart, Tom, Smith, Amelia and Jones, Ella" is three 'Surname, Forename' pairs (RT33b-8).
SURNAMES = frozenset("""smith jones williams brown davies evans wilson johnson roberts robinson wright walker
white edwards hughes green hall harris clarke clark patel wood turner cooper hill ward moore king watson baker
young mitchell anderson bell parker davis khan shah miah rahman akhtar wilkinson price bennett griffiths cook shaw
richardson chapman marshall collins webb hunt palmer holmes mills rogers barnes knight matthews jenkins phillips
stevens dixon pearson gibson fox hamilton simpson atkinson butler thompson thomson campbell macdonald
reid murphy""".split())
_CAP = 3  # words of one list item: a name with up to two middle names


def _tokens(text: str) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, word) over the text: kind w (a name word), j (a joiner), b (a break),
    l (a word in lower case in a text of mixed case: a word, no middle name), f (a family noun),
    c (a connector); spaces, asides, titles and relation words are left out."""
    cased = text != text.lower() and text != text.upper()
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "aside":
            if m.group("one"):
                out.append(("w", m.start("one"), m.end("one"), m.group("one").lower()))
        elif kind == "join":
            out.append(("j", m.start(), m.end(), m.group()))
        elif kind == "other":
            out.append(("b", m.start(), m.end(), m.group()))
        elif kind == "word":
            word = m.group().lower()
            if word in _SKIP:
                continue
            kind = ("j" if word in _JOIN_WORDS else "f" if word in _FAMILY else "c" if word in _CONNECTORS
                    else "l" if cased and m.group()[0].islower() else "w")
            out.append((kind, m.start(), m.end(), word))
    return out


def _chains(toks: list):
    """(items, seps, first, end) for each chain of items joined by joiners: items are lists of word
    tokens, seps[i] the joiners between items i and i+1 (a set of their words), toks[first:end] the chain."""
    i, n = 0, len(toks)
    while i < n:
        if toks[i][0] not in "wl":
            i += 1
            continue
        first, items, seps = i, [], []
        while True:
            item = []
            while i < n and toks[i][0] in "wl":
                item.append(toks[i])
                i += 1
            items.append(item)
            j, sep = i, set()
            while j < n and toks[j][0] == "j":
                sep.add(toks[j][3])
                j += 1
            if not (sep and j < n and toks[j][0] in "wl"):
                break
            seps.append(sep)
            i = j
        yield items, seps, first, i


def _final(sep: set) -> bool:
    """Joiners that end a list ("and", "&", "+", "/", "or"), not commas alone."""
    return bool(sep - {","})


def _forenames_first(items, seps):
    """(forename, surname) tokens of lists whose surname follows the last forename ("Amelia Rose and Tom Hart")."""
    cur = []
    for t, item in enumerate(items):
        if t and _final(seps[t - 1]) and cur and len(item) >= 2:
            yield from ((f, s) for s in item[1:_CAP] for f in cur)
            cur = []
        else:
            # an item's last words (up to three), after any word in lower case in a mixed-case text but
            # its last ("Amelia went home and Tom Hart": prose, only 'home'), are each a forename
            window = item[-_CAP:]
            prose = [j for j, w in enumerate(window[:-1]) if w[0] == "l"]
            window = window[prose[-1] + 1:] if prose else window
            if prose or len(item) > _CAP:
                cur = []
            if any(w[3] in SURNAMES for w in window[1:]):
                cur = []  # "Amelia Smith and Tom Hart": a person of another family, no forename of the list
            else:
                cur += window


def _surname_first(items, seps, before):
    """(surname, forename) tokens of lists written surname first ("Hart, Tom and Amelia"): the surname
    alone before a comma, not after another word, the list ending at the item after "and". A common
    surname among the items starts a new list: "Hart, Tom, Smith, Amelia and Jones, Ella" are three
    'Surname, Forename' pairs, no list of Harts (RT33b-8)."""
    s, n = 0, len(items)
    while s < n - 1:
        after_word = before is not None and before[0] not in "bj" if s == 0 else bool(seps[s - 1] & _JOIN_WORDS)
        if len(items[s]) != 1 or seps[s] != {","} or after_word:
            s += 1
            continue
        got, t, done = [], s + 1, False
        while t < n and len(items[t]) <= _CAP and items[t][0][3] not in SURNAMES:
            got.append(items[t][0])
            if t > s + 1 and _final(seps[t - 1]) or t == n - 1:
                done = t > s + 1 and _final(seps[t - 1])
                break
            t += 1
        if t < n and items[t][0][3] in SURNAMES:
            yield from ((items[s][0], f) for f in got)
            s = t
        else:
            if done:
                yield from ((items[s][0], f) for f in got)
            s = t + 1


def _families(toks, chains):
    """(token, token) of a surname before a family noun ("the Hart twins", "Hart siblings:", "from the
    Hart family") and each forename of the list right after it or right before it (RT33b-2)."""
    by_first = {c[2]: c for c in chains}
    by_end = {c[3]: c for c in chains}
    for k, tok in enumerate(toks):
        if tok[0] != "f" or not k or toks[k - 1][0] not in "wl":
            continue
        surname, j = toks[k - 1], k + 1
        while j < len(toks) and j <= k + 2 and toks[j][0] in "jb":
            j += 1
        for chain in [by_first.get(j)] + [by_end.get(e) for e in range(k - 4, k + 1)
                                          if all(t[0] in "cjb" for t in toks[e:k - 1])]:
            if chain is not None:
                yield from ((surname, item[0]) for item in chain[0] if len(item) <= _CAP and item[0] is not surname)


def siblings(text: str):
    """(pairing, kept, False) of each forename of a list and its list's surname: "Amelia Hart" out
    of "Amelia and Tom Hart", `kept` mapping its characters to the text's (a match spans the list);
    the two words in the order the text has them."""
    toks = _tokens(text)
    chains = list(_chains(toks))
    seen: set[str] = set()

    def pairs():
        for items, seps, first, _ in chains:
            yield from _forenames_first(items, seps)
            yield from _surname_first(items, seps, toks[first - 1] if first else None)
        yield from _families(toks, chains)

    for a, b in pairs():
        parts = sorted([(a[1], a[2]), (b[1], b[2])])
        if parts[0] == parts[1]:
            continue
        pairing = text[slice(*parts[0])] + " " + text[slice(*parts[1])]
        if pairing.casefold() in seen:
            continue
        if len(seen) >= MAX_SIBLINGS:
            return
        seen.add(pairing.casefold())
        yield pairing, list(range(*parts[0])) + [parts[0][1]] + list(range(*parts[1])), False
