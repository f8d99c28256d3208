"""Red team 28: the changes of 0.12.0 (the RT27 fixes) attacked through the code that diff changed.

Fixed in 0.12.0 (the same stop): an uploaded name is URL-decoded before its words are kept (RT28-1);
an uploaded name too long to keep whole is refused, never cut (RT28-2); a file name in Latin-1/cp1252
or cp437 bytes is also read decoded so (RT28-4); only a tail that looks like an extension (1-5 letters
or digits) is dropped (RT28-5). Resisted: accented camel-case names (ChloéMartin) are read.

A case the product gets wrong is xfail(strict=True) with "RT28-N: what, why, fix" in its reason: when
a fix lands the test passes, the xfail fails, and the mark must go. Controls are plain tests."""

from __future__ import annotations

import os

import pytest

from .test_redteam6 import config  # noqa: F401  (the fixture)
from .test_redteam27 import _uploaded_status, workspace  # noqa: F401  (workspace: the fixture)


def _grey():
    from . import serve_trust as st

    return st.jpeg((90, 90, 90))


def test_rt28_control_a_pupils_name_with_underscores_in_an_uploaded_name_is_not_cleared(workspace):
    assert _uploaded_status(workspace, "Amelia_Hart.jpg", _grey()) != "cleared"


def test_rt28_1_a_url_encoded_pupils_name_in_an_uploaded_files_name_is_not_cleared(workspace):
    assert _uploaded_status(workspace, "Amelia%20Hart.jpg", _grey()) != "cleared"


def test_rt28_2_a_pupils_name_past_200_bytes_of_an_uploaded_name_is_not_cleared(workspace):
    long = "St Marys Church of England Primary Academy " * 5  # 215 characters of a school's name, then the pupil
    assert _uploaded_status(workspace, f"{long}Sports Day 2026 Amelia Hart.jpg", _grey()) != "cleared"


# ================================================================ captions.name_caption (scan)


def _flags_text(tmp_path, config, name, people):
    from .test_redteam27 import _named

    return "text" in {r.kind.value for r in _named(tmp_path, name, config, people=people).reasons}


def test_rt28_control_a_camel_case_ascii_name_is_read(tmp_path, config):  # noqa: F811
    assert _flags_text(tmp_path, config, "ChloeMartin_Y4.jpg", [("S9", "Chloe Martin")])


@pytest.mark.parametrize("name,pupil", [("ChloéMartin_Y4.jpg", "Chloé Martin"),
                                        ("SiobhánKelly.jpg", "Siobhán Kelly")])
def test_rt28_an_accented_camel_case_name_in_a_file_name_is_read(tmp_path, config, name, pupil):  # noqa: F811
    assert _flags_text(tmp_path, config, name, [("S9", pupil)])


@pytest.mark.parametrize("raw", [b"Zo\xeb Bront\xeb - sports day.jpg",  # Latin-1 / cp1252 (an old share, a zip)
                                 b"Zo\x89 Bront\x89 - sports day.jpg"])  # cp437 (a Windows zip's names)
def test_rt28_4_an_accented_name_in_a_non_utf8_file_name_is_read(tmp_path, config, raw):  # noqa: F811
    assert _flags_text(tmp_path, config, os.fsdecode(raw), [("S9", "Zoë Brontë")])


def test_rt28_5_a_name_after_the_last_dot_of_a_name_without_extension_is_read(tmp_path, config):  # noqa: F811
    assert _flags_text(tmp_path, config, "Sports day. Amelia Hart", [("S9", "Amelia Hart")])
