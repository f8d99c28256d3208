"""The small copies the change gates compare (video_small.py): a copy on a grid moved by a pan's
remainder is made without copying the whole frame, and holds exactly the pixels of the frame moved
back and filled from its edge, then shrunk (what the gates compared before)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from screening.video_small import SCALE, moved_small, small_copy

from .clips import scene


def _filled_then_shrunk(rgb: np.ndarray, phase: tuple[int, int]) -> np.ndarray:
    px, py = phase
    h, w = rgb.shape[:2]
    moved = cv2.copyMakeBorder(rgb[py:, px:], 0, py, 0, px, cv2.BORDER_REPLICATE)
    return cv2.resize(moved, (max(1, w // SCALE), max(1, h // SCALE)), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("size", [(1920, 1080), (640, 360), (16, 8), (642, 362), (5, 3)])
def test_a_moved_copy_holds_the_same_pixels_as_the_frame_filled_and_shrunk(size):
    w, h = size
    rng = np.random.default_rng(w * h)
    noise = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    drawn = scene((w, h), pan=0)(0.3) if min(w, h) >= 64 else noise
    for rgb in (noise, drawn):
        for phase in ((0, 0), (1, 0), (0, 3), (3, 3), (2, 1), (1, 2)):
            got = moved_small(rgb, phase)
            assert got.shape == (max(1, h // SCALE), max(1, w // SCALE), 3)
            assert np.array_equal(got, _filled_then_shrunk(rgb, phase)), (size, phase)


def test_a_frames_copy_at_a_phase_is_made_once_and_the_unmoved_copy_is_its_planes():
    rgb = scene((640, 360), pan=0)(0.0)
    small = small_copy(rgb)
    assert small.at((0, 0)) is small.planes
    moved = small.at((2, 1))
    assert moved is small.at((2, 1))
    assert np.array_equal(moved, _filled_then_shrunk(rgb, (2, 1)).transpose(2, 0, 1))
    assert not np.array_equal(moved, small.planes)
