"""Config and register loading: precise errors naming the file, the row, the key."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from tests.academy_trust import logo_folder
from screening.config import ConfigError, load_config
from screening.consent.register import RegisterError, load_register
from screening.policy import consent

GOOD = textwrap.dedent("""
    trust = "Trinity Multi Academy Trust"
    channels = ["website", "social_media", "print"]
    default_channel = "social_media"

    [consent]
    register = "consents/register.csv"
    photos = "consents/photos"

    [[academy]]
    id = "north"
    name = "Trinity North Academy"
    logos = "logos/north"
    uniform_colours = ["#1b2a4a", "#c8a200"]
    sites = [{ lat = 53.8008, lon = -1.5491, radius_m = 400 }]
""")


def write_config(tmp_path, text=GOOD):
    logo_folder(tmp_path / "logos" / "north")
    p = tmp_path / "screening.toml"
    p.write_text(text)
    return p


def write_trust(root, register=None):
    """A minimal trust folder: config, an empty logo folder, a register and a photos folder."""
    write_config(root)
    (root / "consents" / "photos").mkdir(parents=True, exist_ok=True)
    (root / "consents" / "register.csv").write_text(HEADER if register is None else register)
    return root


def test_good_config_resolves_paths_against_its_folder(tmp_path):
    cfg = load_config(write_config(tmp_path))
    assert cfg.register == tmp_path / "consents" / "register.csv"
    assert cfg.academies[0].logos == tmp_path / "logos" / "north"
    assert cfg.academies[0].sites[0].radius_m == 400
    assert cfg.default_channel == "social_media"
    assert cfg.faces.tolerance > 0


@pytest.mark.parametrize("change, key", [
    (lambda t: t.replace('trust = "Trinity Multi Academy Trust"', ""), "trust"),
    (lambda t: t.replace('default_channel = "social_media"', 'default_channel = "tiktok"'), "default_channel"),
    (lambda t: t.replace('"#c8a200"', '"gold"'), "uniform_colours"),
    (lambda t: t.replace('logos = "logos/north"', 'logos = "logos/south"'), "logos"),
    (lambda t: t.replace("lat = 53.8008", "lat = 953.8"), "sites"),
    (lambda t: t.replace("[consent]", "[consents]"), "consents"),
    (lambda t: t + "\n[faces]\ntolerance = \"loose\"\n", "faces.tolerance"),
    (lambda t: t + "\n[faces]\ntolerence = 0.5\n", "faces.tolerence"),
    (lambda t: t + "\n[[academy]]\nid = \"north\"\n", "id"),
])
def test_invalid_config_names_file_and_key(tmp_path, change, key):
    p = write_config(tmp_path, change(GOOD))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert str(p.resolve()) in str(err.value) and key in str(err.value)


def test_missing_config_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="not found.*--config"):
        load_config(tmp_path / "screening.toml")


def test_broken_toml_is_reported_with_the_file(tmp_path):
    p = write_config(tmp_path, "trust = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)


HEADER = "person_id,name,role,academy,biometric_consent,website,social_media,print,expires,withdrawn\n"
CHANNELS = ("website", "social_media", "print")


def write_register(tmp_path, rows: str):
    p = tmp_path / "register.csv"
    p.write_text(HEADER + rows, encoding="utf-8")
    return p


def test_register_reads_people_and_consent(tmp_path):
    p = write_register(tmp_path, "P1001,Amy,pupil,north,yes,yes,no,yes,2027-07-31,\n"
                                 "S2001,Mr B,staff,north,no,yes,yes,yes,,2026-09-01\n")
    reg = load_register(p, CHANNELS, ("north",))
    amy, mr_b = reg.people["P1001"], reg.people["S2001"]
    assert consent(amy, "website", dt.date(2026, 11, 24))[0]
    assert not consent(amy, "social_media", dt.date(2026, 11, 24))[0]
    assert not consent(amy, "website", dt.date(2027, 8, 1))[0]
    ok, why = consent(mr_b, "website", dt.date(2026, 11, 24))
    assert not ok and "withdrawn on 2026-09-01" in why
    assert not mr_b.biometric_consent


@pytest.mark.parametrize("row, message", [
    ("P1,Amy,pupil,north,yes,yes,no,yes,31/09/2026,\n", "row 2: `expires` is '31/09/2026', expected YYYY-MM-DD"),
    ("P1,Amy,pupil,north,maybe,yes,no,yes,,\n", "row 2: `biometric_consent` is 'maybe', expected yes or no"),
    ("P1,Amy,pupil,south,yes,yes,no,yes,,\n", "row 2: `academy` is 'south'"),
    ("P1,Amy,parent,north,yes,yes,no,yes,,\n", "row 2: `role` is 'parent'"),
    ("P1,Amy,pupil,north,yes,yes,no,yes,,\nP1,Bo,pupil,north,yes,yes,no,yes,,\n", "row 3: `person_id` 'P1' is a duplicate of row 2"),
    ("P 1,Amy,pupil,north,yes,yes,no,yes,,\n", "row 2: `person_id`"),
    ("P1,Amy,pupil,north,yes,yes,no,yes,,,extra\n", "row 2: more cells"),
])
def test_bad_register_row_names_row_and_column(tmp_path, row, message):
    with pytest.raises(RegisterError) as err:
        load_register(write_register(tmp_path, row), CHANNELS, ("north",))
    assert message in str(err.value) and "register.csv" in str(err.value)


def test_register_missing_a_channel_column_is_rejected(tmp_path):
    p = tmp_path / "register.csv"
    p.write_text("person_id,name,role,academy,biometric_consent,website,expires,withdrawn\n")
    with pytest.raises(RegisterError, match="missing column.*social_media"):
        load_register(p, CHANNELS, ("north",))


def test_register_from_excel_with_bom_and_extra_columns(tmp_path):
    p = tmp_path / "register.csv"
    p.write_text("\ufeff" + HEADER.strip() + ",form\nP1,Amy,pupil,north,Yes,YES,no,no,,,7B\n", encoding="utf-8")
    reg = load_register(p, CHANNELS, ("north",))
    assert reg.people["P1"].channels == {"website": True, "social_media": False, "print": False}
