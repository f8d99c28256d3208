"""Red team 32 (short): the last changes attacked: captions.encoded (256+ base64/hex characters with
no space are not captions), names._ADDRESS starting at a word, the Interop IFD walk and
gps_pointed_from (RT31-19), coordtext's 'deg' (RT31-1).

Every file is built here, small. A case the product gets wrong is xfail(strict=True) with
"RT32-N: what, why it matters, the fix" in its reason; controls beside them.

Found, high (a pupil's name or a position cleared; each found before 39c8f1b/4ed737b unless said):
- RT32-1: a 256+ character caption with no space is 'encoded' when its words are joined by '+'
  (urlencoded), '/' (a CamelCase path, 1b) or line breaks (one word a line, 1c): the pupil is cleared;
- RT32-2: ISO 6709 positions in whole units east of Greenwich (all base64 letters), a track of them or
  one glued to base64 data (2b), are 'encoded': cleared;
- RT32-3: gps_pointed_from answers None when the walk fails; a Canon clip's CMT1 EXIF is read by
  exif_claims alone, so GPS off a SubIFD beside a broken Interop pointer is cleared (RT31-19 not closed);
- RT32-5: 'deg' glued to the digits ('53deg48'') is not read (the \\b); exiftool's GPSLatitude and
  GPSLongitude one a line, and 'degrees N' after decimals, are cleared (these two older than RT31-1).
Medium (the opposite failure):
- RT32-4: a photo whose Interop pointer is past the end of the block (exiftool: 'Bad InteropIFD
  directory') is newly an error (exif_images and the caption reader walk the Interop IFD now).
Resisted: an academy address glued to punctuation (':', '»', '—', '|', '!', '(') under the word-start
_ADDRESS (200,000 random strings: the new pattern covers every character the old one did).
"""

from __future__ import annotations

import re
import struct

import pytest


from .test_redteam6 import backdrop, config, jpeg  # noqa: F401
from .test_redteam9 import ascii_, long_, tiff_block
from .test_redteam29 import _exif, _found

PUPIL = "Amelia Hart"  # P3001 of tests/test_redteam6.PEOPLE


def _captioned(text: str) -> bytes:
    """A plain JPEG whose EXIF ImageDescription is `text`."""
    return jpeg(backdrop(), exif=_exif({0x010E: ascii_(text)}))


# ================================================================ captions.encoded: words that look like data

_WORDS = ("Sports day at the school field with the whole of year six running the relay race and the long "
          "jump and the egg and spoon race in the sun before lunch and prizes for every house team").split()

# a caption as a web form sends it (application/x-www-form-urlencoded: "+" for a space)
FORM = "+".join(["Well+done", *PUPIL.split(), *_WORDS, *_WORDS])
# a caption kept as a folder path (CamelCase folders, "/" between them)
PATH = "/".join(["Photos2026", "Year6", "SportsDay", "AmeliaHart", *[w.capitalize() for w in _WORDS * 2]])
# a caption of one word a line (a list pasted from a register: first name over surname)
LINES = "\n".join([*PUPIL.split(), *_WORDS, *_WORDS])


def test_rt32_control_a_spaced_caption_with_the_pupil_is_found(tmp_path, config):
    assert "text" in _found(tmp_path, config, "spaced.jpg", _captioned(FORM.replace("+", " ")))


def test_rt32_control_a_short_form_encoded_caption_is_found(tmp_path, config):
    assert "text" in _found(tmp_path, config, "short.jpg", _captioned("Well+done+Amelia+Hart+at+sports+day"))


def test_rt32_control_the_long_captions_are_over_256_characters_and_hold_the_pupil():
    for text in (FORM, PATH, LINES):
        assert len(text) >= 256 and " " not in text
        assert re.search(r"Amelia\W*Hart", text)


# RT32-1: fixed (was a strict xfail)
def test_rt32_1_a_form_encoded_caption_naming_a_pupil_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "form.jpg", _captioned(FORM)) & {"text", "error"}


# RT32-1b: fixed (was a strict xfail)
def test_rt32_1b_a_path_caption_naming_a_pupil_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "path.jpg", _captioned(PATH)) & {"text", "error"}


# RT32-1c: fixed (was a strict xfail)
def test_rt32_1c_a_caption_of_one_word_a_line_naming_a_pupil_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "lines.jpg", _captioned(LINES)) & {"text", "error"}


def test_rt32_control_a_short_one_word_a_line_caption_is_found(tmp_path, config):
    assert "text" in _found(tmp_path, config, "lines-short.jpg", _captioned("Amelia\nHart\nSports\nday"))


# a position in ISO 6709 written in whole units (no '.': +DDMMSS+DDDMMSS/), east of Greenwich (no '-'):
# Norwich. A track of them, or one followed by a vendor's data, is 256+ characters of base64 letters.
EAST = "+523745+0011730/"
TRACK = EAST * 17
WEST_THEN_DATA = "+534802-0013217/" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 8


def test_rt32_control_one_east_position_is_a_location(tmp_path, config):
    assert "location" in _found(tmp_path, config, "east.jpg", _captioned(EAST))


# (the control that TRACK and WEST_THEN_DATA were dropped as encoded data went with the filter itself:
# RT32-1/2 were fixed by removing captions.encoded; the depth map's namespace is skipped instead)


# RT32-2: fixed (was a strict xfail)
def test_rt32_2_a_track_of_iso6709_positions_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "track.jpg", _captioned(TRACK)) & {"location", "error"}


# RT32-2b: fixed (was a strict xfail)
def test_rt32_2b_a_position_glued_to_data_is_not_cleared(tmp_path, config):
    assert _found(tmp_path, config, "glued.jpg", _captioned(WEST_THEN_DATA)) & {"location", "error"}


# ================================================================ gps_pointed_from and the Interop walk

def _rat(*v: int) -> tuple[int, int, bytes]:
    return 5, len(v) // 2, struct.pack(f"<{len(v)}I", *v)


_GPS = {0x0001: ascii_("N"), 0x0002: _rat(53, 1, 48, 1, 290, 100), 0x0003: ascii_("W"),
        0x0004: _rat(1, 1, 32, 1, 5680, 100)}
_PAST_THE_END = long_(0x00FFFFF0)  # an Interop pointer past the end of the block (a common corruption)


def _subifd_gps(broken_interop: bool) -> bytes:
    """A TIFF block whose GPS directory hangs off a SubIFD of IFD0 (RT31-19), IFD0's Interop pointer
    optionally past the end of the block."""
    ifd0 = {0x010F: ascii_("Canon"), 0x014A: ("ifd", "sub")}
    if broken_interop:
        ifd0[0xA005] = _PAST_THE_END
    return tiff_block({"ifd0": ifd0, "sub": {0x0100: long_(16), 0x8825: ("ifd", "gps")}, "gps": _GPS}, ["ifd0"])


def _canon_clip(tmp_path, name: str, block: bytes):
    from .test_redteam15 import CANON_UUID, _clip_with
    from .test_rt15fix import _box

    return _clip_with(tmp_path, name, "moov", _box(b"uuid", CANON_UUID + _box(b"CMT1", block)))


def test_rt32_control_gps_off_a_subifd_in_a_canon_clip_is_not_cleared(tmp_path, config):
    from .test_rt15fix import _kinds

    assert set(_kinds(_canon_clip(tmp_path, "sub.mp4", _subifd_gps(False)), config)) & {"location", "error"}


# RT32-3: fixed (was a strict xfail)
def test_rt32_3_gps_off_a_subifd_beside_a_broken_interop_pointer_is_not_cleared(tmp_path, config):
    from .test_rt15fix import _kinds

    assert set(_kinds(_canon_clip(tmp_path, "sub-broken.mp4", _subifd_gps(True)), config)) & {"location", "error"}


def test_rt32_control_an_ordinary_photo_with_an_interop_ifd_clears(tmp_path, config):
    interop = {0x0001: ascii_("R98"), 0x0002: (7, 4, b"0100")}
    exif = tiff_block({"ifd0": {0x010F: ascii_("Canon"), 0x8769: ("ifd", "exif")},
                       "exif": {0x9000: (7, 4, b"0232"), 0xA005: ("ifd", "interop")}, "interop": interop}, ["ifd0"])
    assert _found(tmp_path, config, "interop.jpg", jpeg(backdrop(), exif=b"Exif\x00\x00" + exif)) == {"cleared"}


# RT32-4 (medium, opposite failure): fixed (was a strict xfail)
def test_rt32_4_an_ordinary_photo_with_a_bad_interop_pointer_still_clears(tmp_path, config):
    exif = tiff_block({"ifd0": {0x010F: ascii_("Canon"), 0x8769: ("ifd", "exif")},
                       "exif": {0x9000: (7, 4, b"0232"), 0xA005: _PAST_THE_END}}, ["ifd0"])
    assert _found(tmp_path, config, "bad-interop.jpg", jpeg(backdrop(), exif=b"Exif\x00\x00" + exif)) == {"cleared"}


# ================================================================ coordtext._DEGREE_WORD (RT31-1)

EXIFTOOL_ONE_LINE = "GPS Position                    : 53 deg 48' 2.90\" N, 1 deg 32' 56.80\" W"
DEG_SPELLINGS = {
    # `exiftool -GPSLatitude -GPSLongitude photo.jpg`, pasted: the two tags exiftool prints, one a line
    "exiftool's two lines": ("GPS Latitude                    : 53 deg 48' 2.90\" N\n"
                             "GPS Longitude                   : 1 deg 32' 56.80\" W"),
    # 'deg' glued to the digits on both sides: \b after 'deg' needs a non-word character
    "deg written together": "53deg48'2.90\"N 1deg32'56.80\"W",
    # decimal degrees with the word: the lookahead wants a digit after 'degrees'
    "decimal degrees as a word": "53.800806 degrees N, 1.549111 degrees W",
}


def test_rt32_control_exiftools_one_line_position_is_a_location(tmp_path, config):
    assert "location" in _found(tmp_path, config, "one-line.jpg", _captioned(EXIFTOOL_ONE_LINE))


# RT32-5: fixed (was a strict xfail): a keyed latitude and longitude paired across lines (coordkeys.py),
# "degrees" before a hemisphere letter (coordtext._DEGREE_WORD)


@pytest.mark.parametrize("text", DEG_SPELLINGS.values(), ids=DEG_SPELLINGS.keys())
def test_rt32_5_a_position_in_another_deg_spelling_is_not_cleared(tmp_path, config, text):
    assert _found(tmp_path, config, "deg.jpg", _captioned(text)) & {"location", "error"}


# ================================================================ names._ADDRESS starting at a word: resisted

GLUED_ADDRESSES = ["Visit:trinitynorthacademy.org.uk,", "(see»trinitynorthacademy.org.uk)",
                   "Photos—trinitynorthacademy.org.uk;", "info@trinitynorthacademy.org.uk.",
                   "x|trinitynorthacademy.sch.uk", "Well done!www.trinitynorthacademy.org.uk",
                   "Year6:https://trinitynorthacademy.org.uk/news"]


@pytest.mark.parametrize("text", GLUED_ADDRESSES)
def test_rt32_control_an_academy_address_glued_to_punctuation_is_found(tmp_path, config, text):
    assert "text" in _found(tmp_path, config, "address.jpg", _captioned(text))
