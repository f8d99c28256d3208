"""Red team, round 24: the text check's new reading of names cut by the picture's edge
(vision/name_edges.py), of lettering along an arc (vision/ocr_arcs.py), and the video text pass's
memory of lines (video_text.py). Each hostile picture is drawn on the public-domain astronaut, or
built as a clip; SAFE cases are asserted beside a control; a case the product gets wrong is
xfail(strict=True) with "RT24-N" in its reason: when a fix lands the xfail fails and the mark must go.

Text uses the real OCR engine (one per module) through TextDetector, as a scan does; a name counts
when policy would report it (similarity >= [text] min_similarity).

Fixed (plain tests now): a badge cut by the edge in a photo stored upside down or mirrored (RT24-1) or
sideways, cut by the top or bottom edge (RT24-2): both ends of a line reaching any edge are tried;
a gently arched sign over a gate (RT24-8) and a ring of 14-px lettering of radius 60 px (RT24-4):
ocr_arcs takes arcs from 15 degrees and 100 thicknesses; a name of 7 letters cut by one letter at
the LEFT edge (RT24-3: cut names are looked for in every reading of the line, its mirrored one
was surest); in a clip, a ring badge whose name is completed by a change (a hand moving away):
the memory detects a remembered arc line again over its box (RT24-6).
In a clip, tracked capitals 'H A R T' written on after a remembered 'A M E L I A' farther than the
gate's margin (RT24-7: the memory adds the remembered lines a found line reads on from by pitch).
A full-circle badge ring ("AMELIA HART * STAR OF THE WEEK *") turned so that its arcs split at or
inside the name (RT24-5: arcs one circle fits are one, a ring is read round one and a half turns).
Safe: a name cut by one or two letters at the RIGHT edge; ring lettering at a badge's bottom read
counter-clockwise (tops to the centre); two concentric rings; rings of radius 70-80 px; in a clip,
a name's second line written under a remembered first line, and a word swapped on a sign cut by
the frame's right edge, and a surname written on 90 px after a remembered first name (plain
letters: RT24-7 needs tracked capitals).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from screening.config import load_config
from screening.detectors.text import TextDetector

from .test_redteam20 import BOLD, PEOPLE, _font, astronaut, board, ring
from .test_redteam20 import ocr_engine, trust_config  # noqa: F401 (fixtures, shared with red team 20)
from .test_text import Picture

AMY = ("P3201", "Amy Hart")  # a short name: 7 letters


def read_names(config, engine, img: Image.Image) -> set[str]:
    """Who or what the text check names in `img`, as policy._text decides (min_similarity)."""
    detector = TextDetector(config, PEOPLE + [AMY], engine=engine)
    return {f.target_id for f in detector.detect(Picture(img), {})
            if f.target and f.similarity >= config.text.min_similarity}


def badge(public_domain, text: str) -> Image.Image:
    """`text` in 30-px capitals on a board at the picture's left edge, letters from x = 30."""
    return board(astronaut(public_domain, (700, 480)), [text], cap=30, at=(0, 60))


def cut(public_domain, text: str, side: str, letters: int) -> Image.Image:
    """The badge with `letters` of `text` cut off by the picture's `side` edge."""
    img, f = badge(public_domain, text), _font(BOLD, 30)
    if side == "left":
        return img.crop((int(30 + f.getlength(text[:letters])) + 2, 0, img.width, img.height))
    return img.crop((0, 0, int(30 + f.getlength(text[:len(text) - letters])) + 4, img.height))


# ================================================================ names cut by the picture's edge


@pytest.mark.parametrize("side, letters", [("left", 1), ("right", 1), ("right", 2)])
def test_safe_a_name_cut_by_the_left_or_right_edge_is_read(trust_config, ocr_engine, public_domain, side, letters):
    assert read_names(trust_config, ocr_engine, badge(public_domain, "AMELIA HART")) == {"P3001"}  # control
    assert read_names(trust_config, ocr_engine, cut(public_domain, "AMELIA HART", side, letters)) == {"P3001"}


# RT24-1 (fixed: name_edges.cut_sides / ocr_arcs ARC_MIN_TURN, MAX_RADIUS)
@pytest.mark.parametrize("way", ["upside down", "mirrored"])
@pytest.mark.parametrize("side", ["left", "right"])
def test_rt24_1_a_cut_badge_in_a_photo_stored_upside_down_names_the_pupil(trust_config, ocr_engine, public_domain,
                                                                        side, way):
    img = cut(public_domain, "AMELIA HART", side, 1)
    img = img.rotate(180, expand=True) if way == "upside down" else ImageOps.mirror(img)  # mirrored: a selfie
    assert read_names(trust_config, ocr_engine, img) >= {"P3001"}


def test_control_the_uncut_badge_turned_or_mirrored_is_read(trust_config, ocr_engine, public_domain):
    for turn in (90, 180, 270):
        assert read_names(trust_config, ocr_engine, badge(public_domain, "AMELIA HART").rotate(turn, expand=True)) \
            == {"P3001"}
    assert read_names(trust_config, ocr_engine, ImageOps.mirror(badge(public_domain, "AMELIA HART"))) == {"P3001"}


# RT24-2 (fixed: name_edges.cut_sides / ocr_arcs ARC_MIN_TURN, MAX_RADIUS)
@pytest.mark.parametrize("side, turn", [("left", 90), ("left", 270), ("right", 90), ("right", 270)])
def test_rt24_2_a_badge_cut_by_the_top_or_bottom_edge_names_the_pupil(trust_config, ocr_engine, public_domain,
                                                                    side, turn):
    img = cut(public_domain, "AMELIA HART", side, 1).rotate(turn, expand=True)
    assert read_names(trust_config, ocr_engine, img) >= {"P3001"}


def test_control_a_short_name_uncut_is_read(trust_config, ocr_engine, public_domain):
    assert read_names(trust_config, ocr_engine, badge(public_domain, "AMY HART")) == {"P3201"}


# RT24-3 (fixed: the right edge by name_edges.CUT_KEEPS 6; the left edge by looking for cut names in
# every reading of the line: the cut badge's mirrored reading 'TAAH YM' (0.98) was surer than 'MY HART')
@pytest.mark.parametrize("side", ["left", "right"])
def test_rt24_3_a_short_name_cut_by_the_edge_names_the_pupil(trust_config, ocr_engine, public_domain, side):
    assert "P3201" in read_names(trust_config, ocr_engine, cut(public_domain, "AMY HART", side, 1))


# ================================================================ lettering along an arc


def lettered(base: Image.Image, text: str, centre, radius: int, start: float, span: float, cap=26,
             inward=False, disc=True) -> Image.Image:
    """`text` along an arc from `start` degrees through `span` (negative: counter-clockwise; 360: a
    full ring, evenly spaced, its last letter a step before its first); `inward`: letters' tops to
    the centre (a badge's bottom, read left to right)."""
    img = base.copy()
    f = _font(BOLD, cap)
    d = ImageDraw.Draw(img)
    if disc:
        d.ellipse((centre[0] - radius - 40, centre[1] - radius - 40, centre[0] + radius + 40,
                   centre[1] + radius + 40), fill=(250, 250, 240))
    n = len(text)
    for i, ch in enumerate(text):
        a = math.radians(start + span * i / (n if abs(span) >= 360 else n - 1))
        letter = Image.new("RGBA", (cap * 2, cap * 2), (0, 0, 0, 0))
        ImageDraw.Draw(letter).text((cap // 2, cap // 4), ch, font=f, fill=(20, 30, 80, 255))
        letter = letter.rotate(-(math.degrees(a) + 90) + (180 if inward else 0), resample=Image.BICUBIC)
        x, y = centre[0] + radius * math.cos(a) - cap, centre[1] + radius * math.sin(a) - cap
        img.paste(letter, (int(x), int(y)), letter)
    return img


def test_safe_ring_lettering_at_a_badges_bottom_read_counter_clockwise_is_read(trust_config, ocr_engine,
                                                                              public_domain):
    base = astronaut(public_domain)
    assert read_names(trust_config, ocr_engine, ring(base, "AMELIA HART", (320, 300), 200, -135, 90)) == {"P3001"}
    img = lettered(base, "AMELIA HART", (320, 100), 200, 135, -90, inward=True)
    assert read_names(trust_config, ocr_engine, img) == {"P3001"}


def test_safe_two_concentric_rings_are_both_read(trust_config, ocr_engine, public_domain):
    img = lettered(astronaut(public_domain), "ST AIDAN'S ACADEMY", (320, 240), 200, -160, 140, cap=24)
    img = lettered(img, "AMELIA HART", (320, 240), 140, -150, 120, cap=24, disc=False)
    assert read_names(trust_config, ocr_engine, img) == {"P3001", "aidan"}


@pytest.mark.parametrize("radius, start, span, cap", [(70, -170, 160, 16), (80, -160, 140, 18)])
def test_safe_a_small_ring_is_read(trust_config, ocr_engine, public_domain, radius, start, span, cap):
    img = ring(astronaut(public_domain), "AMELIA HART", (320, 240), radius, start, span, cap=cap)
    assert read_names(trust_config, ocr_engine, img) == {"P3001"}


def test_control_14_px_capitals_written_straight_are_read(trust_config, ocr_engine, public_domain):
    assert read_names(trust_config, ocr_engine, board(astronaut(public_domain), ["AMELIA HART"], cap=14)) == {"P3001"}


# RT24-4 (fixed with RT24-8's wider arc limits)
def test_rt24_4_a_ring_of_radius_60_px_is_read(trust_config, ocr_engine, public_domain):
    img = ring(astronaut(public_domain), "AMELIA HART", (320, 240), 60, -180, 180, cap=14)
    assert "P3001" in read_names(trust_config, ocr_engine, img)


FULL_RING = "AMELIA HART * STAR OF THE WEEK * "


@pytest.mark.parametrize("start", [-90, -60, 90])
def test_control_a_full_ring_badge_is_read_turned_these_ways(trust_config, ocr_engine, public_domain, start):
    img = lettered(astronaut(public_domain), FULL_RING, (320, 240), 170, start, 360, cap=22)
    assert "P3001" in read_names(trust_config, ocr_engine, img)


# RT24-5 (fixed: ocr_arcs merges arcs that one circle fits, and reads an arc of RING_TURN (240) degrees
# or more round one and a half turns from its start)
@pytest.mark.parametrize("start", [-180, 0, 60])
def test_rt24_5_a_full_ring_badge_is_read_however_it_is_turned(trust_config, ocr_engine, public_domain, start):
    img = lettered(astronaut(public_domain), FULL_RING, (320, 240), 170, start, 360, cap=22)
    assert "P3001" in read_names(trust_config, ocr_engine, img)


def _gate_arch(public_domain, text: str, radius: int, span: float, cap: int = 20, cy: int = 700) -> Image.Image:
    """`text` arched over the top of a large disc centred at (700, `cy`) (a sign over a gate) in a
    1400 x 900 photo."""
    return lettered(astronaut(public_domain, (1400, 900)), text, (700, cy), radius, -90 - span / 2, span, cap=cap)


def test_control_the_gate_arch_words_straight_or_more_bent_are_read(trust_config, ocr_engine, public_domain):
    big = astronaut(public_domain, (1400, 900))
    assert read_names(trust_config, ocr_engine, board(big, ["AMELIA HART"], cap=20, at=(560, 180))) == {"P3001"}
    assert read_names(trust_config, ocr_engine, board(big, ["ST AIDAN'S ACADEMY"], cap=20, at=(400, 150))) \
        == {"aidan"}
    assert read_names(trust_config, ocr_engine, _gate_arch(public_domain, "AMELIA HART", 350, 40)) == {"P3001"}
    assert read_names(trust_config, ocr_engine, _gate_arch(public_domain, "ST AIDAN'S ACADEMY", 300, 80, cy=600)) \
        == {"aidan"}


# RT24-8 (fixed: name_edges.cut_sides / ocr_arcs ARC_MIN_TURN, MAX_RADIUS)
@pytest.mark.parametrize("text, who, radius, span, cap, cy", [("AMELIA HART", "P3001", 400, 36, 20, 700),
                                                              ("AMELIA HART", "P3001", 500, 30, 20, 700),
                                                              ("ST AIDAN'S ACADEMY", "aidan", 400, 64, 20, 600),
                                                              ("ST AIDAN'S ACADEMY", "aidan", 500, 50, 26, 700)])
def test_rt24_8_a_gently_arched_sign_is_read(trust_config, ocr_engine, public_domain, text, who, radius, span, cap,
                                            cy):
    assert who in read_names(trust_config, ocr_engine, _gate_arch(public_domain, text, radius, span, cap, cy))


# ================================================================ the video text pass's memory of lines


def _sign(lines, cap: int, pitch: int, at_x: int = 60):
    from .clips import scene
    from .test_video_text import SIZE

    img = Image.fromarray(scene(SIZE, pan=0)(0.0))
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(round(cap / 0.72))
    d.rectangle((at_x, 40, SIZE[0] + 10, 40 + pitch * len(lines) + cap), fill=(250, 250, 240))
    for i, t in enumerate(lines):
        d.text((at_x + cap, 40 + cap // 2 + i * pitch), t, font=font, fill=(20, 30, 80))
    return np.asarray(img)


@pytest.mark.slow
@pytest.mark.parametrize("cap, pitch", [(40, 100), (30, 75)])
def test_safe_a_names_second_line_written_under_a_remembered_first_line_is_read(tmp_path, ocr_engine, cap, pitch):
    from .test_video import TOML
    from .test_video_text import _read, _screened, ungated

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    before, during = _sign(["AMELIA", ""], cap, pitch), _sign(["AMELIA", "HART"], cap, pitch)
    assert not _read(_screened(tmp_path / "before", config, ocr_engine, before, before))  # control
    assert _read(_screened(tmp_path / "ungated", ungated(config), ocr_engine, before, during,
                           ungated(config).video))  # control
    assert _read(_screened(tmp_path, config, ocr_engine, before, during))


@pytest.mark.slow
def test_safe_a_word_swapped_on_a_sign_cut_by_the_frames_right_edge_is_read(tmp_path, ocr_engine):
    from .test_video import TOML
    from .test_video_text import SIZE, _read, _screened, ungated

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    font = ImageFont.load_default(round(40 / 0.72))
    x = int(SIZE[0] - 3 - font.getlength("AMELIA HAR")) - 40  # 'T' of 'HART' cut by the right edge
    before, during = _sign(["AMELIA JONES"], 40, 80, x), _sign(["AMELIA HART"], 40, 80, x)
    assert not _read(_screened(tmp_path / "before", config, ocr_engine, before, before))  # control
    assert _read(_screened(tmp_path / "ungated", ungated(config), ocr_engine, before, during,
                           ungated(config).video))  # control
    assert _read(_screened(tmp_path, config, ocr_engine, before, during))


def _badge_frame(text: str, hand: bool = False):
    """A ring badge lettered `text` in a still clip's frame; `hand`: a hand over its second word."""
    from .clips import scene
    from .test_video_text import SIZE

    img = lettered(Image.fromarray(scene(SIZE, pan=0)(0.0)), text, (320, 250), 150, -150, 120, cap=22)
    if hand:
        ImageDraw.Draw(img).ellipse((340, 60, 480, 190), fill=(200, 150, 120))
    return np.asarray(img)


RING_CASES = {"a hand over the ring's second word moves away": lambda: _badge_frame("AMELIA HART", hand=True),
              "the ring's second word is written on": lambda: _badge_frame("AMELIA     ")}


@pytest.mark.slow
@pytest.mark.parametrize("case", RING_CASES)
def test_control_the_ring_badge_clip_is_named_ungated_and_not_before_the_change(tmp_path, ocr_engine, case):
    from .test_video import TOML
    from .test_video_text import _read, _screened, ungated

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    before, during = RING_CASES[case](), _badge_frame("AMELIA HART")
    assert not _read(_screened(tmp_path / "before", config, ocr_engine, before, before))
    assert _read(_screened(tmp_path / "ungated", ungated(config), ocr_engine, before, during, ungated(config).video))


# RT24-6 (fixed: TextMemo detects a remembered arc line the change reaches again over its box, never
# recognises it again there as a straight line; an arc line detected now is never joined to a remembered one)
@pytest.mark.slow
@pytest.mark.parametrize("case", RING_CASES)
def test_rt24_6_a_ring_badges_name_completed_by_a_change_in_a_clip_is_read(tmp_path, ocr_engine, case):
    from .test_video import TOML
    from .test_video_text import _read, _screened

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    assert _read(_screened(tmp_path, config, ocr_engine, RING_CASES[case](), _badge_frame("AMELIA HART")))


def _tracked(words, pitch: int, gap: int, cap: int = 30):
    """`words` in capitals tracked `pitch` px apart, words `gap` pitches apart ('_' a letter not
    yet written), on a banner across a 960 x 360 still frame."""
    from .clips import scene

    img = Image.fromarray(scene((960, 360), pan=0)(0.0))
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(round(cap / 0.72))
    d.rectangle((0, 120, 960, 150 + cap + 40), fill=(250, 250, 240))
    x = 20
    for word in words:
        for ch in word:
            if ch != "_":
                d.text((x, 150), ch, font=font, fill=(20, 30, 80))
            x += pitch
        x += pitch * (gap - 1)
    return np.asarray(img)


TRACKED = [(48, 3), (60, 3)]


@pytest.mark.slow
@pytest.mark.parametrize("pitch, gap", TRACKED)
def test_control_tracked_capitals_are_named_ungated_and_not_before(tmp_path, ocr_engine, pitch, gap):
    from .test_video import TOML
    from .test_video_text import _read, _screened, ungated

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    before, during = _tracked(["AMELIA", "____"], pitch, gap), _tracked(["AMELIA", "HART"], pitch, gap)
    assert not _read(_screened(tmp_path / "before", config, ocr_engine, before, before))
    assert _read(_screened(tmp_path / "ungated", ungated(config), ocr_engine, before, during, ungated(config).video))


# RT24-7 (fixed: TextMemo adds every remembered line a line found in the place reads on from or to,
# by runs() with letter pitches over the remembered and found lines)
@pytest.mark.slow
@pytest.mark.parametrize("pitch, gap", TRACKED)
def test_rt24_7_tracked_capitals_written_on_after_a_remembered_word_are_read(tmp_path, ocr_engine, pitch, gap):
    from .test_video import TOML
    from .test_video_text import _read, _screened

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    before, during = _tracked(["AMELIA", "____"], pitch, gap), _tracked(["AMELIA", "HART"], pitch, gap)
    assert _read(_screened(tmp_path, config, ocr_engine, before, during))


def _row(words, cap: int = 40, gap: int = 90):
    """`words` on one row of a banner across a 960 x 360 still frame, `gap` px apart ('_': a word
    not yet written)."""
    from .clips import scene

    img = Image.fromarray(scene((960, 360), pan=0)(0.0))
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(round(cap / 0.72))
    d.rectangle((0, 120, 960, 150 + cap + 40), fill=(250, 250, 240))
    x = 40
    for word in words:
        if not word.startswith("_"):
            d.text((x, 150), word, font=font, fill=(20, 30, 80))
        x += font.getlength(word.replace("_", "H")) + gap
    return np.asarray(img)


@pytest.mark.slow
def test_safe_a_surname_written_on_90_px_after_a_remembered_first_name_is_read(tmp_path, ocr_engine):
    from .test_video import TOML
    from .test_video_text import _read, _screened, ungated

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    before, during = _row(["AMELIA", "____"]), _row(["AMELIA", "HART"])
    assert not _read(_screened(tmp_path / "before", config, ocr_engine, before, before))  # control
    assert _read(_screened(tmp_path / "ungated", ungated(config), ocr_engine, before, during,
                           ungated(config).video))  # control
    assert _read(_screened(tmp_path, config, ocr_engine, before, during))
