"""One face descriptor per face track (video_passes.FaceMemo): a face located again in a later look
with a nearly identical aligned chip keeps its judgement; anything else is encoded again. The
hostile case: two different people swapping places between two looks, so each box overlaps the
other person's earlier box. Also the gate's sub-pixel pan (video_gate): a slow pan, a face in it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from screening.config import FaceSettings
from screening.consent.gallery import Gallery
from screening.video_gate import Gate, small_copy
from screening.video_passes import FaceMemo, same_chip

from .clips import scene
from .test_video import real_faces as real_faces  # noqa: F401 (fixture)

# Where the faces are in samples/public-domain (CenterFace's boxes), and the canvas places.
FACES = {"astronaut.png": (178, 76, 95, 96), "camera.png": (200, 132, 60, 60)}
SIDE = 240  # each face's square crop, pasted at this size (the face about 100 px wide)
PLACES = ((40, 60), (360, 60))


@pytest.fixture(scope="module")
def detector(public_domain):
    from screening.detectors.faces import FaceDetector
    from screening.vision.face_engine import MODEL_VERSION, FaceEngine

    engine = FaceEngine(FaceSettings(people=False))
    astronaut = np.asarray(Image.open(public_domain / "astronaut.png").convert("RGB"))
    gallery = Gallery(("P1001",), engine.encode(astronaut, FACES["astronaut.png"])[None, :], MODEL_VERSION)
    return FaceDetector(FaceSettings(people=False), gallery, engine)


def _faces(public_domain) -> list[np.ndarray]:
    out = []
    for name, (x, y, w, h) in FACES.items():
        img = Image.open(public_domain / name).convert("RGB")
        cx, cy, half = x + w / 2, y + h / 2, w * 1.2
        out.append(np.asarray(img.crop((cx - half, cy - half, cx + half, cy + half)).resize((SIDE, SIDE))))
    return out


def _frame(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    canvas = np.full((360, 640, 3), 128, np.uint8)
    for face, (x, y) in zip((first, second), PLACES):
        canvas[y:y + SIDE, x:x + SIDE] = face
    return canvas


def _judged(findings) -> list:
    return [(f.identifiable, tuple(p for p, _ in f.candidates[:1]),
             round(f.candidates[0][1], 6) if f.candidates else None)
            for f in sorted(findings, key=lambda f: f.box[0])]


def _look(detector, memo, time, rgb):
    memo.look(time)
    return detector.faces_in(rgb, memo=memo.at((0, 0)))


def test_the_same_face_in_the_next_look_is_not_encoded_again_and_keeps_its_judgement(detector, public_domain):
    astronaut, cameraman = _faces(public_domain)
    rgb = _frame(astronaut, cameraman)
    memo = FaceMemo()
    first = _look(detector, memo, 0.0, rgb)
    encoded = memo.encoded
    assert encoded >= 1 and any(f.candidates and f.candidates[0][1] < 0.45 for f in first)
    again = _look(detector, memo, 0.25, rgb)
    assert memo.encoded == encoded and memo.recalled == encoded
    assert _judged(again) == _judged(first) == _judged(detector.faces_in(rgb))


def test_two_people_swapping_places_between_looks_are_both_encoded_again(detector, public_domain):
    """The hostile case: the consented astronaut and an unknown man swap places between two looks;
    each new face's box is the other person's old box. Both must be judged afresh."""
    astronaut, cameraman = _faces(public_domain)
    memo = FaceMemo()
    before = _look(detector, memo, 0.0, _frame(astronaut, cameraman))
    encoded = memo.encoded
    swapped = _frame(cameraman, astronaut)
    after = _look(detector, memo, 0.25, swapped)
    assert memo.recalled == 0 and memo.encoded == 2 * encoded
    assert _judged(after) == _judged(detector.faces_in(swapped))
    assert _judged(after) != _judged(before)  # the judgements moved with the people


def test_a_face_that_changes_a_little_in_one_part_is_encoded_again(detector, public_domain):
    """A small local change (a mark drawn over an eye) is not the same chip: encoded again."""
    astronaut, cameraman = _faces(public_domain)
    memo = FaceMemo()
    _look(detector, memo, 0.0, _frame(astronaut, cameraman))
    encoded = memo.encoded
    marked = astronaut.copy()
    marked[95:110, 85:110] = (20, 20, 20)
    after = _look(detector, memo, 0.25, _frame(marked, cameraman))
    assert memo.encoded == encoded + 1 and memo.recalled == encoded - 1
    assert _judged(after) == _judged(detector.faces_in(_frame(marked, cameraman)))


def test_the_memo_forgets_at_a_cut_and_after_a_second_unseen(detector, public_domain):
    astronaut, cameraman = _faces(public_domain)
    rgb = _frame(astronaut, cameraman)
    memo = FaceMemo()
    _look(detector, memo, 0.0, rgb)
    memo.look(0.25, cut=True)
    assert memo.entries == []
    _look(detector, memo, 0.5, rgb)
    memo.look(1.75)
    assert memo.entries == []


def test_same_chip_refuses_noise_over_the_limits():
    rng = np.random.default_rng(1)
    chip = rng.integers(0, 256, (150, 150, 3), dtype=np.uint8)
    assert same_chip(chip, chip)
    assert same_chip(chip, np.clip(chip.astype(int) + 1, 0, 255).astype(np.uint8))
    patch = chip.copy()
    patch[:30, :30] = 255 - patch[:30, :30]  # one block of 25 changed: the whole chip's mean stays low
    assert not same_chip(chip, patch)
    assert not same_chip(chip, chip[:, ::-1])


@pytest.mark.parametrize("pan", [1, 2, 3, 6, -2])
def test_a_slow_pan_is_followed_to_the_frame_pixel_and_a_face_appearing_in_it_is_looked_at(pan):
    """A pan of a few frame pixels a look (under one or two pixels of the gate's small copy) over
    a scene of hard-edged shapes: followed to the frame pixel, so only an edge strip is looked at
    again (main looked at a third of the frame or all of it); a face appearing mid-pan is looked at."""
    wide = scene((1700, 720), seed=2, pan=0)(0.0)
    gate = Gate(0.03)
    shares = []
    for k in range(8):
        x = 200 + pan * k
        rgb = np.ascontiguousarray(wide[:, x:x + 1280])
        if k == 5:
            rgb[300:360, 600:660] = (220, 30, 30)
        small = small_copy(rgb)
        plan = gate.plan(small, (1280, 720))
        if k == 5:
            assert plan.regions is None or any(x0 <= 600 and y0 <= 300 and x1 >= 660 and y1 >= 360
                                               for x0, y0, x1, y1 in plan.regions)
        elif 0 < k < 5:  # the pan alone (after it, the still face is looked at again: it moved in the scene)
            assert plan.regions is not None
            shares.append(sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in plan.regions) / (1280 * 720))
        gate.commit(plan, small, [])
    assert max(shares) < 0.3, shares


@pytest.mark.slow
def test_a_clip_where_two_people_swap_places_judges_both_in_both_places(tmp_path, public_domain, real_faces):
    """End to end, the hostile clip: the consented astronaut on the left and an unknown man on the
    right, swapping places at 0.6 s on a still scene (their first judgements still remembered).
    The man must be reported where he stands after the swap (a reused judgement would take him
    for the consented astronaut)."""
    from screening.config import load_config

    from .clips import Appearance, write_clip
    from .test_video import STAFF, TOML, screen

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    astronaut, cameraman = _faces(public_domain)
    # on a 1280 x 720 scene the swap is no scene change (which would forget everything anyway)
    left, right = (300, 240), (740, 240)
    clip = write_clip(tmp_path / "swap.mp4", 2.0, size=(1280, 720), pan=0, appearances=(
        Appearance(astronaut, 0.0, 0.6, left), Appearance(cameraman, 0.0, 0.6, right),
        Appearance(cameraman, 0.6, 1.4, left), Appearance(astronaut, 0.6, 1.4, right)))
    _, d = screen(clip, config, faces=real_faces, people=STAFF)
    unknown = [(r.time, r.box[0]) for r in d.reasons if r.kind.value == "unknown_face"]
    assert any(t < 0.6 and x >= right[0] for t, x in unknown), d.reasons
    assert any(t >= 0.6 and x < right[0] for t, x in unknown), d.reasons
    assert "scene change" not in str(d.reasons)
