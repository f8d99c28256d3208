"""Red team 15: held-out cases built from what issues 16 and 18 name (videos, GPS in atoms not
tried before, hostile files, file system). Each case asserts the SAFE outcome next to a control
that shows the case is meaningful; a case the product gets wrong is xfail(strict) with its
RT15 number."""

from __future__ import annotations

import io
import json
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


@pytest.mark.xfail(strict=True, reason="RT15-2: store/db.py private_file opens the CSV/JSONL report with O_TRUNC "
                                       "and only refuses symbolic links: a hard link planted at the report's name "
                                       "is truncated and overwritten, destroying the photo (or any file) it links to")
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


@pytest.mark.xfail(strict=True, reason="RT15-2: commands/audit.py writes --csv through store/db.py private_file "
                                       "(O_TRUNC, symbolic links refused, hard links followed)")
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


@pytest.mark.parametrize("suffix", [".mp4", ".webm", ".mkv", ".avi"])
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


@pytest.mark.xfail(strict=True, reason="RT15-4: formats/jpeg.py after_end knows a video after the end marker only "
                                       "by b'ftyp'/MotionPhoto_Data/mpvd: a WebM/MKV (EBML) or AVI (RIFF AVI) clip "
                                       "appended to a JPEG or PNG is neither screened nor refused, and the photo is cleared")
@pytest.mark.parametrize("suffix", [".webm", ".mkv", ".avi"])
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


@pytest.mark.xfail(strict=True, reason="RT15-5: Photoshop image resource 1058 (0x0422, 'EXIF data 1', which "
                                       "exiftool reads as GPS) is not read by formats/common.py photoshop_* / "
                                       "metadata.read_blocks: only 0x0404 IPTC and XMP are; the photo is cleared")
def test_rt15_5_gps_in_photoshops_exif_resource_is_found(tmp_path, config):
    path = tmp_path / "irb1058.jpg"
    path.write_bytes(_jpeg_with_photoshop_resource(1058, _gps_exif_body()))
    assert _text_verdict(path, config).status is not Status.CLEARED
