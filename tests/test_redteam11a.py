"""Red team 11a: the two changes that just landed, attacked. (1) One face descriptor per face
track (video_passes.FaceMemo, detectors/faces.py `memo=`): a face recalled by box overlap and a
nearly identical chip keeps its judgement; can a different person inherit a consented pupil's
judgement? (2) The change gate following a pan to the frame pixel (video_pan.py, video_gate.py):
can a face on screen be neither looked at nor kept? Each case asserts the SAFE outcome next to a
control; a case found unsafe is marked xfail(strict=True) with the hole's number."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from screening.model import FaceFinding
from screening.video_gate import Gate, small_copy
from screening.video_passes import FaceMemo, same_chip

from . import test_video as _video_tests
from . import test_video_faces_memo as _memo_tests
from .clips import scene
from .test_video_faces_memo import _faces, _frame, _judged, _look

detector = _memo_tests.detector  # the fixture: the astronaut enrolled as P1001
real_faces = _video_tests.real_faces  # the fixture: the real face engine (end to end)

# ---------------------------------------------------------------- the face memo


def _matched(detector, findings) -> list[bool]:
    """Per face, left to right: taken for an enrolled person (the unsafe judgement to inherit)."""
    tol = detector.settings.tolerance
    return [bool(f.candidates) and f.candidates[0][1] <= tol for f in sorted(findings, key=lambda f: f.box[0])]


def _mix(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return np.clip(a.astype(np.float32) * (1 - t) + b.astype(np.float32) * t + 0.5, 0, 255).astype(np.uint8)


def _sequence(detector, looks: list[np.ndarray], step: float = 0.1):
    """Each look through one memo, and what a fresh detector says of the same frame."""
    memo = FaceMemo()
    out = []
    for k, rgb in enumerate(looks):
        out.append((_look(detector, memo, k * step, rgb), detector.faces_in(rgb)))
    return memo, out


def _never_inherits(detector, out) -> None:
    for k, (remembered, fresh) in enumerate(out):
        assert len(remembered) == len(fresh), k
        for m, f in zip(_matched(detector, remembered), _matched(detector, fresh)):
            assert not (m and not f), (k, _judged(remembered), _judged(fresh))


def test_rt11a_1_a_consented_face_crossfading_into_an_unknown_one_is_never_taken_for_him(detector, public_domain):
    """The consented astronaut turns into the unknown cameraman over 1.5 s, in small steps
    (each look differs little from the last), the box staying put: no look may keep the
    astronaut's match once a fresh look would not give it. Control: the memo did recall."""
    astronaut, cameraman = _faces(public_domain)
    steps = [0.0, 0.0] + [k / 14 for k in range(1, 15)] + [1.0]
    memo, out = _sequence(detector, [_frame(_mix(astronaut, cameraman, t), cameraman) for t in steps])
    _never_inherits(detector, out)
    assert memo.recalled >= 2  # the memo was at work (the still start, the unknown man on the right)
    assert _matched(detector, out[-1][0]) == [False, False]  # the end: two unknown men
    assert _matched(detector, out[0][0]) == [True, False]


def test_rt11a_2_a_fine_crossfade_each_step_under_the_chip_limits_still_adds_up(detector, public_domain):
    """Forty steps of 1/40 (each look's chip within the memo's 2/255 of the last look's): the chip
    compared is the one encoded, so the drift adds up and the face is encoded again on the way."""
    astronaut, cameraman = _faces(public_domain)
    steps = [k / 40 for k in range(0, 41, 2)] + [1.0, 1.0]
    looks = [_frame(_mix(astronaut, cameraman, t), cameraman) for t in steps]
    memo, out = _sequence(detector, looks, step=0.04)
    _never_inherits(detector, out)
    assert memo.encoded >= 4  # encoded again several times on the way (control: not every look)
    assert memo.recalled >= len(looks)


@pytest.mark.parametrize("change", ["glasses", "mask", "darker by 30%", "outside the chip"])
def test_rt11a_3_glasses_a_mask_a_lighting_change_or_a_change_around_the_face(detector, public_domain, change):
    """Sudden changes in place: the judgement after them is a fresh look's."""
    astronaut, cameraman = _faces(public_domain)
    changed = astronaut.copy()
    if change == "glasses":
        changed[92:112, 60:180] = (15, 15, 15)
    elif change == "mask":
        changed[140:200, 70:170] = (170, 200, 230)
    elif change == "darker by 30%":
        changed = (astronaut * 0.7).astype(np.uint8)
    else:  # the hair and the background above and beside the face
        changed[:30] = 255 - changed[:30]
        changed[:, :20] = 0
    memo, out = _sequence(detector, [_frame(astronaut, cameraman), _frame(changed, cameraman)])
    remembered, fresh = out[1]
    _never_inherits(detector, out)
    if change == "outside the chip":  # control: this one the memo may (and does) recall
        assert memo.recalled >= 1 and _judged(remembered) == _judged(fresh)
    else:
        assert memo.encoded >= 3


def test_rt11a_4_a_twin_like_stand_in_the_consented_face_slightly_edited_then_another_person(detector, public_domain):
    """The consented face, then the same picture slightly edited (a shade lighter: nearly the same
    chip, same person: recall is fine), then the unknown man pasted into the same place at the
    consented face's size and position: never inherits."""
    astronaut, cameraman = _faces(public_domain)
    lighter = np.clip(astronaut.astype(int) + 1, 0, 255).astype(np.uint8)
    looks = [_frame(astronaut, cameraman), _frame(lighter, cameraman), _frame(cameraman, cameraman)]
    _, out = _sequence(detector, looks)
    _never_inherits(detector, out)
    assert _matched(detector, out[1][0]) == [True, False]


def test_rt11a_5_same_chip_on_two_different_low_contrast_faces():
    """The chip comparison alone: two different faces at very low contrast (a dark hall) differ by
    little in pixels; here different random faces stand in: over 2/255 mean they are refused."""
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (150, 150, 3)).astype(np.float32)
    b = rng.integers(0, 256, (150, 150, 3)).astype(np.float32)

    def dim(x, k):
        return (128 + (x - 128) * k).round().astype(np.uint8)

    assert not same_chip(dim(a, 0.1), dim(b, 0.1))
    assert same_chip(dim(a, 0.01), dim(b, 0.01))  # control: under 1% contrast anything is "the same"


# ---------------------------------------------------------------- the gate following a pan

W, H = 1280, 720


def _stand_in(public_domain, side: int = 72) -> np.ndarray:
    with Image.open(public_domain / "astronaut.png") as img:
        return np.asarray(img.convert("RGB").crop((160, 60, 290, 190)).resize((side, side)))


def _run_gate(frames, faces_at) -> list[tuple[int, tuple]]:
    """Each frame through one Gate; a simulated detector finds every face (rect x, y, w, h) whole
    inside a screened region. Returns the faces on screen neither looked at nor kept."""
    gate = Gate(0.03)
    missed = []
    for k, rgb in enumerate(frames):
        small = small_copy(rgb)
        plan = gate.plan(small, (W, H))
        faces = faces_at(k)
        if plan.regions is None:
            found = list(faces)
        else:
            found = [f for f in faces if any(x0 <= f[0] and y0 <= f[1] and x1 >= f[0] + f[2] and y1 >= f[1] + f[3]
                                             for x0, y0, x1, y1 in plan.regions)]
        kept = [f.box for f in plan.kept]
        for f in faces:
            if f not in found and not any(_iou(f, b) >= 0.5 for b in kept):
                missed.append((k, f))
        gate.commit(plan, small, [FaceFinding(f) for f in found])
    return missed


def _iou(a, b) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return 0.0 if w <= 0 or h <= 0 else w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


def _panned(wide: np.ndarray, xs: list[int], pastes: dict) -> tuple[list, callable]:
    """Frames cut from `wide` at each x; `pastes`: {scene (x, y): (picture, first look)} pasted in
    the scene, so they move with the pan."""
    frames, where = [], []
    for k, x in enumerate(xs):
        canvas = wide.copy()
        on = []
        for (sx, sy), (pic, first) in pastes.items():
            if k >= first:
                canvas[sy:sy + pic.shape[0], sx:sx + pic.shape[1]] = pic
                fx = sx - x
                if 0 <= fx and fx + pic.shape[1] <= W:
                    on.append((fx, sy, pic.shape[1], pic.shape[0]))
        frames.append(np.ascontiguousarray(canvas[:, x:x + W]))
        where.append(on)
    return frames, lambda k: where[k]


def _wide_scene(width: int = 2400) -> np.ndarray:
    return np.concatenate([scene((width // 2, H), seed=3, pan=0)(0.0)] * 2, axis=1)[:, :width]


def test_rt11a_6_a_pan_and_a_face_entering_from_the_revealed_edge(public_domain):
    face = _stand_in(public_domain)
    xs = [100 + 24 * k for k in range(10)]
    frames, at = _panned(_wide_scene(), xs, {(100 + W + 24 * 3 - 80, 300): (face, 0)})
    assert _run_gate(frames, at) == []
    assert any(at(k) for k in range(10))  # control: the face is on screen


def test_rt11a_7_a_pan_that_reverses_with_a_face_appearing_at_the_turn(public_domain):
    face = _stand_in(public_domain)
    xs = [300 + 12 * k for k in range(6)] + [360 - 12 * k for k in range(1, 8)]
    frames, at = _panned(_wide_scene(), xs, {(900, 200): (face, 0), (700, 420): (face, 6)})
    assert _run_gate(frames, at) == []


@pytest.mark.parametrize("per_look", [1.01, 0.99])
def test_rt11a_8_a_slow_zoom_is_no_pan_and_a_face_appearing_in_it_is_looked_at(public_domain, per_look):
    import cv2

    face = _stand_in(public_domain)
    base = _wide_scene()[:, :W].copy()
    base[300:372, 400:472] = face
    frames, faces = [], []
    for k in range(8):
        z = per_look ** k
        m = np.float32([[z, 0, (1 - z) * W / 2], [0, z, (1 - z) * H / 2]])
        rgb = cv2.warpAffine(base, m, (W, H), borderMode=cv2.BORDER_REFLECT)
        f = [(round(400 * z + (1 - z) * W / 2), round(300 * z + (1 - z) * H / 2), round(72 * z), round(72 * z))]
        if k >= 5:
            rgb[500:572, 900:972] = face
            f.append((900, 500, 72, 72))
        frames.append(rgb)
        faces.append(f)
    missed = _run_gate(frames, lambda k: faces[k])
    assert [m for m in missed if m[1][0] == 900] == []  # the new face
    assert missed == []  # the zoomed one: looked at again or kept (moved little)


def _stripes(width: int, period: int) -> np.ndarray:
    x = np.arange(width)
    row = np.where((x % period) < period // 2, 40, 210).astype(np.uint8)
    return np.repeat(np.repeat(row[None, :, None], H, axis=0), 3, axis=2)


def _drawings(width: int, period: int) -> np.ndarray:
    """A crowd of identical smiley drawings, a repeating pattern every `period` px both ways."""
    tile = Image.new("RGB", (period, period), (235, 225, 200))
    from PIL import ImageDraw

    d = ImageDraw.Draw(tile)
    r = period // 2 - 6
    c = period // 2
    d.ellipse((c - r, c - r, c + r, c + r), fill=(240, 200, 160), outline=(40, 30, 20), width=2)
    d.ellipse((c - r // 2 - 4, c - r // 3 - 4, c - r // 2 + 4, c - r // 3 + 4), fill=(20, 20, 20))
    d.ellipse((c + r // 2 - 4, c - r // 3 - 4, c + r // 2 + 4, c - r // 3 + 4), fill=(20, 20, 20))
    d.arc((c - r // 2, c - r // 4, c + r // 2, c + r // 2), 20, 160, fill=(120, 20, 20), width=3)
    t = np.asarray(tile)
    return np.tile(t, (-(-H // period), -(-width // period), 1))[:H, :width].copy()


@pytest.mark.parametrize("texture,step", [("stripes32", 8), ("stripes32", 32), ("stripes32", 36),
                                          ("drawings64", 64), ("drawings64", 20)])
def test_rt11a_9_a_pan_over_a_repeating_texture_and_a_face_appearing_where_the_texture_is(public_domain, texture, step):
    """Most of the frame one repeating texture (the pan measured up to a period): a face that was
    there moves with the scene, a new one appears in the texture at look 4."""
    face = _stand_in(public_domain)
    wide = _stripes(2600, 32) if texture.startswith("stripes") else _drawings(2600, 64)
    xs = [200 + step * k for k in range(8)]
    frames, at = _panned(wide, xs, {(700, 160): (face, 0), (900, 420): (face, 4)})
    assert _run_gate(frames, at) == []


def test_rt11a_10_a_pan_faster_than_the_searched_range(public_domain):
    face = _stand_in(public_domain)
    xs = [0, 420, 840, 1260, 1680]
    wide = _wide_scene(3200)
    frames, at = _panned(wide, xs, {(1000, 300): (face, 0), (2300, 200): (face, 3)})
    assert _run_gate(frames, at) == []
    assert sum(len(at(k)) for k in range(5)) >= 3  # control


def test_rt11a_11_a_pan_with_one_period_of_texture_hides_a_kept_face_swap(public_domain):
    """A wall of identical drawings with one real face among them; the camera pans exactly one
    period while the face in the scene is replaced by another at the same place in the frame (it
    stays put in the frame while the wall moves): the face's place changes in the scene."""
    astronaut, cameraman = _faces(public_domain)
    small_a = np.asarray(Image.fromarray(astronaut).resize((96, 96)))
    small_c = np.asarray(Image.fromarray(cameraman).resize((96, 96)))
    wall = _drawings(2600, 64)
    frames, faces = [], []
    for k in range(6):
        rgb = np.ascontiguousarray(wall[:, 64 * k:64 * k + W])
        rgb[320:416, 640:736] = small_a if k < 3 else small_c
        frames.append(rgb)
        faces.append([(640, 320, 96, 96)])
    gate = Gate(0.03)
    looked = []
    for k, rgb in enumerate(frames):
        small = small_copy(rgb)
        plan = gate.plan(small, (W, H))
        inside = plan.regions is None or any(x0 <= 640 and y0 <= 320 and x1 >= 736 and y1 >= 416
                                             for x0, y0, x1, y1 in plan.regions)
        looked.append(inside)
        gate.commit(plan, small, [FaceFinding(faces[k][0])] if inside else [])
    assert looked[3]  # the new person is looked at, not kept from the astronaut's look


@pytest.mark.parametrize("step,side", [(8, 240), (16, 300), (5, 180), (4, 120)])
def test_rt11a_12_a_pan_bringing_in_a_face_wider_than_a_revealed_strips_region(public_domain, step, side):
    """A close-up face wider than the region a revealed strip is looked at in (the strip, its
    48 px margin, at least 160 px, cut by the frame's edge to ~124) comes in from the edge a few
    pixels a look: never whole in one look's strip, so it must be looked at whole through the
    pending cells, at most a few looks after it is all in (here: within 2 looks)."""
    face = _stand_in(public_domain, side)
    n = (side + 40) // step + 20
    xs = [100 + step * k for k in range(n)]
    frames, at = _panned(_wide_scene(2400 + step * n), xs, {(100 + W + 20, 240): (face, 0)})
    assert len(_run_gate(frames, at)) <= 2
    assert sum(1 for k in range(n) if at(k)) >= 15  # control: it came fully in and stayed


@pytest.mark.xfail(strict=True, reason="RT11a-1 (gate level): a slow pan (1-3 frame px a look, 4-12 px/s at "
                   "4 looks/s) brings in a face wider than ~130 px strip by strip; each revealed strip is looked "
                   "at (~124 px wide at the edge) and leaves pending, so the face is never inside one region "
                   "whole. End to end the real face and logo detectors found the half-seen face/crest in the "
                   "strip and its box then pulled the whole in (no cleared verdict seen)")
@pytest.mark.parametrize("step,side", [(3, 180), (3, 240), (3, 140)])
def test_rt11a_12b_a_slow_pan_bringing_in_a_wide_face_strip_by_strip(public_domain, step, side):
    """(2 and 4 px a look are caught or not depending on the scene: the grid's phase.)"""
    face = _stand_in(public_domain, side)
    n = (side + 40) // step + 30
    xs = [100 + step * k for k in range(n)]
    frames, at = _panned(_wide_scene(3000), xs, {(100 + W + 20, 240): (face, 0)})
    on = sum(1 for k in range(n) if at(k))
    assert on >= 30  # control: on screen, whole, for 30 looks (7.5 s at 4 looks a second)
    assert len(_run_gate(frames, at)) <= 2


@pytest.mark.slow
def test_rt11a_13_a_clip_where_the_consented_face_crossfades_into_an_unknown_one(tmp_path, public_domain, real_faces):
    """End to end (gate, memo, verdict): on a still scene the consented astronaut turns into the
    unknown cameraman over 1.2 s, in place; the man must be reported once the fade is over."""
    from screening.config import load_config

    from .clips import write_clip
    from .test_video import STAFF, TOML, screen

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    astronaut, cameraman = _faces(public_domain)
    left = (300, 240)

    def clip(name, end):
        def hook(t, pixels):
            share = end * min(1.0, max(0.0, (t - 0.4) / 1.2))
            pixels[left[1]:left[1] + 240, left[0]:left[0] + 240] = _mix(astronaut, cameraman, share)
            return pixels
        return write_clip(tmp_path / name, 2.4, size=(1280, 720), pan=0, frame_hook=hook)

    _, control = screen(clip("still.mp4", 0.0), config, faces=real_faces, people=STAFF)
    assert [r for r in control.reasons if r.kind.value == "unknown_face"] == []  # the astronaut alone
    _, d = screen(clip("fade.mp4", 1.0), config, faces=real_faces, people=STAFF)
    assert d.status.value != "cleared"
    assert [r for r in d.reasons if r.kind.value == "unknown_face" and r.box[0] < 560], d.reasons
