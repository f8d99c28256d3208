"""The edge strips of a moved grid (video_pan.edge_slivers) and the regions beside them: a strip is
looked at on every look, but a region that meets it is widened across it only at its own rows (the
rest of the strip is looked at in pieces), where a bounding box used to turn region and strip into a
column the frame's height, and the two strips of a grid moved both ways into the whole frame.

The hostile cases: a sliver in a strip that crosses the cut between a piece and a region (whole in
one of them: a piece reaches MARGIN_PX into what covers the rest); a diagonal pan (in part, every
left-out column and row looked at); a face inside both a piece and a region (reported once)."""

from __future__ import annotations

import numpy as np
import pytest

from screening import video_gate
from screening.config import VideoSettings
from screening.model import Check, FaceFinding
from screening.video_gate import CELL, MARGIN_PX, Gate, Plan, small_copy
from screening.video_pan import edge_slivers
from screening.video_passes import FrameScreener, Pass

from .clips import scene

W, H = 1280, 720


def _covered(regions, box) -> bool:
    x, y, w, h = box
    return any(x0 <= x and y0 <= y and x + w <= x1 and y + h <= y1 for x0, y0, x1, y1 in regions)


def _changed_block(cells_x: tuple[int, int], cells_y: tuple[int, int]) -> np.ndarray:
    changed = np.zeros((H // CELL, W // CELL), bool)
    changed[cells_y[0]:cells_y[1], cells_x[0]:cells_x[1]] = True
    return changed


@pytest.mark.parametrize("phase", [(2, 0), (0, 3), (1, 1), (3, 2)])
def test_every_sliver_of_a_strip_is_whole_in_one_region_and_the_changed_cells_are_covered(phase):
    """Whatever lies in the left-out columns (rows), up to MARGIN_PX long, is whole in one region at
    every place along the strip, cuts included; the changed cells are covered with their margin; the
    regions other than the pieces do not overlap; the strips are not joined into the frame."""
    changed = _changed_block((1, 6), (12, 18)) | _changed_block((30, 34), (0, 3))
    strips = tuple(edge_slivers(phase, (W, H), MARGIN_PX))
    regions, pieces = video_gate._regions(changed, [], W, H, phase, strips)
    ox, oy = phase
    for y in range(0, H - MARGIN_PX + 1, 4):
        if ox:
            assert _covered(regions, (0, y, ox, MARGIN_PX)), (y, regions)
    for x in range(0, W - MARGIN_PX + 1, 4):
        if oy:
            assert _covered(regions, (x, 0, MARGIN_PX, oy)), (x, regions)
    for cy, cx in zip(*np.nonzero(changed)):
        x, y = cx * CELL + ox, cy * CELL + oy
        assert _covered(regions, (max(0, x - MARGIN_PX), max(0, y - MARGIN_PX), CELL + MARGIN_PX, CELL + MARGIN_PX))
    whole = regions[:len(regions) - pieces]
    for i, a in enumerate(whole):
        for b in whole[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in regions)
    assert area < 0.4 * W * H
    # no region is a column the frame's height wider than the strip (the old bounding box)
    assert not any(y0 == 0 and y1 == H and x1 > max(s[2] for s in strips if s[3] == H) for x0, y0, x1, y1 in regions
                   if ox), regions


def test_control_a_piece_that_does_not_reach_into_the_region_splits_a_sliver_crossing_the_cut(monkeypatch):
    """Why a piece reaches MARGIN_PX into the region beside it: cut exactly at the region, a sliver
    crossing the cut is in neither whole."""
    monkeypatch.setattr(video_gate, "MARGIN_PX", 0)
    changed = _changed_block((1, 6), (12, 18))
    strips = tuple(edge_slivers((2, 0), (W, H), 48))
    regions, _ = video_gate._regions(changed, [], W, H, (2, 0), strips)
    cut = min(y0 for x0, y0, x1, y1 in regions if x0 == 0 and x1 > 48)  # where the widened region starts
    assert not _covered(regions, (0, cut - 20, 2, 40))


def _diagonal(step: int, looks: int, face: tuple[int, int, int] | None = None):
    """A scene panning `step` px a look across and down; `face` (x, y, at): a red square stand-in
    appears at frame place (x, y) at look `at` and moves with the scene."""
    wide = scene((1700, H + 200), seed=4, pan=0)(0.0)
    frames, faces = [], []
    for k in range(looks):
        ox, oy = 300 - step * k, 150 - step * k
        rgb = np.ascontiguousarray(wide[oy:oy + H, ox:ox + W])
        on = []
        if face is not None and k >= face[2]:
            x, y = face[0] + step * (k - face[2]), face[1] + step * (k - face[2])
            rgb[y:y + 60, x:x + 60] = (230, 20, 20)
            on.append((x, y, 60, 60))
        frames.append(rgb)
        faces.append(on)
    return frames, faces


def _gate_run(frames, faces):
    gate, plans, phases, missed = Gate(0.03), [], [], []
    for k, rgb in enumerate(frames):
        small = small_copy(rgb)
        plan = gate.plan(small, (W, H))
        found = list(faces[k]) if plan.regions is None else [f for f in faces[k] if _covered(plan.regions, f)]
        kept = [f.box for f in plan.kept]
        missed += [(k, f) for f in faces[k] if f not in found and f not in kept]
        gate.commit(plan, small, [FaceFinding(f) for f in found])
        plans.append(plan)
        phases.append(gate.phase)
    return plans, phases, missed


def test_a_diagonal_pan_is_looked_at_in_part_with_every_left_out_column_and_row():
    """A grid moved both ways leaves out the first columns and the first rows: both are looked at
    on every look, and the look is in part (their two strips joined as a bounding box were the whole
    frame); a face coming on screen at the edge is looked at whole."""
    frames, faces = _diagonal(3, 7, face=(0, 30, 4))
    plans, phases, missed = _gate_run(frames, faces)
    assert all(p.regions is not None for p in plans[1:])  # never whole (the scene only moved)
    both = [(p, ph) for p, ph in zip(plans[1:], phases[1:]) if ph[0] and ph[1]]
    assert both, phases
    for plan, (ox, oy) in both:
        assert plan.regions is not None
        assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in plan.regions) < 0.5 * W * H
        for y in range(0, H - MARGIN_PX + 1, 8):
            assert _covered(plan.regions, (0, y, ox, MARGIN_PX))
        for x in range(0, W - MARGIN_PX + 1, 8):
            assert _covered(plan.regions, (x, 0, MARGIN_PX, oy))
    assert missed == []


class _Boxes:
    """A stand-in check that reports a face at each given frame box lying whole in the crop, except
    in the crops whose corner is in `blind` (a detector that misses it there)."""

    def __init__(self, boxes, blind=()):
        self.boxes, self.blind = boxes, blind
        self.pass_ = None

    def __call__(self, pixels, earlier):
        ox, oy = self.pass_.origin
        h, w = pixels.shape[:2]
        if (ox, oy) in self.blind:
            return []
        return [FaceFinding((x - ox, y - oy, bw, bh)) for x, y, bw, bh in self.boxes
                if ox <= x and oy <= y and x + bw <= ox + w and y + bh <= oy + h]


def _run_plan(plan: Plan, boxes, blind=()) -> list:
    run = _Boxes(boxes, blind)
    p = Pass("faces", Check.FACES, True, True, run)
    run.pass_ = p
    screener = FrameScreener([p], VideoSettings(), {Check.FACES: None}, str)
    return screener._run(p, plan, np.zeros((H, W, 3), np.uint8), 1.0, {})


REGION, PIECE = (0, 200, 400, 500), (0, 452, 50, 720)


def test_a_face_in_both_a_piece_and_the_region_it_reaches_into_is_reported_once():
    """A piece overlaps the region beside it by MARGIN_PX: a face lying whole in both and found in
    both is the region's; one that lies partly outside the region is the piece's."""
    inside_both = (2, 455, 40, 40)
    piece_only = (2, 480, 40, 40)  # reaches below the region
    found = _run_plan(Plan((REGION, PIECE), (), pieces=1), [inside_both, piece_only])
    assert sorted(f.box for f in found) == sorted([inside_both, piece_only])


def test_a_face_the_region_missed_is_kept_from_the_piece():
    """Fail closed: the piece's finding is dropped only where the region found the same thing."""
    found = _run_plan(Plan((REGION, PIECE), (), pieces=1), [(2, 455, 40, 40)], blind=[REGION[:2]])
    assert [f.box for f in found] == [(2, 455, 40, 40)]


def test_control_without_the_pieces_count_a_face_in_both_is_reported_twice():
    found = _run_plan(Plan((REGION, PIECE), ()), [(2, 455, 40, 40)])
    assert len(found) == 2
