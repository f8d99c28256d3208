"""Red team, round 5: change gating of video frames (video_gate.py). Each case builds the
hostile clip and asserts the SAFE outcome (RT5-1, 6, 13, 16 and 17 were fixed; RT5-9 is a decision, see
its test); a case the product gets wrong is marked xfail
(strict) with its RT5 number, next to a control proving the content is found when shown
plainly (gating off: `change_threshold = 0`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from screening import pipeline
from screening.model import FaceFinding, Person, Status

from .clips import Appearance, write_clip
from .test_video import RED, RedSquareFaces, checks, real_faces, screen  # noqa: F401 (real_faces: fixture)
from .test_logo_identity import family, twin_trust  # noqa: F401 (fixtures)
from .test_video import config as config  # noqa: F401 (fixture)

GREY = 76  # cv2's grey of pure red (0.299 * 255): red on this grey is the same grey


def faces_of(s):
    return [f for r in s.results for f in r.findings if isinstance(f, FaceFinding)]


def ungated(config):
    return dataclasses.replace(config, video=dataclasses.replace(config.video, change_threshold=0.0))


# ---------------------------------------------------------------- RT5-1: colour only, equal grey


def _isoluminant(t, pixels):
    """A flat wall of grey 76; from 1.0 s a pure red square (grey 76 too) on it."""
    pixels[:] = GREY
    if t >= 1.0:
        pixels[100:160, 200:260] = RED[0, 0]
    return pixels


def test_rt5_1_an_isoluminant_face_appearing_on_a_flat_wall_is_seen(tmp_path, config):
    clip = write_clip(tmp_path / "iso.mp4", 2.0, size=(640, 360), pan=0, frame_hook=_isoluminant)
    s, d = screen(clip, config)
    assert d.status is not Status.CLEARED
    assert faces_of(s)


def test_rt5_1_control_the_same_face_is_found_without_gating(tmp_path, config):
    clip = write_clip(tmp_path / "iso.mp4", 2.0, size=(640, 360), pan=0, frame_hook=_isoluminant)
    s, d = screen(clip, ungated(config))
    assert d.status is Status.NEEDS_PERMISSION and len(faces_of(s)) == 1


# ---------------------------------------------------------------- RT5-2: a wide thing sliding in


class WholeSign(RedSquareFaces):
    """Stands in for a check that must see a thing whole to know it (a name read by OCR, a face
    or crest only half on screen is not recognised): red-and-black strip at least 400 px wide."""

    def detect(self, picture, earlier):
        rgb = picture.frames[0].astype(int)
        red = (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
        if red.sum() < 100:
            return []
        ys, xs = np.nonzero(red)
        if np.ptp(xs) + 1 < 400:
            return []
        return [FaceFinding((int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1))]


def _sign():
    rng = np.random.default_rng(5)
    sign = np.zeros((60, 480, 3), np.uint8)
    for c in range(0, 480, 8):  # letters: blocks of red and black
        for r in range(0, 60, 12):
            if rng.random() < 0.6 or c in (0, 472):
                sign[r:r + 12, c:c + 8] = RED[0, 0]
    return sign


def _sliding(speed):
    sign = _sign()

    def hook(t, pixels):
        pixels[:] = 128  # a plain wall, camera on a tripod
        left = min(80, -480 + round(speed * t))
        x0, x1 = max(0, left), left + 480
        if x1 > 0:
            pixels[150:210, x0:x1] = sign[:, x0 - left:]
        return pixels
    return hook


def test_rt5_2_a_wide_sign_sliding_in_on_a_plain_wall_is_seen_whole(tmp_path, config):
    clip = write_clip(tmp_path / "slide.mp4", 5.0, size=(640, 360), pan=0, frame_hook=_sliding(128))
    s, d = screen(clip, config, faces=WholeSign())
    assert d.status is not Status.CLEARED
    assert faces_of(s)


def test_rt5_2_control_the_sign_is_found_without_gating(tmp_path, config):
    clip = write_clip(tmp_path / "slide.mp4", 5.0, size=(640, 360), pan=0, frame_hook=_sliding(128))
    s, d = screen(clip, ungated(config), faces=WholeSign())
    assert d.status is Status.NEEDS_PERMISSION and faces_of(s)


# ---------------------------------------------------------------- RT5-3..: beside a consented face, flash, zoom

BLUE = np.array([0, 0, 255], np.uint8)
PEOPLE = {"S1": Person("S1", "Eileen Collins", "pupil", "north", True, {"website": True})}


class TwoPeople(RedSquareFaces):
    """One face per square: pure red is the consented S1, pure blue someone unknown."""

    def detect(self, picture, earlier):
        import cv2

        rgb = picture.frames[0].astype(int)
        out = []
        for mask, who in (((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60), ("S1", 0.3)),
                          ((rgb[..., 2] > 200) & (rgb[..., 0] < 60) & (rgb[..., 1] < 60), None)):
            count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8))
            for x, y, w, h, area in stats[1:count]:
                if area >= 100:
                    out.append(FaceFinding((int(x), int(y), int(w), int(h)), (who,) if who else ()))
        return out


def _square(colour, size=40):
    return np.broadcast_to(np.asarray(colour, np.uint8), (size, size, 3)).copy()


def test_rt5_3_an_unknown_face_appearing_touching_a_consented_face_is_seen(tmp_path, config):
    clip = write_clip(tmp_path / "pair.mp4", 2.5, size=(640, 360), pan=0,
                      appearances=(Appearance(_square(RED[0, 0]), 0.0, 2.5, (300, 150)),
                                   Appearance(_square(BLUE), 1.0, 1.5, (340, 150))))
    s, d = screen(clip, config, faces=TwoPeople(), people=PEOPLE)
    assert d.status is Status.NEEDS_PERMISSION
    assert any(not f.candidates for f in faces_of(s))


def test_rt5_3_control_the_consented_face_alone_is_cleared(tmp_path, config):
    clip = write_clip(tmp_path / "one.mp4", 2.5, size=(640, 360), pan=0,
                      appearances=(Appearance(_square(RED[0, 0]), 0.0, 2.5, (300, 150)),))
    s, d = screen(clip, config, faces=TwoPeople(), people=PEOPLE)
    assert d.status is Status.CLEARED


def test_rt5_4_a_face_appearing_during_a_flash_is_seen(tmp_path, config):
    """The whole frame brightens for a moment (a flash) and a face appears in it and stays."""
    def flash(t, pixels):
        if 1.0 <= t < 1.2:
            pixels = np.minimum(255, pixels.astype(int) + 60).astype(np.uint8)
        return pixels
    clip = write_clip(tmp_path / "flash.mp4", 2.5, size=(640, 360), pan=0, frame_hook=flash,
                      appearances=(Appearance(_square(BLUE), 1.05, 1.45, (500, 40)),))
    s, d = screen(clip, config, faces=TwoPeople(), people=PEOPLE)
    assert d.status is Status.NEEDS_PERMISSION


def _zoom(t, pixels):
    """The camera zooms in slowly about the centre (2% per 0.25 s); an unknown face is in the
    middle from the start at a size the check only sees once the zoom has grown it."""
    import cv2

    k = 1.0 + 0.08 * t
    h, w = pixels.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 0, k)
    return cv2.warpAffine(np.ascontiguousarray(pixels), m, (w, h), borderMode=cv2.BORDER_REFLECT)


class BigBlue(TwoPeople):
    """Finds a blue face only once it is at least 44 px wide (as a detector with a smallest size)."""

    def detect(self, picture, earlier):
        return [f for f in super().detect(picture, earlier) if f.box[2] >= 44]


def test_rt5_5_a_face_grown_over_the_smallest_size_by_a_slow_zoom_is_seen(tmp_path, config):
    clip = write_clip(tmp_path / "zoom.mp4", 3.0, size=(640, 360), pan=0, frame_hook=_zoom,
                      appearances=(Appearance(_square(BLUE, 38), 0.0, 3.0, (330, 170)),))
    s, d = screen(clip, config, faces=BigBlue(), people=PEOPLE)
    assert d.status is Status.NEEDS_PERMISSION


# ---------------------------------------------------------------- RT5-6: uniform revealed below a still face


FACE_BOX = (540, 0, 200, 200)  # a big face at the top of a 1280x720 frame (a close-up)


def _uniform_frames():
    from PIL import Image

    from tests import crests

    from .academy_trust import NORTH_COLOURS
    from .clips import scene

    base = scene((1280, 720), pan=0)(0.0)
    x, y, w, h = FACE_BOX
    base[y:y + h, x:x + w] = RED[0, 0]
    photo = Image.fromarray(base)
    before = np.asarray(crests.paint_uniform(photo, ("#8a8a8a",), face_box=FACE_BOX, seed=1))
    after = np.asarray(crests.paint_uniform(photo, NORTH_COLOURS, face_box=FACE_BOX, seed=1))
    return before, after


def _coat_opens(before, after):
    """A plain grey coat over the top, opened at 1.0 s: the academy's jumper shows from 100 px
    below the chin down; the face and the collar do not change."""
    def hook(t, pixels):
        out = before.copy()
        if t >= 1.0:
            out[300:] = after[300:]
        return out
    return hook


def _uniform_clip(tmp_path):
    before, after = _uniform_frames()
    return write_clip(tmp_path / "coat.mp4", 2.0, size=(1280, 720), pan=0, frame_hook=_coat_opens(before, after))


@pytest.fixture(scope="module")
def uniform_checks(tmp_path_factory):
    from screening.detectors.logos import LogoDetector
    from screening.detectors.uniforms import UniformDetector

    from .academy_trust import make_trust

    trust = make_trust(tmp_path_factory.mktemp("trust"))
    return trust, UniformDetector(trust, LogoDetector(trust, cache=tmp_path_factory.mktemp("cache")))


def _uniforms_found(tmp_path, uniform_checks, video):
    from screening.model import Check, UniformFinding

    trust, detector = uniform_checks
    clip = _uniform_clip(tmp_path)
    s = pipeline.screen_file(clip, {**checks(trust), Check.UNIFORMS: detector}, video=video)
    return [f for r in s.results for f in r.findings if isinstance(f, UniformFinding)]


@pytest.mark.slow
def test_rt5_6_a_uniform_revealed_below_a_still_face_is_seen(tmp_path, uniform_checks):
    from screening.config import VideoSettings

    found = _uniforms_found(tmp_path, uniform_checks, VideoSettings())
    assert any(f.academy == "north" for f in found), found


@pytest.mark.slow
def test_rt5_6_control_the_uniform_is_found_without_gating(tmp_path, uniform_checks):
    from screening.config import VideoSettings

    found = _uniforms_found(tmp_path, uniform_checks, VideoSettings(change_threshold=0.0))
    assert any(f.academy == "north" for f in found), found


# ---------------------------------------------------------------- RT5-7: a real face fading in on a still shot


def _fade_in_head(public_domain, seconds):
    from .clips import head

    picture, _ = head(public_domain, 130)
    grey = int(picture.mean())  # a plain wall of the head's own mean brightness: the least change

    def hook(t, pixels):
        pixels[:] = grey
        alpha = min(1.0, t / seconds)
        patch = pixels[40:40 + picture.shape[0], 100:100 + picture.shape[1]].astype(float)
        pixels[40:40 + picture.shape[0], 100:100 + picture.shape[1]] = (
            patch * (1 - alpha) + picture * alpha).astype(np.uint8)
        return pixels
    return hook


@pytest.mark.slow
def test_rt5_7_a_real_face_fading_in_slowly_on_a_plain_wall_is_seen(tmp_path, config, public_domain, real_faces):
    clip = write_clip(tmp_path / "fade.mp4", 4.0, pan=0, frame_hook=_fade_in_head(public_domain, 3.5))
    s, d = screen(clip, config, faces=real_faces)  # enrolled, but not in the register: unknown
    assert d.status is not Status.CLEARED, d
    assert faces_of(s)


# ---------------------------------------------------------------- RT5-8: the first frame black


def test_rt5_8_a_clip_opening_on_black_then_a_face_is_seen(tmp_path, config):
    def black(t, pixels):
        return np.zeros_like(pixels) if t < 0.5 else pixels
    clip = write_clip(tmp_path / "black.mp4", 2.0, size=(640, 360), pan=0, frame_hook=black,
                      appearances=(Appearance(RED, 0.0, 2.0, (200, 100)),))
    s, d = screen(clip, config)
    assert d.status is Status.NEEDS_PERMISSION and faces_of(s)


# ---------------------------------------------------------------- RT5-9: a third academy's crest on the shared layout


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 3])
def test_rt5_9_a_crest_on_the_shared_layout_in_colours_no_academy_uses_is_a_decoy_as_documented(twin_trust, family, k):
    """Decided (docs/academies.md): a crest drawn like an academy's but in colours and initials no
    academy of screening.toml uses is another school's badge on a common shield, not a finding,
    as the same-shape decoys of tests/test_logo_criteria.py are. An academy joining the trust is
    looked for once it is in screening.toml (its crest in its logo folder)."""
    from tests import crests

    from .academy_trust import FakePicture, backdrop
    from .test_logo_identity import MIN_SCORE, rules
    from screening.model import Check, CheckResult
    from screening.policy import decide

    config, det = twin_trust
    img = backdrop(7 + k, (1000, 700))
    crests.composite(img, crests.draw_crest(family[k], 512), width_frac=0.22, centre=(0.45, 0.5), angle=4, seed=k)
    found = [f for f in det.detect(FakePicture(crests.jpeg(img, 85)), {}) if f.score >= MIN_SCORE]
    assert decide([CheckResult(Check.LOGOS, tuple(found))], rules(config)).status is Status.CLEARED


@pytest.mark.slow
@pytest.mark.parametrize("k,width", [(3, 0.35), (0, 0.22)])
def test_rt5_9_the_same_decoys_at_other_sizes_are_not_flagged(twin_trust, family, k, width):
    """Placed well by keypoints of the shared parts (0.70-0.75 as north), these decoys' lettering and
    emblem do not agree in fine detail (0.28-0.49): logo_match.confirm takes UNMATCHED_PENALTY off
    (issue 16, crestrecall4; a strict xfail before)."""
    from tests import crests

    from .academy_trust import FakePicture, backdrop
    from .test_logo_identity import MIN_SCORE

    config, det = twin_trust
    img = backdrop(11, (1000, 700))
    crests.composite(img, crests.draw_crest(family[k], 512), width_frac=width, centre=(0.45, 0.5), angle=4, seed=1)
    assert not [f for f in det.detect(FakePicture(crests.jpeg(img, 85)), {}) if f.score >= MIN_SCORE]


@pytest.mark.slow
def test_rt5_9_control_the_same_layout_in_a_trust_academys_colours_is_found(twin_trust, family):
    from tests import crests

    from .academy_trust import FakePicture, backdrop
    from .test_logo_identity import MIN_SCORE

    config, det = twin_trust
    img = backdrop(8, (1000, 700))
    crests.composite(img, crests.draw_crest(family[1], 512), width_frac=0.22, centre=(0.45, 0.5), angle=4, seed=1)
    found = [f for f in det.detect(FakePicture(crests.jpeg(img, 85)), {}) if f.score >= MIN_SCORE]
    assert [f.academy for f in found] == ["f1"]


# ---------------------------------------------------------------- RT5-10: a blurred face drifting to another pupil


def _deepface(shared_data, name):
    import cv2
    from PIL import Image

    with Image.open(shared_data / "deepface" / "tests" / "unit" / "dataset" / name) as img:
        rgb = np.asarray(img.convert("RGB"))
    s = 800 / max(rgb.shape[:2])
    return cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else rgb


@pytest.mark.slow
@pytest.mark.parametrize("probe", ["img42.jpg", "img44.jpg", "img46.jpg"])
def test_rt5_10_a_face_blurred_just_enough_to_pass_the_quality_gate_never_matches_another_person(shared_data, probe):
    """Person id00 (img1.jpg) is enrolled; another person's face (id01, the nearest to id00 of
    the deepface set once blurred) is blurred by 2 to 3.5 px per 95 px of face (the gate refuses
    from about 4): it is either refused as not identifiable or further than the tolerance from id00."""
    import cv2

    from screening.config import FaceSettings
    from screening.vision.face_engine import FaceEngine

    settings = FaceSettings()
    engine = FaceEngine(settings)
    enrolled_rgb = _deepface(shared_data, "img1.jpg")
    enrolled = engine.encode(enrolled_rgb, max(engine.locate(enrolled_rgb), key=lambda f: f.box[2] * f.box[3]).box)
    rgb = _deepface(shared_data, probe)
    box = max(engine.locate(rgb), key=lambda f: f.box[2] * f.box[3]).box
    for sigma in (2.0, 3.0, 3.5):
        vector, why = engine.encode_with_reason(cv2.GaussianBlur(rgb, (0, 0), sigma * box[2] / 95), box)
        if vector is None:
            continue  # refused: an unknown face, needs permission
        assert np.linalg.norm(vector - enrolled) > settings.tolerance, (probe, sigma)


# ---------------------------------------------------------------- RT5-11: a phone clip stored sideways, gated


@pytest.mark.parametrize("rotation", [90, 270])
def test_rt5_11_a_face_appearing_in_a_corner_of_a_sideways_phone_clip_is_seen_where_it_is(tmp_path, config, rotation):
    clip = write_clip(tmp_path / "phone.mp4", 3.0, size=(360, 640), pan=0, rotation=rotation,
                      appearances=(Appearance(RED, 2.0, 0.5, (310, 590)),))
    s, d = screen(clip, config)
    assert d.status is Status.NEEDS_PERMISSION
    (face,) = faces_of(s)
    assert face.box == pytest.approx((310, 590, 40, 40), abs=3) and face.time >= 2.0


# ---------------------------------------------------------------- RT5-12: a big crest uncovered in its middle


def _crest_frames():
    from PIL import Image

    from tests import crests

    from .clips import scene

    base = Image.fromarray(scene((1280, 720), pan=0)(0.0))
    crest = crests.preset("north", 512).convert("RGBA").resize((680, 680))
    base.paste(crest, (300, 20), crest)
    shown = np.asarray(base)
    covered = shown.copy()
    covered[190:530, 470:810] = (150, 140, 130)  # a board held in front of its middle
    return covered, shown


def _crest_clip(tmp_path):
    covered, shown = _crest_frames()
    return write_clip(tmp_path / "banner.mp4", 2.0, size=(1280, 720), pan=0,
                      frame_hook=lambda t, pixels: (shown if t >= 1.0 else covered).copy())


@pytest.fixture(scope="module")
def logo_checks(tmp_path_factory):
    from screening.detectors.logos import LogoDetector

    from .academy_trust import make_trust

    trust = make_trust(tmp_path_factory.mktemp("trust"))
    return trust, LogoDetector(trust, cache=tmp_path_factory.mktemp("cache"))


def _crests_found(tmp_path, logo_checks, video):
    from screening.model import Check, LogoFinding

    from .test_logo_identity import MIN_SCORE

    trust, detector = logo_checks
    s = pipeline.screen_file(_crest_clip(tmp_path), {**checks(trust), Check.LOGOS: detector}, video=video)
    return [f for r in s.results for f in r.findings if isinstance(f, LogoFinding) and f.score >= MIN_SCORE]


@pytest.mark.slow
def test_rt5_12_a_large_crest_whose_middle_is_uncovered_is_seen(tmp_path, logo_checks):
    from screening.config import VideoSettings

    found = _crests_found(tmp_path, logo_checks, VideoSettings())
    assert any(f.academy == "north" for f in found), found


@pytest.mark.slow
def test_rt5_12_control_the_crest_is_found_without_gating(tmp_path, logo_checks):
    from screening.config import VideoSettings

    found = _crests_found(tmp_path, logo_checks, VideoSettings(change_threshold=0.0))
    assert any(f.academy == "north" for f in found), found


# ---------------------------------------------------------------- RT5-13: an isoluminant crest (real logo check)

# Maroon on teal, both at the grey of the wall they are shown on (cv2 grey 60): the docs'
# "crests whose colours share one lightness" that get keypoints on the Lab colour channels.
ISO_CREST = dict(shape="heater", field="#7a1f2b", charge="#00555a", accent="#00555a", division="chevron",
                 emblem="book", initials="IA", motto="")
WALL = (60, 60, 60)


@pytest.fixture(scope="module")
def iso_trust(tmp_path_factory):
    from screening.config import load_config
    from screening.detectors.logos import LogoDetector
    from tests import crests

    root = tmp_path_factory.mktemp("iso")
    (root / "logos" / "iso").mkdir(parents=True)
    crests.draw_crest(crests.CrestStyle(**ISO_CREST), 512).save(root / "logos" / "iso" / "crest.png")
    (root / "screening.toml").write_text('trust = "Test Trust"\n[consent]\nregister = "r.csv"\nphotos = "p"\n'
                                         '[[academy]]\nid = "iso"\nname = "Iso Academy"\nlogos = "logos/iso"\n')
    config = load_config(root / "screening.toml")
    return config, LogoDetector(config, cache=tmp_path_factory.mktemp("iso-cache"))


def _iso_crest_found(tmp_path, iso_trust, video):
    import cv2
    from PIL import Image

    from screening.model import Check, LogoFinding
    from tests import crests

    from .test_logo_identity import MIN_SCORE

    crest = crests.draw_crest(crests.CrestStyle(**ISO_CREST), 360)
    wall = Image.new("RGB", (1280, 720), WALL)
    wall.paste(crest, (460, 180), crest)
    shown = np.asarray(wall)
    grey = cv2.cvtColor(shown, cv2.COLOR_RGB2GRAY)
    assert (np.abs(grey.astype(int) - WALL[0]) <= 3).mean() > 0.999  # isoluminant indeed (a few edge pixels apart)

    def hook(t, pixels):
        if t < 1.0:
            pixels[:] = WALL
            return pixels
        return shown.copy()
    clip = write_clip(tmp_path / "slide.mp4", 2.0, size=(1280, 720), pan=0, frame_hook=hook)
    config, detector = iso_trust
    s = pipeline.screen_file(clip, {**checks(config), Check.LOGOS: detector}, video=video)
    return [f for r in s.results for f in r.findings if isinstance(f, LogoFinding) and f.score >= MIN_SCORE]


@pytest.mark.slow
def test_rt5_13_an_isoluminant_crest_appearing_on_a_wall_of_its_grey_is_seen(tmp_path, iso_trust):
    from screening.config import VideoSettings

    assert _iso_crest_found(tmp_path, iso_trust, VideoSettings())


@pytest.mark.slow
def test_rt5_13_control_the_crest_is_found_without_gating(tmp_path, iso_trust):
    from screening.config import VideoSettings

    assert _iso_crest_found(tmp_path, iso_trust, VideoSettings(change_threshold=0.0))


# ---------------------------------------------------------------- RT5-14: a fast pan and new faces


def test_rt5_14_a_fast_pan_with_a_face_in_the_revealed_strip_and_another_in_the_middle_is_seen(tmp_path, config):
    """The camera pans 160 px/s over a textured scene; one face comes in with the strip the pan
    reveals, another appears in the middle of the frame at the same moment."""
    def strip(t, pixels):  # a face on the scene, scrolled in from the right edge with it
        if t >= 1.0:
            x = 640 - round((t - 1.0) * 160)
            if x < 600:
                pixels[40:80, x:x + 40] = RED[0, 0]
        return pixels
    clip = write_clip(tmp_path / "pan.mp4", 3.0, size=(640, 360), pan=160, seed=3, frame_hook=strip,
                      appearances=(Appearance(_square(BLUE), 1.5, 1.5, (300, 160)),))
    s, d = screen(clip, config, faces=TwoPeople())  # S1 not in the rules' register: both unknown
    kinds = {bool(f.candidates) for f in faces_of(s)}
    assert d.status is Status.NEEDS_PERMISSION and kinds == {True, False}, faces_of(s)


def test_rt5_15_a_cut_to_a_near_identical_frame_with_one_new_face_is_seen(tmp_path, config):
    """Two takes of the same still shot: the second has one more face, small, in a corner."""
    clip = write_clip(tmp_path / "takes.mp4", 2.0, size=(640, 360), pan=0,
                      appearances=(Appearance(_square(RED[0, 0], 30), 0.0, 2.0, (100, 100)),
                                   Appearance(_square(BLUE, 30), 1.0, 1.0, (600, 320))))
    s, d = screen(clip, config, faces=TwoPeople(), people=PEOPLE)
    assert d.status is Status.NEEDS_PERMISSION
    assert any(not f.candidates for f in faces_of(s))


# ---------------------------------------------------------------- RT5-16: a big face uncovered a strip at a time


def _wipe(public_domain, speed):
    from .clips import head

    picture, face = head(public_domain, 640)  # a close-up: the face about 270 px

    def hook(t, pixels):
        pixels[:] = (120, 130, 140)
        pixels[40:40 + picture.shape[0], 45:45 + picture.shape[1]] = picture
        edge = 100 + max(0, round((t - 0.25) * speed))  # a board in front, lowered steadily
        pixels[edge:] = (200, 190, 170)
        return pixels
    return hook, (45 + face[0], 40 + face[1], face[2], face[3])


def _holds(found, face) -> bool:
    """The box found holds the centre of the face drawn."""
    cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
    return found[0] <= cx <= found[0] + found[2] and found[1] <= cy <= found[1] + found[3]


def _wiped(tmp_path, config, public_domain, real_faces):
    hook, box = _wipe(public_domain, 120)  # the face wholly on screen from 3.5 s to the end (5.5 s)
    clip = write_clip(tmp_path / "wipe.mp4", 5.5, size=(640, 720), pan=0, frame_hook=hook)
    s, d = screen(clip, config, faces=real_faces)  # enrolled but not in the register: unknown
    return s, d, box


@pytest.mark.slow
def test_rt5_16_a_close_up_face_uncovered_a_strip_at_a_time_is_seen(tmp_path, config, public_domain, real_faces):
    s, d, box = _wiped(tmp_path, config, public_domain, real_faces)
    assert d.status is not Status.CLEARED
    assert any(_holds(f.box, box) for f in faces_of(s)), (box, faces_of(s))


@pytest.mark.slow
def test_rt5_16_control_the_same_clip_without_gating_is_not_cleared(tmp_path, config, public_domain, real_faces):
    s, d, box = _wiped(tmp_path, ungated(config), public_domain, real_faces)
    assert d.status is not Status.CLEARED
    assert any(_holds(f.box, box) for f in faces_of(s)), (box, faces_of(s))


# ---------------------------------------------------------------- RT5-17: a name written letter by letter


@pytest.fixture(scope="module")
def ocr_engine():
    from screening.vision.ocr import OcrEngine

    return OcrEngine()


def _written(tmp_path, config, ocr_engine, video, speed=150):
    """A whiteboard filling the frame; 'Amelia Hart' is written on it from left to right at
    `speed` px/s (what is not written yet is the bare board), then stays for 2 s."""
    import datetime as dt

    from PIL import Image

    from screening.model import Check
    from screening.policy import Rules, decide

    from .test_redteam2 import _text_detector
    from .test_text import sign

    board = np.asarray(sign(Image.new("RGB", (640, 360), (250, 250, 240)), ["Amelia Hart"], at=(60, 140), cap=40))
    bare = np.full_like(board, (250, 250, 240))
    seconds = 640 / speed + 2.0

    def hook(t, pixels):
        out = bare.copy()
        x = max(0, round((t - 0.3) * speed))
        out[:, :x] = board[:, :x]
        return out
    clip = write_clip(tmp_path / "board.mp4", seconds, size=(640, 360), pan=0, frame_hook=hook)
    (tmp_path / "text").mkdir()
    detectors = {**checks(config), Check.TEXT: _text_detector(tmp_path / "text", ocr_engine)}
    result = pipeline.screen_file(clip, detectors, video=video)
    return decide(result.results, Rules("website", dt.date(2026, 10, 1), people={}))


@pytest.mark.slow
def test_rt5_17_a_name_written_on_a_board_letter_by_letter_is_read(tmp_path, config, ocr_engine):
    d = _written(tmp_path, config, ocr_engine, config.video)
    assert d.status is not Status.CLEARED
    assert any("P3001" in r.detail for r in d.reasons), [r.detail for r in d.reasons]


@pytest.mark.slow
def test_rt5_17_control_the_name_is_read_without_gating(tmp_path, config, ocr_engine):
    d = _written(tmp_path, config, ocr_engine, ungated(config).video)
    assert any("P3001" in r.detail for r in d.reasons), [r.detail for r in d.reasons]
