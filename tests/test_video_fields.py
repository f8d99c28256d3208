"""formats/video_fields.py: interlaced frames shown as players show them (RT26-5)."""

from __future__ import annotations

import numpy as np

from screening.formats.video_fields import COMB, deinterlaced


def _woven(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    out = first.copy()
    out[1::2] = second[1::2]
    return out


def test_a_still_picture_keeps_both_fields_lines():
    rng = np.random.default_rng(0)
    still = np.repeat(np.repeat(rng.integers(0, 256, (30, 40, 3), np.uint8), 4, axis=0), 4, axis=1)
    assert np.array_equal(deinterlaced(still), still)


def test_a_square_that_moved_between_the_fields_is_shown_whole_where_the_first_field_has_it():
    first = np.full((120, 160, 3), 40, np.uint8)
    second = first.copy()
    first[40:80, 30:70] = 220
    second[40:80, 60:100] = 220  # 30 px further on, 1/50 s later
    out = deinterlaced(_woven(first, second))
    assert (out[42:78, 34:66] == 220).all()  # the first field's square, every line
    assert (out[42:78, 74:96] == 40).all()  # the second field's comb teeth are gone


def test_differences_within_the_neighbours_range_are_not_combing():
    ramp = np.repeat(np.linspace(0, 250, 100).astype(np.uint8)[:, None, None], 3, axis=2).repeat(50, axis=1)
    noisy = ramp.copy()
    noisy[1::2] = np.clip(ramp[1::2].astype(int) + COMB // 2, 0, 255).astype(np.uint8)
    assert np.array_equal(deinterlaced(noisy), noisy)


def test_tiny_frames_are_returned_as_they_are():
    tiny = np.zeros((3, 5, 3), np.uint8)
    assert deinterlaced(tiny) is tiny
