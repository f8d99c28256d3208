"""The gallery answers one question per face: how far is each enrolled person, nearest first."""

import numpy as np
import pytest

from screening.consent.gallery import Gallery


def unit(i, n=128):
    v = np.zeros(n)
    v[i] = 1.0
    return v


def test_candidates_are_best_per_person_nearest_first():
    g = Gallery(("A", "A", "B"), np.stack([unit(0), unit(1), unit(2)]), "v1")
    probe = unit(1) * 0.9
    got = g.candidates(probe)
    assert [pid for pid, _ in got] == ["A", "B"]
    assert got[0][1] == pytest.approx(0.1)
    assert got[1][1] == pytest.approx(np.hypot(0.9, 1.0))


def test_empty_gallery_has_no_candidates():
    assert Gallery.empty("v1").candidates(unit(0)) == ()
    assert len(Gallery.empty()) == 0


def test_ids_and_encodings_must_line_up():
    with pytest.raises(ValueError):
        Gallery(("A",), np.zeros((2, 128)))
