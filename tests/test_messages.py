"""Messages say what is wrong in the reader's words: no raw bytes, temp files or misleading text."""

from __future__ import annotations

import pytest

from screening import imaging
from screening.config import ConfigError, load_config
from screening.consent.register import RegisterError, load_register

from .test_config_register import CHANNELS, HEADER, write_config, write_register


def test_config_given_a_folder_says_so_and_suggests_the_file_inside(tmp_path):
    write_config(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert "is a folder, not a config file" in str(err.value)
    assert f"--config {tmp_path / 'screening.toml'}" in str(err.value)
    assert "not found" not in str(err.value)


def test_semicolon_separated_register_gets_a_hint(tmp_path):
    p = tmp_path / "register.csv"
    p.write_text(HEADER.replace(",", ";") + "P1;Amy;pupil;north;yes;yes;no;yes;;\n")
    with pytest.raises(RegisterError) as err:
        load_register(p, CHANNELS, ("north",))
    assert "missing column(s)" in str(err.value) and "separated by ';'" in str(err.value)


def test_line_separator_inside_a_name_is_named_with_its_row_and_column(tmp_path):
    p = write_register(tmp_path, "P1,Amy\u2028Smith,pupil,north,yes,yes,no,yes,,\n")
    with pytest.raises(RegisterError) as err:
        load_register(p, CHANNELS, ("north",))
    message = str(err.value)
    assert "row 2: `name` holds an invisible character (line separator, U+2028)" in message
    assert "`role`" not in message


def test_register_rows_are_still_numbered_as_a_spreadsheet_shows_them(tmp_path):
    p = write_register(tmp_path, "P1,Amy,pupil,north,yes,yes,no,yes,,\n\nP2,Bo,teacher,north,yes,yes,no,yes,,\n")
    with pytest.raises(RegisterError) as err:
        load_register(p, CHANNELS, ("north",))
    assert "row 4: `role` is 'teacher'" in str(err.value)


def test_file_over_the_size_limit_gives_exact_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(imaging, "MAX_FILE_BYTES", 1000)
    p = tmp_path / "big.jpg"
    p.write_bytes(b"\xff\xd8\xff" + bytes(998))  # one byte over
    with pytest.raises(imaging.ImageError) as err:
        imaging.read_file(p)
    assert "file is 1,001 bytes, larger than the limit of 1,000 bytes" in str(err.value)


@pytest.mark.parametrize("content, words", [
    (b"image,role,academy\nx,y,z\n", "a CSV or text file"),
    (b"PK\x03\x04" + bytes(40), "a ZIP archive"),
    (b"%PDF-1.7\n", "a PDF document"),
    (b"<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta", "an XML file"),
    (b"SQLite format 3\x00" + bytes(40), "an SQLite database"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n" + bytes(40), "a JPEG XL image"),
    (b"\xff\x0a\xfa\x7f" + bytes(40), "a JPEG XL image"),
])
def test_a_file_that_is_not_an_image_is_described_not_dumped(tmp_path, content, words):
    p = tmp_path / "x.jpg"
    p.write_bytes(content)
    with pytest.raises(imaging.ImageError) as err:
        imaging.load(p)
    assert words in str(err.value) and "b'" not in str(err.value)
