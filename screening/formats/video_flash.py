"""Frames that showed something no screened frame shows: a face cut into a clip for a few
frames between two samples (a "flash"; RT9-17, RT12-28).

Sampling screens a frame at least every `sample_every_s`; what comes and goes between two
samples is in no screened frame. Every decoded frame's small thumbnail (128 x 72, brightness and colour: Y, U, V)
is compared with the screened ones: a thumbnail pixel is *explained* when its grey lies, within
TOLERANCE, between the values the two screened frames either side of it have there (a still
background, a fade, an exposure ramp, an edge moving across), after the camera's own movement
between them is taken out (a pan: one shift of the whole picture). A frame with pixels no
screened frame explains is screened too ("between"). Pure functions of thumbnails; the frames
themselves are held by video_sampling until the next sample decides.
"""

from __future__ import annotations

import cv2
import numpy as np

# Levels (0-255) a thumbnail pixel may differ from what the screened frames explain, in
# brightness (Y) and in colour (U, V): above compression noise on a 15 x 15 px average (colour
# is coded at half resolution, and a frame where something just appeared is coded coarsely:
# its colour fringes by up to about 20), below a face against its background.
TOLERANCE = np.float32([12.0, 24.0, 24.0])
# Pixels a frame must show unexplained for it to be screened (one stray pixel is noise).
MIN_PIXELS = 2
# The band along the thumbnail's edge a camera movement may bring in unseen (whole pixels, at
# most; see Between._unshown).
EDGE = 2
# A camera movement larger than this share of the thumbnail's side between two screened frames
# is not taken out (a cut or a whip pan: the scene-change rule's business).
MAX_SHIFT = 0.25
# Frames held between two samples, at most, and at most this many decoded pixels in all (64 MP:
# about 96 MB; 16 frames of 1080p, 7 of 4K, 2 of 8K); beyond that the oldest is screened at
# once (60 fps holds 15 frames a quarter second): memory stays bounded and nothing is skipped.
MAX_HELD = 16
MAX_HELD_PIXELS = 64_000_000


def most_held(pixels: int) -> int:
    """How many frames of `pixels` pixels may be held at once."""
    return max(2, min(MAX_HELD, MAX_HELD_PIXELS // max(1, pixels)))


def shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The whole-picture shift (dx, dy), in thumbnail pixels, that carries a onto b (a pan),
    found on the brightness (the first channel)."""
    a, b = (x[..., 0] if x.ndim == 3 else x for x in (a, b))
    (dx, dy), response = cv2.phaseCorrelate(a.astype(np.float64), b.astype(np.float64))
    h, w = a.shape
    if not (np.isfinite(dx) and np.isfinite(dy) and np.isfinite(response)) or response < 0.1 or \
            abs(dx) > MAX_SHIFT * w or abs(dy) > MAX_SHIFT * h:
        return 0.0, 0.0
    return float(dx), float(dy)


def moved(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """a shifted by whole pixels (dx, dy), edges repeated (what comes into view is not known: it is
    compared with the border, so it rarely counts as explained by chance: it is new, and so screened)."""
    if dx == 0 and dy == 0:
        return a
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(a, m, (a.shape[1], a.shape[0]), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)


def _placements(a: np.ndarray, dx: float, dy: float) -> list[np.ndarray]:
    """a where it stands and moved by (dx, dy) to the whole pixels either side of it (a pan rarely
    moves whole pixels; and a shift found between two frames may be things moving in a still
    scene -- a head here, then a head there -- rather than the camera)."""
    xs = {0, int(np.floor(dx)), int(np.ceil(dx))}
    ys = {0, int(np.floor(dy)), int(np.ceil(dy))}
    return [moved(a, x, y) for x in xs for y in ys]


def _tolerance(a: np.ndarray):
    return TOLERANCE if a.ndim == 3 else TOLERANCE[0]


def _any(mask: np.ndarray) -> np.ndarray:
    """A pixel's mask from its channels' (brightness and colour): any of them."""
    return mask.any(axis=2) if mask.ndim == 3 else mask


def _outside(frame: np.ndarray, views: list[np.ndarray]) -> np.ndarray:
    low, high = np.minimum.reduce(views) - _tolerance(frame), np.maximum.reduce(views) + _tolerance(frame)
    return _any((frame < low) | (frame > high))


def _unlike(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _any(np.abs(a - b) > _tolerance(a))


def abrupt(frame: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Pixels that changed at once from the previous decoded frame (the camera's movement taken
    out): something appeared there, in this frame."""
    return _outside(frame, _placements(previous, *shift(previous, frame)))


class Between:
    """What the screened frames either side of some held frames show: `before` and `after` are
    (time, thumbnail), taken as the camera's movement carries them to each frame's time."""

    def __init__(self, before: tuple[float, np.ndarray], after: tuple[float, np.ndarray]):
        (self.t0, self.before), (self.t1, self.after) = before, after
        self.dx, self.dy = shift(self.before, self.after)
        self.screened: list[np.ndarray] = []  # thumbnails of frames screened between the two

    def unseen(self, frame: np.ndarray, t: float, previous: np.ndarray | None) -> bool:
        """Whether `frame` (at time t) shows MIN_PIXELS or more that no screened frame shows.

        A pixel is shown when its value lies, within TOLERANCE, between those of the screened
        frames either side (a still background, a fade, an exposure ramp, an edge moving across),
        unless it appeared at once in this frame (abrupt(), against `previous`, the decoded frame
        before it) and is like neither of them (a face for two frames, then a card held over the
        same place: card and background may bracket the face's grey). A pixel like that of a frame
        already screened between the two is shown too."""
        share = 0.0 if self.t1 <= self.t0 else min(1.0, max(0.0, (t - self.t0) / (self.t1 - self.t0)))
        mask = self._unshown(frame, (self.dx * share, self.dy * share),
                             (-self.dx * (1 - share), -self.dy * (1 - share)), previous)
        if mask.sum() >= MIN_PIXELS:  # the camera may not have moved evenly (a hand shakes): ask the frame
            mask &= self._unshown(frame, shift(self.before, frame), shift(self.after, frame), previous)
        for other in self.screened:
            if mask.sum() < MIN_PIXELS:
                break
            mask &= _unlike(frame, other)
        return int(mask.sum()) >= MIN_PIXELS

    def _unshown(self, frame: np.ndarray, from_before: tuple[float, float], from_after: tuple[float, float],
                 previous: np.ndarray | None) -> np.ndarray:
        """The pixels of `frame` neither screened frame shows, each moved by the shift given."""
        old, new = _placements(self.before, *from_before), _placements(self.after, *from_after)
        mask = _outside(frame, old + new)
        if previous is not None:
            like_neither = _outside(frame, old) & _outside(frame, new)
            if like_neither.sum() >= MIN_PIXELS:
                mask |= like_neither & abrupt(frame, previous)
        # what the camera's movement brings in at the edge (a hand shakes, a pan) is new to both:
        # a band of up to EDGE pixels (30 px of a 1080p frame: no face the check finds fits in it)
        bx = min(EDGE, int(np.ceil(max(abs(from_before[0]), abs(from_after[0]), 1.0))))
        by = min(EDGE, int(np.ceil(max(abs(from_before[1]), abs(from_after[1]), 1.0))))
        mask[:by] = mask[-by:] = False
        mask[:, :bx] = mask[:, -bx:] = False
        return mask


def repeated(thumbs: list[np.ndarray]) -> int | None:
    """The index of a thumbnail that the next one repeats within TOLERANCE at every pixel (the
    first such), or None: at a high frame rate consecutive frames are nearly the same picture."""
    for i in range(len(thumbs) - 1):
        if not _unlike(thumbs[i], thumbs[i + 1]).any():
            return i
    return None


def differs(frame: np.ndarray, before: np.ndarray) -> bool:
    """Whether a frame differs at all from the last screened one (else it need not be held)."""
    return int(_unlike(frame, before).sum()) >= MIN_PIXELS
