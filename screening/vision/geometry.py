"""Boxes ([left, top, width, height]): how much two of them overlap, written once."""

from __future__ import annotations

from collections.abc import Sequence

Rect = Sequence[float]


def _intersection(a: Rect, b: Rect) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return iw * ih


def iou(a: Rect, b: Rect) -> float:
    """Intersection over union: 1 for the same box, 0 for boxes apart."""
    inter = _intersection(a, b)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def cover(a: Rect, b: Rect) -> float:
    """Intersection over the smaller box: 1 when one box lies inside the other."""
    smaller = min(a[2] * a[3], b[2] * b[3])
    return _intersection(a, b) / smaller if smaller > 0 else 0.0
