"""Red team 12: names written in the picture as held-out acceptance files would write them (fonts,
colours, vertical, small text in 24 MP photos and panoramas, the EXIF thumbnail, a clip's frames),
people whose face cannot be seen, careless config and register values, and `redact` of clips
(faces between the screened frames, location tags of MP4/MOV). Each case asserts the SAFE outcome
next to a control showing the content is found when shown plainly; a case the product gets wrong
is xfail(strict=True) with "RT12-N" in its reason: when a fix lands the test passes, the xfail
fails, and the mark must go.

Text in pictures uses the real OCR engine (one per module); faces in photos the real face engine
on the public-domain astronaut and cameraman; clips the stand-in face of tests/test_video.py (red
and white stripes).

Unsafe (xfail): a face hidden by a hand or a hood, body in view (RT12-9); a face on screen 0.12 s
between the screened frames of a clip (RT12-28); a gate sign behind railings (RT12-25); 12 px capitals in a 12 MP
photo (RT12-32, below the documented min_letter_px). Fixed on main while this round ran (their tests
keep them fixed): register names with a title (RT12-21), a bracketed known-as name (RT12-22), a
double surname (RT12-23); '&' vs 'and' (RT12-26); a trailing generic word left out (RT12-27) or
hidden (RT12-29); an empty --channel (RT12-30); a leading 'The' left out (RT12-31); a fast face
between the screened frames of a redacted clip (RT12-16); capitals tracked a capital apart
(RT12-19).
Safe: coloured, italic, thin, outlined, waved, turned, vertical, engraved, blurred, dark and over-compressed lettering, hyphens and accents across
lines, 14 px capitals, small text in a 24 MP photo's or a panorama's corner, a name only in the EXIF
thumbnail or in a clip for 0.5 s or at 20 px in a QHD clip (RT12-1 to 8, 20, 24); a masked or
cropped face (RT12-9); aliases without letters, regex characters, unknown channels, careless
register rows, linked or video reference photos (RT12-10 to 15); location tags of MOV/MP4 and
same-stem clips in redact (RT12-17, 18).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from screening import cli, pipeline, pool
from screening.config import ConfigError, load_config
from screening.detectors.text import TextDetector
from screening.model import Check, Status
from screening.policy import Rules, decide

from .clips import Appearance, write_clip
from .test_config_register import GOOD, write_config
from .test_text import Picture
from .test_video import RED, STRIPES, TOML, RedSquareFaces, checks

av = pytest.importorskip("av")

FONTS = Path("/usr/share/fonts/truetype")
BOLD = FONTS / "dejavu" / "DejaVuSans-Bold.ttf"
PEOPLE = [("P3001", "Amelia Hart"), ("P3101", "Zoë O'Brien"), ("P3102", "Anne-Marie Jones")]
ACADEMIES = GOOD + 'aliases = ["Trinity North", "TNA"]\n\n[[academy]]\nid = "aidan"\nname = "St Aidan\'s Academy"\n'


@pytest.fixture(scope="module")
def ocr_engine():
    from screening.vision.ocr import OcrEngine

    return OcrEngine()


@pytest.fixture
def trust_config(tmp_path):
    return load_config(write_config(tmp_path, ACADEMIES))


def astronaut(public_domain, size=(640, 480)) -> Image.Image:
    with Image.open(public_domain / "astronaut.png") as im:
        return im.convert("RGB").resize(size, Image.BILINEAR)


def board(base: Image.Image, lines, cap=28, at=(40, 40), font=BOLD, fill=(250, 250, 240), ink=(20, 30, 80),
          spacing=1.6) -> Image.Image:
    """`lines` on a board drawn on a copy of `base`, capitals about `cap` px high."""
    if not Path(font).exists():
        pytest.skip(f"{font} is not installed")
    img = base.copy()
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(str(font), round(cap / 0.72))
    width = max(int(f.getlength(t)) for t in lines) + 2 * cap
    d.rectangle((at[0], at[1], at[0] + width, at[1] + int(len(lines) * cap * spacing) + cap), fill=fill)
    for i, t in enumerate(lines):
        d.text((at[0] + cap, at[1] + cap // 2 + int(i * cap * spacing)), t, font=f, fill=ink)
    return img


def read_names(config, engine, img: Image.Image) -> set[str]:
    detector = TextDetector(config, PEOPLE, engine=engine)
    return {f.target_id for f in detector.detect(Picture(img), {})
            if f.target and f.similarity >= config.text.min_similarity}  # as policy._text decides


# ================================================================ names in the picture


def test_rt12_control_a_plain_name_board_is_read(trust_config, ocr_engine, public_domain):
    assert read_names(trust_config, ocr_engine, board(astronaut(public_domain), ["Amelia Hart"])) == {"P3001"}


def _vertical(base, lines, turn=90):
    """A pole banner: the board turned a quarter turn, pasted on the photo."""
    sign = board(Image.new("RGB", (400, 90), (120, 140, 110)), lines, at=(0, 0)).rotate(turn, expand=True)
    out = base.copy()
    out.paste(sign, (40, 20))
    return out


def _tracked(base, text, cap=28, gap=1.0, ink=(20, 30, 80)):
    """Capitals spaced `gap` capitals apart (signage and kit lettering is often tracked wide)."""
    img = board(base, [" "], cap=cap)
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(str(BOLD), round(cap / 0.72))
    d.rectangle((30, 30, 630, 30 + 3 * cap), fill=(250, 250, 240))
    x = 40
    for ch in text:
        d.text((x, 30 + cap), ch, font=f, fill=ink)
        x += int(f.getlength(ch) + gap * cap) if ch != " " else int(2.5 * cap * max(gap, 0.6))
    return img


def _handwritten(base, text, cap=30, seed=1):
    """A whiteboard in marker: each letter of an italic face turned up to 9 degrees and moved up to
    3 px off the line (no handwriting font on the machine)."""
    rng = np.random.default_rng(seed)
    img = base.copy()
    d = ImageDraw.Draw(img)
    d.rectangle((20, 20, 620, 140), fill=(248, 248, 248))
    f = ImageFont.truetype(str(FONTS / "dejavu" / "DejaVuSerif-Italic.ttf"), round(cap / 0.72))
    x = 40
    for ch in text:
        glyph = Image.new("L", (2 * cap, 2 * cap), 0)
        ImageDraw.Draw(glyph).text((cap // 3, cap // 3), ch, font=f, fill=255)
        glyph = glyph.rotate(float(rng.uniform(-9, 9)), resample=Image.BICUBIC)
        img.paste(Image.new("RGB", glyph.size, (30, 60, 170)), (x, 50 + int(rng.integers(-3, 4))), glyph)
        x += int(f.getlength(ch)) + int(rng.integers(0, 3))
    return img


def _waved(base, lines, amplitude=7, period=180):
    """Letters printed on a shirt: the board's rows shifted along a sine (cloth folds)."""
    sign = np.asarray(board(Image.new("RGB", (560, 120), (200, 40, 40)), lines, fill=(200, 40, 40),
                            ink=(250, 250, 250), at=(0, 0)))
    out = sign.copy()
    for x in range(sign.shape[1]):
        out[:, x] = np.roll(sign[:, x], int(amplitude * np.sin(2 * np.pi * x / period)), axis=0)
    img = base.copy()
    img.paste(Image.fromarray(out), (40, 260))
    return img


SURFACES = {
    # RT12-1: white on a coloured banner or kit (red, academy navy)
    "white on red": (lambda b: board(b, ["AMELIA HART"], fill=(200, 20, 30), ink=(255, 255, 255)), "P3001"),
    "white on navy": (lambda b: board(b, ["ST AIDAN'S ACADEMY"], fill=(27, 42, 74), ink=(255, 255, 255)), "aidan"),
    # RT12-2: certificate-like and thin faces
    "serif italic": (lambda b: board(b, ["Amelia Hart"], font=FONTS / "dejavu" / "DejaVuSerif-Italic.ttf"), "P3001"),
    "bold italic, accent, apostrophe": (lambda b: board(b, ["Awarded to Zoë O'Brien"], cap=26,
                                                        font=FONTS / "liberation" / "LiberationSerif-BoldItalic.ttf"),
                                        "P3101"),
    "extra light": (lambda b: board(b, ["Amelia Hart"], font=FONTS / "dejavu" / "DejaVuSans-ExtraLight.ttf"), "P3001"),
    "narrow kit lettering": (lambda b: board(b, ["TRINITY NORTH"], cap=22,
                                             font=FONTS / "liberation" / "LiberationSansNarrow-Bold.ttf"), "north"),
    # RT12-3: a hyphenated first name broken over two lines; a badge with the accent on line one
    "hyphen at the line break": (lambda b: board(b, ["Anne-", "Marie Jones"]), "P3102"),
    "badge on two lines": (lambda b: board(b, ["ZOË", "O'BRIEN"], cap=24), "P3101"),
    # RT12-4: small letters (12-14 px capitals) on a small photo
    "14 px capitals": (lambda b: board(b, ["Amelia Hart"], cap=14), "P3001"),
    # RT12-5: vertical banners, read top to bottom and bottom to top
    "vertical up": (lambda b: _vertical(b, ["AMELIA HART"], turn=90), "P3001"),
    "vertical down": (lambda b: _vertical(b, ["AMELIA HART"], turn=270), "P3001"),
    # RT12-19: tracked capitals, marker handwriting on a whiteboard, letters on a folded shirt
    "tracked half a capital": (lambda b: _tracked(b, "AMELIA HART", gap=0.5), "P3001"),
    "whiteboard marker": (lambda b: _handwritten(b, "Amelia Hart"), "P3001"),
    "folded shirt": (lambda b: _waved(b, ["AMELIA HART"]), "P3001"),
    "outlined kit": (lambda b: _outlined(b, "TRINITY NORTH"), "north"),
    # RT12-24: a diagonal banner, a stone plaque, a soft or dark or over-compressed photo
    "turned 30 degrees": (lambda b: _turned(b, 30), "P3001"),
    "turned 45 degrees": (lambda b: _turned(b, 45), "P3001"),
    "engraved stone": (lambda b: _engraved(b, "ST AIDAN'S ACADEMY"), "aidan"),
    "out of focus": (lambda b: _after(board(b, ["Amelia Hart"]), "blur"), "P3001"),
    "dark evening photo": (lambda b: _after(board(b, ["Amelia Hart"]), "dark"), "P3001"),
    "JPEG quality 20": (lambda b: _after(board(b, ["Amelia Hart"]), "jpeg"), "P3001"),
}


def _turned(base, degrees):
    sign = board(Image.new("RGB", (330, 90), (120, 140, 110)), ["Amelia Hart"], at=(0, 0))
    mask = Image.new("L", sign.size, 255).rotate(degrees, expand=True)
    out = base.copy()
    out.paste(sign.rotate(degrees, expand=True), (60, 60), mask)
    return out


def _engraved(base, text, cap=30):
    """Letters cut into a stone plaque: a shade darker than the stone, lit from above."""
    img = base.copy()
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(str(BOLD), round(cap / 0.72))
    d.rectangle((30, 300, 610, 300 + 3 * cap), fill=(178, 172, 160))
    d.text((51, 301 + cap), text, font=f, fill=(205, 200, 190))  # the lit lower edge
    d.text((50, 300 + cap), text, font=f, fill=(140, 134, 124))
    return img


def _after(img, how):
    from PIL import ImageFilter

    if how == "blur":
        return img.filter(ImageFilter.GaussianBlur(2.0))
    if how == "dark":
        return Image.fromarray((np.asarray(img).astype(np.float32) * 0.22).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=20)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _outlined(base, text, cap=34):
    """Kit lettering: white capitals with a thick navy outline, on the kit's mid blue."""
    img = base.copy()
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(str(BOLD), round(cap / 0.72))
    d.rectangle((30, 300, 600, 300 + 3 * cap), fill=(70, 110, 190))
    d.text((50, 300 + cap), text, font=f, fill=(255, 255, 255), stroke_width=4, stroke_fill=(20, 30, 80))
    return img


@pytest.mark.parametrize("surface", list(SURFACES))
def test_rt12_1_to_5_names_on_coloured_italic_thin_broken_small_and_vertical_lettering(
        trust_config, ocr_engine, public_domain, surface):
    make, expected = SURFACES[surface]
    assert expected in read_names(trust_config, ocr_engine, make(astronaut(public_domain)))


@pytest.mark.parametrize("text, cap, expected", [("AMELIA HART", 22, "P3001"), ("TRINITY NORTH", 18, "north")])
def test_rt12_19_a_name_in_capitals_tracked_a_capital_apart_is_read(trust_config, ocr_engine, public_domain,
                                                                     text, cap, expected):
    assert expected in read_names(trust_config, ocr_engine, _tracked(astronaut(public_domain), text, cap=cap, gap=1.0))


@pytest.mark.slow  # 24 MP and 24 MP-wide panorama: about 15 s of OCR together
@pytest.mark.parametrize("size, cap, at", [((6000, 4000), 16, (5700, 3900)), ((12000, 2000), 22, (11650, 1930))],
                         ids=["24 MP, 16 px capitals in the corner", "panorama, far corner"])
def test_rt12_6_small_name_in_a_corner_of_a_24_mp_photo_or_a_panorama(trust_config, ocr_engine, public_domain,
                                                                         size, cap, at):
    img = board(astronaut(public_domain, size), ["Amelia Hart"], cap=cap, at=at)
    assert "P3001" in read_names(trust_config, ocr_engine, img)


# ---------------------------------------------------------------- the whole pipeline


def _text_checks(config, engine, faces=None):
    d = checks(config, faces)
    d[Check.TEXT] = TextDetector(config, PEOPLE, engine=engine)
    return d


def verdict(path, config, engine, faces=None):
    s = pipeline.screen_file(path, _text_checks(config, engine, faces), video=config.video)
    return s, decide(s.results, Rules("website", dt.date(2026, 10, 1), people={}))


def kinds(decision) -> set[str]:
    return {r.kind.value for r in decision.reasons}


@pytest.fixture
def clip_config(tmp_path):
    (tmp_path / "screening.toml").write_text(TOML)
    return load_config(tmp_path / "screening.toml")


def _exif_with_thumbnail(thumb: Image.Image) -> bytes:
    """An APP1 Exif payload: IFD0 with an image description, IFD1 holding `thumb` as its JPEG."""
    import struct

    buf = io.BytesIO()
    thumb.save(buf, "JPEG", quality=92)
    jpg, desc = buf.getvalue(), b"sports day\x00"
    ifd1_off = 8 + 2 + 12 + 4
    desc_off = ifd1_off + 2 + 2 * 12 + 4
    thumb_off = desc_off + len(desc)
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x010E, 2, len(desc), desc_off) + struct.pack("<I", ifd1_off)
    ifd1 = (struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, thumb_off)
            + struct.pack("<HHII", 0x0202, 4, 1, len(jpg)) + struct.pack("<I", 0))
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1 + desc + jpg


def test_rt12_7_control_the_same_sign_in_the_main_picture_is_found(tmp_path, clip_config, ocr_engine, public_domain):
    photo = tmp_path / "main.jpg"
    board(astronaut(public_domain, (640, 480)), ["Amelia Hart"], cap=40).save(photo, quality=92)
    _, d = verdict(photo, clip_config, ocr_engine)
    assert "text" in kinds(d)


def test_rt12_7_a_name_only_in_the_exif_thumbnail_is_not_cleared(tmp_path, clip_config, ocr_engine, public_domain):
    """What a file browser or a phone gallery shows before opening the photo: the thumbnail
    carries a board 'Amelia Hart', the main picture a plain drawn scene."""
    thumb = board(Image.new("RGB", (320, 240), (120, 140, 110)), ["Amelia Hart"], cap=24, at=(10, 80))
    photo = tmp_path / "thumb.jpg"
    main = Image.new("RGB", (640, 480), (120, 140, 110))
    main.save(photo, "JPEG", quality=92, exif=_exif_with_thumbnail(thumb))
    _, d = verdict(photo, clip_config, ocr_engine)
    assert d.status is not Status.CLEARED and "text" in kinds(d), d
    assert any("thumbnail" in r.detail for r in d.reasons if r.kind.value == "text"), d.reasons


def _sign_clip(path, start, shown, lines=("ST AIDAN'S", "ACADEMY"), size=(640, 360)):
    sign = np.asarray(board(Image.new("RGB", (300, 120), (120, 140, 110)), list(lines), cap=24, at=(0, 0)))
    return write_clip(path, 2.0, size=size, appearances=(Appearance(sign, start, shown, (60, 60)),))


@pytest.fixture
def aidan_config(tmp_path):
    (tmp_path / "screening.toml").write_text(TOML + '\n[[academy]]\nid = "aidan"\nname = "St Aidan\'s Academy"\n')
    return load_config(tmp_path / "screening.toml")


def test_rt12_8_control_a_sign_on_screen_for_two_seconds_is_read(tmp_path, aidan_config, ocr_engine):
    _, d = verdict(_sign_clip(tmp_path / "long.mp4", 0.0, 2.0), aidan_config, ocr_engine)
    assert "text" in kinds(d), d


@pytest.mark.parametrize("start, shown", [(1.13, 0.5)])
def test_rt12_8_a_sign_shown_for_half_a_second_in_a_clip_is_read(tmp_path, aidan_config, ocr_engine, start, shown):
    _, d = verdict(_sign_clip(tmp_path / "flash.mp4", start, shown), aidan_config, ocr_engine)
    assert d.status is not Status.CLEARED and "text" in kinds(d), d


# ================================================================ people whose face cannot be seen


@pytest.fixture(scope="module")
def face_checker():
    from screening.config import FaceSettings
    from screening.detectors.faces import FaceDetector

    return FaceDetector(FaceSettings(), None)


def _faces_decision(face_checker, img: Image.Image):
    findings = face_checker.detect(Picture(img), {})
    from screening.model import CheckResult

    return decide([CheckResult(Check.FACES, tuple(findings))],
                  Rules("website", dt.date(2026, 10, 1), people={}, required=(Check.FACES,)))


@pytest.mark.parametrize("name", ["astronaut.png", "camera.png"])
def test_rt12_control_the_uncovered_faces_are_unknown_faces(face_checker, public_domain, name):
    with Image.open(public_domain / name) as im:
        d = _faces_decision(face_checker, im.convert("RGB"))
    assert "unknown_face" in kinds(d)


def _covered(public_domain, how: str) -> Image.Image:
    """The astronaut (face at 175, 76, 90x90) with the face covered the way children's are."""
    with Image.open(public_domain / "astronaut.png") as im:
        img = im.convert("RGB")
    d = ImageDraw.Draw(img)
    x, y, w, h = 175, 76, 90, 90
    if how == "hand over the face":
        d.ellipse((x - 5, y + 5, x + w + 5, y + h + 10), fill=(224, 172, 140))
        for k in range(4):  # fingers
            d.rounded_rectangle((x + 5 + k * 21, y - 15, x + 21 + k * 21, y + 40), 8, fill=(218, 165, 133))
    elif how == "mask and hat":
        d.rectangle((x - 15, y - 40, x + w + 15, y + 30), fill=(30, 30, 120))  # a woolly hat pulled down
        d.rounded_rectangle((x + 5, y + 45, x + w - 5, y + h + 8), 12, fill=(150, 200, 230))  # a face mask
    elif how == "cameraman, face hidden":
        with Image.open(public_domain / "camera.png") as im:
            img = im.convert("RGB")
        ImageDraw.Draw(img).ellipse((195, 120, 270, 200), fill=(40, 40, 40))  # a hood, a camera held up
    elif how == "cut by the frame":
        img = img.crop((0, y + 55, img.width, img.height))  # only mouth and chin left at the top edge
    return img


@pytest.mark.parametrize("how", [
    pytest.param("hand over the face", marks=pytest.mark.xfail(
        strict=True, reason="RT12-9: a child hiding their face behind a hand, head, hair and body in full view, is "
                            "cleared: no face is found, and the only `person` finder is OpenCV's HOG people detector "
                            "(vision/people.py), trained on whole standing bodies, which does not fire on a head "
                            "and shoulders (the usual school portrait or close-up)")),
    pytest.param("cameraman, face hidden", marks=pytest.mark.xfail(
        strict=True, reason="RT12-9: the cameraman (hair, ear, coat, hands in full view) with his face hidden "
                            "behind a dark disc is cleared: the HOG people detector does not fire on a person "
                            "bending over a tripod, and nothing else reports a person")),
    "mask and hat", "cut by the frame"])
def test_rt12_9_a_person_whose_face_is_covered_or_cut_off_is_not_cleared(face_checker, public_domain, how):
    """SPEC: `person` is a person whose face cannot be seen or identified. Here head, shoulders and
    spacesuit are in full view: a person is obviously there."""
    d = _faces_decision(face_checker, _covered(public_domain, how))
    assert d.status is not Status.CLEARED, f"{how}: cleared"


# ================================================================ config and register values


@pytest.mark.parametrize("alias", ['""', '" "', '"-"', '"\'"'])
def test_rt12_10_an_alias_without_letters_is_refused_naming_the_key(tmp_path, alias):
    with pytest.raises(ConfigError, match="aliases"):
        load_config(write_config(tmp_path, GOOD + f"aliases = [{alias}]\n"))


def test_rt12_11_names_with_regex_characters_are_matched_literally(tmp_path, trust_config):
    from screening.vision import names as nm

    matcher = nm.Matcher(nm.targets([("mary", ("St. Mary's (C of E) Primary+",)), ("star", ("A*Star [Academy]",))],
                                    [("P1", "Zoë (Zo) O'Brien-Smith")]))
    found = lambda t: {m.target.id for m in matcher.find(t) if m.similarity >= 0.85}  # noqa: E731
    assert found("ST MARY'S C OF E PRIMARY") == {"mary"}
    assert found("A STAR ACADEMY") == {"star"}
    assert found("ZOE O'BRIEN-SMITH") == {"P1"}
    assert found("St Marys Junior") == set() and found("ASTAR") == set() and found("Zo") == set()


def _scan_trust(tmp_path, monkeypatch, register_rows="", extra=""):
    (tmp_path / "screening.toml").write_text(
        TOML.replace('trust = "Test Trust"\n', 'trust = "Test Trust"\nchannels = ["website", "print"]\n'
                     'default_channel = "website"\n') + extra)
    (tmp_path / "r.csv").write_text("person_id,name,role,academy,biometric_consent,website,print,expires,withdrawn\n"
                                    + register_rows)
    (tmp_path / "p").mkdir(exist_ok=True)
    (tmp_path / "in").mkdir(exist_ok=True)
    Image.new("RGB", (64, 48), (120, 140, 110)).save(tmp_path / "in" / "plain.png")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", lambda config, gallery, people=None: checks(config))


@pytest.mark.parametrize("channel", ["social_media", "Website", "website "])
def test_rt12_12_scan_with_an_unknown_channel_is_a_command_error(tmp_path, monkeypatch, capsys, channel):
    _scan_trust(tmp_path, monkeypatch)
    code = cli.main(["scan", "in", "--channel", channel, "--workers", "1", "--jsonl", "out.jsonl"])
    assert code == 2
    assert not (tmp_path / "out.jsonl").exists() or "cleared" not in (tmp_path / "out.jsonl").read_text()


def test_rt12_12_control_a_known_channel_clears_the_plain_photo(tmp_path, monkeypatch):
    _scan_trust(tmp_path, monkeypatch)
    assert cli.main(["scan", "in", "--channel", "print", "--workers", "1"]) == 0


@pytest.mark.parametrize("rows, what", [
    ("P1,Amy Ash,pupil,north,yes,yes,no,,\nP1,Bo Birch,pupil,north,yes,no,no,,\n", "duplicate id"),
    ("P1,Amy Ash,pupil,north,yes,maybe,no,,\n", "yes/no value 'maybe'"),
    ("P1,Amy Ash,pupil,north,yes,yes,no,01/09/2026,\n", "a UK date in expires"),
    ("P1,Amy Ash,pupil,north,yes,yes,no,,1 Sept 2026\n", "a written date in withdrawn"),
    ("P1,Amy Ash,pupil,south,yes,yes,no,,\n", "unknown academy"),
    ("../P1,Amy Ash,pupil,north,yes,yes,no,,\n", "a path as person id"),
])
def test_rt12_13_a_careless_register_row_stops_the_scan_never_clears(tmp_path, monkeypatch, rows, what):
    _scan_trust(tmp_path, monkeypatch, rows)
    assert cli.main(["scan", "in", "--workers", "1"]) == 2, what


def test_rt12_14_a_person_folder_linked_to_another_persons_folder_does_not_enrol_their_face(tmp_path):
    """IT copy a folder by linking it (P2 -> P1): P1's face must not become P2's, or P1 (no
    consent) is matched as P2 (consented)."""
    from screening.consent import enrolment
    from screening.consent.register import load_register

    from .test_config_register import HEADER
    from .test_enrolment import FakeEngine, face_photo

    write_config(tmp_path)
    (tmp_path / "consents" / "photos").mkdir(parents=True)
    (tmp_path / "consents" / "register.csv").write_text(
        HEADER + "P1,Amy Ash,pupil,north,yes,no,no,no,,\nP2,Bo Birch,pupil,north,yes,yes,yes,yes,,\n")
    face_photo(tmp_path / "consents" / "photos" / "P1" / "a.png", (200, 10, 10))
    (tmp_path / "consents" / "photos" / "P2").symlink_to(tmp_path / "consents" / "photos" / "P1")
    config = load_config(tmp_path / "screening.toml")
    register = load_register(config.register, config.channels, ("north",))
    result = enrolment.sync(config, register, FakeEngine())
    assert "P2" not in result.gallery.person_ids, (result.gallery.person_ids, result.problems)


def test_rt12_15_a_reference_photo_that_is_a_video_is_reported_not_enrolled(tmp_path):
    from screening.consent import enrolment
    from screening.consent.register import load_register

    from .test_config_register import HEADER
    from .test_enrolment import FakeEngine

    write_config(tmp_path)
    (tmp_path / "consents" / "photos" / "P1").mkdir(parents=True)
    (tmp_path / "consents" / "register.csv").write_text(HEADER + "P1,Amy Ash,pupil,north,yes,yes,yes,yes,,\n")
    write_clip(tmp_path / "consents" / "photos" / "P1" / "me.mp4", 1.0,
               appearances=(Appearance(RED, 0.0, 1.0, (100, 80)),))
    config = load_config(tmp_path / "screening.toml")
    result = enrolment.sync(config, load_register(config.register, config.channels, ("north",)), FakeEngine())
    assert "P1" not in result.gallery.person_ids and result.problems


# ================================================================ redact


def _redact_trust(tmp_path, monkeypatch):
    from screening import redact_video

    (tmp_path / "screening.toml").write_text(TOML)
    (tmp_path / "r.csv").write_text("person_id,name,role,academy,biometric_consent,website,social_media,"
                                    "print,expires,withdrawn\n")
    (tmp_path / "p").mkdir()
    (tmp_path / "in").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", lambda config, gallery, people=None: checks(config))
    monkeypatch.setattr(redact_video, "face_detector", lambda config, gallery: RedSquareFaces())


def _red_pixels(path) -> list[int]:
    from screening.formats import video

    with video.Clip(path, video.sniff(path.read_bytes()[:32])) as c:
        out = []
        for frame in c.frames():
            rgb = frame.rgb().astype(int)
            out.append(int(((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum()))
        return out


def _running(speed_px_per_frame: int, frames: int = 50):
    return tuple(Appearance(STRIPES, i * 0.04, 0.04, (10 + speed_px_per_frame * i, 100)) for i in range(frames))


def test_rt12_16_control_a_face_walking_is_blurred_in_every_frame(tmp_path, monkeypatch):
    _redact_trust(tmp_path, monkeypatch)
    clip = write_clip(tmp_path / "in" / "walk.mp4", 1.0, size=(640, 200), appearances=_running(8, 25))
    assert cli.main(["redact", str(clip), "--into", "out", "--workers", "1"]) == 0
    assert max(_red_pixels(tmp_path / "out" / "walk.mp4")) == 0


def test_rt12_16_a_face_running_across_the_frame_is_blurred_in_every_frame(tmp_path, monkeypatch):
    """Fixed: redact_video.boxes_at also blurs the path between a face's boxes in two samples."""
    _redact_trust(tmp_path, monkeypatch)
    clip = write_clip(tmp_path / "in" / "run.mp4", 1.0, size=(864, 200), appearances=_running(32, 25))
    assert min(_red_pixels(clip)) > 300  # the face is in every frame of the original
    cli.main(["redact", str(clip), "--into", "out", "--workers", "1"])
    copy = tmp_path / "out" / "run.mp4"
    assert copy.exists()
    assert max(_red_pixels(copy)) == 0


def _box(kind: bytes, body: bytes) -> bytes:
    import struct

    return struct.pack(">I", 8 + len(body)) + kind + body


@pytest.mark.parametrize("suffix", [".mov", ".mp4"])
def test_rt12_17_no_location_tag_of_a_clip_survives_redact(tmp_path, monkeypatch, suffix):
    """GPS as ffmpeg writes it (udta ©xyz) plus an XMP uuid box with exif:GPSLatitude appended at
    the end of the file: the copy has neither (bytes searched) and screens cleared."""
    _redact_trust(tmp_path, monkeypatch)
    clip = write_clip(tmp_path / "in" / f"gps{suffix}", 1.0, metadata={"location": "+53.8021-001.5476/",
                                                                      "title": "sports day"})
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="53,48.126N" '
           b'exif:GPSLongitude="1,32.856W"/></rdf:RDF></x:xmpmeta>')
    with open(clip, "ab") as f:
        f.write(_box(b"uuid", bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC") + xmp))
    before = clip.read_bytes()
    code = cli.main(["redact", str(clip), "--into", "out", "--workers", "1"])
    copy = tmp_path / "out" / "gps.mp4"
    assert clip.read_bytes() == before
    assert code == 0 and copy.exists()
    data = copy.read_bytes()
    for needle in (b"53.80", b"+53", b"GPSLatitude", b"xyz", b"\xa9xyz", b"sports day"):
        assert needle not in data, needle


def test_rt12_18_two_clips_of_the_same_stem_never_overwrite_each_other(tmp_path, monkeypatch):
    """a/x.mov and b/x.mkv both become x.mp4 in the output folder."""
    _redact_trust(tmp_path, monkeypatch)
    (tmp_path / "in" / "a").mkdir()
    (tmp_path / "in" / "b").mkdir()
    write_clip(tmp_path / "in" / "a" / "x.mov", 0.5)
    write_clip(tmp_path / "in" / "b" / "x.mkv", 0.5, appearances=(Appearance(RED, 0.0, 0.5, (100, 80)),))
    cli.main(["redact", "in", "--into", "out", "--workers", "1"])
    made = sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file() and not p.name.startswith("."))
    assert len([m for m in made if m.endswith(".mp4")]) == 2, made
    assert sorted(p.name for p in tmp_path.iterdir()) == [".screening", "consents", "in", "out", "p", "r.csv",
                                                          "screening.toml"]  # state and encodings: the defaults


# ---------------------------------------------------------------- a name in a large clip's frames


def _qhd_sign_clip(path, cap):
    """A 2560x1440 clip (a phone's QHD video) of a board 'Amelia Hart' in `cap` px capitals."""
    sign = np.asarray(board(Image.new("RGB", (16 * cap, 3 * cap), (120, 140, 110)), ["Amelia Hart"], cap=cap,
                            at=(0, 0)))
    return write_clip(path, 1.0, size=(2560, 1440), fps=10, pan=0,
                      appearances=(Appearance(sign, 0.0, 1.0, (1200, 700)),))


@pytest.mark.slow  # QHD clips: about 5 s each
def test_rt12_20_control_the_same_frame_as_a_photo_is_read(tmp_path, clip_config, ocr_engine):
    clip = _qhd_sign_clip(tmp_path / "qhd.mp4", 24)
    from screening.formats import video

    with video.Clip(clip, video.MP4) as c:
        frame = next(iter(c.frames())).rgb()
    Image.fromarray(frame).save(tmp_path / "frame.png")
    _, d = verdict(tmp_path / "frame.png", clip_config, ocr_engine)
    assert "text" in kinds(d), d


@pytest.mark.slow
@pytest.mark.parametrize("cap", [20])
def test_rt12_20_a_name_at_20_24_px_capitals_in_a_qhd_clip_is_read(tmp_path, clip_config, ocr_engine, cap):
    _, d = verdict(_qhd_sign_clip(tmp_path / "qhd.mp4", cap), clip_config, ocr_engine)
    assert "text" in kinds(d), d


# ---------------------------------------------------------------- register names as IT write them


def _named_as(register_name: str, text: str) -> bool:
    """Whether `text` read in a picture names the register person written `register_name`, as
    the text check and policy._text decide it (the Matcher TextDetector builds, min_similarity)."""
    from screening.config import TextSettings
    from screening.vision import names as nm

    matcher = nm.Matcher(nm.targets([], [("P1", register_name)]))
    return any(m.target.id == "P1" and m.similarity >= TextSettings.min_similarity for m in matcher.find(text))


@pytest.mark.parametrize("register_name, text", [
    ("Sarah Jones", "Sarah Jones"), ("Hart, Amelia", "Amelia Hart"), ("HART Amelia", "AMELIA HART"),
    ("Amelia Rose Hart", "Amelia Hart"), ("Mohammed Al-Sayed", "MOHAMMED ALSAYED"), ("Nguyễn Văn An", "An Nguyen"),
    ("Amelia\u00a0Hart", "Amelia Hart"), ("Oliver  Bennett ", "OLIVER BENNETT"),
])
def test_rt12_control_register_names_in_the_usual_forms_are_found(register_name, text):
    assert _named_as(register_name, text)


# RT12-21: fixed on main (bd1ba7e); this test keeps it fixed
@pytest.mark.parametrize("register_name, text", [("Mrs Sarah Jones", "Sarah Jones"), ("Dr Amelia Hart", "AMELIA HART")])
def test_rt12_21_a_register_name_with_a_title_finds_the_name_without_it(register_name, text):
    assert _named_as(register_name, text)


# RT12-22: fixed on main (bd1ba7e); this test keeps it fixed
@pytest.mark.parametrize("text", ["Oliver Bennett", "OLLIE BENNETT"])
def test_rt12_22_a_register_name_with_a_bracketed_known_as_name_is_found(text):
    assert _named_as("Oliver Bennett (Ollie)", text)


# RT12-23: fixed on main (bd1ba7e); this test keeps it fixed
def test_rt12_23_a_double_surname_is_found_by_its_first_surname():
    assert _named_as("María García López", "MARIA GARCIA")


# ---------------------------------------------------------------- a school sign behind the railings


def _behind_railings(public_domain, pitch=0, width=0):
    """The gate sign 'ST AIDAN'S ACADEMY' (30 px capitals) seen through black railings `width` px
    thick every `pitch` px (the usual photo of a school's entrance); pitch 0: no railings."""
    a = np.asarray(board(astronaut(public_domain), ["ST AIDAN'S ACADEMY"], cap=30)).copy()
    if pitch:
        for x in range(0, a.shape[1], pitch):
            a[20:200, x:x + width] = (25, 25, 25)
    return Image.fromarray(a)


@pytest.mark.parametrize("pitch, width", [(22, 3)], ids=["thin railings"])
def test_rt12_control_the_gate_sign_is_read_through_thin_railings(trust_config, ocr_engine, public_domain,
                                                                            pitch, width):
    assert "aidan" in read_names(trust_config, ocr_engine, _behind_railings(public_domain, pitch, width))


@pytest.mark.xfail(strict=True, reason="RT12-25: the school's sign photographed through its railings (bars 5-8 px "
                                       "every 22-30 px, letters fully legible between them) is not read: the OCR "
                                       "reads 'STLAIPAN'S ACADEMN' (0.8, below 0.85) or finds no line at all, and "
                                       "nothing (not even unreadable text) is reported, so the photo is cleared")
@pytest.mark.parametrize("pitch, width", [(22, 5), (30, 8)])
def test_rt12_25_the_gate_sign_behind_railings_is_read(trust_config, ocr_engine, public_domain, pitch, width):
    assert "aidan" in read_names(trust_config, ocr_engine, _behind_railings(public_domain, pitch, width))


# ---------------------------------------------------------------- academy names as signs write them


def _names_academy(name: str, text: str) -> bool:
    from screening.config import TextSettings
    from screening.vision import names as nm

    matcher = nm.Matcher(nm.targets([("a", (name,))], []))
    return any(m.similarity >= TextSettings.min_similarity for m in matcher.find(text))


@pytest.mark.parametrize("name, text", [
    ("St Peter & St Paul Academy", "St Peter & St Paul Academy"), ("St Peter & St Paul Academy", "ST PETER + ST PAUL ACADEMY"),
    ("St Peter and St Paul Academy", "ST PETER AND ST PAUL ACADEMY"), ("Holy Family Catholic Primary School",
                                                                      "HOLY FAMILY PRIMARY SCHOOL"),
])
def test_rt12_control_academy_names_written_as_configured_are_found(name, text):
    assert _names_academy(name, text)


# RT12-26: fixed on main (bd1ba7e); this test keeps it fixed
@pytest.mark.parametrize("name, text", [("St Peter & St Paul Academy", "ST PETER AND ST PAUL ACADEMY"),
                                        ("Hart & Dale Academy", "Hart and Dale Academy")])
def test_rt12_26_an_ampersand_in_the_name_matches_and_on_the_sign(name, text):
    assert _names_academy(name, text)


# RT12-27: fixed on main (bd1ba7e); this test keeps it fixed
@pytest.mark.parametrize("name, text", [("Holy Family Catholic Primary School", "HOLY FAMILY CATHOLIC PRIMARY"),
                                        ("Northfield Primary Academy", "NORTHFIELD PRIMARY"),
                                        ("St John's Church of England Primary School", "ST JOHN'S CE PRIMARY")])
def test_rt12_27_the_name_without_its_last_generic_word_is_found(name, text):
    assert _names_academy(name, text)


@pytest.mark.parametrize("target", ["other person's photo", "photo outside the register"])
def test_rt12_14_a_reference_photo_linked_from_elsewhere_is_not_enrolled(tmp_path, target):
    from screening.consent import enrolment
    from screening.consent.register import load_register

    from .test_config_register import HEADER
    from .test_enrolment import FakeEngine, face_photo

    write_config(tmp_path)
    photos = tmp_path / "consents" / "photos"
    (photos / "P2").mkdir(parents=True)
    (tmp_path / "consents" / "register.csv").write_text(
        HEADER + "P1,Amy Ash,pupil,north,yes,no,no,no,,\nP2,Bo Birch,pupil,north,yes,yes,yes,yes,,\n")
    source = photos / "P1" / "a.png" if target == "other person's photo" else tmp_path / "elsewhere" / "a.png"
    face_photo(source, (200, 10, 10))
    (photos / "P2" / "me.png").symlink_to(source)
    config = load_config(tmp_path / "screening.toml")
    result = enrolment.sync(config, load_register(config.register, config.channels, ("north",)), FakeEngine())
    assert "P2" not in result.gallery.person_ids, (result.gallery.person_ids, result.problems)


# RT12-28 (fixed with RT9-17): redact samples as the scan does, the flashed frame included
def test_rt12_28_a_face_between_two_screened_frames_is_blurred_in_the_copy(tmp_path, monkeypatch):
    _redact_trust(tmp_path, monkeypatch)
    shown = tuple(Appearance(STRIPES, i * 0.04, 0.04, (140, 100)) for i in (2, 3, 4))
    clip = write_clip(tmp_path / "in" / "pop.mp4", 1.0, size=(320, 240), pan=0, appearances=shown)
    assert max(_red_pixels(clip)) > 300
    cli.main(["redact", str(clip), "--into", "out", "--workers", "1"])
    assert max(_red_pixels(tmp_path / "out" / "pop.mp4")) == 0


# ---------------------------------------------------------------- a sign partly hidden


def _sign_cut(public_domain, how):
    img = board(astronaut(public_domain), ["ST AIDAN'S ACADEMY"], cap=30)
    if how == "whole":
        return img
    if how == "a head in front of its end":
        ImageDraw.Draw(img).ellipse((480, 40, 600, 200), fill=(60, 40, 30))
        return img
    return img.crop((0, 0, 520, img.height))  # "the frame's edge": the photo ends inside 'ACADEMY'


@pytest.mark.parametrize("how", ["whole", "the frame's edge"])
def test_rt12_control_the_gate_sign_whole_or_cut_by_the_frame_is_read(trust_config, ocr_engine, public_domain, how):
    assert "aidan" in read_names(trust_config, ocr_engine, _sign_cut(public_domain, how))


# RT12-29: fixed on main (043993e); this test keeps it fixed
def test_rt12_29_a_gate_sign_whose_last_letters_are_hidden_is_read(trust_config, ocr_engine, public_domain):
    assert "aidan" in read_names(trust_config, ocr_engine, _sign_cut(public_domain, "a head in front of its end"))


# RT12-30: fixed on main (458b114); this test keeps it fixed
def test_rt12_30_an_empty_channel_is_a_command_error(tmp_path, monkeypatch):
    _scan_trust(tmp_path, monkeypatch)
    assert cli.main(["scan", "in", "--channel", "", "--workers", "1"]) == 2


# RT12-31: fixed on main (bd1ba7e); this test keeps it fixed
@pytest.mark.parametrize("name, text", [("The Grange School", "GRANGE SCHOOL"), ("The Priory Academy", "PRIORY ACADEMY")])
def test_rt12_31_an_academy_name_without_its_leading_the_is_found(name, text):
    assert _names_academy(name, text)


def test_rt12_31_control_with_the_article_it_is_found():
    assert _names_academy("The Grange School", "THE GRANGE SCHOOL")


# ---------------------------------------------------------------- a name badge in a large photo


def _badge_in_12_mp(public_domain):
    """A 12 MP photo (4000x3000) with a name badge 'Amelia Hart' in 12 px capitals (a lanyard badge
    across a classroom: readable when the photo is zoomed to 100%)."""
    return board(astronaut(public_domain, (4000, 3000)), ["Amelia Hart"], cap=12, at=(2000, 2000))


@pytest.mark.slow  # detection at min_letter_px 12 on 12 MP: about 15 s
def test_rt12_32_control_with_min_letter_px_12_the_badge_is_read(tmp_path, public_domain):
    from screening.vision.ocr import OcrEngine

    config = load_config(write_config(tmp_path, ACADEMIES + "\n[text]\nmin_letter_px = 12\n"))
    engine = OcrEngine(min_letter_px=12, tile_side=config.text.tile_side)
    assert "P3001" in read_names(config, engine, _badge_in_12_mp(public_domain))


@pytest.mark.xfail(strict=True, reason="RT12-32 (documented limit, docs/text.md min_letter_px = 20): a name in 12-14 "
                                       "px capitals in a 12-24 MP photo is searched at 0.3x (3.6-4 px letters) and "
                                       "not read (16 px is read), so the photo is cleared; "
                                       "min_letter_px = 12 reads it at about 6x the cost")
def test_rt12_32_a_name_badge_in_12_px_capitals_in_a_12_mp_photo_is_read(trust_config, ocr_engine, public_domain):
    assert "P3001" in read_names(trust_config, ocr_engine, _badge_in_12_mp(public_domain))
