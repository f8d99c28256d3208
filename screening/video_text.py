"""The text pass's memory of the lines it read (video_passes.py): a changed place is read again,
and every line it knows that the place reaches is read again whole where it now lies.

A change gate (video_gate.py) looks again only where the frame changed. A name is a run of
characters, often partly in a changed place and partly not (a sign's word swapped: "Amelia Jones"
becoming "Amelia Hart"; a long banner where one word changes), so reading the changed place with
its margin is not enough: the name must be read whole. Detecting the lines again over the whole of
every line a change touches is what that cost (detection is most of the text pass's cost: a
spurious 1125 x 815 px "line" over drawn circles, touched by every head that came or went, was
detected again whole at every look). Instead the pass remembers where the lines it read lie (every
line, matched or not), and on a look in part:

- the changed place (with the gate's margin) is detected and read, as before;
- every line it remembers that the place reaches but does not hold whole, and on which detection
  in the place finds text, is *recognised* again where it lies in this frame, without detecting it
  again, joined with the lines detected in the place that are on the same line (a line that grew: a
  word written on at its end) into one line read whole; a line the place reaches on which detection
  finds no text (the change is beside it, or covers it) keeps its reading; a line the place holds
  whole is forgotten (detection in the place found it again, or it is gone);
- the names are looked for in all of those together, with the lines that read on from them (a name
  on two lines), so a run across an unchanged line and a new one is read as one.

Recognising a line costs about 35 ms a way on one thread, read two or four ways (ocr.py): as much as
detecting a crop of the gate's, so lines are recognised again only where detection finds text.

Lines the place does not reach keep their place in the memory (their pixels did not change; the
gate keeps what was found there). The memory moves with the camera's pan and is cleared at a cut
and replaced by a whole look.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from screening.detectors.text import MAX_LINES, _pitch, runs
from screening.vision.ocr import TextLine

# A line detected in the changed place is the same line as one remembered (and read with it as
# one) when their boxes meet across at least SAME_ACROSS of the thinner one's height (its width for
# upright text) and their line heights are within SAME_HEIGHT times of each other: a word written on
# at a line's end is found with the margin of the line it grew from, and read with it.
SAME_ACROSS = 0.5
SAME_HEIGHT = 2.0
# A remembered arc line the changed place reaches is detected again over its box and this many of
# its line heights round it (the ring's lettering, and the margin detection needs at its edge).
ARC_MARGIN = 0.5


class TextMemo:
    """The lines the text pass read (pixels of the frame it works on), and their corners in float
    (a pan moves them by fractions of a pixel)."""

    def __init__(self):
        self.lines: list[TextLine] = []
        self.quads: list[np.ndarray] = []
        self.reread = 0  # lines recognised again without detection (for the clip's summary and tests)

    def look(self, time: float, cut: bool = False) -> None:
        if cut:
            self.lines, self.quads = [], []

    def panned(self, dx: float, dy: float) -> None:
        """The camera moved by (dx, dy) pixels of the pass's frame since its last look."""
        if dx or dy:
            self.quads = [q + np.array([dx, dy], np.float32) for q in self.quads]
            self.lines = [_placed(line, q) for line, q in zip(self.lines, self.quads)]

    def read(self, engine, frame: np.ndarray, box: tuple[int, int, int, int], scale: float) -> list[TextLine]:
        """The lines of `frame` to look for names in when the place `box` (x0, y0, x1, y1) changed:
        those detected in it, and the remembered lines it reaches, read again whole (frame pixels)."""
        fh, fw = frame.shape[:2]
        x0, y0, x1, y1 = box = self._widened(box, fw, fh)
        found = [moved(line, x0, y0) for line in engine.read(np.ascontiguousarray(frame[y0:y1, x0:x1]), scale=scale)]
        if x0 <= 0 and y0 <= 0 and x1 >= fw and y1 >= fh:  # a whole look
            self.lines, self.quads = [], []
            self._keep([], found)
            return found
        self._keep([i for i, line in enumerate(self.lines) if not _meets(line.box, (0, 0, fw, fh))], [])  # panned out
        inside = [i for i, line in enumerate(self.lines) if _within(line.box, box)]  # detected again in it
        reached = [i for i in self._reached(box, found) if i not in inside]
        # read again: the lines detection finds text on in the place; the others keep their reading
        hit = [i for i in reached if any(_meets(line.box, _corners(self.lines[i].box)) for line in found)]
        groups = [[i] for i in hit]
        fresh = []
        for line in found:
            # an arc line read now stands as read: its quad is only the arc's box (RT24-6)
            joined = [] if line.arc else [g for g in groups if any(_same_line(self.lines[i], line)
                                                                    for i in g if isinstance(i, int))]
            if not joined:
                fresh.append(line)
                continue
            for g in joined[1:]:  # a line bridging two remembered ones: one line
                joined[0] += g
            groups = [g for g in groups if not any(g is j for j in joined[1:])]
            joined[0].append(line)
        quads = [self._outline(g) for g in groups]
        again = engine.read_at(frame, quads) if quads else []
        self.reread += len(again)
        kept = [self.lines[i] for i in reached if i not in hit]
        self._keep(hit + inside, fresh + again)
        return fresh + again + kept

    def _widened(self, box, fw: int, fh: int) -> tuple[int, int, int, int]:
        """The place `box` and every remembered arc line it reaches, with ARC_MARGIN of its height
        round it (and the arc lines those reach), within the frame: an arc line's quad is only its
        bounding box, so it is detected again whole (and read unrolled again), never recognised
        again there as a straight line (RT24-6: 'AH AIJI' for a ring's 'AMELIA HART')."""
        x0, y0, x1, y1 = box
        todo = [line for line in self.lines if line.arc]
        while True:
            reached = [line for line in todo if _meets(line.box, (x0, y0, x1, y1))]
            if not reached:
                return x0, y0, x1, y1
            todo = [line for line in todo if not any(line is r for r in reached)]
            for line in reached:
                m = ARC_MARGIN * line.height
                bx, by, bw, bh = line.box
                x0, y0 = max(0, min(x0, int(bx - m))), max(0, min(y0, int(by - m)))
                x1, y1 = min(fw, max(x1, int(bx + bw + m + 1))), min(fh, max(y1, int(by + bh + m + 1)))

    def _reached(self, box, found: list[TextLine]) -> list[int]:
        """The remembered lines meeting `box`, those that read on from them (a run of lines), and
        those a line `found` in it reads on from or to by letter pitch (tracked capitals 'H A R T'
        written on 110 px after 'A M E L I A': farther than the place's margin, RT24-7)."""
        met = {i for i, line in enumerate(self.lines) if _meets(line.box, box)}
        if not met and not found:
            return []
        n = len(self.lines)
        lines = self.lines + list(found)
        for run in runs([line.box for line in lines], MAX_LINES, [_pitch(line) for line in lines]):
            if met.intersection(run) or any(k >= n for k in run):
                met.update(k for k in run if k < n)
        return sorted(met)

    def _outline(self, group: list) -> np.ndarray:
        """The corners of a group of one or more remembered lines (indices) and lines detected
        now: the remembered line's own when it is alone, else the smallest rectangle holding all."""
        quads = [self.quads[i] if isinstance(i, int) else np.asarray(i.quad, np.float32) for i in group]
        if len(quads) == 1:
            return quads[0]
        import cv2

        corners = cv2.boxPoints(cv2.minAreaRect(np.concatenate(quads).astype(np.float32)))
        return _clockwise(corners)

    def _keep(self, gone: list[int], lines: list[TextLine]) -> None:
        keep = [i for i in range(len(self.lines)) if i not in set(gone)]
        self.lines = [self.lines[i] for i in keep] + list(lines)
        self.quads = [self.quads[i] for i in keep] + [np.asarray(line.quad, np.float32) for line in lines]


def _clockwise(corners: np.ndarray) -> np.ndarray:
    """Four corners ordered clockwise (image coordinates) from the top-left one."""
    centre = corners.mean(axis=0)
    angles = np.arctan2(corners[:, 1] - centre[1], corners[:, 0] - centre[0])
    return corners[np.argsort(angles)].astype(np.float32)


def _same_line(old: TextLine, new: TextLine) -> bool:
    ax, ay, aw, ah = old.box
    bx, by, bw, bh = new.box
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    ratio = max(old.height, 1) / max(new.height, 1)
    if w <= 0 or h <= 0 or not 1 / SAME_HEIGHT <= ratio <= SAME_HEIGHT:
        return False
    if ah > aw and bh > bw:  # upright lines (read turned): across is their width
        return w >= SAME_ACROSS * min(aw, bw)
    return h >= SAME_ACROSS * min(ah, bh)


def _corners(b) -> tuple[int, int, int, int]:
    return b[0], b[1], b[0] + b[2], b[1] + b[3]


def _within(b, box) -> bool:
    x, y, w, h = b
    return x >= box[0] and y >= box[1] and x + w <= box[2] and y + h <= box[3]


def _meets(b, box) -> bool:
    x, y, w, h = b
    return x < box[2] and y < box[3] and x + w > box[0] and y + h > box[1]


def moved(line: TextLine, dx: int, dy: int) -> TextLine:
    return _placed(line, np.asarray(line.quad, np.float32) + np.array([dx, dy], np.float32))


def _placed(line: TextLine, quad: np.ndarray) -> TextLine:
    pts = np.round(quad).astype(int)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return dataclasses.replace(line, quad=tuple((int(x), int(y)) for x, y in pts),
                               box=(int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
