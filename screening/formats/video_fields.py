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


def deinterlaced(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 woven frame -> the same size, the second field replaced by the first's where they comb."""
    h = rgb.shape[0]
    if h < 4:
        return rgb
    first = rgb[0::2].astype(np.int16)
    second = rgb[1::2].astype(np.int16)
    above = first[:len(second)]
    below = np.concatenate([first[1:], first[-1:]])[:len(second)]
    low, high = np.minimum(above, below), np.maximum(above, below)
    outside = np.maximum(low - second, second - high).max(axis=2)
    combed = (outside > COMB).astype(np.uint8)
    if not combed.any():
        return rgb
    combed = cv2.dilate(combed, np.ones((3, 7), np.uint8)).astype(bool)  # the whole comb, not its teeth
    out = rgb.copy()
    lines = out[1::2]
    lines[combed] = ((above + below) // 2).astype(np.uint8)[combed]
    return out
