"""Rectangles that cross (video_pan.crossing): a rectangle the frame's full height (a column a pan
reveals at the frame's edge) and one reaching across it (a head beside the edge) are looked at each
whole, not joined into their bounding box (a column the frame's height and as wide as the head's
rectangle, looked at by every check on every look with a head near the edge).

Why nothing is lost: any rectangle inside the two is inside one of them (checked here on every
rectangle of small grids); what the bounding box adds is its corners, where no cell changed within
the margin. The hostile cases: a thing lying across the column and the head's rectangle, inside
their union (found whole), a thing in both (reported once), a head that does not reach across the
column (joined as before)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from screening import video_gate
from screening.config import VideoSettings
from screening.model import Check, FaceFinding
from screening.video_gate import CELL, Plan
from screening.video_pan import crossing, join_overlapping
from screening.video_passes import FrameScreener, Pass

W, H = 1920, 1080


def _inside(t, r) -> bool:
    return r[0] <= t[0] and r[1] <= t[1] and t[2] <= r[2] and t[3] <= r[3]


@pytest.mark.parametrize("seed", range(40))
def test_every_rectangle_inside_two_crossing_rectangles_is_inside_one_of_them(seed):
    """Exhaustive on a 12 x 10 grid: every rectangle whose cells all lie in a full-height column or
    in a rectangle reaching across it lies in one of the two. Without the crossing condition (a
    rectangle reaching only part of the way across) one that lies in neither is found."""
    rng = random.Random(seed)
    w, h = 12, 10
    cx0 = rng.randrange(0, w - 1)
    column = (cx0, 0, rng.randrange(cx0 + 1, w + 1), h)
    hy0 = rng.randrange(0, h - 1)
    other = (rng.randrange(0, column[0] + 1), hy0, rng.randrange(column[2], w + 1), rng.randrange(hy0 + 1, h + 1))
    assert crossing(column, other, (w, h)) and crossing(other, column, (w, h))
    union = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in (column, other):
        union[y0:y1, x0:x1] = True
    for x0, x1 in itertools.combinations(range(w + 1), 2):
        for y0, y1 in itertools.combinations(range(h + 1), 2):
            if union[y0:y1, x0:x1].all():
                assert _inside((x0, y0, x1, y1), column) or _inside((x0, y0, x1, y1), other)


def test_control_a_rectangle_reaching_part_of_the_way_across_does_not_cross_and_is_joined():
    """Where the other rectangle ends inside the column, a rectangle can lie in their union and in
    neither (so they are joined, as before)."""
    column, other = (6, 0, 10, 10), (2, 3, 8, 6)
    assert not crossing(column, other, (12, 10))
    t = (2, 3, 10, 6)  # x 2..6 in the other, 6..10 in the column, rows 3..6 in both
    assert not _inside(t, column) and not _inside(t, other)
    assert join_overlapping([column, other], (12, 10)) == [(2, 0, 10, 10)]


def _changed(columns: tuple[int, int], rows: tuple[int, int], edge: bool = True) -> np.ndarray:
    changed = np.zeros((H // CELL, W // CELL), bool)
    if edge:
        changed[:, -1] = True  # the column a pan reveals at the right edge, the frame's height
    changed[rows[0]:rows[1], columns[0]:columns[1]] = True
    return changed


def test_a_revealed_column_and_a_head_reaching_across_it_are_two_regions_not_their_bounding_box():
    changed = _changed((100, 120), (20, 40))  # a head's cells up to the frame's right edge
    regions, _ = video_gate._regions(changed, [], W, H)
    assert len(regions) == 2
    column = next(r for r in regions if r[1] == 0 and r[3] == H)
    head = next(r for r in regions if r is not column)
    assert head[2] == W and head[0] <= column[0] and (head[1], head[3]) != (0, H)
    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in regions)
    bounding = (W - head[0]) * H
    assert area < 0.75 * bounding
    for cy, cx in zip(*np.nonzero(changed)):  # every changed cell still looked at with its margin
        x, y = cx * CELL, cy * CELL
        box = (max(0, x - 48), max(0, y - 48), min(W, x + CELL + 48), min(H, y + CELL + 48))
        assert any(_inside(box, r) for r in regions), (cx, cy)


def test_control_a_head_that_does_not_reach_across_the_column_is_joined_with_it_as_before():
    changed = _changed((100, 112), (20, 40))  # its rectangle ends inside the column's width
    regions, _ = video_gate._regions(changed, [], W, H)
    assert len(regions) == 1 and regions[0][1] == 0 and regions[0][3] == H


class _Boxes:
    """A stand-in check reporting a face at each given frame box lying whole in the crop."""

    def __init__(self, boxes):
        self.boxes, self.pass_, self.crops = boxes, None, []

    def __call__(self, pixels, earlier):
        ox, oy = self.pass_.origin
        h, w = pixels.shape[:2]
        self.crops.append((ox, oy, ox + w, oy + h))
        return [FaceFinding((x - ox, y - oy, bw, bh)) for x, y, bw, bh in self.boxes
                if ox <= x and oy <= y and x + bw <= ox + w and y + bh <= oy + h]


def _screened(boxes) -> list:
    changed = _changed((100, 120), (20, 40))
    regions, pieces = video_gate._regions(changed, [], W, H)
    run = _Boxes(boxes)
    p = Pass("faces", Check.FACES, True, True, run)
    run.pass_ = p
    screener = FrameScreener([p], VideoSettings(), {Check.FACES: None}, str)
    return screener._run(p, Plan(tuple(regions), (), pieces=pieces), np.zeros((H, W, 3), np.uint8), 1.0, {},
                         (W, H))


@pytest.mark.parametrize("box", [
    (1820, 200, 90, 120),   # in the column above the head's rows
    (1600, 400, 300, 150),  # across the column, inside the head's rows
    (1850, 250, 60, 500),   # down the column, through the head's rows and beyond them
    (1700, 300, 200, 40),   # in the head's rectangle only
])
def test_a_thing_inside_the_column_or_the_head_or_across_both_is_found_whole_once(box):
    found = _screened([box])
    assert [f.box for f in found] == [box]


def test_a_thing_in_both_crossing_regions_found_in_both_is_reported_once():
    box = (1860, 400, 40, 40)  # in the column and in the head's rectangle
    assert [f.box for f in _screened([box])] == [box]
