"""Interlaced frames as a player shows them: a moving thing whole, not combed.

An interlaced camera (1080i/576i camcorders, AVCHD: what many schools' event cameras record) takes
its two fields, the odd and the even lines, 1/50 or 1/60 s apart; the decoder weaves them into one
frame. Where something moves, the two fields disagree and the woven frame is combed (a pupil
walking past: his two halves 30 px apart, interleaved line by line), and no face is found in it,
while every player deinterlaces and shows him whole (RT26-5). Here the second field's lines are
replaced by the first field's, interpolated, wherever they comb: a line lying outside the range of
the lines above and below it by more than COMB in a colour channel, with its neighbours. Still
parts keep both fields' lines (their full detail)."""

from __future__ import annotations

import cv2
import numpy as np

# How far (8-bit levels) a second-field pixel must lie outside the range of the first-field pixels
# above and below it to count as combing.
COMB = 24


def deinterlaced(rgb: np.ndarray, keep: int = 0) -> np.ndarray:
    """HxWx3 uint8 woven frame -> the same size, the other field replaced by field `keep`'s (0: the
    top lines 0, 2, 4...; 1: the bottom ones), interpolated, where they comb."""
    h = rgb.shape[0]
    if h < 4:
        return rgb
    kept = rgb[keep::2].astype(np.int16)
    other = rgb[1 - keep::2].astype(np.int16)
    n = len(other)
    if keep == 0:  # other line i lies between kept lines i and i + 1
        above, below = kept[:n], np.concatenate([kept[1:], kept[-1:]])[:n]
    else:  # other line i lies between kept lines i - 1 and i
        above, below = np.concatenate([kept[:1], kept])[:n], np.concatenate([kept, kept[-1:]])[:n]
    low, high = np.minimum(above, below), np.maximum(above, below)
    outside = np.maximum(low - other, other - high).max(axis=2)
    combed = (outside > COMB).astype(np.uint8)
    if not combed.any():
        return rgb
    combed = cv2.dilate(combed, np.ones((3, 7), np.uint8)).astype(bool)  # the whole comb, not its teeth
    out = rgb.copy()
    lines = out[1 - keep::2]
    lines[combed] = ((above + below) // 2).astype(np.uint8)[combed]
    return out


def fields(rgb: np.ndarray) -> list[np.ndarray]:
    """What a woven frame shows: itself where its fields agree; where they comb, each field (a bob
    deinterlacer shows both, 1/50 s apart, and a frame-rate one shows the first in time, the bottom
    field in bottom-field-first clips: RT27-5), so two pictures then, the top field's first."""
    top = deinterlaced(rgb, 0)
    if top is rgb:
        return [rgb]
    return [top, deinterlaced(rgb, 1)]
