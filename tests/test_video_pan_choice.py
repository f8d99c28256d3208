"""Which pan the change gate follows (video_pan.choose_pan): the one that leaves the least to look
at, scored roughly on lightness; the frame is then compared exactly (every channel, with the
gate's tolerance) on the grid picked. The hostile case is a head that stands still in the frame
while the scene pans (phase correlation is pulled towards no pan by it): the gate must follow the
scene, and whatever pan it picks, a face appearing must be looked at; a face drawn in colours of
the wall's lightness (which the rough score cannot see) shows why the frame is compared exactly."""

from __future__ import annotations

import numpy as np
import pytest

from screening import video_gate
from screening.model import FaceFinding
from screening.video_gate import Gate, small_copy

from .clips import scene
from .test_redteam11a import H, W, _iou, _stand_in, _wide_scene

STILL = (560, 260)  # where the still head stays in the frame
NEW = (200, 420)  # where, in the frame, a face appears at look NEW_AT (it moves with the scene after)
NEW_AT = 5


def _frames(public_domain, step: int, looks: int = 9, new_face: np.ndarray | None = None):
    """A scene of hard-edged shapes panning `step` px a look, a head standing still in the frame,
    and (if given) a face appearing in the scene at look NEW_AT; with the faces on screen."""
    head = _stand_in(public_domain, 180)
    wide = _wide_scene(2400 + step * looks)
    frames, faces = [], []
    for k in range(looks):
        x = 100 + step * k
        rgb = np.ascontiguousarray(wide[:, x:x + W])
        rgb[STILL[1]:STILL[1] + 180, STILL[0]:STILL[0] + 180] = head
        on = [(STILL[0], STILL[1], 180, 180)]
        if new_face is not None and k >= NEW_AT:
            fx = NEW[0] - step * (k - NEW_AT)
            side = new_face.shape[0]
            rgb[NEW[1]:NEW[1] + side, fx:fx + side] = new_face
            on.append((fx, NEW[1], side, side))
        frames.append(rgb)
        faces.append(on)
    return frames, faces


def _gate_run(frames, faces):
    """Each frame through one Gate, a simulated face check that finds a face whole inside a looked-at
    region; (plans, faces on screen neither looked at whole nor kept)."""
    gate, plans, missed = Gate(0.03), [], []
    for k, rgb in enumerate(frames):
        small = small_copy(rgb)
        plan = gate.plan(small, (W, H))
        on = faces[k]
        found = list(on) if plan.regions is None else [
            f for f in on if any(x0 <= f[0] and y0 <= f[1] and x1 >= f[0] + f[2] and y1 >= f[1] + f[3]
                                 for x0, y0, x1, y1 in plan.regions)]
        kept = [f.box for f in plan.kept]
        missed += [(k, f) for f in on if f not in found and not any(_iou(f, b) >= 0.5 for b in kept)]
        gate.commit(plan, small, [FaceFinding(f) for f in found])
        plans.append(plan)
    return plans, missed


def _share(plan) -> float:
    return 1.0 if plan.regions is None else sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in plan.regions) / (W * H)


@pytest.mark.parametrize("step", [2, 3, 5])
def test_a_head_standing_still_in_a_pan_the_gate_follows_the_scene(public_domain, step):
    """The scene pans `step` px a look under a still 180 px head: after the first looks the gate
    follows the scene (to a pixel) and looks again at the head and the frame's edges, about a third
    of the frame (main before this change followed the head's no pan: 0.64-0.68 of the frame a look
    on average at 2 and 3 px, every other look whole). At 5 px a look (beyond a pixel from the
    last pan) it takes a few looks to find the pan; nothing is missed meanwhile."""
    plans, missed = _gate_run(*_frames(public_domain, step))
    assert missed == []
    shares = [_share(p) for p in plans[3:]]
    if step < 5:
        assert all(abs(p.shift[0] + step) <= 1 and p.shift[1] == 0 for p in plans[3:]), [p.shift for p in plans]
        assert sum(shares) / len(shares) < 0.4 and max(shares) < 0.55, shares
    else:
        assert [p.shift for p in plans[-3:]] != [(0, 0)] * 3


@pytest.mark.parametrize("colour", ["as it is", "red and blue swapped"])
def test_a_face_appearing_beside_a_still_head_in_a_pan_is_looked_at(public_domain, colour):
    face = _stand_in(public_domain, 100)
    if colour != "as it is":
        face = np.ascontiguousarray(face[..., ::-1])
    plans, missed = _gate_run(*_frames(public_domain, 3, new_face=face))
    assert missed == []


def _misled(wrong):
    def choose(ref, known, here, last, limit, grid):
        return wrong
    return choose


@pytest.mark.parametrize("wrong", [(0, 0), (7, 0), (-3, 2), (-40, 0)])
def test_a_wrong_pan_costs_looks_but_never_hides_a_face(public_domain, monkeypatch, wrong):
    """The rough score only picks the pan: forced to a wrong one, the gate still sees the new face
    (the exact comparison on the picked grid calls the misaligned places changed)."""
    monkeypatch.setattr(video_gate, "choose_pan", _misled(wrong))
    face = _stand_in(public_domain, 100)
    plans, missed = _gate_run(*_frames(public_domain, 3, new_face=face))
    assert missed == []


def test_control_deciding_changes_by_the_rough_lightness_score_would_miss_an_isoluminant_face(
        public_domain, monkeypatch):
    """Why the frame is compared exactly after the pan is picked: a gate that took the rough score's
    lightness changes as its changed cells would not see a face drawn at the wall's lightness."""
    wall = np.full((H, W, 3), (120, 120, 120), np.uint8)
    face = np.full((100, 100, 3), (120, 120, 120), np.uint8)
    face[20:80, 20:80] = (160, 100, 100)  # red, the same lightness as the wall
    face[30:40, 30:45], face[30:40, 55:70] = (100, 140, 120), (100, 140, 120)
    assert abs(face.astype(int).sum(axis=2) - 360).max() == 0

    def lightness_only(ref, known, planes, limit):
        grey = lambda p: np.repeat(p.mean(axis=0, keepdims=True).astype(np.uint8), 3, axis=0)  # noqa: E731
        return exact(grey(ref), known, grey(planes), limit)

    frames = [wall, wall.copy()]
    frames[1][300:400, 500:600] = face
    for unsafe in (False, True):
        exact = video_gate._changed
        if unsafe:
            monkeypatch.setattr(video_gate, "_changed", lightness_only)
        plans, missed = _gate_run(frames, [[], [(500, 300, 100, 100)]])
        monkeypatch.setattr(video_gate, "_changed", exact)
        assert (missed != []) is unsafe


# ---------------------------------------------------------------- the edge a moved grid leaves out


def _covered(plan, box) -> bool:
    if plan.regions is None:
        return True
    x, y, w, h = box
    return any(x0 <= x and y0 <= y and x + w <= x1 and y + h <= y1 for x0, y0, x1, y1 in plan.regions)


def _pan_with_edge_change(step: int, width: int, at: int = 3):
    """A scene panning `step` px a look (the gate's grid moved by it, off the frame's first columns);
    at look `at` the first `width` columns of the frame turn red over 40 rows (a face coming in at
    the edge, or a sliver of one)."""
    wide = scene((1700, H), seed=2, pan=0)(0.0)
    frames = []
    for k in range(at + 1):
        rgb = np.ascontiguousarray(wide[:, 200 + step * k:200 + step * k + W])
        if k == at:
            rgb[300:340, :width] = (230, 20, 20)
        frames.append(rgb)
    return frames


def _plans(frames):
    gate, plans, phases = Gate(0.03), [], []
    for rgb in frames:
        small = small_copy(rgb)
        plans.append(gate.plan(small, (W, H)))
        phases.append(gate.phase)
        gate.commit(plans[-1], small, [])
    return plans, phases


@pytest.mark.parametrize("step,width", [(2, 2), (3, 3), (2, 60), (1, 1)])
def test_what_changes_in_the_columns_a_moved_grid_leaves_out_is_looked_at(step, width):
    """The grid follows the pan to the frame pixel, so it leaves the frame's first 1-3 columns out of
    every cell: those columns are looked at every look, with 48 px beside them (not grown to the
    160 px of a changed cell unless a region they overlap joins them); a face coming in there is
    in changed cells as soon as it is wider."""
    plans, phases = _plans(_pan_with_edge_change(step, width))
    assert phases[-1][0] != 0  # the grid is off the frame's first columns
    assert _covered(plans[-1], (0, 300, width, 40))
    # the left-out columns are looked at down the whole frame on every look the grid is moved (the
    # strip, or the pieces of it the regions beside it leave, cut only across)
    moved = [(p, ph) for p, ph in zip(plans[1:], phases[1:]) if ph[0]]
    assert moved and all(_rows_looked_at(p, ph[0]).all() for p, ph in moved)


def _rows_looked_at(plan, columns: int) -> np.ndarray:
    """Per frame row: whether a region of the plan holds the frame's first `columns` columns there."""
    if plan.regions is None:
        return np.ones(H, bool)
    rows = np.zeros(H, bool)
    for x0, y0, x1, y1 in plan.regions:
        if x0 == 0 and x1 >= columns:
            rows[y0:y1] = True
    return rows


def test_control_without_the_edge_strip_a_sliver_there_is_not_looked_at(monkeypatch):
    """The edge strip is what sees those columns: left out on purpose, the sliver is missed."""
    monkeypatch.setattr(video_gate, "edge_slivers", lambda phase, size, margin: [])
    plans, phases = _plans(_pan_with_edge_change(2, 2))
    assert phases[-1][0] != 0
    assert not _covered(plans[-1], (0, 300, 2, 40))


def test_phase_correlation_is_asked_for_a_jolt_but_not_for_a_head_coming_on_screen(public_domain, monkeypatch):
    """MEASURE_LOOKED: phase correlation (a dozen correlations a look) is asked only when the best of
    the pans tried would leave much of the frame to look at. A head coming on screen before a still
    camera is one compact place: not asked, and the head is looked at. A jolt of 12 px (far from the
    pans tried) misaligns the scene's edges everywhere: asked, and the gate follows it at once."""
    from screening import video_pan

    calls = []
    measure = video_pan.measure_pan
    monkeypatch.setattr(video_pan, "measure_pan", lambda *a: calls.append(1) or measure(*a))
    wide = _wide_scene(2400)
    still = np.ascontiguousarray(wide[:, 100:100 + W])
    head = still.copy()
    head[200:380, 300:480] = _stand_in(public_domain, 180)
    plans, missed = _gate_run([still, still, head], [[], [], [(300, 200, 180, 180)]])
    assert missed == [] and calls == [] and plans[2].shift == (0, 0)
    jolted = np.ascontiguousarray(wide[:, 112:112 + W])
    plans, missed = _gate_run([still, jolted], [[], []])
    assert calls and plans[1].shift == (-12, 0) and _share(plans[1]) < 0.35, (plans[1].shift, _share(plans[1]))
