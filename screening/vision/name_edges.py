"""Names on a line the picture's edge cuts: a badge or sign running off the photo shows the
name without its first or last letters ("MELIA HART" for Amelia Hart, RT20-13).

A line whose box reaches the left (right) edge of the picture is also compared with every name
missing up to CUT_LETTERS letters at its start (end). Such a match must begin (end) where the
line's letters do, at the edge, and be surer than an ordinary match (fewer letters are left to
tell two names apart); the match names the whole name.
"""

from __future__ import annotations

from collections.abc import Sequence

from screening.vision.names import Form, Match, Matcher, Target

# A line cut by the edge may have lost up to this many letters there ...
CUT_LETTERS = 2
# ... and a name so cut must keep at least this many letters, and its cut word two ("Amy Hart"
# cut by one letter keeps six: RT24-3).
CUT_KEEPS = 6
# A cut name counts from this similarity (an uncut one from the matcher's floor).
CUT_SURE = 0.85
# A line reaches an edge when its box ends within this share of its height of it (about a
# letter's width: a letter cut in two is often not read at all).
EDGE_REACH = 0.5


def cut_forms(form: Form, side: str) -> list[Form]:
    """`form` without 1..CUT_LETTERS letters of its first (side "left") or last ("right") word."""
    words = form.words
    out = []
    for k in range(1, CUT_LETTERS + 1):
        if len(form.plain) - k < CUT_KEEPS:
            break
        if side == "left" and len(words[0]) >= k + 2:
            out.append(Form((words[0][k:], *words[1:]), form.distinctive, form.bare))
        if side == "right" and len(words[-1]) >= k + 2:
            out.append(Form((*words[:-1], words[-1][:-k]), form.distinctive, form.bare))
    return out


class EdgeMatcher:
    """Finds names cut by the left or right edge of the picture in one line's text."""

    def __init__(self, targets: Sequence[Target], floor: float):
        self.floor = max(floor, CUT_SURE)
        self.sides = {}
        for side in ("left", "right"):
            cut = [Target(t.kind, t.id, t.name, forms, t.denominated) for t in targets
                   if (forms := tuple(c for f in t.forms for c in cut_forms(f, side)))]
            self.sides[side] = Matcher(cut, floor=self.floor)

    def find(self, text: str, side: str) -> list[Match]:
        """Cut names that begin (side "left") or end ("right") at the line's first (last) letter."""
        found = []
        for m in self.sides[side].find(text):
            outside = text[:m.start] if side == "left" else text[m.end:]
            if not any(c.isalnum() for c in outside):
                found.append(m)
        return found


def edges_reached(box: tuple[int, int, int, int], height: int, width: int, tall: int = 0) -> list[str]:
    """Which edges of a picture `width` x `tall` pixels (tall 0: left and right only) a line's box reaches."""
    reach = max(2.0, EDGE_REACH * height)
    x, y, w, h = box
    gaps = [("left", x), ("right", width - (x + w))] + ([("top", y), ("bottom", tall - (y + h))] if tall else [])
    return [side for side, gap in gaps if gap <= reach]


def cut_sides(reached: list[str]) -> tuple[str, ...]:
    """The ends of a line's text that may be cut, for a line reaching these edges: both, whichever
    edge it is. A line read turned over (a photo stored upside down) or mirrored (a selfie) has its
    cut end at the other side of its text, and one written up or down (a photo stored sideways, a
    vertical banner) meets the top or bottom edge (RT24-1, RT24-2)."""
    return ("left", "right") if reached else ()
