"""Which small-crest windows are searched again (logo_match.small._merge; issue 16, recall33).

The small-crest pass correlates every reference, shrunk to each small crest size (40, 60, 90 px),
with the photo and keeps each one's best place; only MAX_WINDOWS places are searched again. By
score alone, one academy's places at two or three sizes (none of them a crest: a plain patch in its
colours) could take the slots and push another academy's best place, its real crest, out: a 61 px
embroidered badge on a 2280 px photo (bench/logo_small_cases.py, case 10) was 5th, behind the flat
academy's places at two sizes, and the photo was cleared of it. Each academy's best place now comes
first, an academy's place at another size only after.
"""

from __future__ import annotations

from screening.vision.logo_match import small
from screening.vision.logo_match.small import Window, _merge


def _win(x, y, side, score, academy) -> Window:
    return Window((float(x), float(y), float(side), float(side)), score, {academy})


def test_one_academys_second_size_does_not_push_out_another_academys_best_place():
    # the measured case's windows (working pixels, correlations), the embroidered crest's place last
    found = [_win(503, 665, 54, 0.67, "flat"), _win(881, 800, 25, 0.64, "flat"),
             _win(1078, 493, 37, 0.62, "s202"), _win(1014, 385, 25, 0.59, "s101"),
             _win(450, 766, 25, 0.57, "embroidered")]
    kept = _merge(found)
    assert len(kept) == small.MAX_WINDOWS
    assert {a for w in kept for a in w.academies} == {"flat", "s202", "s101", "embroidered"}
    assert any(w.box[:2] == (450.0, 766.0) for w in kept)
    assert not any(w.box[:2] == (881.0, 800.0) for w in kept)  # flat's second size: no slot left


def test_without_the_step_the_best_places_by_score_alone_as_before():
    found = [_win(503, 665, 54, 0.67, "flat"), _win(881, 800, 25, 0.64, "flat"),
             _win(1078, 493, 37, 0.62, "s202"), _win(1014, 385, 25, 0.59, "s101"),
             _win(450, 766, 25, 0.57, "embroidered")]
    kept = _merge(found, each_first=False)
    assert [w.score for w in kept] == [0.67, 0.64, 0.62, 0.59]  # the embroidered crest's place left out


def test_an_academys_other_sizes_are_searched_when_slots_are_left():
    found = [_win(100, 100, 40, 0.9, "north"), _win(400, 100, 60, 0.8, "north"),
             _win(700, 100, 90, 0.7, "north"), _win(100, 500, 40, 0.6, "south")]
    kept = _merge(found)  # each academy's best place first, then north's other sizes by score
    assert [w.box[:2] for w in kept] == [(100.0, 100.0), (100.0, 500.0), (400.0, 100.0), (700.0, 100.0)]


def test_with_one_place_per_academy_the_order_is_by_score_as_before():
    found = [_win(100 * k, 100, 40, 0.9 - 0.05 * k, f"a{k}") for k in range(6)]
    kept = _merge(found)
    assert [w.score for w in kept] == sorted((w.score for w in found), reverse=True)[:small.MAX_WINDOWS]


def test_windows_of_one_place_still_become_one_with_the_academies_joined():
    found = [_win(100, 100, 40, 0.9, "north"), _win(105, 102, 40, 0.8, "south"), _win(600, 100, 40, 0.7, "north")]
    kept = _merge(found)
    assert len(kept) == 2
    assert kept[0].academies == {"north", "south"}
