"""Change gating of video frames (video_gate.py, video_passes.py): each check looks again only
where the frame changed since it last looked, and still sees everything on screen for 0.5 s.
Hostile clips: a change in one small tile at the very end, a face shown for 0.5 s in a place
that never changes otherwise, a cut to black and back, a camera pan. Also: the redacted copy
keeps the sound."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from screening import cli, pipeline, pool
from screening.config import VideoSettings
from screening.formats import video
from screening.model import Check, FaceFinding, Status
from screening.video_gate import CELL, Gate, Plan, small_copy

from .clips import Appearance, scene, write_clip
from .test_video import RED, STRIPES, TOML, Nothing, RedSquareFaces, checks, screen
from .test_video import config as config  # noqa: F401 (fixture)


class CropCounter(RedSquareFaces):
    """RedSquareFaces that also records the size of every picture it was shown."""

    def __init__(self):
        super().__init__()
        self.shapes = []

    def detect(self, picture, earlier):
        self.shapes.append(picture.frames[0].shape[:2])
        return super().detect(picture, earlier)


def faces_of(s):
    return [f for r in s.results for f in r.findings if isinstance(f, FaceFinding)]


# ---------------------------------------------------------------- the gate alone


def test_an_unchanged_frame_is_not_screened_and_keeps_its_findings():
    rgb = scene((640, 360), pan=0)(0.0)
    gate = Gate(0.03)
    grey = small_copy(rgb)
    plan = gate.plan(grey, (640, 360))
    assert plan.regions is None  # the first look is whole
    face = FaceFinding((100, 100, 40, 40))
    gate.commit(plan, grey, [face])
    again = gate.plan(small_copy(rgb.copy()), (640, 360))
    assert again.regions == () and again.kept == (face,)


def test_a_small_change_is_screened_in_a_small_region_with_a_margin():
    rgb = scene((1280, 720), pan=0)(0.0)
    gate = Gate(0.03)
    gate.commit(gate.plan(small_copy(rgb), (1280, 720)), small_copy(rgb), [])
    changed = rgb.copy()
    changed[600:640, 1200:1240] = RED
    (region,) = gate.plan(small_copy(changed), (1280, 720)).regions
    x0, y0, x1, y1 = region
    assert x0 <= 1200 and y0 <= 600 and x1 >= 1240 and y1 >= 640  # all of the change
    assert (x1 - x0) * (y1 - y0) < 0.1 * 1280 * 720  # and not the whole frame


def test_gates_sharing_a_frames_work_never_share_it_across_different_references():
    """The pan and the changed cells are worked out once per frame for gates whose references are
    equal: a gate that has not yet looked at a change (its reference older by one small patch, a
    patch that one gate looked at in its last look) must still find it changed, and a gate whose
    reference is updated in place after its look must not change what the next gate is given."""
    rgb = scene((1280, 720), pan=0)(0.0)
    first = small_copy(rgb)
    ahead, behind, same = Gate(0.03), Gate(0.03), Gate(0.03)
    for gate in (ahead, behind, same):
        gate.commit(gate.plan(first, (1280, 720)), first, [])
    marked = rgb.copy()
    marked[600:640, 1200:1240] = RED
    seen = small_copy(marked)
    # `ahead` looked at the frame with the patch (whole, as at a cut); `behind` did not
    ahead.commit(Plan(None, ()), seen, [])
    frame = small_copy(marked.copy())
    assert frame._worked == []
    assert ahead.plan(frame, (1280, 720)).regions == ()  # nothing changed since it looked
    (region,) = behind.plan(frame, (1280, 720)).regions  # its reference differs: worked out again
    assert region[0] <= 1200 and region[1] <= 600 and region[2] >= 1240 and region[3] >= 640
    plan = same.plan(frame, (1280, 720))  # equal to `behind`'s reference: its work is reused, same answer
    assert plan.regions == (region,)
    assert len(frame._worked) == 4  # (pan, changed) for ahead and for behind; none for `same`
    behind.commit(plan, frame, [])  # `behind` updates its reference in place...
    again = Gate(0.03)
    again.commit(again.plan(first, (1280, 720)), first, [])
    assert again.plan(frame, (1280, 720)).regions == (region,)  # ...which changes nothing kept for others
    # what was worked out is kept against a copy of its inputs: a reference changed in place after
    # it was worked out (a gate's commit) is not taken for the one it was
    held = np.zeros((3, 4, 4), np.uint8)
    assert frame.worked_out("test", (held,), (), lambda: "before") == "before"
    held[0, 0, 0] = 1
    assert frame.worked_out("test", (held,), (), lambda: "after") == "after"


def test_a_finding_the_changed_region_reaches_into_is_looked_at_again_whole():
    rgb = scene((640, 360), pan=0)(0.0)
    gate = Gate(0.03)
    face = FaceFinding((300, 100, 60, 60))
    gate.commit(gate.plan(small_copy(rgb), (640, 360)), small_copy(rgb), [face])
    changed = rgb.copy()
    changed[100:112, 280:290] = 255  # a small change beside the face
    plan = gate.plan(small_copy(changed), (640, 360))
    assert plan.kept == ()
    assert any(x0 <= 300 and y0 <= 100 and x1 >= 360 and y1 >= 160 for x0, y0, x1, y1 in plan.regions)


def test_a_camera_pan_moves_the_kept_findings_and_screens_only_what_it_reveals():
    background = scene((1280, 720), pan=0)
    wide = np.concatenate([background(0.0), background(0.0)[:, ::-1]], axis=1)
    gate = Gate(0.03)
    face = FaceFinding((600, 300, 60, 60))
    first = wide[:, :1280]
    gate.commit(gate.plan(small_copy(first), (1280, 720)), small_copy(first), [face])
    panned = np.ascontiguousarray(wide[:, 40:1320])  # the camera turned right by 40 px
    plan = gate.plan(small_copy(panned), (1280, 720))
    assert plan.regions is not None and plan.shift[0] == pytest.approx(-40, abs=4)
    assert [f.box for f in plan.kept] == [pytest.approx((560, 300, 60, 60), abs=4)]
    assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in plan.regions) < 0.25 * 1280 * 720


def test_threshold_zero_screens_every_frame_whole():
    rgb = scene((320, 240), pan=0)(0.0)
    gate = Gate(0.0)
    gate.commit(gate.plan(small_copy(rgb), (320, 240)), small_copy(rgb), [])
    assert gate.plan(small_copy(rgb), (320, 240)).regions is None


# ---------------------------------------------------------------- hostile clips, end to end


def test_a_change_in_one_small_tile_at_the_end_is_seen(tmp_path, config):
    """Tripod footage, nothing moves for 3.5 s, then a face in one corner for the last 0.5 s."""
    faces = CropCounter()
    clip = write_clip(tmp_path / "corner.mp4", 4.0, size=(640, 360), pan=0,
                      appearances=(Appearance(RED, 3.5, 0.5, (590, 310)),))
    s, d = screen(clip, config, faces=faces)
    assert d.status is Status.NEEDS_PERMISSION
    (face,) = faces_of(s)
    assert face.box == pytest.approx((590, 310, 40, 40), abs=2) and face.time >= 3.5
    # only the corner was looked at again, until the last frame (every check looks at it whole)
    assert max(h * w for h, w in faces.shapes[1:-1]) < 0.5 * 640 * 360
    assert faces.shapes[-1] == (360, 640)


def test_a_face_for_half_a_second_where_nothing_else_ever_changes_is_seen(tmp_path, config):
    for start in (0.3, 1.1, 2.45):
        clip = write_clip(tmp_path / f"still{start}.mp4", 3.0, size=(640, 360), pan=0,
                          appearances=(Appearance(STRIPES, start, 0.5, (300, 160)),))
        faces = CropCounter()
        faces.detect = _striped(faces.detect)
        s, d = screen(clip, config, faces=faces)
        assert d.status is Status.NEEDS_PERMISSION, start
        assert [f.time for f in faces_of(s)] == [pytest.approx(start, abs=0.3)]


def _striped(detect):
    """The stand-in face check sees red-and-white stripes as a face too."""
    def run(picture, earlier):
        rgb = picture.frames[0].astype(int)
        red = (rgb[..., 0] > 200) & (rgb[..., 1] < 90) & (rgb[..., 2] < 90)
        if red.sum() < 100:
            return detect(picture, earlier)
        ys, xs = np.nonzero(red)
        return [FaceFinding((int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1))]
    return run


def test_a_cut_to_black_and_back_screens_again_and_ends_the_appearance(tmp_path, config):
    """The face is on screen, the picture cuts to black for 0.5 s, then comes back as it was:
    the black frames are a scene change, the return another; the face is two appearances."""
    def black(t, pixels):
        return np.zeros_like(pixels) if 1.0 <= t < 1.5 else pixels
    clip = write_clip(tmp_path / "cut.mp4", 2.5, size=(640, 360), pan=0, frame_hook=black,
                      appearances=(Appearance(RED, 0.0, 2.5, (200, 100)),))
    s, d = screen(clip, config)
    times = sorted(f.time for f in faces_of(s))
    assert len(times) == 2 and times[0] < 1.0 and 1.5 <= times[1] < 1.8, times


class ReddishFaces(RedSquareFaces):
    """A face check that finds a red patch over the sky once it is two-thirds opaque."""

    def detect(self, picture, earlier):
        rgb = picture.frames[0].astype(int)
        mask = (rgb[..., 0] > 180) & (rgb[..., 1] < 60)
        if mask.sum() < 100:
            return []
        ys, xs = np.nonzero(mask)
        return [FaceFinding((int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1))]


def test_a_face_fading_in_too_slowly_for_any_one_step_to_count_is_seen(tmp_path, config):
    """No frame differs from the one before by the threshold, but the change since the last
    look adds up: the place is looked at again as the face builds up."""
    def fade(t, pixels):
        alpha = min(1.0, t / 2.5)
        patch = pixels[20:80, 200:260].astype(float)
        pixels[20:80, 200:260] = (patch * (1 - alpha) + np.array([255, 0, 0]) * alpha).astype(np.uint8)
        return pixels
    clip = write_clip(tmp_path / "fade.mp4", 3.0, size=(640, 360), pan=0, frame_hook=fade)
    s, d = screen(clip, config, faces=ReddishFaces())
    assert d.status is Status.NEEDS_PERMISSION
    (face,) = faces_of(s)
    assert face.box == pytest.approx((200, 20, 60, 60), abs=3)


def test_gated_and_whole_frame_screening_find_the_same_appearances(tmp_path, config):
    clip = write_clip(tmp_path / "walk.mp4", 3.0, size=(480, 272),
                      appearances=(Appearance(RED, 0.2, 1.0, (20, 30)), Appearance(RED, 1.6, 0.6, (400, 200))))
    found = {}
    for threshold in (0.0, 0.03):
        settings = dataclasses.replace(VideoSettings(), change_threshold=threshold)
        s = pipeline.screen_file(clip, checks(config), video=settings)
        found[threshold] = sorted((f.time, f.box) for f in faces_of(s))
    assert len(found[0.0]) == 2 and found[0.03] == found[0.0]


def test_logos_run_on_crops_see_the_frame_at_the_same_zoom_as_the_whole(tmp_path, config):
    """A crop given to the logo check is not blown up to [logos] max_side (that costs as much as
    the whole frame): it is worked on at the zoom the whole frame gets."""
    from screening.video_passes import build_passes

    class Logos:
        settings = type("S", (), {"max_side": 1400, "max_zoom": 2.0})()
        seen = []

        def search(self, rgb, box=None, *, max_side=None, max_zoom=None, **kw):
            self.seen.append(min(max_side / max(rgb.shape[:2]), max_zoom))
            return []

        def detect(self, picture, earlier):
            raise AssertionError("the crop path is used")

    (p,) = build_passes(tmp_path, {Check.LOGOS: Logos()}, VideoSettings())
    p.whole = (1280, 720)
    p.run(np.zeros((200, 300, 3), np.uint8), {})
    assert Logos.seen == [pytest.approx(1400 / 1280, rel=0.01)]  # the whole frame: 1400 px over 1280


def test_a_later_check_reads_this_frames_faces_in_its_own_crops_pixels(tmp_path, config):
    """Uniforms reads the faces found in the same frame: in a crop, their boxes are the crop's."""
    seen = []

    class Uniforms:
        def detect(self, picture, earlier):
            rgb = picture.frames[0]
            for f in earlier[Check.FACES].findings:
                x, y, w, h = f.box
                patch = rgb[y:y + h, x:x + w].astype(int)
                seen.append(bool(((patch[..., 0] > 200) & (patch[..., 1] < 60)).mean() > 0.8))
            return []
    clip = write_clip(tmp_path / "c.mp4", 3.0, size=(1280, 720), pan=0,
                      appearances=(Appearance(RED, 1.2, 1.0, (1100, 600)),))
    detectors = {**checks(config), Check.UNIFORMS: Uniforms()}
    s = pipeline.screen_file(clip, detectors, video=VideoSettings(max_side=640))
    assert seen and all(seen)  # every face box handed over lies on the red square in that crop


def test_a_check_that_fails_on_a_crop_is_an_error(tmp_path, config):
    class Fails(RedSquareFaces):
        def detect(self, picture, earlier):
            if picture.frames[0].shape[:2] != (360, 640):
                raise RuntimeError("boom on a crop")
            return super().detect(picture, earlier)
    clip = write_clip(tmp_path / "c.mp4", 2.0, size=(640, 360), pan=0,
                      appearances=(Appearance(RED, 1.0, 0.5, (500, 300)),))
    s, d = screen(clip, config, faces=Fails())
    assert d.status is Status.ERROR
    assert "boom on a crop" in next(r.error for r in s.results if r.check is Check.FACES)


# ---------------------------------------------------------------- redact keeps the sound


def test_the_redacted_copy_keeps_the_sound_but_not_its_tags(tmp_path, monkeypatch):
    import av

    from screening import redact_video

    (tmp_path / "screening.toml").write_text(TOML)
    (tmp_path / "r.csv").write_text("person_id,name,role,academy,biometric_consent,website,social_media,"
                                    "print,expires,withdrawn\n")
    (tmp_path / "p").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", lambda config, gallery, people=None: checks(config))
    monkeypatch.setattr(redact_video, "face_detector", lambda config, gallery: RedSquareFaces())
    (tmp_path / "in").mkdir()
    clip = write_clip(tmp_path / "in" / "song.mkv", 2.0, audio="aac", audio_tags={"LOCATION": "+53.8021-001.5476/"},
                      appearances=(Appearance(STRIPES, 0.5, 1.0, (100, 80)),))
    assert cli.main(["redact", str(clip), "--into", "out", "--workers", "1"]) == 0
    copy = tmp_path / "out" / "song.mp4"
    with av.open(str(clip)) as original, av.open(str(copy)) as made:
        (a,), (b,) = original.streams.audio, made.streams.audio
        assert b.codec_context.name == "aac" and b.sample_rate == a.sample_rate
        sent = [bytes(p) for p in original.demux(a) if p.size]
        kept = [bytes(p) for p in made.demux(b) if p.size]
        assert kept == sent  # copied as it is, packet for packet
        assert not any("location" in k.lower() for k in b.metadata)
    assert not any("location" in k.lower() for k in video.Clip(copy, video.MP4).probe.metadata)


def test_sound_that_cannot_go_in_an_mp4_is_left_out(tmp_path, monkeypatch):
    from screening import redact_video
    from screening.policy import Rules

    clip = write_clip(tmp_path / "old.mkv", 1.0, audio="pcm_s16le")
    import datetime as dt

    copy, _ = redact_video.make_video_copy(clip, video.MATROSKA, _sha(clip), tmp_path / "out", Nothing(),
                                           Rules("website", dt.date(2026, 10, 1), people={}), VideoSettings())
    import av

    with av.open(str(copy)) as made:
        assert not made.streams.audio and len(made.streams.video) == 1


def _sha(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()



def test_face_check_parts_run_on_their_own_schedules_and_turned_faces_ignore_bodies(tmp_path, config):
    """With a face detector that offers its parts: upright faces on every screened frame, bodies
    and turned faces at least every 0.5 s; the turned search is told only the upright faces
    (a turned face inside a person's body box is still reported)."""
    from screening.model import PersonFinding

    class Parts:
        def __init__(self):
            self.calls = {"faces": [], "bodies": [], "turned": []}

        def check_gallery(self):
            pass

        def faces_in(self, rgb, frame=0, engine=None, memo=None):
            self.calls["faces"].append(rgb.shape)
            return RedSquareFaces().detect(type("P", (), {"frames": [rgb]})(), {})

        def bodies_in(self, rgb, frame=0):
            self.calls["bodies"].append(rgb.shape)
            return [PersonFinding((0, 0, rgb.shape[1], rgb.shape[0]), 1.0)]

        def turned_in(self, rgb, upright, frame=0):
            self.calls["turned"].append([type(f).__name__ for f in upright])
            return []

    parts = Parts()
    parts.engine = type("E", (), {"settings": config.faces})()
    clip = write_clip(tmp_path / "c.mp4", 3.0, size=(320, 240), appearances=(Appearance(RED, 0.5, 2.0, (100, 80)),))
    whole = dataclasses.replace(config.video, change_threshold=0.0)
    s = pipeline.screen_file(clip, {**checks(config), Check.FACES: parts}, video=whole)
    screened = int(s.results[0].notes[0].split(": ")[1].split(" frames")[0])
    assert len(parts.calls["faces"]) == screened
    assert 6 <= len(parts.calls["bodies"]) == len(parts.calls["turned"]) < screened
    assert all(set(names) <= {"FaceFinding"} for names in parts.calls["turned"])
    assert any(names for names in parts.calls["turned"])


def test_turned_faces_are_searched_in_a_crop_at_the_whole_frames_scale_and_mapped_back(tmp_path, config):
    """The turned search sees a crop at the scale the engine would see the whole frame at (its
    640 px copy), so a crop costs its share; the faces it reports land back where they are."""
    class Parts:
        engine = type("E", (), {"settings": config.faces})()

        def __init__(self):
            self.sizes = []

        def check_gallery(self):
            pass

        def faces_in(self, rgb, frame=0, engine=None, memo=None):
            return []

        def bodies_in(self, rgb, frame=0):
            return []

        def turned_in(self, rgb, upright, frame=0):
            self.sizes.append(rgb.shape[:2])
            return [dataclasses.replace(f, identifiable=False, detail="seen only with the picture turned 90")
                    for f in RedSquareFaces().detect(type("P", (), {"frames": [rgb]})(), {})]

    parts = Parts()
    clip = write_clip(tmp_path / "side.mp4", 2.0, size=(1280, 720), pan=0,
                      appearances=(Appearance(np.repeat(np.repeat(RED, 2, 0), 2, 1), 1.0, 1.0, (900, 400)),))
    s = pipeline.screen_file(clip, {**checks(config), Check.FACES: parts}, video=VideoSettings())
    (face,) = faces_of(s)
    assert face.box == pytest.approx((900, 400, 80, 80), abs=3) and face.time >= 1.0
    assert parts.sizes[0] == (360, 640)  # the first look: the whole frame at 640
    assert all(h * w < 0.5 * 360 * 640 for h, w in parts.sizes[1:-1])  # then only crops, at that scale
    assert parts.sizes[-1] == (360, 640)  # and the last frame whole again


# ---------------------------------------------------------------- crops searched at the whole frame's scale


def test_faces_in_a_crop_are_searched_at_the_scale_of_the_whole_frame(tmp_path, config):
    """A crop of a 1280 px frame is searched at the scale the whole frame is (0.6: a 40 px face
    is 24 px for the detector), not planned on its own size (which would be full size)."""
    from screening.vision.face_engine import fine_scale, plan

    class Parts:
        engine = type("E", (), {"settings": config.faces})()

        def __init__(self):
            self.looks = []

        def check_gallery(self):
            pass

        def faces_in(self, rgb, frame=0, engine=None, memo=None):
            self.looks.append((rgb.shape[:2], engine.scale))
            return RedSquareFaces().detect(type("P", (), {"frames": [rgb]})(), {})

        def bodies_in(self, rgb, frame=0):
            return []

        def turned_in(self, rgb, upright, frame=0):
            return []

    parts = Parts()
    clip = write_clip(tmp_path / "c.mp4", 2.0, size=(1280, 720), pan=0,
                      appearances=(Appearance(RED, 1.0, 1.0, (900, 400)),))
    s = pipeline.screen_file(clip, {**checks(config), Check.FACES: parts}, video=VideoSettings())
    (face,) = faces_of(s)
    assert face.box == pytest.approx((900, 400, 40, 40), abs=2)
    assert any(h * w < 0.5 * 1280 * 720 for (h, w), _ in parts.looks)  # crops were searched
    assert [scale for _, scale in parts.looks] == [pytest.approx(0.6)] * len(parts.looks)
    assert fine_scale(1280, 720, dataclasses.replace(config.faces, detail_side=640)) == pytest.approx(0.6)
    # the engine's own plan is unchanged for a photo; given a scale, the finest view is at it
    assert plan(400, 300, config.faces)[0].scale == 1.0
    assert plan(400, 300, config.faces, 0.6)[0].scale == pytest.approx(0.6)


def test_text_in_a_crop_is_read_at_the_scale_of_the_whole_frame(tmp_path, config):
    """OCR plans a small picture at full size; a crop of a video frame is worked on at the
    scale of its whole frame instead (the frame is shrunk to [video] max_side first)."""
    from screening.vision.ocr import OcrEngine

    class Engine:
        scale = 0.3

        def __init__(self):
            self.looks = []

        working_scale = OcrEngine.working_scale

        def read(self, rgb, scale=None):
            self.looks.append((rgb.shape[:2], scale))
            return []

    class Text:
        def __init__(self):
            self.engine = Engine()

        def findings(self, lines, frame=0, width=0, height=0):
            return []

        def detect_tags(self, tags):
            return []

    text = Text()
    clip = write_clip(tmp_path / "c.mp4", 2.0, size=(1280, 720), pan=0,
                      appearances=(Appearance(RED, 1.0, 1.0, (900, 400)),))
    pipeline.screen_file(clip, {**checks(config), Check.TEXT: text}, video=VideoSettings())
    assert any(h * w < 0.5 * 1280 * 720 for (h, w), _ in text.engine.looks)  # crops were read
    assert [s for _, s in text.engine.looks] == [pytest.approx(960 / 1280)] * len(text.engine.looks)  # the whole frame's
