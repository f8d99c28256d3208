"""Corrupt and hostile files, by format and case: none may ever come back `cleared`.

Each case builds its file (tests/hostile.py). A face hidden where a naive reader does not
look must be in a view the face check sees; a file that cannot be seen whole is an error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from screening import imaging, pipeline
from screening.formats import metadata
from screening.imaging import ImageError
from screening.model import Check, FaceFinding, Status
from screening.policy import Rules, verdict

from . import hostile as H
from .fake_detectors import FindNothing


def _grey64(rgb: np.ndarray) -> np.ndarray:
    img = Image.fromarray(rgb).convert("L").resize((64, 64))
    a = np.asarray(img, np.float64)
    return (a - a.mean()) / (a.std() + 1e-9)


def shows_face(rgb: np.ndarray) -> bool:
    """The frame is the hostile face picture (normalised correlation at 64x64 above 0.9)."""
    return float((_grey64(rgb) * _grey64(np.asarray(H.face_rgb()))).mean()) > 0.9


def views_showing_face(picture: imaging.Picture) -> list[str]:
    return [picture.view(i) for i, frame in enumerate(picture.frames) if shows_face(frame)]


def _load(tmp_path: Path, name: str, data: bytes) -> imaging.Picture:
    path = tmp_path / name
    path.write_bytes(data)
    return imaging.load(path)


# ---------------------------------------------------------------- 1. a face in the alpha channel


@pytest.mark.parametrize("mode, name", [("RGBA", "a.png"), ("LA", "la.png"), ("P", "trns.png"),
                                        ("WEBP", "lossless.webp")])
def test_face_drawn_by_transparency_is_seen_composited_on_white(tmp_path, mode, name):
    picture = _load(tmp_path, name, H.alpha_face(mode))
    assert not shows_face(picture.frames[0])  # the RGB values alone are black
    assert "composited on white" in views_showing_face(picture)


def test_opaque_image_gets_no_transparency_views(tmp_path):
    picture = _load(tmp_path, "opaque.png", H.save(H.clean_rgb().convert("RGBA"), "PNG"))
    assert picture.views == [""]


# ---------------------------------------------------------------- 2. a face in an embedded image


@pytest.mark.parametrize("build, name, where", [
    (H.jpeg_with_exif_thumbnail, "thumb.jpg", "EXIF thumbnail"),
    (H.jpeg_with_appended_jpeg, "motion.jpg", "after the JPEG end-of-image marker"),
    (H.jpeg_with_mpf, "mpf.jpg", "MPF picture 2"),
    (H.png_with_data_after_iend, "tail.png", "after the PNG's IEND chunk"),
    (H.jpeg_with_xmp_image, "xmpthumb.jpg", "image in XMP property"),
    (H.tiff_with_subifd, "camera.dng", "SubIFD"),
    (H.png_with_exif_thumbnail, "thumb.png", "EXIF thumbnail"),
    (H.jpeg_with_photoshop_thumbnail, "psd-thumb.jpg", "Photoshop thumbnail"),
])
def test_face_in_an_embedded_image_is_screened_as_a_view(tmp_path, build, name, where):
    picture = _load(tmp_path, name, build())
    assert not shows_face(picture.frames[0])
    assert any(where in view for view in views_showing_face(picture)), picture.views


def test_video_appended_to_a_jpeg_is_error(tmp_path):
    data = H.clean_jpeg() + b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000
    with pytest.raises(ImageError, match="video is stored after"):
        _load(tmp_path, "motion.jpg", data)


def test_embedded_image_that_does_not_decode_is_error(tmp_path):
    data = H.clean_jpeg() + H.face_jpeg()[:2000]
    with pytest.raises(ImageError, match="after the JPEG end-of-image marker .* cannot be screened"):
        _load(tmp_path, "cut-tail.jpg", data)


def test_exif_thumbnail_pointing_outside_its_block_is_error(tmp_path):
    exif = bytearray(H.exif_with_thumbnail(H.face_jpeg()))
    exif[8 + 6 + 2 + 2 * 12 + 8:8 + 6 + 2 + 2 * 12 + 12] = (10 ** 6).to_bytes(4, "little")  # its length
    data = H.save(H.clean_rgb(), "JPEG", exif=b"Exif\x00\x00" + bytes(exif))
    with pytest.raises(ImageError, match="EXIF thumbnail"):
        _load(tmp_path, "bad-thumb.jpg", data)


class FaceIfShown:
    """A fake face check: a face wherever a frame shows the hostile face picture."""

    def detect(self, picture, earlier):
        return [FaceFinding((1, 2, 30, 40), (), True, "found", 0.9, i)
                for i, frame in enumerate(picture.frames) if shows_face(frame)]


@pytest.mark.parametrize("build, name, view", [
    (lambda: H.alpha_face("RGBA"), "a.png", "composited on white"),
    (H.jpeg_with_exif_thumbnail, "thumb.jpg", "EXIF thumbnail"),
])
def test_face_in_a_view_needs_permission_and_says_where(tmp_path, build, name, view):
    path = tmp_path / name
    path.write_bytes(build())
    checks = {Check.LOCATION: FindNothing(), Check.FACES: FaceIfShown(), Check.LOGOS: FindNothing(),
              Check.UNIFORMS: FindNothing(), Check.TEXT: FindNothing()}
    screening = pipeline.screen_file(path, checks)
    v = verdict(screening, Rules(channel="website", today=dt.date(2026, 11, 1)))
    assert v.status is Status.NEEDS_PERMISSION
    assert any(view in r.detail and r.extra.get("view", "").startswith(view) for r in v.reasons), v.reasons


@pytest.mark.slow
@pytest.mark.parametrize("build, name", [(lambda: H.alpha_face("RGBA"), "a.png"),
                                         (H.jpeg_with_exif_thumbnail, "thumb.jpg")])
def test_real_face_check_finds_the_hidden_face(tmp_path, build, name):
    from screening.config import FaceSettings
    from screening.detectors.faces import FaceDetector

    picture = _load(tmp_path, name, build())
    findings = FaceDetector(FaceSettings(), None).detect(picture, {})
    assert any(picture.view(f.frame) for f in findings), findings


# ---------------------------------------------------------------- 4. cut-off scan data


@pytest.mark.parametrize("keep", [0.1, 0.4, 0.7, 0.95])
def test_jpeg_cut_inside_its_scan_with_an_end_marker_added_is_error(tmp_path, keep):
    with pytest.raises(ImageError, match="corrupt JPEG data"):
        _load(tmp_path, "cut.jpg", H.jpeg_cut_with_eoi(keep))


def test_progressive_jpeg_holding_only_its_first_scan_is_error(tmp_path):
    with pytest.raises(ImageError, match="incomplete JPEG"):
        _load(tmp_path, "first-scan.jpg", H.progressive_first_scan())


def test_complete_progressive_jpeg_decodes(tmp_path):
    picture = _load(tmp_path, "prog.jpg", H.save(H.face_rgb(), "JPEG", progressive=True))
    assert shows_face(picture.frames[0])


# ---------------------------------------------------------------- 5. modes without a faithful RGB


def test_32_bit_tiff_above_65535_is_normalised_by_its_range_not_clipped(tmp_path):
    picture = _load(tmp_path, "wide.tif", H.tiff_int32())
    assert shows_face(picture.frames[0])


def test_float_image_with_nan_is_error(tmp_path):
    arr = np.asarray(H.face_grey(), np.float32)
    arr[5, 5] = np.nan
    with pytest.raises(ImageError, match="NaN"):
        _load(tmp_path, "nan.tif", H.save(Image.fromarray(arr, "F"), "TIFF"))


def _with_cicp(transfer: int) -> bytes:
    """The clean PNG with a cICP chunk (BT.709 primaries, the given transfer, RGB, full range)."""
    import struct
    import zlib

    body = bytes([1, transfer, 0, 1])
    chunk = struct.pack(">I", 4) + b"cICP" + body + struct.pack(">I", zlib.crc32(b"cICP" + body))
    data = H.save(H.clean_rgb(), "PNG")
    return data[:33] + chunk + data[33:]  # right after IHDR


@pytest.mark.parametrize("transfer", [8, 16, 18])  # linear, PQ, HLG
def test_png_whose_cicp_remaps_its_tones_is_error(tmp_path, transfer):
    """Browsers honour cICP: with a linear transfer the darkest stored levels are shown about
    five times brighter, so a face kept in them is shown, not screened."""
    with pytest.raises(ImageError, match=f"cICP chunk at byte 33 gives transfer function {transfer}"):
        _load(tmp_path, "hdr.png", _with_cicp(transfer))


@pytest.mark.parametrize("transfer", [1, 13])  # BT.709, sRGB: shown as stored
def test_png_with_an_srgb_like_cicp_is_read(tmp_path, transfer):
    assert _load(tmp_path, "srgb.png", _with_cicp(transfer)).views == [""]


# ---------------------------------------------------------------- 10/11. resources


def test_ztxt_bomb_is_refused_without_inflating_it(tmp_path):
    data = H.png_ztxt_bomb(200)
    with pytest.raises(metadata.MetadataError, match="decompression bomb"):
        metadata.read_blocks(data)
    with pytest.raises(ImageError):
        _load(tmp_path, "bomb.png", data)


def test_animation_over_the_per_file_pixel_budget_is_refused_before_decoding(tmp_path):
    with pytest.raises(ImageError, match="budget"):
        _load(tmp_path, "anim.png", H.apng_frames(64, 4000, 3000))


def test_many_unclosed_xmp_openers_are_an_error_with_a_reason(tmp_path):
    data = H.png_xmp_openers(300_000)
    with pytest.raises(metadata.MetadataError, match="never ends") as caught:
        metadata.read_blocks(data)
    assert str(caught.value)


def location_check():
    from types import SimpleNamespace

    from screening.config import LocationSettings
    from screening.detectors.location import LocationDetector

    return LocationDetector(SimpleNamespace(academies=(), location=LocationSettings()))


def test_every_error_has_a_reason(tmp_path):
    for name, data in [("a.png", H.png_xmp_openers(10)), ("b.jpg", H.jpeg_cut_with_eoi(0.5)),
                       ("c.webp", H.alpha_face("WEBP")[:-100]), ("d.png", H.png_ztxt_bomb(20))]:
        path = tmp_path / name
        path.write_bytes(data)
        result = pipeline.screen_file(path, {Check.FACES: FaceIfShown(), Check.LOCATION: location_check()})
        errors = [r.error for r in result.results if r.error is not None]
        assert errors and all(e.strip() and not e.endswith(": ") for e in errors), errors


# ---------------------------------------------------------------- 3. GPS that exiftool reads


_RDF_NS = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
_EXIF = 'xmlns:exif="http://ns.adobe.com/exif/1.0/"'


def _xmp(body: str, meta: str = "x", rdf: str = "rdf") -> str:
    return (f'<{meta}:xmpmeta xmlns:{meta}="adobe:ns:meta/"><{rdf}:RDF {_RDF_NS.replace("rdf", rdf, 1)}>'
            f'{body}</{rdf}:RDF></{meta}:xmpmeta>')


_GPS_XMP = {
    "dji": _xmp('<rdf:Description xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" '
                'drone-dji:GpsLatitude="53.80080" drone-dji:GpsLongtitude="-1.54910"/>'),
    "qualified": _xmp(f'<rdf:Description {_EXIF}><exif:GPSLatitude rdf:parseType="Resource">'
                      '<rdf:value>53,48.048N</rdf:value></exif:GPSLatitude>'
                      '<exif:GPSLongitude rdf:parseType="Resource"><rdf:value>1,32.946W</rdf:value>'
                      '</exif:GPSLongitude></rdf:Description>'),
    "other prefixes": _xmp(f'<r:Description {_EXIF} exif:GPSLatitude="53,48.048N" '
                           'exif:GPSLongitude="1,32.946W"/>', meta="meta", rdf="r"),
    "iptc location shown": _xmp(
        f'<rdf:Description {_EXIF} xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        '<Iptc4xmpExt:LocationShown><rdf:Bag><rdf:li rdf:parseType="Resource">'
        '<exif:GPSLatitude>53,48.048N</exif:GPSLatitude><exif:GPSLongitude>1,32.946W</exif:GPSLongitude>'
        '</rdf:li></rdf:Bag></Iptc4xmpExt:LocationShown></rdf:Description>'),
}


@pytest.mark.parametrize("case", sorted(_GPS_XMP))
def test_xmp_gps_of_every_form_and_prefix_is_found(tmp_path, case):
    path = tmp_path / "g.jpg"
    path.write_bytes(H.save(H.clean_rgb(), "JPEG", xmp=_GPS_XMP[case].encode()))
    findings = location_check().detect_undecoded(path, path.read_bytes())
    assert any(f.lat is not None and abs(f.lat - 53.8) < 0.01 and f.lon < -1.5 for f in findings), findings


def test_utf16_xmp_in_a_tiff_is_found(tmp_path):
    packet = _GPS_XMP["other prefixes"].encode("utf-16")
    path = tmp_path / "g.tif"
    path.write_bytes(H.save(H.clean_rgb(), "TIFF", tiffinfo={700: packet}))
    findings = location_check().detect_undecoded(path, path.read_bytes())
    assert any(f.lat is not None for f in findings), findings


@pytest.mark.parametrize("image, sidecar", [("g03.jpg", "g03.Xmp"), ("G03B.jpg", "g03b.xmp"),
                                            ("g03c.JPG", "g03c.jpg.xmp"), ("g04.jpg", "G04.JPG.XMP")])
def test_sidecar_is_matched_whatever_its_case(tmp_path, image, sidecar):
    (tmp_path / image).write_bytes(H.clean_jpeg())
    (tmp_path / sidecar).write_text(_GPS_XMP["dji"])
    findings = location_check().detect_undecoded(tmp_path / image, H.clean_jpeg())
    assert any(f.source == "XMP sidecar" and f.lat is not None for f in findings), findings


def test_gps_only_the_second_reader_finds_is_error(tmp_path, monkeypatch):
    from screening.formats import geotags

    path = tmp_path / "g.jpg"
    path.write_bytes(H.save(H.clean_rgb(), "JPEG", xmp=_GPS_XMP["dji"].encode()))
    monkeypatch.setattr(geotags, "xmp_claims", lambda packet: geotags.Claims())  # our reader goes blind
    with pytest.raises(metadata.MetadataError, match="readers disagree: exiv2 finds GPS"):
        location_check().detect_undecoded(path, path.read_bytes())


# ---------------------------------------------------------------- 6. tuning that switches checks off


@pytest.mark.parametrize("section, key, value", [
    ("faces", "tolerance", "1.0"), ("faces", "min_face_search", "200"), ("faces", "detail_side", "0"),
    ("faces", "people", "false"), ("faces", "detect_threshold", "0.9"), ("faces", "margin", "0.0"), ("logos", "min_score", "0.99"),
    ("logos", "max_side", "0"), ("uniforms", "min_score", "1.5"), ("scan", "max_frames", "0"),
    ("scan", "timeout_s", "0"), ("location", "nearest_site_within_m", "-1"),
])
def test_tuning_outside_its_safe_range_is_refused_naming_file_section_and_key(tmp_path, section, key, value):
    from screening.config import ConfigError, load_config

    from .test_config_register import write_config

    path = write_config(tmp_path)
    path.write_text(path.read_text() + f"\n[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=rf"screening.toml: `{section}\.{key}` is .*(safe range|only)"):
        load_config(path)


def test_every_tuning_value_has_a_range_and_is_documented():
    from screening import config

    docs = (Path(__file__).resolve().parents[1] / "docs" / "tuning.md").read_text()
    for cls, section in [(config.FaceSettings, "faces"), (config.LogoSettings, "logos"),
                         (config.UniformSettings, "uniforms"), (config.LocationSettings, "location"),
                         (config.ScanSettings, "scan"), (config.VideoSettings, "video")]:
        for key, limit in config.limits(cls).items():
            assert limit, (section, key)
            assert f"`{section}.{key}`" in docs, f"docs/tuning.md does not list {section}.{key}"


# ---------------------------------------------------------------- 7. logos folders


def _logo_config(tmp_path: Path, files: dict[str, bytes]) -> Path:
    from .test_config_register import write_config

    path = write_config(tmp_path)
    folder = tmp_path / "logos" / "north"
    for old in folder.iterdir():
        old.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return path


_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120"><circle cx="60" cy="60" r="50" '
        b'fill="#1b2a4a"/><rect x="45" y="30" width="30" height="60" fill="#c8a200"/></svg>')


@pytest.mark.parametrize("files, problem", [
    ({}, "academy north: no logo image in logos/north"),
    ({"crest.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 50}, "academy north: logos/north/crest.png is a corrupt image"),
    ({"crest.svg": b"<svg oops"}, "academy north: logos/north/crest.svg is SVG but cannot be rendered"),
    ({"notes.txt": b"our crest is blue"}, "academy north: logos/north/notes.txt is not an image, SVG or PDF"),
])
def test_unusable_logos_folder_is_refused_before_screening(tmp_path, files, problem):
    from screening.trust import SetupError, open_trust

    with pytest.raises(SetupError, match=f"screening.toml: `academy\\[1\\].logos` {problem}"):
        open_trust(_logo_config(tmp_path, files))


@pytest.mark.parametrize("name, data", [
    ("crest.svg", _SVG),
    ("crest.pdf", H.save(H.clean_rgb(), "PDF")),
])
def test_svg_and_pdf_logos_are_rendered_as_references(tmp_path, name, data):
    from screening.config import load_config
    from screening.detectors.logos import load_references

    config = load_config(_logo_config(tmp_path, {name: data}))
    (ref,) = load_references(config.academies[0], tmp_path / "cache")
    assert ref.name.endswith(name) and min(ref.rgb.shape[:2]) > 50


@pytest.mark.slow  # builds the real detectors (face models)
def test_logo_that_breaks_after_the_config_was_checked_makes_errors_not_dead_workers(tmp_path):
    from screening.config import load_config

    config = load_config(_logo_config(tmp_path, {"crest.svg": _SVG}))
    (tmp_path / "logos" / "north" / "crest.svg").write_bytes(b"<svg oops")
    from screening.detectors import build_detectors

    detectors = build_detectors(config, None)
    photo = tmp_path / "clean.jpg"
    photo.write_bytes(H.clean_jpeg())
    results = {r.check: r for r in pipeline.screen_file(photo, detectors).results}
    assert "crest.svg" in results[Check.LOGOS].error and "could not start" in results[Check.LOGOS].error
    assert "logos check" in results[Check.UNIFORMS].error


def test_gps_in_the_exif_of_an_appended_image_is_found(tmp_path):
    from .test_location import LEEDS, gps_exif

    path = tmp_path / "twice.jpg"
    path.write_bytes(H.clean_jpeg() + H.save(H.clean_rgb(), "JPEG", exif=gps_exif(*LEEDS)))
    findings = location_check().detect_undecoded(path, path.read_bytes())
    assert any(f.lat is not None and abs(f.lat - LEEDS[0]) < 0.01 for f in findings), findings


def test_xmp_gps_in_a_compressed_png_text_chunk_of_any_name_is_found(tmp_path):
    import zlib

    body = b"Description\x00\x01\x00\x00\x00" + zlib.compress(_GPS_XMP["dji"].encode())
    path = tmp_path / "g.png"
    path.write_bytes(H.png_with_chunk(H.save(H.clean_rgb(), "PNG"), b"iTXt", body))
    findings = location_check().detect_undecoded(path, path.read_bytes())
    assert any(f.lat is not None for f in findings), findings


def test_webp_appended_to_a_jpeg_is_screened(tmp_path):
    picture = _load(tmp_path, "w.jpg", H.clean_jpeg() + H.save(H.face_rgb(200), "WEBP", quality=90))
    assert any("after the JPEG end-of-image marker" in v for v in views_showing_face(picture))


def test_thumbnail_of_the_picture_itself_is_not_screened_again(tmp_path):
    photo = H.face_rgb(480).resize((640, 480))
    thumb = H.save(photo.resize((160, 120)), "JPEG", quality=75)
    data = H.save(photo, "JPEG", quality=90, exif=b"Exif\x00\x00" + H.exif_with_thumbnail(thumb))
    assert _load(tmp_path, "camera.jpg", data).views == [""]


def test_thumbnail_differing_from_its_picture_by_one_pasted_face_is_screened(tmp_path):
    scene = H.clean_rgb((640, 480))
    thumb = scene.resize((160, 120))
    thumb.paste(H.face_rgb(60), (90, 40))
    data = H.save(scene, "JPEG", quality=90,
                  exif=b"Exif\x00\x00" + H.exif_with_thumbnail(H.save(thumb, "JPEG", quality=85)))
    assert _load(tmp_path, "doctored.jpg", data).views == ["", "EXIF thumbnail"]


def test_compressed_raw_iptc_profile_in_a_png_is_still_read(tmp_path):
    import zlib

    iim = b"\x1c\x02\x5a\x00\x05Leeds"
    resource = b"8BIM\x04\x04\x00\x00" + len(iim).to_bytes(4, "big") + iim + b"\x00"
    text = b"\nIPTC profile\n      %d\n%s\n" % (len(resource), resource.hex().encode())
    body = b"Raw profile type iptc\x00\x00" + zlib.compress(text)
    path = tmp_path / "city.png"
    path.write_bytes(H.png_with_chunk(H.save(H.clean_rgb(), "PNG"), b"zTXt", body))
    findings = location_check().detect_undecoded(path, path.read_bytes())
    assert any("City 'Leeds'" in f.detail for f in findings), findings
