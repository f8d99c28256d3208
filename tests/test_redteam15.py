"""Red team 15: held-out cases built from what issues 16 and 18 name (videos, GPS in atoms not
tried before, hostile files, file system). Each case asserts the SAFE outcome next to a control
that shows the case is meaningful; a case the product gets wrong is xfail(strict) with its
RT15 number (RT15-2, a report written through a hard link to a photo, was fixed on main; its tests
keep it fixed)."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from screening import cli
from screening.model import Status

from .clips import Appearance, write_clip
from .test_redteam3 import _photo, cli_trust  # noqa: F401  (fixture)
from .test_video import RED, TOML, screen

av = pytest.importorskip("av")


@pytest.fixture
def config(tmp_path):
    from screening.config import load_config

    (tmp_path / "screening.toml").write_text(TOML)
    return load_config(tmp_path / "screening.toml")


def _status(path, config):
    _, decision = screen(path, config)
    return decision


# ------------------------------------------------------------------ file system: hard links

def test_rt15_control_redact_makes_a_copy(cli_trust, capsys):
    _photo(cli_trust / "batch" / "a.png", "red")
    status = cli.main(["redact", "batch", "--into", "copies", "--workers", "1"])
    assert status in (0, 1) and (cli_trust / "copies" / "a.png").exists()


def test_rt15_1_redact_never_writes_through_a_hard_link_to_the_original(cli_trust, capsys):
    original = cli_trust / "batch" / "a.png"
    _photo(original, "red")
    before = original.read_bytes()
    (cli_trust / "copies").mkdir()
    os.link(original, cli_trust / "copies" / "a.png")
    cli.main(["redact", "batch", "--into", "copies", "--workers", "1"])
    assert original.read_bytes() == before


def test_rt15_control_the_html_report_replaces_a_hard_link_rather_than_writing_through_it(cli_trust, capsys):
    original = cli_trust / "batch" / "a.png"
    _photo(original, "red")
    before = original.read_bytes()
    os.link(original, cli_trust / "out.html")
    cli.main(["scan", "batch", "--workers", "1", "--html", "out.html"])
    assert original.read_bytes() == before and b"<html" in (cli_trust / "out.html").read_bytes().lower()


@pytest.mark.parametrize("report", ["--csv", "--jsonl"])
def test_rt15_2_a_csv_or_jsonl_report_never_writes_through_a_hard_link_to_a_photo(cli_trust, capsys, report):
    original = cli_trust / "batch" / "a.png"
    _photo(original, "red")
    before = original.read_bytes()
    os.link(original, cli_trust / "out.rep")
    cli.main(["scan", "batch", "--workers", "1", report, "out.rep"])
    assert original.read_bytes() == before, "the original photo was overwritten by the report"


def test_rt15_3_a_report_named_like_a_screened_photo_never_overwrites_it(cli_trust, capsys):
    original = cli_trust / "batch" / "a.png"
    _photo(original, "red")
    before = original.read_bytes()
    try:
        cli.main(["scan", "batch", "--workers", "1", "--html", "batch/a.png"])
    except SystemExit:
        pass
    assert original.read_bytes() == before


def test_rt15_2_the_audit_export_never_writes_through_a_hard_link_to_a_photo(cli_trust, capsys):
    original = cli_trust / "batch" / "a.png"
    _photo(original, "red")
    before = original.read_bytes()
    os.link(original, cli_trust / "audit.csv")
    cli.main(["audit", "--csv", "audit.csv"])
    assert original.read_bytes() == before, "the original photo was overwritten by the audit export"


# ------------------------------------------------------------------ RT15-4: a clip appended to a photo

def _backdrop_bytes(fmt: str) -> bytes:
    from .test_redteam6 import backdrop

    buf = io.BytesIO()
    Image.fromarray(backdrop()).save(buf, fmt)
    return buf.getvalue()


def _face_clip(path: Path) -> Path:
    return write_clip(path, 1.0, appearances=(Appearance(RED, 0.0, 1.0, (100, 80)),))


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".avi"])  # (WebM is Matroska too: EBML, as .mkv)
def test_rt15_control_each_clip_alone_shows_the_face(tmp_path, config, suffix):
    assert _status(_face_clip(tmp_path / f"clip{suffix}"), config).status is Status.NEEDS_PERMISSION


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_rt15_control_a_photo_with_an_mp4_after_its_end_is_never_cleared(tmp_path, config, fmt):
    photo = tmp_path / f"motion.{fmt.lower()}"
    photo.write_bytes(_backdrop_bytes(fmt) + _face_clip(tmp_path / "clip.mp4").read_bytes())
    assert _status(photo, config).status is Status.ERROR
    plain = tmp_path / f"plain.{fmt.lower()}"
    plain.write_bytes(_backdrop_bytes(fmt))
    assert _status(plain, config).status is Status.CLEARED


@pytest.mark.parametrize("suffix", [".mkv", ".avi"])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_rt15_4_a_photo_with_a_webm_mkv_or_avi_clip_after_its_end_is_never_cleared(tmp_path, config, fmt, suffix):
    photo = tmp_path / f"motion.{fmt.lower()}"
    photo.write_bytes(_backdrop_bytes(fmt) + _face_clip(tmp_path / f"clip{suffix}").read_bytes())
    assert _status(photo, config).status is not Status.CLEARED


# ------------------------------------------------------------------ RT15-5: GPS in Photoshop's EXIF resource

def _gps_exif_body() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (53.0, 48.0, 2.88), 3: "W", 4: (1.0, 32.0, 56.76)})  # the site
    body = exif.tobytes()
    return body[6:] if body.startswith(b"Exif\x00\x00") else body


XMP_GPS = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="53,48.048N" '
           b'exif:GPSLongitude="1,32.946W"/></rdf:RDF></x:xmpmeta>')


def _jpeg_with_photoshop_resource(resource: int, data: bytes) -> bytes:
    block = b"8BIM" + struct.pack(">H", resource) + b"\x00\x00" + struct.pack(">I", len(data)) + data
    block += b"\x00" * (len(data) % 2)
    app13 = b"Photoshop 3.0\x00" + block
    jpeg = _backdrop_bytes("JPEG")
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(app13) + 2) + app13 + jpeg[2:]


def _text_verdict(path, config):
    from .test_redteam6 import verdict

    return verdict(path, config)[1]


def test_rt15_control_gps_in_photoshops_xmp_resource_is_found(tmp_path, config):
    path = tmp_path / "irb1060.jpg"
    path.write_bytes(_jpeg_with_photoshop_resource(1060, XMP_GPS))
    assert "location" in [r.kind.value for r in _text_verdict(path, config).reasons]


def test_rt15_5_gps_in_photoshops_exif_resource_is_found(tmp_path, config):
    path = tmp_path / "irb1058.jpg"
    path.write_bytes(_jpeg_with_photoshop_resource(1058, _gps_exif_body()))
    assert _text_verdict(path, config).status is not Status.CLEARED


# ------------------------------------------------------------------ RT15-6: a name run into digits

@pytest.fixture
def names(tmp_path):
    from screening.config import load_config
    from screening.detectors.text import TextDetector

    from .test_config_register import GOOD, write_config
    from .test_redteam14 import PEOPLE, NoEngine

    return TextDetector(load_config(write_config(tmp_path, GOOD)), PEOPLE, engine=NoEngine())


def _people_read(detector, text):
    from .test_redteam14 import line

    return {f.target_id for f in detector.findings([line(text, (0, 0, 30 * len(text), 50))]) if f.target == "person"}


@pytest.mark.parametrize("text", ["Amelia Hart 07", "@amelia_hart", "Hart7 Amelia", "www.ameliahart.co.uk",
                                  "AMELIA HART (Y6)", "#TeamAmeliaHart"])
def test_rt15_control_a_pupils_name_in_handles_and_labels_is_found(names, text):
    assert _people_read(names, text) == {"P3001"}


@pytest.mark.parametrize("text", ["amelia_hart07", "amelia.hart07", "Amelia Hart07", "amelia hart2026", "ameliahart07"])
def test_rt15_6_a_pupils_name_run_into_digits_is_found(names, text):
    assert _people_read(names, text) == {"P3001"}


# ------------------------------------------------------------------ RT15-7/8: GPS in clip atoms not read

def _gps_tiff() -> bytes:
    """A little-endian TIFF whose IFD0 holds GPS tags 1 to 4: the Trust's site (as Canon's CMT4)."""
    base = 8 + 2 + 4 * 12 + 4
    lat = b"".join(struct.pack("<II", round(v * 100), 100) for v in (53, 48, 2.88))
    lon = b"".join(struct.pack("<II", round(v * 100), 100) for v in (1, 32, 56.76))
    entries = [struct.pack("<HHI4s", 1, 2, 2, b"N\x00\x00\x00"), struct.pack("<HHII", 2, 5, 3, base),
               struct.pack("<HHI4s", 3, 2, 2, b"W\x00\x00\x00"), struct.pack("<HHII", 4, 5, 3, base + 24)]
    return b"II*\x00" + struct.pack("<IH", 8, 4) + b"".join(entries) + b"\x00" * 4 + lat + lon


CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")
XMP_PACKET = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>' + XMP_GPS + b'<?xpacket end="w"?>')


def _xml_meta(xmp: bytes) -> bytes:
    from .test_video import _box

    hdlr = _box(b"hdlr", b"\x00" * 8 + b"mp7t" + b"\x00" * 13)
    return _box(b"meta", b"\x00" * 4 + hdlr + _box(b"xml ", b"\x00" * 4 + xmp))


def _clip_with(tmp_path, name, where, child) -> Path:
    from .test_video import _into_moov

    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    path = tmp_path / name
    path.write_bytes(_into_moov(data, child) if where == "moov" else data + child)
    return path


def test_rt15_control_the_same_xmp_in_a_quicktime_xmp_atom_is_a_location(tmp_path, config):
    from .test_video import _box

    path = _clip_with(tmp_path, "xmp_.mp4", "moov", _box(b"udta", _box(b"XMP_", XMP_PACKET)))
    assert "location" in [r.kind.value for r in _text_verdict(path, config).reasons]
    assert _text_verdict(tmp_path / "plain.mp4", config).status is Status.CLEARED


def test_rt15_7_gps_in_a_canon_cmt4_box_is_a_location(tmp_path, config):
    from .test_video import _box

    path = _clip_with(tmp_path, "canon.mp4", "moov", _box(b"uuid", CANON_UUID + _box(b"CMT4", _gps_tiff())))
    assert _text_verdict(path, config).status is not Status.CLEARED


@pytest.mark.parametrize("where", ["moov", "moov/udta", "top level"])
def test_rt15_8_gps_in_xmp_of_a_meta_xml_box_is_a_location(tmp_path, config, where):
    from .test_video import _box

    meta = _xml_meta(XMP_PACKET)
    path = _clip_with(tmp_path, "xml.mp4", "moov" if where.startswith("moov") else "top",
                      _box(b"udta", meta) if where == "moov/udta" else meta)
    assert _text_verdict(path, config).status is not Status.CLEARED


def test_rt15_control_a_name_in_the_same_meta_xml_box_is_read(tmp_path, config):
    xmp = XMP_PACKET.replace(b"/></rdf:RDF>", b'><dc:title xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Alt>'
                             b'<rdf:li xml:lang="x-default">Amelia Hart</rdf:li></rdf:Alt></dc:title>'
                             b'</rdf:Description></rdf:RDF>')
    path = _clip_with(tmp_path, "xmlname.mp4", "moov", _xml_meta(xmp))
    assert "text" in [r.kind.value for r in _text_verdict(path, config).reasons]


# ------------------------------------------------------------------ RT15-9: half a crest, a cropped blazer

@pytest.fixture(scope="module")
def academy_checks(tmp_path_factory):
    from screening.detectors.logos import LogoDetector
    from screening.detectors.uniforms import UniformDetector

    from .academy_trust import make_trust

    trust = make_trust(tmp_path_factory.mktemp("trust"))
    logos = LogoDetector(trust, cache=tmp_path_factory.mktemp("cache"))
    return logos, UniformDetector(trust, logos)


@pytest.fixture(scope="module")
def wearer():
    from . import crests
    from .conftest import PUBLIC_DOMAIN

    img = Image.open(PUBLIC_DOMAIN / "astronaut.png").convert("RGB")
    return img, crests.find_face(img)


def _academy_verdict(academy_checks, photo, face):
    """The logo and uniform checks on the photo (as JPEG), decided as scan decides them."""
    import datetime as dt

    from screening.config import LogoSettings, UniformSettings
    from screening.model import Check, CheckResult, FaceFinding
    from screening.policy import Rules, decide

    from . import crests
    from .academy_trust import FakePicture

    logos, uniforms = academy_checks
    picture = FakePicture(crests.jpeg(photo, 85))
    seen = {Check.FACES: CheckResult(Check.FACES, (FaceFinding(face),))}
    results = [CheckResult(Check.LOGOS, tuple(logos.detect(picture, seen))),
               CheckResult(Check.UNIFORMS, tuple(uniforms.detect(picture, seen)))]
    rules = Rules(channel="website", today=dt.date(2026, 11, 24), required=(Check.LOGOS, Check.UNIFORMS),
                  logo_min_score=LogoSettings().min_score, uniform_min_score=UniformSettings().min_score,
                  uniform_min_trim_score=UniformSettings().min_trim_score,
                  academy_names={"north": "Trinity North Academy", "south": "St Aidan's Academy"})
    return decide(results, rules)


def _worn(wearer, academy, variant, crest=None):
    """The wearer in `academy`'s colours; with `crest`, that preset's crest worn (another school's)."""
    from PIL import ImageDraw

    from . import crests
    from .academy_trust import NORTH_COLOURS, SOUTH_COLOURS

    img, face = wearer
    colours = NORTH_COLOURS if academy == "north" else SOUTH_COLOURS
    if variant.startswith("blazer"):
        blazer = crests.paint_uniform(img, colours, face_box=face, seed=1, garment="blazer")
        if variant == "blazer":
            return blazer
        x, y, w, h = face  # a head-and-shoulders crop: one face height of chest below the neck
        return blazer.crop((0, 0, blazer.width, int(y + h * 2.05)))
    top = crests.paint_uniform(img, colours, crest=crests.preset(crest or academy, 512), face_box=face, seed=1)
    cx, cy, cw = crests.crest_centre(face)
    if variant == "whole":
        return top
    if variant.startswith("right 0"):  # a portrait crop through the chest badge, `visible` of its width kept
        return crests.cut_through_crest(top, face, float(variant.split()[1]))[0]
    if variant == "bottom 0.5":  # cropped at the badge's middle (the bottom of the frame)
        return top.crop((0, 0, top.width, int(cy)))
    hand = top.copy()
    box = {"left half covered": (cx - cw, cy - cw, cx, cy + cw), "right half covered": (cx, cy - cw, cx + cw, cy + cw),
           "top half covered": (cx - cw, cy - cw, cx + cw, cy),
           "bottom half covered": (cx - cw, cy, cx + cw, cy + cw)}[variant]
    ImageDraw.Draw(hand).rectangle(box, fill=(205, 160, 140))  # a hand/arm over half the badge
    return hand


@pytest.mark.slow
@pytest.mark.parametrize("academy,variant", [("south", "whole"), ("south", "right 0.6"), ("north", "right 0.5"),
                                             ("north", "bottom 0.5"), ("south", "blazer"),
                                             ("north", "blazer cropped")])
def test_rt15_control_a_crest_whole_or_cut_and_a_blazer_with_trims_are_flagged(academy_checks, wearer, academy,
                                                                                variant):
    photo = _worn(wearer, academy, variant)
    assert _academy_verdict(academy_checks, photo, wearer[1]).status is Status.NEEDS_PERMISSION


@pytest.mark.slow
@pytest.mark.parametrize("academy,variant", [("south", "right 0.5"), ("south", "bottom 0.5"),
                                             ("north", "left half covered"), ("south", "top half covered"),
                                             pytest.param("south", "blazer cropped", marks=pytest.mark.xfail(
                                                 strict=True, reason="RT15-9 (left): a head-and-shoulders crop's "
                                                 "lapel tops score 0.38 as trims; widening the trim zone to the "
                                                 "shoulders (2.5 face widths per face height) found it but flagged a striped "
                                                 "top and two other schools' uniforms of the bench, so it is off")),
                                             # variants (halfcrest): the other halves, the other academy
                                             ("south", "left half covered"),
                                             pytest.param("north", "top half covered", marks=pytest.mark.xfail(
                                                 strict=True, reason="RT15-9 (left): the north shield's lower "
                                                 "half alone scores 0.67 (halves), under HALF_SURE 0.8, and no "
                                                 "keypoints place the crest there")),
                                             ("south", "right half covered"), ("south", "bottom half covered")])
def test_rt15_9_half_a_crest_or_a_cropped_blazer_on_academy_colours_is_not_cleared(academy_checks, wearer,
                                                                                    academy, variant):
    photo = _worn(wearer, academy, variant)
    verdict = _academy_verdict(academy_checks, photo, wearer[1])
    assert verdict.status is not Status.CLEARED
    if "half" in variant or variant.endswith("0.5"):  # the reason says so
        assert any("partly visible" in r.detail for r in verdict.reasons)


@pytest.mark.slow
@pytest.mark.parametrize("academy,crest,variant", [
    ("north", "decoy", "right 0.5"), ("north", "decoy", "left half covered"), ("north", "decoy", "whole"),
    ("south", "east", "bottom 0.5"), ("south", "west", "top half covered"), ("north", "east", "right half covered")])
def test_rt15_9_control_another_schools_crest_half_visible_on_academy_colours_stays_cleared(academy_checks, wearer,
                                                                                           academy, crest, variant):
    """Half of another school's crest (the decoy: north's shield in other colours), on a top in an
    academy's colours without trims: neither a crest nor a uniform (colours alone are not flagged)."""
    photo = _worn(wearer, academy, variant, crest=crest)
    assert _academy_verdict(academy_checks, photo, wearer[1]).status is Status.CLEARED


@pytest.mark.slow
@pytest.mark.parametrize("academy,garment", [("north", "checks"), ("south", "checks"), ("south", "stripes"),
                                             ("north", "jumper")])
def test_rt15_9_control_patterned_tops_in_academy_colours_are_no_half_crest(academy_checks, wearer, academy,
                                                                            garment):
    """Checks and stripes in an academy's colours (their squares matched a crest's half at up to
    0.72) and a jumper with trims but no crest: no crest, partly visible or not, is reported."""
    from . import crests
    from .academy_trust import NORTH_COLOURS, SOUTH_COLOURS

    img, face = wearer
    photo = crests.paint_uniform(img, NORTH_COLOURS if academy == "north" else SOUTH_COLOURS, face_box=face,
                                 seed=2, garment=garment)
    verdict = _academy_verdict(academy_checks, photo, face)
    assert not any("crest" in r.detail for r in verdict.reasons)


# ------------------------------------------------------------------ RT15-10: a picture where only APPn/chunks are searched

def _face_jpeg() -> bytes:
    from .test_redteam6 import with_face

    buf = io.BytesIO()
    Image.fromarray(with_face()).resize((160, 120)).save(buf, "JPEG")
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    import zlib

    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _gif_subblocks(blob: bytes) -> bytes:
    return b"".join(bytes([len(blob[i:i + 255])]) + blob[i:i + 255] for i in range(0, len(blob), 255)) + b"\x00"


def _hidden(kind: str) -> tuple[str, bytes]:
    """(file name, bytes): a plain picture carrying a JPEG with a face in `kind`."""
    face = _face_jpeg()
    if kind == "jpeg APP9":  # the product's own standard (RT9-5): searched
        jpeg = _backdrop_bytes("JPEG")
        return "app9.jpg", jpeg[:2] + b"\xff\xe9" + struct.pack(">H", len(face) + 2) + face + jpeg[2:]
    if kind == "png private chunk":  # searched
        png = _backdrop_bytes("PNG")
        return "prvw.png", png[:33] + _png_chunk(b"prVw", face) + png[33:]
    if kind == "jpeg COM":
        jpeg = _backdrop_bytes("JPEG")
        return "com.jpg", jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(face) + 2) + face + jpeg[2:]
    if kind.startswith("gif"):
        gif = _backdrop_bytes("GIF")
        flags = gif[10]
        at = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)  # after the global colour table
        ext = (b"\x21\xfe" if kind == "gif comment" else b"\x21\xff\x0bPREVIEW1.00") + _gif_subblocks(face)
        return "ext.gif", gif[:at] + ext + gif[at:]
    if kind == "webp unknown chunk":
        webp = _backdrop_bytes("WEBP")
        chunk = b"THUM" + struct.pack("<I", len(face)) + face + b"\x00" * (len(face) % 2)
        body = webp[12:] + chunk
        return "thum.webp", b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
    if kind == "tiff private tag":
        from PIL import TiffImagePlugin

        from .test_redteam6 import backdrop

        info = TiffImagePlugin.ImageFileDirectory_v2()
        info[50000], info.tagtype[50000] = face, 7
        buf = io.BytesIO()
        Image.fromarray(backdrop()).save(buf, "TIFF", tiffinfo=info)
        return "private.tif", buf.getvalue()
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["jpeg APP9", "png private chunk"])
def test_rt15_control_a_face_jpeg_inside_an_app_segment_or_private_chunk_is_screened(tmp_path, config, kind):
    name, data = _hidden(kind)
    (tmp_path / name).write_bytes(data)
    assert "unknown_face" in [r.kind.value for r in _text_verdict(tmp_path / name, config).reasons]


@pytest.mark.parametrize("kind", ["jpeg COM", "gif comment", "gif application extension", "webp unknown chunk",
                                  "tiff private tag"])
def test_rt15_10_a_face_jpeg_inside_a_comment_extension_chunk_or_private_tag_is_not_cleared(tmp_path, config, kind):
    name, data = _hidden(kind)
    (tmp_path / name).write_bytes(data)
    with Image.open(tmp_path / name) as shown:  # the carrier itself decodes: a plain picture
        shown.load()
    assert _text_verdict(tmp_path / name, config).status is not Status.CLEARED


# ------------------------------------------------------------------ RT15-6/11 with the real OCR: a board, bunting

@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    from screening.config import load_config
    from screening.detectors.text import TextDetector

    from .test_config_register import GOOD, write_config

    root = tmp_path_factory.mktemp("ocr")
    return TextDetector(load_config(write_config(root, GOOD)), [("P3001", "Amelia Hart"), ("P3002", "Oliver Bennett")])


def _font(cap: int):
    from PIL import ImageFont

    return ImageFont.load_default(round(cap / 0.72))


def _scene(size=(800, 500)) -> Image.Image:
    from .test_redteam6 import backdrop

    return Image.fromarray(backdrop()).resize(size)


def _read(reader, picture: Image.Image) -> set[str]:
    from .academy_trust import FakePicture

    return {f.target_id for f in reader.detect(FakePicture(picture), {}) if f.target == "person"}


def _board(text: str) -> Image.Image:
    from PIL import ImageDraw

    picture = _scene()
    draw = ImageDraw.Draw(picture)
    draw.rectangle((80, 150, 720, 300), fill=(250, 250, 240))
    draw.text((110, 190), text, font=_font(50), fill=(20, 30, 80))
    return picture


FLAG_COLOURS = [(200, 40, 40), (40, 90, 200), (230, 180, 30), (40, 150, 60)]


def _bunting(*, flags: bool = True, band: bool = False, ink=(255, 255, 255)) -> Image.Image:
    """AMELIA HART, one capital per pennant of a string of bunting (or on one band, or on the sky)."""
    from PIL import ImageDraw

    picture = _scene()
    draw = ImageDraw.Draw(picture)
    if band:
        draw.rectangle((30, 100, 770, 170), fill=(40, 90, 200))
    x = 40
    for i, letter in enumerate("AMELIA HART"):
        if letter == " ":
            x += 40
            continue
        if flags:
            draw.polygon([(x, 100), (x + 60, 100), (x + 30, 190)], fill=FLAG_COLOURS[i % 4])
        draw.text((x + 14, 105), letter, font=_font(34), fill=ink)
        x += 66
    return picture


@pytest.mark.slow
def test_rt15_control_the_real_ocr_reads_the_name_on_a_board_and_in_spaced_capitals(reader):
    assert _read(reader, _board("AMELIA HART")) == {"P3001"}
    assert _read(reader, _bunting(flags=False, band=True)) == {"P3001"}
    assert _read(reader, _bunting(flags=False, ink=(10, 10, 10))) == {"P3001"}


@pytest.mark.slow
@pytest.mark.parametrize("text", ["AMELIA HART07", "AMELIA HART 07"])
def test_rt15_6_a_name_followed_by_a_number_on_a_board_is_found(reader, text):
    assert _read(reader, _board(text)) == {"P3001"}


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="RT15-11: a name on bunting, one capital per coloured pennant: vision/ocr.py "
                                       "reads single letters (M, A, H, R, T, A, 'EA'; L, I and the first A lost) and "
                                       "the letter-pitch joining of detectors/text.py makes no name of them")
@pytest.mark.parametrize("ink", [(255, 255, 255)])
def test_rt15_11_a_name_on_bunting_one_letter_per_pennant_is_found(reader, ink):
    assert _read(reader, _bunting(ink=ink)) == {"P3001"}


# ------------------------------------------------------------------ safe: held-out clips and metadata the product gets right

@pytest.mark.parametrize("rotation,start,at", [(90, 0.0, (20, 20)), (270, 1.5, (20, 180))])
def test_rt15_safe_a_face_for_half_a_second_at_either_end_of_a_sideways_phone_clip(tmp_path, config, rotation,
                                                                                   start, at):
    clip = write_clip(tmp_path / "phone.mp4", 2.0, rotation=rotation, appearances=(Appearance(RED, start, 0.5, at),))
    decision = _status(clip, config)
    assert decision.status is Status.NEEDS_PERMISSION and decision.reasons[0].kind.value == "unknown_face"


def _fragmented(path: Path, face_from: int) -> Path:
    from .clips import scene

    background = scene((320, 240))
    with av.open(str(path), "w", format="mp4", options={"movflags": "frag_keyframe+empty_moov"}) as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(50):
            pixels = background(i / 25)
            if i >= face_from:
                pixels[80:120, 100:140] = RED
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_rt15_safe_a_face_in_the_last_fragment_of_a_fragmented_mp4(tmp_path, config):
    assert _status(_fragmented(tmp_path / "frag.mp4", 38), config).status is Status.NEEDS_PERMISSION
    assert _status(_fragmented(tmp_path / "clean.mp4", 99), config).status is Status.CLEARED


def test_rt15_safe_a_gpx_track_attached_to_an_mkv_is_not_cleared(tmp_path, config):
    from .clips import scene

    path = tmp_path / "walk.mkv"
    background = scene((320, 240))
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("libvpx-vp9", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        out.add_attachment("track.gpx", "application/gpx+xml",
                           b'<gpx><trk><trkseg><trkpt lat="53.8008" lon="-1.5491"/></trkseg></trk></gpx>')
        for i in range(25):
            for packet in stream.encode(av.VideoFrame.from_ndarray(background(i / 25), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    assert _status(path, config).status is not Status.CLEARED


def _jpeg_with_gps(update: dict) -> bytes:
    from .test_redteam6 import backdrop

    exif = Image.Exif()
    exif.get_ifd(0x8825).update(update)
    buf = io.BytesIO()
    Image.fromarray(backdrop()).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


@pytest.mark.parametrize("update", [
    {1: "N", 2: (53.8008,), 3: "W", 4: (1.5491,)},  # decimal degrees in one rational
    {1: "N", 2: (53.0, 48.048), 3: "W", 4: (1.0, 32.946)},  # degrees and decimal minutes
    {2: (53.0, 48.0, 2.88), 4: (1.0, 32.0, 56.76)},  # no N/S, E/W references
    {19: "N", 20: (53.0, 48.0, 2.88), 21: "W", 22: (1.0, 32.0, 56.76)},  # the destination only
], ids=["one-rational", "two-rationals", "no-refs", "destination"])
def test_rt15_safe_gps_written_in_unusual_exif_forms_is_a_location(tmp_path, config, update):
    path = tmp_path / "gps.jpg"
    path.write_bytes(_jpeg_with_gps(update))
    assert "location" in [r.kind.value for r in _text_verdict(path, config).reasons]


def test_rt15_safe_gps_in_a_compressed_itxt_xmp_chunk_of_a_png(tmp_path, config):
    import zlib

    png = _backdrop_bytes("PNG")
    body = b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + zlib.compress(XMP_GPS)
    path = tmp_path / "itxt.png"
    path.write_bytes(png[:33] + _png_chunk(b"iTXt", body) + png[33:])
    assert "location" in [r.kind.value for r in _text_verdict(path, config).reasons]


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF"])
def test_rt15_safe_an_animation_longer_than_the_frame_cap_is_an_error(tmp_path, config, fmt):
    from .test_redteam6 import backdrop

    frames = [Image.fromarray(np.clip(backdrop().astype(int) + i % 3, 0, 255).astype(np.uint8)) for i in range(70)]
    path = tmp_path / f"long.{fmt.lower()}"
    extra = {"lossless": True} if fmt == "WEBP" else {}  # lossy WebP merges near-identical frames
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=40, **extra)
    assert _status(path, config).status is Status.ERROR


# ------------------------------------------------------------------ RT15-12: a damaged VP8 frame decoded to garbage

def _damaged(clip: Path, index: int) -> Path:
    """The clip with 24 bytes flipped a third of the way into its `index`-th video packet."""
    with av.open(str(clip)) as c:
        packets = [(p.pos, p.size) for p in c.demux(video=0) if p.size > 60]
    pos, size = packets[index]
    data = bytearray(clip.read_bytes())
    for k in range(pos + size // 3, pos + size // 3 + 24):
        data[k] ^= 0xA5
    damaged = clip.with_name("damaged" + clip.suffix)
    damaged.write_bytes(bytes(data))
    return damaged


def _damage_shown(clip: Path, damaged: Path) -> float:
    """The largest mean difference (levels) between a frame of the clip and the same frame of the
    damaged copy, both decoded as the product decodes (one thread): what a viewer sees change."""
    def frames(path):
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            stream.codec_context.thread_count, stream.codec_context.thread_type = 1, "NONE"
            return [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(stream)]

    return max(float(np.abs(a - b).mean()) for a, b in zip(frames(clip), frames(damaged)))


def test_rt15_control_a_damaged_h264_clip_is_an_error(tmp_path, config):
    clip = write_clip(tmp_path / "clip.mp4", 2.0)
    assert _status(clip, config).status is Status.CLEARED
    assert _status(_damaged(clip, 16), config).status is Status.ERROR


# RT15-12 fixed for VP8 and VP9 (formats/video_check.py compares each frame with libvpx's decode);
# HEVC has no second decoder in the wheel and its decoder conceals this damage: still xfail.
@pytest.mark.parametrize("suffix,codec,packet", [
    (".webm", None, 3), (".mkv", None, 1),
    pytest.param(".mov", "libx265", 5, marks=pytest.mark.xfail(
        strict=True, reason="RT15-12 (HEVC, iPhone clips): FFmpeg's HEVC decoder conceals a damaged packet (the "
                            "frames after it decoded wrong) with no exception, no log and no corrupt flag, even "
                            "with err_detect explode; PyAV's wheel has no other HEVC decoder to compare with"))],
    ids=["vp8", "vp9", "hevc"])
def test_rt15_12_a_clip_with_a_damaged_vp8_vp9_or_hevc_frame_is_an_error(tmp_path, config, suffix, codec,
                                                                               packet):
    clip = write_clip(tmp_path / f"clip{suffix}", 2.0, codec=codec)
    damaged = _damaged(clip, packet)
    assert _damage_shown(clip, damaged) > 1  # the damage is real: the frames after it show it
    assert _status(damaged, config).status is Status.ERROR
