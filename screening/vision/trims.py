"""How a uniform's trim colours lie on a torso (lapel stripes, a tie, a V collar, piping), and
the stripes of a striped uniform: the uniform check's structure measures (detectors/uniforms.py)."""

from __future__ import annotations

import cv2
import numpy as np

# Trim-colour rows longer than this (face widths) are a pattern's stripes, not trims; the trim
# score falls to nothing when this share of the trim pixels lies in such rows.
BAND = 0.9
MAX_BANDED = 0.3


def trim_structure(trim: np.ndarray, zone: np.ndarray, mirror_x: np.ndarray, stroke: int,
                   garment: np.ndarray) -> float:
    """How much a trim colour's pixels look like a uniform's trims (0..1).

    Trims (lapel stripes, a tie, a V collar, piping down the front) lie near the middle of the
    chest, mirror each other left and right, are thin, and sit on the garment. A pattern in the
    same colours spreads over the whole torso; a shirt showing between lapels is a wide patch.
    """
    total = float(trim.sum())
    inside = float((trim & zone).sum())
    concentration = inside / total
    share = inside / max(1.0, float(zone.sum()))
    mirrored = trim[:, mirror_x[0]]
    near_mirror = cv2.dilate(mirrored.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    symmetry = float((trim & near_mirror).sum()) / total
    opened = cv2.morphologyEx(trim.astype(np.uint8), cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (stroke, stroke)))
    thin = 1.0 - float(opened.sum()) / total
    t8 = trim.astype(np.uint8)  # the ring around the trims, past the pixels blended with them
    ring = (cv2.dilate(t8, np.ones((9, 9), np.uint8)) > 0) & ~(cv2.dilate(t8, np.ones((3, 3), np.uint8)) > 0)
    on_garment = float(garment[ring].mean()) if ring.any() else 0.0
    enough = min(1.0, share / 0.03) * (1.0 if share <= 0.45 else 0.0)
    # lapels, a collar and a tie cross each row of the chest in short runs; the stripes or checks
    # of a patterned top run across it (rows of trim colour longer than BAND face widths)
    # (only trim pixels on the cloth count: a white wall beside a white-trimmed blazer is no stripe)
    band = max(3, round(BAND * stroke / 0.3))
    on_cloth = t8 & cv2.dilate(garment.astype(np.uint8), np.ones((5, 5), np.uint8))
    across = cv2.morphologyEx(on_cloth, cv2.MORPH_OPEN, np.ones((1, band), np.uint8))
    unbanded = float(np.clip(1.0 - (float(across.sum()) / max(1.0, float(on_cloth.sum()))) / MAX_BANDED, 0, 1))
    return float(np.clip((concentration - 0.3) / 0.3, 0, 1) * np.clip((symmetry - 0.3) / 0.3, 0, 1)
                 * thin * enough * np.clip((on_garment - 0.3) / 0.3, 0, 1) * unbanded)


def trim_stripes(trim: np.ndarray, zone: np.ndarray, mirror_x: np.ndarray, stroke: int,
                 garment: np.ndarray) -> float:
    """For an academy whose uniform is striped: stripes of the trim colour across the garment (0..1)."""
    share = float(trim.mean())
    both = trim | garment
    if both.mean() < 0.5:
        return 0.0
    # stripes alternate: many changes between trim and garment along rows or columns
    changes = max(np.abs(np.diff(trim.astype(np.int8), axis=a)).sum(axis=a).mean() for a in (0, 1))
    return float(np.clip((share - 0.1) / 0.1, 0, 1) * (share <= 0.6) * np.clip((changes - 2) / 4, 0, 1))


def trim_words(trim: np.ndarray, zone: np.ndarray, u: np.ndarray, v: np.ndarray) -> str:
    """What the trims look like, for the reason: on the middle line (tie, piping), or a V (lapels, collar)."""
    t = trim & zone
    if not t.any():
        return "seen"
    middle = float((np.abs(u[t]) < 0.12).mean())
    return "down the middle (tie or piping)" if middle > 0.6 else (
        "in a V from the neck (lapels or collar)" if middle < 0.3 else "in a V and down the middle (lapels and tie)")
