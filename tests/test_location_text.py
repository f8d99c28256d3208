"""Locations the product reads since red team 9 (RT9-9, -10, -18, -22, -23, -25): coordinates in
other XMP vocabularies, place names in xmpDM and Matroska tags, coordinates written as text in a
caption or in the picture, UK postcodes in the picture, GPS sidecars that are links or have NFD
names. For each: the malformed variant (never cleared, never a crash) and ordinary text with
numbers (a date, a score, a phone number, a price) that is not a location.
"""

from __future__ import annotations

import os
import unicodedata

import pytest
from PIL import Image

from screening.formats import coordtext
from screening.model import Status

from .clips import write_clip
from .test_redteam6 import XMP_GPS, config, kinds, verdict  # noqa: F401  (config: the fixture)
from .test_redteam9 import ascii_, exif_text, jpeg_photo, xmp, xmp_jpeg

ORDINARY = "Sports day 27.11.2026: Year 5 scored 12.345, call 0113 496 0000, tickets £12.50, 3-2 win"
DC = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
GEO = 'xmlns:geo="http://www.w3.org/2003/01/geo/wgs84_pos#"'
GEORSS = 'xmlns:georss="http://www.georss.org/georss"'


def location_details(path, config) -> tuple[Status, list[str]]:
    _, d = verdict(path, config)
    return d.status, [r.detail for r in d.reasons if r.kind.value == "location"]


# ---------------------------------------------------------------- the parser


@pytest.mark.parametrize("text,lat,lon", [
    ("Lat 53.800800 Long -1.549100", 53.8008, -1.5491),
    ("latitude: 53.8008, longitude: 1.5491 W", 53.8008, -1.5491),
    ("53.8008 N, 1.5491 W", 53.8008, -1.5491),
    ("N 53.8008 W 1.5491", 53.8008, -1.5491),
    ("53°48'02.88\"N 1°32'56.76\"W", 53.8008, -1.5491),
    ("53°48.048'N 1°32.946'W", 53.8008, -1.5491),
    ("53.800800,-1.549100", 53.8008, -1.5491),
    ("at +53.8008-001.5491/ today", 53.8008, -1.5491),
])
def test_coordinates_written_as_text_are_read(text, lat, lon):
    (pos,) = coordtext.positions(f"Sports day, {text}.")
    assert pos.problem is None and abs(pos.lat - lat) < 1e-4 and abs(pos.lon - lon) < 1e-4


@pytest.mark.parametrize("text", ["Lat 95.5 Long -1.5", "lat: 53.8 lon: 200.1", "53°78'02.9\"N 1°32'56.8\"W",
                                  "+99.8008-001.5491/"])
def test_coordinates_that_say_so_but_cannot_be_read_are_malformed(text):
    (pos,) = coordtext.positions(text)
    assert pos.lat is None and pos.problem


@pytest.mark.parametrize("text", [
    ORDINARY, "Scores 12.345 and 9.870", "Term dates 2026-09-03 to 2026-12-18", "Room 101, 14:30, £1,234.567",
    "Version 1.2.3 build 45.678", "IMG_20240512_123456.jpg", "+44 113 496 0000", "The late bus at 3.45 pm",
    "Platform 9 3/4, lateral thinking 10.5 N", "1,234.567 and 2,345.678", "Sun 10.000 W heater",
    "Vault 14.233, bars 13.900"])
def test_ordinary_text_with_numbers_is_not_a_position(text):
    assert coordtext.positions(text) == []


def test_uk_postcodes_follow_the_published_pattern():
    assert coordtext.postcodes("Leeds, West Yorkshire, LS6 2AB") == ["LS6 2AB"]
    assert coordtext.postcodes("EC1A 1BB, W1A 0AX, M1 1AE, B33 8TH, CR2 6XH, DN55 1PT") == [
        "EC1A 1BB", "W1A 0AX", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT"]
    assert coordtext.postcodes(ORDINARY) == []
    assert coordtext.postcodes("Room A1, level 2, gate B12") == []
    assert coordtext.postcodes("Room A1, level 2, gate B12, ls6 2ab") == ["ls6 2ab"]  # RT11b-15: as typed


# ---------------------------------------------------------------- RT9-9: other XMP vocabularies


@pytest.mark.parametrize("body,ns", [
    ("<geo:lat>153.8008</geo:lat><geo:long>-1.5491</geo:long>", GEO),
    ("<geo:lat>north</geo:lat><geo:long>west</geo:long>", GEO),
    ("<georss:point>53.8008 somewhere</georss:point>", GEORSS),
    ("<dc:coverage>Lat 153.8008 Long -1.5491</dc:coverage>", DC),
])
def test_rt9_9_malformed_coordinates_in_other_xmp_vocabularies_are_never_cleared(tmp_path, config, body, ns):
    status, details = location_details(xmp_jpeg(tmp_path, "bad.jpg", xmp(body, ns)), config)
    assert status is not Status.CLEARED and any("malformed" in d for d in details), details


@pytest.mark.parametrize("body", ["<dc:coverage>2026</dc:coverage>", f"<dc:coverage>{ORDINARY}</dc:coverage>"])
def test_rt9_9_dc_coverage_without_coordinates_is_no_location(tmp_path, config, body):
    status, details = location_details(xmp_jpeg(tmp_path, "cov.jpg", xmp(body, DC)), config)
    assert details == []


# ---------------------------------------------------------------- RT9-10: place names


def test_rt9_10_location_shown_and_created_sub_fields_are_places(tmp_path, config):
    body = ('<Iptc4xmpExt:LocationCreated><rdf:Bag><rdf:li rdf:parseType="Resource">'
            '<Iptc4xmpExt:WorldRegion>Europe</Iptc4xmpExt:WorldRegion><Iptc4xmpExt:City>Leeds</Iptc4xmpExt:City>'
            '</rdf:li></rdf:Bag></Iptc4xmpExt:LocationCreated>')
    status, details = location_details(
        xmp_jpeg(tmp_path, "created.jpg", xmp(body, 'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"')),
        config)
    assert any("World region 'Europe'" in d and "City 'Leeds'" in d for d in details), details


# ---------------------------------------------------------------- RT9-18: Matroska location tags


def test_rt9_18_coordinates_in_a_recording_location_tag_are_a_position(tmp_path, config):
    path = write_clip(tmp_path / "pos.mkv", 1.0, metadata={"RECORDING_LOCATION": "53.800800, -1.549100"})
    _, d = verdict(path, config)
    assert any(r.kind.value == "location" and r.extra.get("lat") == 53.8008 for r in d.reasons), d.reasons


@pytest.mark.parametrize("value", ["Lat 153.8 Long -1.5", "12345"])
def test_rt9_18_an_unreadable_location_tag_is_malformed(tmp_path, config, value):
    path = write_clip(tmp_path / "bad.mkv", 1.0, metadata={"COMPOSITION_LOCATION": value})
    _, d = verdict(path, config)
    assert d.status is not Status.CLEARED and any("malformed" in r.detail for r in d.reasons), d.reasons


def test_rt9_18_ordinary_tags_with_numbers_give_no_location(tmp_path, config):
    path = write_clip(tmp_path / "plain.mkv", 1.0, metadata={"comment": ORDINARY, "title": "Match 3.5"})
    _, d = verdict(path, config)
    assert "location" not in kinds(d)


# ---------------------------------------------------------------- RT9-22: coordinates in captions


def test_rt9_22_malformed_coordinates_in_a_caption_are_never_cleared(tmp_path, config):
    path = jpeg_photo(tmp_path, "bad.jpg", exif=exif_text({0x010E: ascii_("Sports day, Lat 153.8008 Long -1.5491")}))
    status, details = location_details(path, config)
    assert status is not Status.CLEARED and any("malformed" in d for d in details), details


@pytest.mark.parametrize("where", ["exif", "xmp", "clip"])
def test_rt9_22_ordinary_captions_with_numbers_give_no_location(tmp_path, config, where):
    if where == "exif":
        path = jpeg_photo(tmp_path, "plain.jpg", exif=exif_text({0x010E: ascii_(ORDINARY)}))
    elif where == "xmp":
        path = xmp_jpeg(tmp_path, "plain.jpg", xmp(f"<dc:description>{ORDINARY}</dc:description>", DC))
    else:
        path = write_clip(tmp_path / "plain.mp4", 1.0, metadata={"comment": ORDINARY})
    _, d = verdict(path, config)
    assert "location" not in kinds(d), [r.detail for r in d.reasons]


def test_rt9_22_coordinates_written_in_a_sidecars_caption(tmp_path, config):
    path = jpeg_photo(tmp_path, "side.jpg")
    (tmp_path / "side.xmp").write_text(xmp("<dc:description>Lat 53.800800 Long -1.549100</dc:description>",
                                           DC).decode())
    status, details = location_details(path, config)
    assert any("53.80080, -1.54910" in d for d in details), details


# ---------------------------------------------------------------- RT9-23: written in the picture


def _stamp(tmp_path, lines: list[str]):
    from PIL import ImageDraw, ImageFont

    from .test_redteam6 import BOLD

    if not BOLD.exists():
        pytest.skip("DejaVu Sans Bold is not installed")
    img = Image.new("RGB", (640, 60 + 40 * len(lines)), (40, 40, 40))
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(BOLD), 22)
    for i, text in enumerate(lines):
        d.text((24, 20 + 40 * i), text, font=font, fill=(255, 255, 255))
    path = tmp_path / "stamp.png"
    img.save(path)
    return path


@pytest.fixture(scope="module")
def ocr_engine():
    from screening.vision.ocr import OcrEngine

    return OcrEngine()


def test_rt9_23_a_postcode_in_the_picture_is_a_location_with_its_box(tmp_path, config, ocr_engine):
    path = _stamp(tmp_path, ["Roundhay Park, LS8 2HH"])
    _, d = verdict(path, config, ocr=ocr_engine)
    (r,) = [r for r in d.reasons if r.kind.value == "location"]
    assert "postcode written in the picture" in r.detail and r.box is not None and d.status is not Status.CLEARED


def test_rt9_23_malformed_coordinates_in_the_picture_are_a_location(tmp_path, config, ocr_engine):
    path = _stamp(tmp_path, ["Lat 153.8008 Long -1.5491"])
    _, d = verdict(path, config, ocr=ocr_engine)
    assert any("coordinates written in the picture" in r.detail for r in d.reasons), [r.detail for r in d.reasons]


def test_rt9_23_ordinary_numbers_in_the_picture_are_no_location(tmp_path, config, ocr_engine):
    path = _stamp(tmp_path, ["Sports Day 27.11.2026", "Score 12.345  Tel 0113 496 0000", "Tickets £12.50"])
    _, d = verdict(path, config, ocr=ocr_engine)
    assert "location" not in kinds(d), [r.detail for r in d.reasons]


# ---------------------------------------------------------------- RT9-25: sidecars


def test_rt9_25_a_sidecar_linked_out_of_the_folder_is_an_error(tmp_path, config):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "gps.xmp").write_text(XMP_GPS)
    folder = tmp_path / "photos"
    folder.mkdir()
    path = jpeg_photo(folder, "Zoe.jpg")
    os.symlink("../elsewhere/gps.xmp", folder / "Zoe.xmp")
    _, d = verdict(path, config)
    assert d.status is Status.ERROR
    assert any("link out of the photo's folder" in r.detail for r in d.reasons), [r.detail for r in d.reasons]


@pytest.mark.parametrize("target", ["missing.xmp", "Zoe.xmp"])  # dangling; a loop to itself
def test_rt9_25_a_broken_sidecar_link_is_an_error_never_a_crash(tmp_path, config, target):
    path = jpeg_photo(tmp_path, "Zoe.jpg")
    os.symlink(target, tmp_path / "Zoe.xmp")
    _, d = verdict(path, config)
    assert d.status is Status.ERROR


def test_rt9_25_scan_skips_the_sidecars_it_reads_and_refuses_a_link_out(tmp_path):
    from screening import files

    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "gps.xmp").write_text(XMP_GPS)
    folder = tmp_path / "photos"
    folder.mkdir()
    jpeg_photo(folder, unicodedata.normalize("NFC", "Zoë.jpg"))
    (folder / unicodedata.normalize("NFD", "Zoë.xmp")).write_text(XMP_GPS)
    jpeg_photo(folder, "Amy.jpg")
    (folder / "shared.xmp").write_text(XMP_GPS)
    os.symlink("shared.xmp", folder / "Amy.xmp")
    jpeg_photo(folder, "Ben.jpg")
    os.symlink("../elsewhere/gps.xmp", folder / "Ben.xmp")
    selection = files.select([folder])
    screened = sorted(p.name for p, _ in selection.items)
    skipped = sorted(s.path.name for s in selection.skipped if s.why == files.SIDECAR)
    refused = [p.name for p, _, _ in selection.refused]
    assert screened == sorted(["Amy.jpg", "Ben.jpg", unicodedata.normalize("NFC", "Zoë.jpg"), "shared.xmp"])
    assert skipped == sorted(["Amy.xmp", unicodedata.normalize("NFD", "Zoë.xmp")]) and refused == ["Ben.xmp"]


@pytest.mark.parametrize("text", ["Vault 14.233, bars 13.900", "Times 10.512 and 11.034", "Rates 2.125, 3.875"])
def test_three_decimal_pairs_outside_the_british_isles_are_not_a_position(text):
    assert not coordtext.positions(text)


@pytest.mark.parametrize("text", ["https://maps.google.com/?q=53.8008,-1.5491", "https://www.google.com/maps/@53.8,-1.54,17z",
                                  "https://www.openstreetmap.org/?mlat=53.8008&amp;mlon=-1.5491"])
def test_map_links_are_positions(text):
    (pos,) = coordtext.positions(text)
    assert abs(pos.lat - 53.8) < 0.01 and abs(pos.lon + 1.54) < 0.02
