"""formats/video_fields.py: interlaced frames shown as players show them (RT26-5)."""

from __future__ import annotations

import numpy as np

from screening.formats.video_fields import COMB, deinterlaced, fields


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


def test_a_square_that_moved_is_shown_whole_where_the_second_field_has_it_when_that_field_is_kept():
    first = np.full((120, 160, 3), 40, np.uint8)
    second = first.copy()
    first[40:80, 30:70] = 220
    second[40:80, 60:100] = 220
    out = deinterlaced(_woven(first, second), keep=1)
    assert (out[42:78, 74:96] == 220).all()  # the second field's square, every line
    assert (out[42:78, 34:56] == 40).all()  # the first field's teeth are gone


def test_a_combed_frame_shows_each_field_and_a_still_one_itself():
    first = np.full((120, 160, 3), 40, np.uint8)
    second = first.copy()
    second[40:80, 60:100] = 220  # something in the second field only (1/50 s)
    looks = fields(_woven(first, second))
    assert len(looks) == 2
    assert not (looks[0][42:78, 64:96] == 220).any()  # the first field: nothing there
    assert (looks[1][42:78, 64:96] == 220).all()  # the second field: the square, every line
    still = np.full((60, 80, 3), 90, np.uint8)
    assert len(fields(still)) == 1 and fields(still)[0] is still


def test_a_frame_an_odd_number_of_lines_high_keeps_its_size_with_either_field():
    woven = _woven(np.full((121, 40, 3), 30, np.uint8), np.full((121, 40, 3), 200, np.uint8))
    assert deinterlaced(woven, 0).shape == deinterlaced(woven, 1).shape == woven.shape
