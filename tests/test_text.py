"""Names in the picture: matching, joining a sign's lines, decide()'s text rule, config, fail-closed
paths, redaction, the report; and the real OCR on drawn signs (small pictures, one engine)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import socket

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from screening import cli, imaging, pool
from screening.store.codec import finding_from_json, finding_to_json
from screening.config import ConfigError, TextSettings, load_config
from screening.detectors.text import TextDetector, runs
from screening.detectors import build_detectors
from screening.model import Check, CheckResult, Kind, Person, Status, TextFinding
from screening.pipeline import screen_file
from screening.policy import Rules, decide, verdict
from screening.vision import names as nm
from screening.vision.ocr import OcrEngine, TextLine

from .test_config_register import GOOD, write_config

TODAY = dt.date(2026, 11, 27)
ACADEMIES = [("aidan", ("St Aidan's Academy", "St Aidans")), ("north", ("Trinity North Academy", "Trinity North", "TNA")),
             ("field", ("Northfield Primary Academy", "Northfield"))]
PEOPLE = [("P3001", "Amelia Hart"), ("P3002", "Oliver Bennett"), ("P3003", "Zara Okafor")]
# the same people with their register roles: a staff member's name as the photographer is no reason
STAFFED = [("P3001", "Amelia Hart", "pupil"), ("P3002", "Oliver Bennett", "staff"), ("P3003", "Zara Okafor", "pupil")]
MATCHER = nm.Matcher(nm.targets(ACADEMIES, PEOPLE))


def found(text: str) -> set[str]:
    return {m.target.id for m in MATCHER.find(text) if m.similarity >= TextSettings.min_similarity}


@pytest.mark.parametrize("text, expected", [
    ("ST AIDAN'S ACADEMY", {"aidan"}),
    ("st aidans academy", {"aidan"}),
    ("STAIDAN'SACADEMY", {"aidan"}),  # OCR dropped the spaces of capitals
    ("Welcome to St Aidan\u2019s Academy", {"aidan"}),  # typographic apostrophe
    ("AIDAN'S ACADEMY", {"aidan"}),  # "St" left off the sign
    ("Saint Aidan's Academy", {"aidan"}),
    ("TRINITY N0RTH", {"north"}),  # 0 read for O
    ("Trinity Nort h Academy", {"north"}),
    ("NORTHFIELD", {"field"}),  # the alias printed on kit
    ("Northfie1d", {"field"}),  # 1 read for l
    ("TNA", {"north"}),
    ("awarded to Amelia Hart", {"P3001"}),
    ("HART Amelia", {"P3001"}),
    ("Hart, Amelia", {"P3001"}),
    ("AmeIia Hart", {"P3001"}),  # capital I read for l
    ("0liver 8ennett", {"P3002"}),
    ("Zara Okafor's painting", {"P3003"}),
])
def test_names_are_found_whatever_the_case_punctuation_and_ocr_confusions(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "St Andrew's Academy",  # another school sharing letters with St Aidan's
    "Trinity South Academy",  # the same long generic tail, another school
    "Northgate Primary Academy",
    "Northfleet",
    "Northfold",
    "St Aiden's Church of England School",  # one letter from the alias St Aidans: 0.83
    "Amelia Hartley",  # another person whose name starts like a pupil's
    "Emily Hart",
    "Amelia",  # a first name alone is not enough
    "Hart",
    "CANTNAB",  # a short alias inside another word
    "Trinity Northern Rail",
    "FIRE EXIT",
    "Please sign in at reception",
    "Amelia Jones, Tom Hart",  # two people: a comma or "and" is not a middle name
    "Amelia Jones and Tom Hart",
    "Amelia and Hart",  # "and" joins two people
    "Amelia Rose Hartley",
    "Amelia went to see Hart",  # three words between first and last name
    "www.northgateprimary.org",  # another school's address
    "cantnab.org.uk",  # a short alias is still a whole word inside an address
    "Northfieldschool",  # run together outside an address: whole words as before
])
def test_other_names_and_words_sharing_letters_are_not_found(text):
    assert found(text) == set()


@pytest.mark.parametrize("text", ["amelia_hart07", "amelia.hart07", "Amelia Hart07", "amelia hart2026",
                                  "ameliahart07", "AMELIAHARTO7", "AMELIA HART2O26", "07amelia hart"])
def test_a_name_run_into_a_number_is_found_as_ocr_reads_it(text):
    """A handle, a label with a year or class (RT15-6): the number ends the name, and so does a
    number OCR read with O for 0 or I for 1."""
    assert found(text) == {"P3001"}


@pytest.mark.parametrize("text", ["Amelia Hartong7", "Amelia Hartley2026", "Amelia Harts", "TNAX7", "CANTNA07"])
def test_letters_before_a_number_that_are_not_digits_do_not_end_a_name(text):
    assert found(text) == set()


def test_a_one_word_register_name_is_looked_for_as_a_whole_word():
    """A mononym is the person's whole name (RT6-32): found as a word, never inside another one."""
    from screening.settings import TextSettings

    matcher = nm.Matcher(nm.targets([], [("P9", "Suharti"), ("P8", "Li Na")]))
    assert {m.target.id for m in matcher.find("Star of the week: SUHARTI")} == {"P9"}
    assert all(m.similarity < TextSettings.min_similarity for m in matcher.find("Suhartini's stall"))
    assert nm.person_target("P9", "!!") is None  # no letters, nothing to look for


def _named(register_name: str, text: str) -> bool:
    matcher = nm.Matcher(nm.targets([], [("P1", register_name)]))
    return any(m.similarity >= TextSettings.min_similarity for m in matcher.find(text))


def _names_academy(name: str, text: str) -> bool:
    matcher = nm.Matcher(nm.targets([("a", (name,))], []))
    return any(m.similarity >= TextSettings.min_similarity for m in matcher.find(text))


@pytest.mark.parametrize("register_name, text", [
    ("Mrs Sarah Jones", "Sarah Jones"), ("Dr Amelia Hart", "AMELIA HART"),  # a title in the register (RT12-21)
    ("Mrs Sarah Jones", "MRS JONES"),  # a classroom door
    ("Oliver Bennett (Ollie)", "Oliver Bennett"), ("Oliver Bennett (Ollie)", "OLLIE BENNETT"),  # known-as (RT12-22)
    ('Oliver "Ollie" Bennett', "Ollie Bennett"),
    ("María García López", "MARIA GARCIA"), ("María García López", "María García López"),  # double surname (RT12-23)
])
def test_register_names_as_mis_exports_write_them_are_found_as_pictures_show_them(register_name, text):
    assert _named(register_name, text)


@pytest.mark.parametrize("register_name, text", [
    ("Mrs Jones", "Jones"), ("Mrs Sarah Jones", "Sarah"), ("Mrs Sarah Jones", "Mrs Smith"),
    ("Oliver Bennett (Ollie)", "Ollie"), ("Oliver Bennett (Ollie)", "Ollie Smith"),
])
def test_a_title_or_known_as_name_alone_is_not_a_name(register_name, text):
    assert not _named(register_name, text)


@pytest.mark.parametrize("name, text", [
    ("St Peter & St Paul Academy", "ST PETER AND ST PAUL ACADEMY"), ("Hart & Dale Academy", "Hart and Dale Academy"),
    ("St Peter and St Paul Academy", "ST PETER & ST PAUL ACADEMY"),  # '&', '+' and 'and' alike (RT12-26)
    ("Holy Family Catholic Primary School", "HOLY FAMILY CATHOLIC PRIMARY"),  # the last generic word off (RT12-27)
    ("Northfield Primary Academy", "NORTHFIELD PRIMARY"),
    ("St John's Church of England Primary School", "ST JOHN'S CE PRIMARY"),
    ("The Grange School", "GRANGE SCHOOL"), ("The Priory Academy", "PRIORY ACADEMY"),  # no leading 'The' (RT12-31)
    ("St Aidan's Academy", "ST AIDAN'S ACAD"), ("Northfield Primary Academy", "NORTHFIELD PRIM"),  # cut short (RT12-29)
])
def test_academy_names_are_found_as_signs_and_kit_shorten_them(name, text):
    assert _names_academy(name, text)


@pytest.mark.parametrize("name, text", [
    ("Northfield Primary Academy", "NORTHFIELD"),  # never every kind-of-school word off
    ("Trinity North Academy", "TRINITY NORTH"),  # nor the only one
    ("The Grange School", "GRANGE"),
    ("Northfield Primary Academy", "NORTHGATE PRIMARY"),
    ("St Aidan's Academy", "ST AIDAN'S"), ("St Aidan's Academy", "ST AIDAN'S ACORN CLUB"),
])
def test_a_shortened_academy_name_keeps_what_says_it_is_a_school(name, text):
    assert not _names_academy(name, text)


def line(text, box, score=0.95):
    x, y, w, h = box
    return TextLine(((x, y), (x + w, y), (x + w, y + h), (x, y + h)), box, text, score, h)


class NoEngine:
    def read(self, rgb):
        raise AssertionError("not used")


@pytest.fixture
def config(tmp_path):
    text = GOOD + 'aliases = ["Trinity North", "TNA"]\n\n[[academy]]\nid = "aidan"\nname = "St Aidan\'s Academy"\n'
    return load_config(write_config(tmp_path, text))


def test_a_banner_on_two_lines_is_read_as_one_name(config):
    detector = TextDetector(config, PEOPLE, engine=NoEngine())
    got = detector.findings([line("Welcome to", (100, 100, 300, 40)), line("ST AIDAN'S", (100, 160, 320, 50)),
                             line("ACADEMY", (120, 225, 260, 50))])
    (f,) = [f for f in got if f.target]
    assert (f.target, f.target_id, f.text) == ("academy", "aidan", "ST AIDAN'S / ACADEMY")
    assert f.box == (100, 160, 320, 115)


def test_a_badge_with_first_and_last_name_on_two_lines_names_the_pupil(config):
    detector = TextDetector(config, PEOPLE, engine=NoEngine())
    (f,) = detector.findings([line("Amelia", (50, 50, 120, 30)), line("Hart", (60, 90, 80, 30))])
    assert (f.target, f.target_id, f.similarity) == ("person", "P3001", 1.0)


def test_a_first_and_a_last_name_far_apart_are_not_joined(config):
    detector = TextDetector(config, PEOPLE, engine=NoEngine())
    assert detector.findings([line("Amelia", (50, 50, 120, 30)), line("Hart", (900, 700, 80, 30))]) == []
    assert runs([(50, 50, 120, 30), (900, 700, 80, 30)], 3) == [(1,), (0,)]


def test_a_line_the_ocr_could_not_read_is_reported_as_unreadable(config):
    detector = TextDetector(config, PEOPLE, engine=NoEngine())
    (f,) = detector.findings([line("~#r", (10, 10, 200, 60), score=0.31), line("Library", (10, 300, 200, 60))])
    assert (f.target, f.text, f.ocr_score, f.height) == ("", "~#r", 0.31, 60)


def test_the_text_check_refuses_to_run_without_the_register_names(config):
    with pytest.raises(ValueError, match="register's names"):
        TextDetector(config, None, engine=NoEngine())


# ---------------------------------------------------------------- decide()

PERSONS = {"P3001": Person("P3001", "Amelia Hart", "pupil", "aidan", False, {"social_media": True})}
RULES = Rules(channel="social_media", today=TODAY, people=PERSONS, required=(Check.TEXT,),
              academy_names={"aidan": "St Aidan's Academy"})


def academy_finding(similarity=1.0, name="St Aidan's Academy"):
    return TextFinding((412, 80, 208, 16), "ST AIDAN'S ACADEMY", 0.97, 16, "academy", "aidan", name, similarity)


def text_decision(*findings, rules=RULES):
    return decide([CheckResult(Check.TEXT, tuple(findings))], rules)


def test_an_academy_name_needs_permission_with_its_box_and_academy():
    d = text_decision(academy_finding())
    assert d.status is Status.NEEDS_PERMISSION
    (r,) = d.reasons
    assert r.kind is Kind.TEXT and r.box == (412, 80, 208, 16)
    assert r.detail == "text 'ST AIDAN'S ACADEMY' names St Aidan's Academy (read at [412, 80, 208, 16])"
    assert r.to_json()["academy"] == "aidan" and r.to_json()["box"] == [412, 80, 208, 16]


def test_an_alias_is_named_in_the_reason():
    (r,) = text_decision(academy_finding(name="St Aidans")).reasons
    assert "names St Aidan's Academy, as 'St Aidans'" in r.detail


def test_a_pupils_name_needs_permission_whatever_their_biometric_consent():
    f = TextFinding((10, 20, 120, 30), "Amelia Hart", 0.99, 30, "person", "P3001", "Amelia Hart", 1.0)
    (r,) = text_decision(f).reasons
    assert r.detail == "text 'Amelia Hart' is the name of pupil P3001 (read at [10, 20, 120, 30])"
    assert r.to_json()["person_id"] == "P3001"


def test_a_weak_match_is_below_min_similarity_and_cleared():
    assert text_decision(academy_finding(similarity=0.75)).status is Status.CLEARED
    strict = dataclasses.replace(RULES, text_min_similarity=0.7)
    assert text_decision(academy_finding(similarity=0.75), rules=strict).status is Status.NEEDS_PERMISSION


def test_unreadable_text_is_flagged_only_when_the_trust_asks_and_it_is_large():
    blur = TextFinding((0, 0, 400, 90), "~#r", 0.2, 90)
    assert text_decision(blur).status is Status.CLEARED  # the default: a note for the reviewer, not a reason
    asks = dataclasses.replace(RULES, text_unreadable_min_px=60)
    (r,) = text_decision(blur, rules=asks).reasons
    assert r.kind is Kind.TEXT and "unreadable text 90 px high" in r.detail
    assert text_decision(TextFinding((0, 0, 100, 30), "~", 0.2, 30), rules=asks).status is Status.CLEARED
    assert text_decision(TextFinding((0, 0, 400, 90), "Library", 0.9, 90), rules=asks).status is Status.CLEARED


def test_a_text_check_that_failed_or_never_ran_is_an_error_never_cleared():
    assert decide([CheckResult(Check.TEXT, error="failed: boom")], RULES).status is Status.ERROR
    assert decide([], RULES).status is Status.ERROR


# ---------------------------------------------------------------- config


def test_aliases_and_text_settings_are_read(tmp_path):
    cfg = load_config(write_config(tmp_path, GOOD + 'aliases = ["Trinity North", "TNA"]\n\n[text]\nmin_similarity = 0.9\n'))
    assert cfg.academies[0].aliases == ("Trinity North", "TNA")
    assert cfg.text.min_similarity == 0.9 and cfg.text.min_letter_px == 20
    assert load_config(write_config(tmp_path, GOOD)).text.min_similarity == 0.85


@pytest.mark.parametrize("extra, key", [
    ('aliases = "TNA"\n', "academy[1].aliases"),
    ('aliases = ["", "TNA"]\n', "academy[1].aliases"),
    ('aliases = ["!!"]\n', "academy[1].aliases"),
    ("\n[text]\nmin_similarity = 1.5\n", "text.min_similarity"),
    ("\n[text]\nmin_letter_px = 4\n", "text.min_letter_px"),
    ("\n[text]\nshout = true\n", "text.shout"),
])
def test_a_bad_alias_or_text_setting_is_refused_naming_the_key(tmp_path, extra, key):
    with pytest.raises(ConfigError, match=rf"screening.toml: `{re.escape(key)}`"):
        load_config(write_config(tmp_path, GOOD + extra))


def test_without_register_names_no_text_check_is_built_so_nothing_is_cleared(config, monkeypatch):
    import screening.detectors.text as text_module

    monkeypatch.setattr(text_module, "OcrEngine", lambda **kw: NoEngine())
    import screening.detectors as registry

    monkeypatch.setattr(registry, "_DETECTORS", ((Check.TEXT, "text", "TextDetector"),))
    assert Check.TEXT not in build_detectors(config, None)
    assert Check.TEXT in build_detectors(config, None, PEOPLE)


def test_a_register_name_change_changes_the_cache_key(tmp_path):
    from screening.consent.register import load_register
    from screening.store.audit import gallery_digest

    cfg = load_config(write_config(tmp_path))
    (tmp_path / "consents").mkdir()
    header = "person_id,name,role,academy,biometric_consent,website,social_media,print,expires,withdrawn\n"
    digests = []
    for name in ("Amelia Hart", "Amelia Hartley"):
        (tmp_path / "consents" / "register.csv").write_text(header + f"P1,{name},pupil,north,no,yes,yes,yes,,\n")
        digests.append(gallery_digest(cfg, load_register(cfg.register, cfg.channels, ("north",))))
    assert digests[0] != digests[1]


def test_a_text_finding_survives_the_result_cache_codec():
    f = academy_finding(0.93)
    assert finding_from_json(finding_to_json(f)) == f


# ---------------------------------------------------------------- the real OCR


@pytest.fixture(scope="module")
def engine():
    return OcrEngine()


def sign(picture: Image.Image, lines, at=(40, 40), cap=26, fill=(250, 250, 240), ink=(20, 30, 80)) -> Image.Image:
    """Draws a board with `lines` on a copy of the picture, capitals about `cap` px high."""
    out = picture.copy()
    d = ImageDraw.Draw(out)
    font = ImageFont.load_default(round(cap / 0.72))
    width = max(int(font.getlength(t)) for t in lines) + 2 * cap
    d.rectangle((at[0], at[1], at[0] + width, at[1] + len(lines) * cap * 2 + cap), fill=fill)
    for i, t in enumerate(lines):
        d.text((at[0] + cap, at[1] + cap // 2 + i * cap * 2), t, font=font, fill=ink)
    return out


def photo(public_domain, name="astronaut.png"):
    with Image.open(public_domain / name) as im:
        return im.convert("RGB")


class Picture:
    def __init__(self, img):
        self.frames = [np.asarray(img)]


def test_real_ocr_reads_an_academy_sign_and_a_certificate(config, engine, public_domain):
    detector = TextDetector(config, PEOPLE, engine=engine)
    img = sign(photo(public_domain), ["Welcome to", "ST AIDAN'S ACADEMY"])
    img = sign(img, ["awarded to", "Amelia Hart"], at=(200, 330), cap=22)
    got = {(f.target, f.target_id) for f in detector.detect(Picture(img), {}) if f.target}
    assert got == {("academy", "aidan"), ("person", "P3001")}


def test_real_ocr_finds_no_name_in_the_clean_photos_or_ordinary_signs(config, engine, public_domain):
    detector = TextDetector(config, PEOPLE, engine=engine)
    for name in ("astronaut.png", "camera.png"):
        assert [f for f in detector.detect(Picture(photo(public_domain, name)), {}) if f.target] == []
    decoy = sign(photo(public_domain), ["FIRE EXIT", "St Andrew's Academy"])
    assert [f for f in detector.detect(Picture(decoy), {}) if f.target] == []


@pytest.mark.parametrize("size", [(1, 1), (3, 2000), (40, 40)])
def test_tiny_and_thin_pictures_are_read_without_crashing(engine, size):
    assert engine.read(np.zeros((size[1], size[0], 3), np.uint8)) == []


def test_the_ocr_loads_nothing_from_the_network(monkeypatch, public_domain):
    def refuse(*args, **kwargs):
        raise AssertionError("the OCR tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    lines = OcrEngine().read(np.asarray(sign(photo(public_domain), ["Library"])))
    assert any("Library" in x.text for x in lines)


# ---------------------------------------------------------------- the whole path: scan, redact, report


class Nothing:
    def detect(self, picture, earlier):
        return []


class Boom:
    def detect(self, picture, earlier):
        raise RuntimeError("onnxruntime fell over")


def test_a_crashed_text_check_makes_the_image_an_error(tmp_path, public_domain):
    path = tmp_path / "a.png"
    photo(public_domain).save(path)
    detectors = {c: Nothing() for c in Check if c is not Check.DECODE} | {Check.TEXT: Boom()}
    s = screen_file(path, detectors)
    rules = dataclasses.replace(RULES, required=tuple(Check))
    v = verdict(s, rules)
    assert v.status is Status.ERROR and "onnxruntime fell over" in v.checks["text"]


@pytest.fixture
def trust(tmp_path, monkeypatch, engine):
    write_config(tmp_path)
    (tmp_path / "consents" / "photos").mkdir(parents=True)
    (tmp_path / "consents" / "register.csv").write_text(
        "person_id,name,role,academy,biometric_consent,website,social_media,print,expires,withdrawn\n"
        "P3001,Amelia Hart,pupil,north,no,yes,yes,yes,,\n")
    (tmp_path / "batch").mkdir()
    monkeypatch.chdir(tmp_path)

    def detectors(config, gallery, people=None):
        return {c: Nothing() for c in Check if c not in (Check.DECODE, Check.TEXT)} | {
            Check.TEXT: TextDetector(config, people, engine=engine)}

    monkeypatch.setattr(pool, "build_detectors", detectors)
    return tmp_path


def test_a_pupils_name_is_reported_blurred_by_redact_and_the_copy_is_cleared(trust, public_domain, capsys):
    import json

    original = trust / "batch" / "certificate.png"
    sign(photo(public_domain), ["awarded to", "Amelia Hart"], cap=24).save(original)
    before = hashlib.sha256(original.read_bytes()).hexdigest()
    assert cli.main(["scan", "batch", "--workers", "1", "--jsonl", "r.jsonl", "--html", "r.html"]) == 1
    (rec,) = [json.loads(x) for x in (trust / "r.jsonl").read_text().splitlines()]
    (reason,) = rec["reasons"]
    assert reason["kind"] == "text" and reason["person_id"] == "P3001" and len(reason["box"]) == 4
    assert "is the name of pupil P3001" in reason["detail"]
    assert 'class="box words' in (trust / "r.html").read_text()

    capsys.readouterr()
    assert cli.main(["redact", "batch", "--into", "public", "--workers", "1"]) == 0
    assert "1 name(s) in text blurred" in capsys.readouterr().out
    copy = imaging.load(trust / "public" / "certificate.png").frames[0]
    x, y, w, h = reason["box"]
    assert not np.array_equal(copy[y:y + h, x:x + w], np.asarray(Image.open(original).convert("RGB"))[y:y + h, x:x + w])
    assert hashlib.sha256(original.read_bytes()).hexdigest() == before


# ---------------------------------------------------------------- names in the file's own metadata (RT2-11)


class BlankEngine:
    def read(self, rgb):
        return []  # no text in the pixels


def _iptc_app13(datasets: dict[int, bytes]) -> bytes:
    """A JPEG APP13 segment holding IPTC IIM record 2 datasets."""
    iim = b"".join(b"\x1c\x02" + bytes([ds]) + len(v).to_bytes(2, "big") + v for ds, v in datasets.items())
    resource = b"8BIM\x04\x04\x00\x00" + len(iim).to_bytes(4, "big") + iim + (b"\x00" if len(iim) % 2 else b"")
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + (len(body) + 2).to_bytes(2, "big") + body


def _photo_with(tmp_path, *, exif=None, xmp=None, iptc=None):
    path = tmp_path / "caption.jpg"
    kwargs = {"exif": exif} if exif is not None else {}
    if xmp is not None:
        kwargs["xmp"] = xmp
    Image.new("RGB", (64, 48), (90, 120, 160)).save(path, "JPEG", **kwargs)
    if iptc is not None:
        data = path.read_bytes()
        path.write_bytes(data[:2] + _iptc_app13(iptc) + data[2:])
    return imaging.load(path, path.read_bytes())


def _metadata_names(config, picture, people=STAFFED):
    found = TextDetector(config, people, engine=BlankEngine()).detect(picture, {})
    return {(f.source, f.target_id) for f in found}, found


def test_names_in_exif_captions_titles_and_comments_are_found(config, tmp_path):
    exif = Image.Exif()
    exif[0x010E] = "Sports day at St Aidan's Academy"  # ImageDescription
    exif[0x9C9B] = "Amelia Hart".encode("utf-16le")  # XPTitle
    exif[0x9C9E] = "Oliver Bennett;awards".encode("utf-16le")  # XPKeywords
    exif[0x013B] = "Oliver Bennett"  # Artist: the photographer, a member of staff: no reason
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00Well done Zara Okafor"  # UserComment
    got, found = _metadata_names(config, _photo_with(tmp_path, exif=exif))
    assert got == {("EXIF image description", "aidan"), ("EXIF XPTitle", "P3001"),
                   ("EXIF XPKeywords", "P3002"), ("EXIF user comment", "P3003")}
    assert all(f.box is None for f in found)


def test_names_in_xmp_and_iptc_are_found(config, tmp_path):
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:photoshop="http://ns.adobe.com/'
           'photoshop/1.0/" photoshop:Headline="Trinity North wins"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
           'Amelia Rose Hart</rdf:li></rdf:Alt></dc:title><dc:creator><rdf:Seq><rdf:li>Oliver Bennett</rdf:li>'
           '</rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>').encode()
    iptc = {120: b"Zara Okafor with her certificate", 25: b"TNA", 80: b"Oliver Bennett"}  # 2:80 by-line: staff
    got, _ = _metadata_names(config, _photo_with(tmp_path, xmp=xmp, iptc=iptc))
    assert got == {("XMP photoshop:Headline", "north"), ("XMP dc:title", "P3001"), ("IPTC caption", "P3003"),
                   ("IPTC keywords", "north")}


def test_metadata_without_names_finds_nothing(config, tmp_path):
    exif = Image.Exif()
    exif[0x010E] = "Amelia on sports day"  # a first name alone
    exif[0x9C9C] = "Northgate Primary".encode("utf-16le")
    assert _metadata_names(config, _photo_with(tmp_path, exif=exif))[1] == []


def test_a_name_in_metadata_needs_permission_and_says_where_it_was_read(config, tmp_path):
    exif = Image.Exif()
    exif[0x010E] = "Amelia Hart receiving her award"
    _, found = _metadata_names(config, _photo_with(tmp_path, exif=exif))
    (r,) = text_decision(*found).reasons
    assert r.box is None
    assert r.detail == ("text 'Amelia Hart receiving her award' is the name of pupil P3001 "
                        "(in the EXIF image description)")
    assert finding_from_json(finding_to_json(found[0])) == found[0]  # the cache keeps box None


@pytest.mark.parametrize("field", ["EXIF Artist", "EXIF XPAuthor", "XMP dc:creator", "IPTC By-line"])
def test_a_pupil_named_as_the_photographer_is_found_and_staff_are_not(config, tmp_path, field):
    """RT29-24: the photographer's fields are read for pupils' names only (the register's role)."""
    def photo(name: str):
        exif, xmp, iptc = Image.Exif(), None, None
        if field == "EXIF Artist":
            exif[0x013B] = name
        elif field == "EXIF XPAuthor":
            exif[0x9C9D] = name.encode("utf-16le")
        elif field == "XMP dc:creator":
            xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-'
                   'ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>'
                   f'{name}</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>').encode()
        else:
            iptc = {80: name.encode()}
        return _photo_with(tmp_path, exif=exif, xmp=xmp, iptc=iptc)

    assert _metadata_names(config, photo("Zara Okafor"))[0] == {(field, "P3003")}
    assert _metadata_names(config, photo("Oliver Bennett"))[0] == set()
    assert _metadata_names(config, photo("St Aidan's Academy"))[0] == set()  # the school's own credit


def test_a_clips_title_and_comment_tags_are_read_but_not_its_staff_artist(config):
    detector = TextDetector(config, STAFFED, engine=NoEngine())
    found = detector.detect_tags({"title": "Amelia Hart at St Aidan's Academy", "stream:comment": "TNA",
                                  "artist": "Oliver Bennett", "encoder": "Zara Okafor"})
    assert {(f.source, f.target_id) for f in found} == {("title tag", "P3001"), ("title tag", "aidan"),
                                                         ("stream comment tag", "north")}
    pupil = detector.detect_tags({"artist": "Zara Okafor"})
    assert {(f.source, f.target_id) for f in pupil} == {("artist tag", "P3003")}


def test_a_middle_name_is_skipped_on_one_line_but_not_across_lines(config):
    detector = TextDetector(config, PEOPLE, engine=NoEngine())
    (f,) = detector.findings([line("Amelia Rose Hart", (50, 50, 300, 30))])
    assert (f.target_id, f.similarity) == ("P3001", 1.0)
    # a list of two people, one under the other: not Amelia Hart
    assert detector.findings([line("Amelia Jones", (50, 50, 200, 30)), line("Tom Hart", (50, 90, 150, 30))]) == []


def test_names_in_a_png_text_chunk_and_a_jpeg_comment_are_found(config, tmp_path):
    from PIL import PngImagePlugin

    png = tmp_path / "c.png"
    chunks = PngImagePlugin.PngInfo()
    chunks.add_text("Description", "Oliver Bennett, Year 5")
    Image.new("RGB", (32, 32)).save(png, pnginfo=chunks)
    jpg = tmp_path / "c.jpg"
    Image.new("RGB", (32, 32)).save(jpg, comment=b"Zara Okafor")
    got = set()
    for path in (png, jpg):
        got |= _metadata_names(config, imaging.load(path, path.read_bytes()))[0]
    assert {(where.split(" at byte")[0], who) for where, who in got} == {
        ("PNG tEXt chunk 'Description'", "P3002"), ("JPEG comment", "P3003")}


def test_a_name_on_the_fortieth_page_of_a_tiff_is_read(tmp_path):
    """Every page's directory is read, however many (up to captions.MAX_PAGES): RT29-10."""
    from PIL import TiffImagePlugin

    from screening.formats import captions

    described = TiffImagePlugin.ImageFileDirectory_v2()
    described[270] = "Amelia Hart at sports day"
    path = tmp_path / "pages.tif"
    with TiffImagePlugin.AppendingTiffWriter(str(path), True) as tf:
        for i in range(40):
            page = Image.new("RGB", (16, 16), (40 + i, 90, 120))
            page.save(tf, **({"tiffinfo": described} if i == 39 else {}))
            tf.newFrame()
    texts = captions.photo_captions(path.read_bytes())
    assert [where for where, text in texts if "Amelia Hart" in text] == ["EXIF image description (IFD39)"]


def test_exif_text_that_cannot_all_be_read_fails_the_text_check_not_passes_it(tmp_path):
    """A directory chain that loops: its text is not "no text" (the file becomes an error)."""
    import struct

    from screening.formats import captions
    from screening.formats.common import MetadataError

    looped = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 0) + struct.pack("<I", 8)
    path = tmp_path / "loop.jpg"
    Image.new("RGB", (32, 24), (90, 120, 160)).save(path, "JPEG", exif=b"Exif\x00\x00" + looped)
    with pytest.raises(MetadataError, match="EXIF text cannot all be read"):
        captions.photo_captions(path.read_bytes())
