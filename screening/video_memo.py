"""What a clip's passes remember of what they worked out in earlier looks (video_passes.py): a face
encoded, a text line read. A thing located again in a later look, in nearly the same place, whose
pixels (an aligned face chip, a straightened text line) are nearly identical to those worked on
keeps that result; anything else is worked out again."""

from __future__ import annotations

import numpy as np

# One face, one descriptor: a face located again in a later look (its box overlapping the earlier
# one's by MEMO_OVERLAP or more) whose aligned chip is nearly identical in pixels to the chip its
# descriptor was computed from (mean absolute difference at most MEMO_CHIP_MEAN of 255 over the
# chip and MEMO_CHIP_BLOCK in each of its MEMO_BLOCKS x MEMO_BLOCKS blocks) keeps that judgement;
# anything else (another person stepping into the place, a face that changed) is encoded again.
# The chip compared is always the one encoded, so a slow change adds up. Forgotten after
# MEMO_SECONDS without being seen, and at a cut.
MEMO_OVERLAP = 0.6
MEMO_CHIP_MEAN = 2.0
MEMO_CHIP_BLOCK = 4.0
MEMO_BLOCKS = 5
MEMO_SECONDS = 1.0


class FaceMemo:
    """The faces pass's memory of the faces it encoded (frame pixels), for FaceDetector.faces_in."""

    def __init__(self):
        # [box in frame pixels, chip, judged, last seen]; judged: what FaceDetector made of the
        # face, both recognisers' candidates (a borderline face's second opinion is reused too)
        self.entries: list[list] = []
        self.now = 0.0
        self.origin = (0, 0)
        self.recalled = self.encoded = 0

    def same(self, a: np.ndarray, b: np.ndarray) -> bool:
        return same_chip(a, b)

    def look(self, time: float, cut: bool = False) -> None:
        self.now = time
        self.entries = [] if cut else [e for e in self.entries if time - e[3] <= MEMO_SECONDS]

    def at(self, origin: tuple[int, int]) -> FaceMemo:
        self.origin = origin  # the crop's corner in the frame: boxes given are in the crop's pixels
        return self

    def _framed(self, box) -> tuple:
        return (box[0] + self.origin[0], box[1] + self.origin[1], box[2], box[3])

    def recall(self, box, chip: np.ndarray):
        box = self._framed(box)
        for entry in self.entries:
            if _overlap(box, entry[0]) >= MEMO_OVERLAP and self.same(chip, entry[1]):
                entry[3] = self.now
                self.recalled += 1
                return entry[2]
        return None

    def remember(self, box, chip: np.ndarray, judged) -> None:
        self.encoded += 1
        box = self._framed(box)
        self.entries = [e for e in self.entries if _overlap(box, e[0]) < MEMO_OVERLAP]
        self.entries.append([box, chip, judged, self.now])


def same_chip(a: np.ndarray, b: np.ndarray) -> bool:
    """Two aligned face chips nearly identical in pixels: over the whole chip and in every block."""
    if a.shape != b.shape:
        return False
    import cv2

    diff = cv2.absdiff(a, b).astype(np.float32).mean(axis=2)
    if diff.mean() > MEMO_CHIP_MEAN:
        return False
    blocks = cv2.resize(diff, (MEMO_BLOCKS, MEMO_BLOCKS), interpolation=cv2.INTER_AREA)
    return bool(blocks.max() <= MEMO_CHIP_BLOCK)


def _overlap(a, b) -> float:
    """Intersection over union of two boxes (x, y, w, h)."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


# One text line, one reading: a line located again whose box overlaps one read in the last second by
# MEMO_OVERLAP and whose straightened pixels, at the recogniser's height (LINE_HEIGHT px), are nearly
# identical keeps its readings: the same length to LINE_ASPECT of it, a mean absolute difference of
# at most LINE_MEAN of 255 over the line and LINE_WINDOW in every LINE_SIDE x LINE_SIDE window (a
# stroke added or moved: a letter changed, an i's dot, is over it). Anything else is read again.
LINE_HEIGHT = 48
LINE_ASPECT = 0.03
LINE_MEAN = 2.0
LINE_WINDOW = 5.0
LINE_SIDE = 8


class LineMemo(FaceMemo):
    """The text pass's memory of the lines it read (pixels of the frame it works on), for
    OcrEngine.read: `recall` gives a line's readings, `remember` keeps them."""

    def same(self, a: np.ndarray, b: np.ndarray) -> bool:
        return same_line(a, b)


def same_line(a: np.ndarray, b: np.ndarray) -> bool:
    """Two straightened text lines nearly identical in pixels, compared at the recogniser's height:
    as long as each other, and close over the line and in every small window of it."""
    import cv2

    (ha, wa), (hb, wb) = a.shape[:2], b.shape[:2]
    if a.ndim != b.ndim or min(ha, wa, hb, wb) < 1 or abs(wa / ha - wb / hb) > LINE_ASPECT * (wa / ha):
        return False
    size = (max(LINE_SIDE, round(wa * LINE_HEIGHT / ha)), LINE_HEIGHT)

    def resized(chip):
        return cv2.resize(chip, size, interpolation=cv2.INTER_AREA if chip.shape[0] > LINE_HEIGHT else cv2.INTER_LINEAR)

    diff = cv2.absdiff(resized(a), resized(b))
    diff = (diff.max(axis=2) if diff.ndim == 3 else diff).astype(np.float32)
    if diff.mean() > LINE_MEAN:
        return False
    return bool(cv2.blur(diff, (LINE_SIDE, LINE_SIDE), borderType=cv2.BORDER_REFLECT).max() <= LINE_WINDOW)
