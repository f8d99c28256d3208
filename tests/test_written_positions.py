"""Positions and postcodes written in the forms red team 11b found unread (RT11b-10/11/13/14/15),
and the ordinary text that must not become one (RT11b-17/18/19, camera models, serial numbers,
file names): the parser, then a caption in a photo, an XMP packet, a sidecar and a clip's tag,
then a sign read by the OCR engine.
"""

from __future__ import annotations

import pytest

from screening.formats import coordtext, osgrid, postcodes
from screening.model import Status

from .clips import write_clip
from .test_location_text import DC, _stamp, location_details, ocr_engine  # noqa: F401  (ocr_engine: fixture)
from .test_redteam6 import config, kinds, verdict  # noqa: F401  (config: the fixture)
from .test_redteam9 import ascii_, exif_text, jpeg_photo, xmp, xmp_jpeg

# ---------------------------------------------------------------- OS grid references (RT11b-10)


def test_the_os_worked_example_converts_to_its_published_latitude_and_longitude():
    # 'A guide to coordinate systems in Great Britain', annex C: E 651409.903 N 313177.270 is
    # OSGB36 52°39'27.2531"N 1°43'4.5177"E
    lat, lon = osgrid.to_osgb36(651409.903, 313177.270)
    assert abs(lat - (52 + 39 / 60 + 27.2531 / 3600)) < 1e-7 and abs(lon - (1 + 43 / 60 + 4.5177 / 3600)) < 1e-7
    # and in WGS84 (Helmert, a few metres): 52°39'28.72"N 1°42'57.79"E
    lat, lon = osgrid.to_wgs84(651409.903, 313177.270)
    assert abs(lat - (52 + 39 / 60 + 28.72 / 3600)) < 5e-5 and abs(lon - (1 + 42 / 60 + 57.79 / 3600)) < 5e-5


@pytest.mark.parametrize("ref,metres", [
    ("SE 29672 34261", 1), ("SE2967234261", 1), ("SE 2967 3426", 10), ("SE29673426", 10), ("SE 297 342", 100),
    ("SE297342", 100), ("se 29672 34261", 1), ("se2967 3426", 10)])
def test_grid_references_of_6_8_and_10_figures_are_positions(ref, metres):
    (pos,) = coordtext.positions(f"Sports day, meet at {ref}.")
    # SE 29672 34261 is in Leeds, 53.80381 N 1.55094 W; a shorter reference names the middle of its square
    assert pos.problem is None and pos.what == "grid reference written"
    assert abs(pos.lat - 53.8038) < 0.0001 + metres / 111_000 and abs(pos.lon + 1.5509) < 0.0001 + metres / 66_000


@pytest.mark.parametrize("text", [
    "XX 29672 34261", "AA 29672 34261", "SI 29672 34261",  # no such 100 km square
    "SE 297 3426", "SE 2967234", "SE 29 34",  # halves of unequal length, odd or too few figures
    "so 150 200 came", "st 123 456",  # a word and two numbers: lower case needs 8 or 10 figures
    "CASE 123456", "DMC-SE297342", "IMG_SE297342.jpg", "SE 29672 3426199", "v1.SE297342",
    "U+2500 SF100000", "instead of 20000000 if", "NY 2024 2025 season"])  # a sea square; years
def test_what_is_not_a_grid_reference(text):
    assert coordtext.positions(text) == []


# ---------------------------------------------------------------- RT11b-11/13/14 and their needless flags


@pytest.mark.parametrize("text", [
    "53,8008 N 1,5491 W", "53,8008N, 1,5491W", "N 53,8008 W 1,5491",
    "N 53° 48.048 W 001° 32.946", "N 53 48.048 W 1 32.946", "N53 48.048 W001 32.946", "N 53º 48,048' W 1º 32,946'",
    "N 53° 48' 02.88\" W 1° 32' 56.76\"", "53d48m02.88sN 1d32m56.76sW", "53d 48m 2.88s N, 1d 32m 56.76s W",
    "53 48.048 N 1 32.946 W"])
def test_positions_in_the_forms_rt11b_found_unread(text):
    (pos,) = coordtext.positions(f"Sports day. {text}")
    assert pos.problem is None and abs(pos.lat - 53.8008) < 1e-4 and abs(pos.lon + 1.5491) < 1e-4, pos


@pytest.mark.parametrize("text", ["N 53° 61.5 W 1° 32.946", "53d48m75sN 1d32m57sW", "N 95 48.048 W 1 32.946"])
def test_those_forms_out_of_range_are_malformed_never_nothing(text):
    (pos,) = coordtext.positions(text)
    assert pos.lat is None and pos.problem


@pytest.mark.parametrize("text", [
    "Score 12.5 N 3.25 W", "Year 5 N 12.5 E 3.5", "Lap times 58.1234 59.4321", "Times 10.1234 11.2345 s",
    "Heats 3d 4m", "Row N 12 34 E 5 6", "Y5 N 12,5 S 3,5", "Prices 1,50 N 2,75 E", "N 3 4.5 E 6 7.5",
    "Rooms 5d, 6m, 7s; N 12 13.5 W", "delta -0.1120         -0.1123", "+0.0246 +0.0240", "0.5123, -0.2345"])
def test_ordinary_numbers_near_letters_are_not_a_position(text):
    assert coordtext.positions(text) == []


def test_a_spaced_pair_counts_with_a_sign_or_inside_the_british_isles():
    assert coordtext.positions("Camp 53.8008 -1.5491") and coordtext.positions("Trip 40.7128 -74.0060")
    assert coordtext.positions("Trip 48.8566 2.3522") == []  # known gap: as a lap time, not read


# ---------------------------------------------------------------- RT11b-15: postcodes


@pytest.mark.parametrize("text,code", [
    ("Sports day at the field, ls6 2ab", "ls6 2ab"), ("Meet at LS62AB.", "LS62AB"), ("ec1a1bb", "ec1a1bb"),
    ("Leeds LS6 2AB", "LS6 2AB"), ("(dn551pt)", "dn551pt"), ("Trip to SW1A 2AA today", "SW1A 2AA")])
def test_postcodes_as_typed_or_read(text, code):
    assert postcodes.postcodes(text) == [code]


@pytest.mark.parametrize("text", [
    "Shot on a Lumix DMC-FZ72EB", "Lumix GX80EB", "Panasonic DMC-GX80EB", "S/N LS62AB", "Serial no. LS62AB",
    "model: SE12AB", "IMG_LS62AB.jpg", "LS62AB.jpg", "SN:LS62AB", "v2/LS62AB", "#LS62AB",
    "Room b1 2nd floor", "Room B1 2nd", "Ls6 2ab", "FZ72EB", "xx1 2ab", "ab12c", "qq62ab", "zz1a 1bb",
    "Cortex-A78AE"])
def test_camera_models_serials_file_names_and_ordinals_are_not_postcodes(text):
    assert postcodes.postcodes(text) == []


@pytest.mark.parametrize("text,position,code", [
    ("LS6\u200b2AB", False, "LS62AB"), ("ls6\u00a02ab", False, "ls6 2ab"), ("LS6\u00ad 2AB", False, "LS6 2AB"),
    ("\uff33\uff25 \uff12\uff19\uff16\uff17\uff12 \uff13\uff14\uff12\uff16\uff11", True, None),  # full width
    ("N 53\u00ba 48.048 W 1\u00ba 32.946", True, None), ("53,8008\u202fN\u202f1,5491\u202fW", True, None),
    ("SE\u200b29672\u200b34261", True, None), ("\U0001d7d3\U0001d7d1.8008, -1.5491", True, None)])
def test_invisible_characters_and_look_alike_digits_do_not_hide_them(text, position, code):
    """A zero-width space, soft hyphen or no-break space, full-width or mathematical digits: the
    text reads as it shows (coordtext.plain)."""
    assert bool(coordtext.positions(f"Trip: {text}")) is position
    assert coordtext.postcodes(f"Trip: {text}") == ([code] if code else [])


# ---------------------------------------------------------------- in a file: the location reason names the field


def _caption_jpeg(tmp_path, text: str, name: str = "c.jpg"):
    return jpeg_photo(tmp_path, name, exif=exif_text({0x010E: ascii_(text)}))


def test_a_postcode_in_a_caption_is_a_location_naming_the_field(tmp_path, config):
    status, details = location_details(_caption_jpeg(tmp_path, "Sports day at the field, ls6 2ab"), config)
    assert status is not Status.CLEARED
    assert details == ["location text in the EXIF image description: postcode 'ls6 2ab'"], details


def test_a_grid_reference_in_a_caption_is_a_position_naming_the_field(tmp_path, config):
    _, d = verdict(_caption_jpeg(tmp_path, "Orienteering from SE 29672 34261"), config)
    (r,) = [r for r in d.reasons if r.kind.value == "location"]
    assert r.detail.startswith("grid reference written in the EXIF image description: 53.80381, -1.55094"), r.detail
    assert r.extra["source"] == "caption" and d.status is not Status.CLEARED


@pytest.mark.parametrize("where", ["xmp", "sidecar", "clip"])
def test_a_postcode_in_other_captions(tmp_path, config, where):
    caption = "Year 6 leavers, LS62AB"
    if where == "xmp":
        path = xmp_jpeg(tmp_path, "x.jpg", xmp(f"<dc:description>{caption}</dc:description>", DC))
    elif where == "sidecar":
        path = jpeg_photo(tmp_path, "s.jpg")
        (tmp_path / "s.xmp").write_text(xmp(f"<dc:title>{caption}</dc:title>", DC).decode())
    else:
        path = write_clip(tmp_path / "c.mp4", 1.0, metadata={"comment": caption})
    status, details = location_details(path, config)
    assert status is not Status.CLEARED and any("postcode 'LS62AB'" in d for d in details), details


@pytest.mark.parametrize("text", ["Shot on a Lumix DMC-FZ72EB, S/N LS62AB", "IMG_LS62AB.jpg", "Score 12.5 N 3.25 W",
                                  "Lap times 58.1234 59.4321, Year 5 N 12.5 E 3.5"])
def test_control_captions_with_model_serial_file_name_or_scores_give_no_location(tmp_path, config, text):
    path = jpeg_photo(tmp_path, "plain.jpg", exif=exif_text({0x010E: ascii_(text), 0x0110: ascii_("DMC-GX80EB")}))
    _, d = verdict(path, config)
    assert "location" not in kinds(d), [r.detail for r in d.reasons]


# ---------------------------------------------------------------- on a sign, read by the OCR engine


@pytest.mark.parametrize("line,what", [("Grid ref SE 29672 34261", "coordinates"),
                                       ("N 53 48.048 W 1 32.946", "coordinates"), ("Leeds LS62AB", "postcode")])
def test_written_on_a_sign(tmp_path, config, ocr_engine, line, what):
    _, d = verdict(_stamp(tmp_path, [line]), config, ocr=ocr_engine)
    found = [r.detail for r in d.reasons if r.kind.value == "location"]
    assert any(f"{what} written in the picture" in f for f in found), [r.detail for r in d.reasons]


def test_a_sign_with_a_camera_model_and_a_score_is_no_location(tmp_path, config, ocr_engine):
    _, d = verdict(_stamp(tmp_path, ["Lumix DMC-GX80EB", "Score 12.5 N 3.25 W", "Lap 58.1234 59.4321"]), config,
                   ocr=ocr_engine)
    assert "location" not in kinds(d), [r.detail for r in d.reasons]
