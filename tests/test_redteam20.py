"""Red team, round 20: names in the picture (the `text` check) written the ways signs, certificates,
kit and badges write them; people without a visible face; the review commands with hostile paths;
config values at the edges of their ranges. Each hostile file is drawn here on the public-domain
astronaut (or built as a clip); SAFE cases are asserted beside a control; a case the product gets
wrong is xfail(strict=True) with "RT20-N" in its reason: when a fix lands the test passes, the
xfail fails, and the mark must go.

Text uses the real OCR engine (one per module) through TextDetector, as a scan does; the matcher
cases call vision/names.py directly, with the default min_similarity (0.85), as policy decides.

Found unsafe, fixed the same stop (plain tests now, each marked "RT20-N (fixed: ...)"): a name run
into the words beside it on one line of capitals ("AWARDEDTOAMELIAHART", "NORTHFIELDPRIMARY":
RT20-1, RT20-2); an apostrophe-s dropped or added (RT20-3); "Ss"/"Saints"/"Sts" (RT20-4); "6th" for
"Sixth" (RT20-7); Cyrillic/Greek look-alike letters (RT20-8); `watch --log` inside the inbox
(RT20-9); [video] max_side = 120 (RT20-10, now refused); `watch .` in the trust folder (RT20-12);
U+061C (ALM) in a file name (RT20-14); `audit --csv` over a screened original (RT20-16);
[video] change_threshold = 0.5 (RT20-17) and [faces] detect_threshold = 0.6 (RT20-18), now refused.
Still unsafe (xfail): a sign on screen for 0.3 s between the clip's
0.5-s text looks (RT20-6, under the 0.5 s the video issue asks); a crowd far away with 7-px faces
(RT20-11); a person from behind
for 0.3 s in a clip (RT20-15).
Safe: a 22-px badge turned 180 degrees (90 and 270 read too, probed) in a 12 MP photo, a sign only in a clip's thumbnail;
apostrophe, full stop and "Saint" variants against an alias, hyphens and line breaks in and around
an alias, diacritics both ways, initials and a known-as name in quotes; a crowd of eight people
with 9-px faces far away.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from screening.config import TextSettings, load_config
from screening.detectors.text import TextDetector
from screening.model import Status
from screening.vision import names as nm

from .test_config_register import GOOD, write_config
from .test_text import Picture

FONTS = Path("/usr/share/fonts/truetype")
BOLD = FONTS / "dejavu" / "DejaVuSans-Bold.ttf"
SANS_BOLD = FONTS / "liberation" / "LiberationSans-Bold.ttf"
NARROW_BOLD = FONTS / "liberation" / "LiberationSansNarrow-Bold.ttf"
PEOPLE = [("P3001", "Amelia Hart"), ("P3101", "Zoë O'Brien")]
ACADEMIES = (GOOD + 'aliases = ["Trinity North", "TNA"]\n\n[[academy]]\nid = "aidan"\nname = "St Aidan\'s Academy"\n'
             'aliases = ["St Aidans", "Northfield"]\n')
MIN = TextSettings.min_similarity


@pytest.fixture(scope="module")
def ocr_engine():
    from screening.vision.ocr import OcrEngine

    return OcrEngine()


@pytest.fixture
def trust_config(tmp_path):
    return load_config(write_config(tmp_path, ACADEMIES))


def _font(path: Path, cap: int) -> ImageFont.FreeTypeFont:
    if not path.exists():
        pytest.skip(f"{path} is not installed")
    return ImageFont.truetype(str(path), round(cap / 0.72))


def astronaut(public_domain, size=(640, 480)) -> Image.Image:
    with Image.open(public_domain / "astronaut.png") as im:
        return im.convert("RGB").resize(size, Image.BILINEAR)


def board(base: Image.Image, lines, cap=24, at=(20, 40), font=BOLD) -> Image.Image:
    """`lines` in dark blue on a cream board on a copy of `base`, capitals about `cap` px high."""
    img = base.copy()
    d = ImageDraw.Draw(img)
    f = _font(font, cap)
    width = max(int(f.getlength(t)) for t in lines) + 2 * cap
    d.rectangle((at[0], at[1], at[0] + width, at[1] + int(len(lines) * cap * 1.6) + cap), fill=(250, 250, 240))
    for i, t in enumerate(lines):
        d.text((at[0] + cap, at[1] + cap // 2 + int(i * cap * 1.6)), t, font=f, fill=(20, 30, 80))
    return img


def ring(base: Image.Image, text: str, centre, radius: int, start: float, span: float, cap=26) -> Image.Image:
    """`text` one letter at a time along an arc (a badge's ring, an arched sign over a gate),
    each letter upright to the arc, from `start` degrees through `span` degrees clockwise."""
    img = base.copy()
    f = _font(BOLD, cap)
    d = ImageDraw.Draw(img)
    d.ellipse((centre[0] - radius - 40, centre[1] - radius - 40, centre[0] + radius + 40, centre[1] + radius + 40),
              fill=(250, 250, 240))
    for i, ch in enumerate(text):
        a = math.radians(start + span * i / (len(text) - 1))
        letter = Image.new("RGBA", (cap * 2, cap * 2), (0, 0, 0, 0))
        ImageDraw.Draw(letter).text((cap // 2, cap // 4), ch, font=f, fill=(20, 30, 80, 255))
        letter = letter.rotate(-(math.degrees(a) + 90), resample=Image.BICUBIC)
        x, y = centre[0] + radius * math.cos(a) - cap, centre[1] + radius * math.sin(a) - cap
        img.paste(letter, (int(x), int(y)), letter)
    return img


def read_names(config, engine, img: Image.Image) -> set[str]:
    """Who or what the text check names in `img`, as policy._text decides (min_similarity)."""
    detector = TextDetector(config, PEOPLE, engine=engine)
    return {f.target_id for f in detector.detect(Picture(img), {})
            if f.target and f.similarity >= config.text.min_similarity}


def names_academy(written: tuple[str, ...], text: str) -> bool:
    matcher = nm.Matcher(nm.targets([("a", written)], []))
    return any(m.similarity >= MIN for m in matcher.find(text))


def names_person(name: str, text: str) -> bool:
    matcher = nm.Matcher(nm.targets([], [("P1", name)]))
    return any(m.similarity >= MIN for m in matcher.find(text))


# ================================================================ RT20-1/2: a name run into the words beside it

def test_control_a_certificate_line_in_mixed_case_or_on_two_lines_names_the_pupil(trust_config, ocr_engine,
                                                                                  public_domain):
    base = astronaut(public_domain)
    assert read_names(trust_config, ocr_engine, board(base, ["Awarded to Amelia Hart"])) == {"P3001"}
    assert read_names(trust_config, ocr_engine, board(base, ["AWARDED TO", "AMELIA HART"])) == {"P3001"}


# RT20-1 (fixed: a full name of 8+ letters found anywhere in a run of capitals, names.Matcher._find)
@pytest.mark.parametrize("line, font", [("AWARDED TO AMELIA HART", SANS_BOLD), ("WELL DONE AMELIA HART", NARROW_BOLD)])
def test_rt20_1_a_pupils_name_at_the_end_of_a_line_of_capitals_is_read(trust_config, ocr_engine, public_domain,
                                                                       line, font):
    img = board(astronaut(public_domain), [line], cap=22, font=font)
    assert "P3001" in read_names(trust_config, ocr_engine, img)


def test_control_the_alias_on_kit_with_a_wide_space_is_read(trust_config, ocr_engine, public_domain):
    assert read_names(trust_config, ocr_engine, board(astronaut(public_domain), ["NORTHFIELD FC"], cap=30)) == {"aidan"}


# RT20-2 (fixed: an alias of 8+ letters found anywhere in a run of capitals, names.Matcher._find)
@pytest.mark.parametrize("line", ["NORTHFIELD PRIMARY", "GO NORTHFIELD!"])
def test_rt20_2_an_alias_beside_another_word_in_narrow_capitals_is_read(trust_config, ocr_engine, public_domain, line):
    img = board(astronaut(public_domain), [line], cap=28, at=(40, 40), font=NARROW_BOLD)
    assert "aidan" in read_names(trust_config, ocr_engine, img)


# RT20-1/2 (fixed: names and aliases of 8+ letters found anywhere in a run of capitals, names.Matcher._find)
@pytest.mark.parametrize("written, text", [
    (("Northfield",), "NORTHFIELDPRIMARY"), (("Northfield",), "GONORTHFIELD!"),
    (("Amelia Hart",), "PRESENTEDTOAMELIAHART")])
def test_rt20_1_2_the_run_together_strings_the_ocr_returns_name_them(written, text):
    if written == ("Amelia Hart",):
        assert names_person(written[0], text)
    else:
        assert names_academy(written, text)


def test_rt20_1_2_a_run_of_capitals_names_only_a_full_name_or_a_long_academy_name():
    """Inside a run, a lone first name, a title and surname, a name under 8 letters, a run in lower
    case and ordinary words name nobody. "AMELIAHARTLEY" does name Amelia Hart (decided: the OCR
    drops the spaces of "AMELIA HART LEY..." the same way, so it cannot be told apart; a needless
    look, never a missed pupil)."""
    people = [("P1", "Amelia Hart"), ("P2", "Tom Hart"), ("P3", "Mrs Sarah Jones"), ("P4", "Suharti")]
    matcher = nm.Matcher(nm.targets([("a", ("St Aidan's Academy", "Northfield", "TNA"))], people))

    def named(text):
        return {m.target.id for m in matcher.find(text) if m.similarity >= MIN}

    assert named("AWARDEDTOAMELIAHART") == {"P1"} and named("HARTAMELIA2026") == {"P1"}
    assert named("AMELIAHARTLEY") == {"P1"}
    for text in ("WELLDONEAMELIA", "WELLDONETOMHART", "MRSJONESCLASS", "SPORTSDAYWINNERS2026", "NORTHFOLDROAD",
                 "CANTNABURY", "Awardedtoameliahart", "welldoneamelia hart!", "NORTHGATEPRIMARYACADEMY",
                 "HEARTAMELIORATION", "SAINTANDREWSACADEMY", "OPENEVENINGTHURSDAY"):
        assert named(text) == set(), text


# ================================================================ RT20-3/4/7: how school names are written


@pytest.mark.parametrize("written, text", [
    (("St Aidan's Academy",), "ST AIDAN’S ACADEMY"), (("St Aidan's Academy",), "STAIDANSACADEMY"),
    (("St Aidan's Academy",), "Saint Aidan's Academy"), (("St Aidan's Academy", "St Aidans"), "ST. AIDANS"),
    (("St Aidan's Academy", "St Aidans"), "SAINT AIDAN'S"), (("St Aidan's Academy", "St Aidans"), "ST AIDAN’S"),
    (("St Aidan's Academy", "St Aidans"), "ST AIDANS'"), (("St Aidans Academy",), "ST. AIDAN’S ACADEMY"),
    (("St Aidan's Academy", "St Aidan’s"), "ST AIDANS"), (("St Aidan's Academy", "Northfield"), "NORTH-\nFIELD"),
    (("St Aidan's Academy", "North-field"), "NORTHFIELD"), (("St Aidan's Academy", "Trinity-North"), "TRINITY\nNORTH"),
    (("École Sainte-Marie",), "ECOLE SAINTE MARIE"), (("Ecole Sainte Marie",), "ÉCOLE SAINTE-MARIE"),
    (("St Peter and St Paul Academy",), "ST PETER & ST PAUL ACADEMY"),
])
def test_safe_apostrophes_stops_saint_hyphens_line_breaks_and_accents_in_academy_names(written, text):
    assert names_academy(written, text)


# RT20-3 (fixed: an identifying word also spelt with its final s left off or added, name_forms.possessives)
@pytest.mark.parametrize("written, text", [
    (("St Aidan's Academy",), "ST AIDAN ACADEMY"), (("St Aidan Academy",), "ST AIDAN'S ACADEMY"),
    (("St Mary's Catholic Primary School",), "ST MARY CATHOLIC PRIMARY SCHOOL"),
    (("St Aidan's Academy", "St Aidans"), "ST AIDAN")])
def test_rt20_3_a_possessive_s_dropped_or_added_still_names_the_school(written, text):
    assert names_academy(written, text)


# RT20-3 (fixed: an identifying word also spelt with its final s left off or added, name_forms.possessives)
def test_rt20_3_a_sign_without_the_apostrophe_s_names_the_school(trust_config, ocr_engine, public_domain):
    img = board(astronaut(public_domain), ["ST AIDAN ACADEMY"], cap=28)
    assert "aidan" in read_names(trust_config, ocr_engine, img)


# RT20-4 (fixed: Ss/Sts/Saints read as one another, as St/Saint, name_forms.SAINTS)
@pytest.mark.parametrize("written, text", [
    (("Saints Peter and Paul Catholic Primary School",), "SS PETER AND PAUL CATHOLIC PRIMARY SCHOOL"),
    (("SS Peter and Paul Catholic Primary School",), "SAINTS PETER AND PAUL CATHOLIC PRIMARY SCHOOL"),
    (("Sts Peter and Paul Academy",), "SAINTS PETER & PAUL ACADEMY")])
def test_rt20_4_saints_written_ss_or_sts_names_the_school(written, text):
    assert names_academy(written, text)


# RT20-7 (fixed: ordinals first..twentieth also spelt 1st..20th and back, name_forms._spellings)
@pytest.mark.parametrize("written, text", [(("Leeds Sixth Form College",), "LEEDS 6TH FORM COLLEGE"),
                                           (("Leeds 6th Form College",), "LEEDS SIXTH FORM COLLEGE")])
def test_rt20_7_an_ordinal_in_figures_or_words_names_the_school(written, text):
    assert names_academy(written, text)


@pytest.mark.parametrize("name, text", [
    ("Amelia Hart", "AMELIA 'MILLIE' HART"), ("Amelia Hart", "HART,AMELIA"), ("Amelia Hart", "A M E L I A  H A R T"),
    ("Amelia\u00a0Hart", "AMELIA HART"), ("Zoe\u0308 O’Brien", "ZOË OBRIEN"), ("Zoë O'Brien", "ZOE O BRIEN"),
    ("Siobhán Ní Bhriain", "SIOBHAN NI BHRIAIN"), ("İlker Yılmaz", "ILKER YILMAZ"),
    ("Mohammed Al-Hassan", "MOHAMMED ALHASSAN"), ("Jean-Luc Picard", "JEAN-LUC\nPICARD"),
    ("Amelia Hart", "Ａｍｅｌｉａ Ｈａｒｔ"), ("Amelia Hart", "𝐀𝐦𝐞𝐥𝐢𝐚 𝐇𝐚𝐫𝐭")])
def test_safe_register_names_with_quotes_marks_hyphens_and_odd_spaces(name, text):
    assert names_person(name, text)


def test_control_a_caption_in_latin_letters_names_the_pupil():
    assert names_person("Amelia Hart", "Sports day: Amelia Hart")


# RT20-8 (fixed: Cyrillic/Greek look-alikes folded to Latin letters, name_forms._LOOKALIKES)
@pytest.mark.parametrize("text", ["Sports day: \u0410melia \u041dart", "Sports day: \u0391melia Hart"])
def test_rt20_8_a_caption_with_look_alike_letters_names_the_pupil(text):
    assert names_person("Amelia Hart", text)


# ================================================================ RT20-5: lettering along an arc


def test_control_the_ring_words_written_straight_are_read(trust_config, ocr_engine, public_domain):
    base = astronaut(public_domain)
    assert read_names(trust_config, ocr_engine, board(base, ["ST AIDAN'S ACADEMY"], cap=26)) == {"aidan"}
    assert read_names(trust_config, ocr_engine, board(base, ["AMELIA HART"], cap=26)) == {"P3001"}


@pytest.mark.parametrize("text, who, arc", [("ST AIDAN'S ACADEMY", "aidan", ((320, 240), 120, -150, 120)),
                                            ("AMELIA HART", "P3001", ((320, 300), 200, -135, 90))])
def test_rt20_5_a_name_lettered_along_an_arc_is_read(trust_config, ocr_engine, public_domain, text, who, arc):
    img = ring(astronaut(public_domain), text, *arc)
    assert who in read_names(trust_config, ocr_engine, img)


# ================================================================ safe: a small badge turned over in a 12 MP photo


@pytest.mark.parametrize("turn", [0, 180])  # 0: the control
def test_safe_a_22_px_name_badge_turned_a_quarter_or_half_turn_in_a_12_mp_photo_is_read(trust_config, ocr_engine,
                                                                                        public_domain, turn):
    tag = board(Image.new("RGB", (300, 60), (120, 140, 110)), ["Amelia Hart"], cap=22, at=(0, 0)).crop((0, 0, 230, 60))
    img = astronaut(public_domain, (4000, 3000))
    img.paste(tag.rotate(turn, expand=True), (2500, 1800))
    assert read_names(trust_config, ocr_engine, img) == {"P3001"}


# ================================================================ RT20-13: a badge cut by the frame's edge


def _cut_badge(public_domain, cut: int) -> Image.Image:
    img = board(astronaut(public_domain, (700, 480)), ["AMELIA HART"], cap=30, at=(0, 60))
    return img.crop((cut, 0, img.width, img.height))


def test_control_a_badge_whose_board_edge_is_cut_by_the_frame_names_the_pupil(trust_config, ocr_engine,
                                                                              public_domain):
    assert read_names(trust_config, ocr_engine, _cut_badge(public_domain, 30)) == {"P3001"}


def test_rt20_13_a_badge_with_its_first_letter_cut_by_the_frame_names_the_pupil(trust_config, ocr_engine,
                                                                               public_domain):
    assert "P3001" in read_names(trust_config, ocr_engine, _cut_badge(public_domain, 52))


# ================================================================ RT20-6: a sign on screen for 0.3 s


def _clip_verdict(tmp_path, ocr_engine, start: float, shown: float, extra: str = ""):
    from .test_redteam12 import _sign_clip, verdict
    from .test_video import TOML

    aidan = '\n[[academy]]\nid = "aidan"\nname = "St Aidan\'s Academy"\n'
    (tmp_path / "screening.toml").write_text(TOML + extra + aidan)
    config = load_config(tmp_path / "screening.toml")
    return verdict(_sign_clip(tmp_path / f"sign_{start}_{shown}.mp4", start, shown), config, ocr_engine)[1]


def test_control_the_sign_on_screen_for_half_a_second_is_read(tmp_path, ocr_engine):
    d = _clip_verdict(tmp_path, ocr_engine, 0.53, 0.5)
    assert d.status is Status.NEEDS_PERMISSION and any(r.kind.value == "text" for r in d.reasons), d.reasons


@pytest.mark.xfail(strict=True, reason="RT20-6: 'ST AIDAN'S / ACADEMY' cut in for 0.3 s (a cut-away, a sign passed "
                                       "in a car) between the text pass's looks, every other_checks_every_s (0.5 s): "
                                       "the clip is cleared though every frame with it was decoded and the face pass "
                                       "screened it. Fix: video_passes: run the text (and body, logo) passes on "
                                       "every screened frame (0.25 s) where change gating finds new pixels; their "
                                       "cost is only in changed cells")
@pytest.mark.parametrize("start", [0.63])
def test_rt20_6_a_sign_on_screen_for_0_3_s_is_read(tmp_path, ocr_engine, start):
    d = _clip_verdict(tmp_path, ocr_engine, start, 0.3)
    assert d.status is not Status.CLEARED, d


# ================================================================ RT20-15: a person seen from behind for 0.3 s


class BackOfAPerson:
    """The faces check's three parts as video_passes uses them: no face anywhere; a body (a person
    seen from behind) wherever a pure blue block is, as the HOG people detector would report it."""

    def __init__(self, config):
        self.engine = type("E", (), {"settings": config.faces})()

    def check_gallery(self):
        pass

    def faces_in(self, rgb, frame=0, engine=None, memo=None):
        return []

    def turned_in(self, rgb, upright, frame=0):
        return []

    def bodies_in(self, rgb, frame=0):
        from screening.model import PersonFinding

        blue = (rgb[..., 2] > 200) & (rgb[..., 0] < 60) & (rgb[..., 1] < 60)
        if blue.sum() < 200:
            return []
        ys, xs = np.nonzero(blue)
        return [PersonFinding((int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                               int(ys.max() - ys.min() + 1)), 2.5)]


def _back_clip(tmp_path, start: float, shown: float):
    from .clips import Appearance, write_clip
    from .test_video import TOML, screen

    (tmp_path / "screening.toml").write_text(TOML)
    config = load_config(tmp_path / "screening.toml")
    body = np.zeros((80, 30, 3), np.uint8)
    body[..., 2] = 255
    clip = write_clip(tmp_path / f"back_{start}.mp4", 2.0, appearances=(Appearance(body, start, shown, (140, 100)),))
    return screen(clip, config, faces=BackOfAPerson(config))[1]


def test_control_a_person_from_behind_for_half_a_second_is_a_person(tmp_path):
    d = _back_clip(tmp_path, 0.53, 0.5)
    assert d.status is Status.NEEDS_PERMISSION and {r.kind.value for r in d.reasons} == {"person"}, d.reasons


@pytest.mark.xfail(strict=True, reason="RT20-15: a person seen from behind (a body, no face) crossing the shot in "
                                       "0.3 s is cleared: the body pass runs every other_checks_every_s (0.5 s), "
                                       "while the face pass, which sees every screened frame (0.25 s), has no face "
                                       "to find. Same schedule as RT20-6. Fix: video_passes: run the people pass on "
                                       "every screened frame where change gating finds new pixels")
@pytest.mark.parametrize("start", [0.63])
def test_rt20_15_a_person_from_behind_for_0_3_s_is_not_cleared(tmp_path, start):
    d = _back_clip(tmp_path, start, 0.3)
    assert d.status is not Status.CLEARED, d


# ================================================================ RT20-10: [video] max_side at the edge of its range


def test_control_a_sign_on_screen_for_two_seconds_is_read_at_max_side_1280(tmp_path, ocr_engine):
    d = _clip_verdict(tmp_path, ocr_engine, 0.0, 2.0, "\n[video]\nmax_side = 1280\n")
    assert any(r.kind.value == "text" for r in d.reasons), d.reasons


# RT20-10 (fixed: [video] max_side below 1280 (other than 0) is refused; the old value is refused below)
def test_rt20_10_17_18_values_that_weaken_a_check_are_refused(tmp_path):
    from screening.config import ConfigError

    from .test_video import TOML

    for section, value, key in (("video", "max_side = 120", "video.max_side"),
                                ("video", "change_threshold = 0.5", "video.change_threshold"),
                                ("faces", "detect_threshold = 0.6", "faces.detect_threshold")):
        text = TOML + f"\n[{section}]\n{value}\n"
        if f"[{section}]" in TOML:  # the section is already there: put the key under it
            text = TOML.replace(f"[{section}]", f"[{section}]\n{value}", 1)
        (tmp_path / "screening.toml").write_text(text)
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(tmp_path / "screening.toml")


# ======================================================== RT20-17: [video] change_threshold at the top of its range


def _light_sign_verdict(tmp_path, ocr_engine, extra: str):
    """A 2-s clip of a plain light wall (grey 200); from 0.6 to 1.4 s a lighter board (235) on it
    reads 'ST AIDAN'S / ACADEMY' in dark letters; the first and last frames show the wall only."""
    from .clips import write_clip
    from .test_redteam12 import verdict
    from .test_video import TOML

    aidan = '\n[[academy]]\nid = "aidan"\nname = "St Aidan\'s Academy"\n'
    (tmp_path / "screening.toml").write_text(TOML + extra + aidan)
    config = load_config(tmp_path / "screening.toml")
    sign = np.asarray(board(Image.new("RGB", (300, 120), (200, 200, 200)), ["ST AIDAN'S", "ACADEMY"], cap=24,
                            at=(0, 0)).crop((0, 0, 300, 120)))
    sign = np.where(sign.sum(axis=2, keepdims=True) > 600, np.uint8(235), sign)  # the board lighter than the wall

    def wall(t, pixels):
        out = np.full_like(pixels, 200)
        if 0.6 <= t < 1.4:
            out[60:180, 60:360] = sign
        return out

    clip = write_clip(tmp_path / "wall.mp4", 2.0, size=(640, 360), frame_hook=wall)
    return verdict(clip, config, ocr_engine)[1]


def test_control_a_light_sign_on_a_light_wall_is_read_at_the_default_change_threshold(tmp_path, ocr_engine):
    d = _light_sign_verdict(tmp_path, ocr_engine, "")
    assert any(r.kind.value == "text" for r in d.reasons), d.reasons


# RT20-17 (fixed: [video] change_threshold above 0.1 is refused; at 0.1 the sign is read)
def test_rt20_17_change_threshold_at_the_top_of_its_range_never_hides_a_sign(tmp_path, ocr_engine):
    d = _light_sign_verdict(tmp_path, ocr_engine, "\n[video]\nchange_threshold = 0.1\n")
    assert d.status is not Status.CLEARED, d


# ================================================================ people far away


@pytest.fixture(scope="module")
def face_checker():
    from screening.config import FaceSettings
    from screening.detectors.faces import FaceDetector

    return FaceDetector(FaceSettings(), None)


def _crowd(public_domain, face_px: int) -> Image.Image:
    """Eight people (the astronaut, head and shoulders) in a row across a 1000 x 600 photo of a
    field, faces `face_px` across (the astronaut's face is 90 px of his 512)."""
    side = round(512 * face_px / 90)
    with Image.open(public_domain / "astronaut.png") as im:
        small = im.convert("RGB").resize((side, side), Image.LANCZOS)
    field = Image.new("RGB", (1000, 600), (110, 140, 90))
    for i in range(8):
        field.paste(small, (60 + i * (side + 40), 300 + (i % 2) * 30))
    return field


def test_safe_a_sign_only_in_a_clips_thumbnail_is_read(tmp_path, ocr_engine):
    """A clip whose frames are a plain drawn scene and whose CNTH thumbnail (what a phone's gallery
    shows) carries 'ST AIDAN'S / ACADEMY'."""
    from .test_clip_thumbnails import _clip_with, _cnth, _other
    from .test_redteam6 import jpeg
    from .test_redteam12 import verdict
    from .test_video import TOML

    (tmp_path / "screening.toml").write_text(TOML + '\n[[academy]]\nid = "aidan"\nname = "St Aidan\'s Academy"\n')
    config = load_config(tmp_path / "screening.toml")
    thumb = np.asarray(board(Image.fromarray(_other((320, 240))), ["ST AIDAN'S", "ACADEMY"], cap=22, at=(10, 60)))
    _, d = verdict(_clip_with(tmp_path, "thumb.mov", _cnth(jpeg(thumb))), config, ocr_engine)
    assert any(r.kind.value == "text" and "thumbnail" in r.detail for r in d.reasons), d.reasons


def test_safe_a_crowd_far_away_with_9_px_faces_is_not_cleared(public_domain, face_checker):
    from .test_redteam12 import _faces_decision

    d = _faces_decision(face_checker, _crowd(public_domain, 9))
    assert d.status is Status.NEEDS_PERMISSION and len(d.reasons) >= 4, d.reasons


@pytest.mark.xfail(strict=True, reason="RT20-11: the same crowd with 7-px faces (people 40 px tall, plainly eight "
                                       "people) is cleared: below CenterFace's smallest face and far below the HOG "
                                       "people detector's 128-px body (vision/people.py), and nothing else reports "
                                       "a person. Debatable (docs/faces.md guarantees 40-px faces), but SPEC's "
                                       "`person` has no lower size. Fix: vision/people.py: also run the people "
                                       "detector on a 2x/3x enlarged copy (or ship a small-person ONNX detector), "
                                       "and report faces found only at the detector's floor as people")
def test_rt20_11_a_crowd_far_away_with_7_px_faces_is_not_cleared(public_domain, face_checker):
    from .test_redteam12 import _faces_decision

    d = _faces_decision(face_checker, _crowd(public_domain, 7))
    assert d.status is not Status.CLEARED, d.reasons


# ======================================================== RT20-18: [faces] detect_threshold at the top of its range


def _cut_by_the_frame(public_domain, face_checker_settings=None):
    from screening.config import FaceSettings
    from screening.detectors.faces import FaceDetector

    from .test_redteam12 import _covered, _faces_decision

    detector = FaceDetector(face_checker_settings or FaceSettings(), None)
    return _faces_decision(detector, _covered(public_domain, "cut by the frame"))


def test_control_a_face_cut_by_the_frame_is_found_at_the_default_detect_threshold(public_domain):
    d = _cut_by_the_frame(public_domain)
    assert d.status is Status.NEEDS_PERMISSION, d.reasons


# RT20-18 (fixed: [faces] detect_threshold above 0.4 is refused)
def test_rt20_18_detect_threshold_at_the_top_of_its_range_never_clears_a_face_cut_by_the_frame(public_domain):
    from screening.config import FaceSettings

    d = _cut_by_the_frame(public_domain, FaceSettings(detect_threshold=0.4))
    assert d.status is not Status.CLEARED, d.reasons


# ================================================================ RT20-9: the watch job's log inside its inbox


@pytest.mark.slow
# RT20-9 (fixed: a log inside the inbox or --into is refused, commands/watch._holds_own_files)
def test_rt20_9_a_log_inside_the_inbox_is_refused_or_left_alone(trust, capsys):  # noqa: F811
    from .fake_detectors import photo
    from .test_watch import BLUE
    from .test_watch_attacks import once

    photo(trust / "inbox" / "a.png", BLUE)
    rc = once("--log", "inbox/watch.log")
    assert rc == 2 or not list((trust / "screened" / "error").glob("watch*")), rc


from .test_watch import trust  # noqa: E402,F401 - fixture


# ================================================================ RT20-12: the trust's own folder as the inbox


# RT20-12 (fixed: an inbox holding the trust's own files is refused, commands/watch._holds_own_files)
def test_rt20_12_an_inbox_holding_the_trusts_own_config_and_register_is_refused(trust, capsys):  # noqa: F811
    from screening import cli

    from .fake_detectors import photo
    from .test_watch import BLUE

    (trust / "consents" / "photos" / "P1").mkdir(parents=True)
    photo(trust / "consents" / "photos" / "P1" / "ref.png", BLUE)
    out = trust.parent / f"{trust.name}_sorted"
    rc = cli.main(["watch", ".", "--into", str(out), "--once", "--workers", "1", "--settle", "0.1", "--grace", "0.2"])
    moved = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) if out.exists() else []
    assert rc == 2 and (trust / "screening.toml").is_file() and (trust / "consents" / "register.csv").is_file(), moved


# ================================================================ RT20-14: the Arabic letter mark in a file name


@pytest.mark.parametrize("mark", ["\u200f", "\u202e", "\u2067"])  # RLM, RLO, RLI: the control
def test_control_right_to_left_marks_in_a_file_name_are_shown_escaped(mark):
    from screening.textsafe import for_csv, for_html, printable

    name = f"IMG_{mark}0042.jpg"
    assert all(mark not in out for out in (printable(name), for_html(name), for_csv(name)))


# RT20-14 (fixed: U+061C ALM added to the character classes of textsafe.py)
def test_rt20_14_the_arabic_letter_mark_in_a_file_name_is_shown_escaped():
    from screening.textsafe import for_csv, for_html, printable

    name = "IMG_\u061c0042.jpg"
    assert all("\u061c" not in out for out in (printable(name), for_html(name), for_csv(name)))


def test_rt20_14_every_bidi_format_character_is_shown_escaped_everywhere():
    import json
    import unicodedata

    from screening.textsafe import for_csv, for_html, for_json, printable

    explicit = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}
    marks = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Cf"
             and (unicodedata.bidirectional(chr(c)) in explicit or "MARK" in unicodedata.name(chr(c), "")
                  and unicodedata.bidirectional(chr(c)) in ("L", "R", "AL"))] + [chr(c) for c in range(0x206a, 0x2070)]
    assert {"\u061c", "\u200e", "\u200f", "\u202e", "\u2067"} <= set(marks)
    for mark in marks:
        name = f"IMG_{mark}0042.jpg"
        outs = (printable(name), for_html(name), for_csv(name), for_json(json.dumps(name, ensure_ascii=False)))
        assert all(mark not in out for out in outs), hex(ord(mark))


# ================================================================ RT20-16: the audit export over a screened original


# RT20-16 (fixed: store/db.private_file never writes over a file holding binary data)
def test_rt20_16_the_audit_export_never_overwrites_a_screened_original(cli_trust, capsys):  # noqa: F811
    from screening import cli

    from .test_redteam3 import _photo

    original = cli_trust / "batch" / "a.png"
    _photo(original, "red")
    before = original.read_bytes()
    try:
        cli.main(["scan", "batch", "--workers", "1"])
    except SystemExit:
        pass
    assert cli.main(["audit", "--csv", "batch/a.png"]) == 2
    assert original.read_bytes() == before, "the original photo was overwritten by the audit export"
    assert "binary data" in capsys.readouterr().err


from .test_redteam3 import cli_trust  # noqa: E402,F401 - fixture
