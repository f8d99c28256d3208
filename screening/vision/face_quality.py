"""Is a face good enough to identify? Pose from landmarks, sharpness from the aligned chip.

A face too turned or too blurred to identify must never count as a consented match: its
distance to a person's reference says little, and one that lands under the tolerance by chance
would clear a pupil. Such a face is reported as found but not identifiable (decide() makes it
an `unknown_face`: it needs permission). Thresholds are measured in docs/faces.md ("Quality").
"""

from __future__ import annotations

import numpy as np

# Nose displacement from the eyes' midline, in eye distances, beyond which the face is turned
# too far for the recogniser. Above the turned but recognisable faces of the benchmark (up to
# 0.39); crude: a strict profile's landmarks can still pass it, the tolerance then protects.
MAX_TURN = 0.45
# Sharpness (below) under which a face is too blurred to identify. Every one of the 120 faces of
# 24 px or more in the shared data's portraits and VOC groups scores 4.0 or more (most 10-2000);
# the astronaut's 95 px face scores 258 sharp, 5.3 blurred by a Gaussian of sigma 3 px (0.45 from
# herself) and 3.9 at sigma 4 (0.52 from herself: no longer identifiable). docs/faces.md, "Quality".
MIN_SHARPNESS = 3.5
# The chip's centre (eyes, nose, mouth) in which sharpness is measured, as shares of its side.
_CENTRE = (0.2, 0.8)
# Roll (degrees) of the eyes' line in CenterFace's landmarks beyond which a face is not upright.
UPRIGHT_ROLL = 30.0


def turn_of(points: np.ndarray) -> float | None:
    """How far the nose sits off the eyes' midline, in eye distances (0 frontal); None if no eyes.

    `points`: dlib's 5-point landmarks: 0,1 one eye's corners, 2,3 the other's, 4 under the nose."""
    eye_a, eye_b = points[0:2].mean(axis=0), points[2:4].mean(axis=0)
    axis = eye_b - eye_a
    span = float(np.hypot(*axis))
    if span < 1.0:
        return None
    offset = points[4] - (eye_a + eye_b) / 2
    return abs(float(offset @ axis)) / span / span


def sharpness(chip: np.ndarray) -> float:
    """Variance of the Laplacian over the centre of an aligned face chip (RGB, 150 x 150): the
    chip is the same size whatever the face's size, so the number compares faces of any size."""
    import cv2

    side = chip.shape[0]
    a, b = int(side * _CENTRE[0]), int(side * _CENTRE[1])
    grey = cv2.cvtColor(np.ascontiguousarray(chip[a:b, a:b]), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def roll_of(landmarks) -> float | None:
    """Degrees between "down" in the face (eyes to mouth, from CenterFace's 5 points: eyes, nose,
    mouth corners) and down in the picture: 0 upright, 90 on its side, 180 upside down; None
    without landmarks."""
    if len(landmarks) < 5:
        return None
    points = np.asarray(landmarks, dtype=np.float64)
    down = points[3:5].mean(axis=0) - points[0:2].mean(axis=0)
    if not np.hypot(*down) > 0:
        return None
    return abs(float(np.degrees(np.arctan2(down[0], down[1]))))


def too_poor(points: np.ndarray, chip: np.ndarray | None) -> str:
    """Why this face cannot be identified ("" when it can): turned too far, or too blurred."""
    turn = turn_of(points)
    if turn is None or turn > MAX_TURN:
        return "face turned too far to identify"
    if chip is not None and sharpness(chip) < MIN_SHARPNESS:
        return "face too blurred to identify"
    return ""
