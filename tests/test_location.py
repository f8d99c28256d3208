"""Location check: GPS and place names in every container, malformed and broken metadata."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin, TiffImagePlugin

from screening import imaging, pipeline, policy
from screening.config import load_config
from screening.detectors.location import LocationDetector, distance_m
from screening.formats.metadata import MetadataError
from screening.model import Check
from screening.policy import decide

from .test_config_register import GOOD, write_config

LEEDS = (53.80105, -1.54850)
SITE = (53.8008, -1.5491)  # Trinity North Academy's site in GOOD
PLACES = {
    "north-west": LEEDS,
    "south-east": (-33.85678, 151.21530),  # Sydney
    "south-west": (-22.95192, -43.21049),  # Rio de Janeiro
    "north-east": (60.14671, 24.90677),  # Helsinki
}
EXIFTOOL = shutil.which("exiftool")


@pytest.fixture
def config(tmp_path):
    return load_config(write_config(tmp_path / "trust", GOOD))


@pytest.fixture
def detector(config):
    return LocationDetector(config)


# ---------------------------------------------------------------- test-data generators


def rational(value: float) -> TiffImagePlugin.IFDRational:
    f = Fraction(value).limit_denominator(1_000_000)
    return TiffImagePlugin.IFDRational(f.numerator, f.denominator)


def dms(value: float) -> tuple:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return rational(degrees), rational(minutes), rational(round(seconds, 4))


def gps_exif(lat: float | None, lon: float | None, raw: dict | None = None) -> Image.Exif:
    """EXIF with a GPS block: signed degrees, or raw GPS tag values to write as given."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[0] = b"\x02\x02\x00\x00"
    if lat is not None:
        gps.update({1: "N" if lat >= 0 else "S", 2: dms(lat)})
    if lon is not None:
        gps.update({3: "E" if lon >= 0 else "W", 4: dms(lon)})
    gps.update(raw or {})
    return exif


def picture_image(colour=(90, 140, 200)) -> Image.Image:
    return Image.fromarray(np.full((48, 64, 3), colour, np.uint8))


def save(path: Path, fmt: str, **kwargs) -> Path:
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    if fmt == "TIFF" and "exif" in kwargs:
        kwargs["tiffinfo"] = tiff_tags(kwargs.pop("exif"))
    picture_image().save(path, format=fmt, **kwargs)
    return path


def tiff_tags(exif: Image.Exif) -> TiffImagePlugin.ImageFileDirectory_v2:
    """TIFF keeps EXIF in its own IFD0; Pillow writes a GPS block there only from a nested dict."""
    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    for tag, value in exif.items():
        ifd[tag] = value
    gps = dict(exif.get_ifd(0x8825))
    if gps:
        ifd[0x8825] = gps
    return ifd


def xmp_packet(body: str, namespaces: str = "") -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        f'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
        f'xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/" '
        f'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" {namespaces}'
        f'{body}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def xmp_coordinate(value: float, letters: str) -> str:
    """XMP's GPSCoordinate form, "DDD,MM.mmmmk"."""
    degrees = int(abs(value))
    minutes = (abs(value) - degrees) * 60
    return f"{degrees},{minutes:.6f}{letters[0] if value >= 0 else letters[1]}"


def xmp_gps(lat: float, lon: float, as_attributes: bool) -> bytes:
    la, lo = xmp_coordinate(lat, "NS"), xmp_coordinate(lon, "EW")
    if as_attributes:
        return xmp_packet(f'exif:GPSLatitude="{la}" exif:GPSLongitude="{lo}">')
    return xmp_packet(f"><exif:GPSLatitude>{la}</exif:GPSLatitude><exif:GPSLongitude>{lo}</exif:GPSLongitude>")


def with_jpeg_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """The JPEG with one more segment right after SOI."""
    return jpeg[:2] + struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload + jpeg[2:]


def iptc_app13(**datasets: str) -> bytes:
    """A Photoshop APP13 payload holding IPTC IIM record-2 datasets, e.g. city="Leeds"."""
    numbers = {"city": 90, "sublocation": 92, "state": 95, "country_code": 100, "country": 101}
    iim = b"\x1c\x01\x5a\x00\x03\x1b%G"  # 1:90 coded character set: UTF-8
    for name, value in datasets.items():
        data = value.encode("utf-8")
        iim += struct.pack(">BBBH", 0x1C, 2, numbers[name], len(data)) + data
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim
    return b"Photoshop 3.0\x00" + resource + b"\x00" * (len(iim) % 2)


def plain_jpeg(**kwargs) -> bytes:
    buffer = io.BytesIO()
    picture_image().save(buffer, format="JPEG", **kwargs)
    return buffer.getvalue()


def located(findings) -> list[tuple[float, float]]:
    return [(f.lat, f.lon) for f in findings if f.lat is not None]


def assert_at(findings, lat, lon, tol=1e-4):
    coords = located(findings)
    assert coords, [f.detail for f in findings]
    assert abs(coords[0][0] - lat) < tol and abs(coords[0][1] - lon) < tol, coords


def run(detector, path: Path):
    """The check as the pipeline runs it on a decoded picture."""
    return detector.detect(imaging.load(path), {})


# ---------------------------------------------------------------- GPS in every container


@pytest.mark.parametrize("fmt,suffix", [("JPEG", ".jpg"), ("TIFF", ".tif"), ("WEBP", ".webp"),
                                        ("PNG", ".png"), ("HEIF", ".heic")])
@pytest.mark.parametrize("where", sorted(PLACES))
def test_exif_gps_is_found_in_every_container_and_hemisphere(tmp_path, detector, fmt, suffix, where):
    lat, lon = PLACES[where]
    path = save(tmp_path / f"photo{suffix}", fmt, exif=gps_exif(lat, lon))
    findings = run(detector, path)
    assert_at(findings, lat, lon)
    assert findings[0].source == "EXIF GPS" and not findings[0].malformed
    assert findings[0].detail.startswith(f"GPS in EXIF: {lat:.5f}, {lon:.5f}")


@pytest.mark.parametrize("as_attributes", [True, False], ids=["attributes", "elements"])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_xmp_gps_inside_the_file_is_found(tmp_path, detector, fmt, as_attributes):
    lat, lon = PLACES["south-west"]
    packet = xmp_gps(lat, lon, as_attributes)
    path = tmp_path / f"photo.{fmt.lower()}"
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet.decode(), zip=True)  # compressed: no raw scan finds it
        save(path, fmt, pnginfo=info)
    else:
        save(path, fmt, xmp=packet)
    findings = run(detector, path)
    assert_at(findings, lat, lon)
    assert findings[0].source == "XMP"


@pytest.mark.parametrize("sidecar_name", ["IMG_1.xmp", "IMG_1.jpg.xmp", "IMG_1.XMP"])
def test_xmp_sidecar_beside_the_image_is_found(tmp_path, detector, sidecar_name):
    path = save(tmp_path / "IMG_1.jpg", "JPEG")
    assert run(detector, path) == []
    lat, lon = PLACES["north-east"]
    (tmp_path / sidecar_name).write_bytes(xmp_gps(lat, lon, as_attributes=False))
    findings = run(detector, path)
    assert_at(findings, lat, lon)
    assert findings[0].source == "XMP sidecar" and sidecar_name in findings[0].detail


def test_same_position_in_exif_and_xmp_is_reported_once(tmp_path, detector):
    lat, lon = LEEDS
    path = save(tmp_path / "a.jpg", "JPEG", exif=gps_exif(lat, lon), xmp=xmp_gps(lat, lon, True))
    findings = run(detector, path)
    assert len(findings) == 1 and findings[0].source == "EXIF GPS"


# ---------------------------------------------------------------- location text


def test_iptc_city_in_jpeg_is_location_text(tmp_path, detector):
    path = tmp_path / "iptc.jpg"
    path.write_bytes(with_jpeg_segment(plain_jpeg(), 0xED, iptc_app13(city="Leeds", country="United Kingdom")))
    (finding,) = run(detector, path)
    assert finding.source == "IPTC" and finding.lat is None
    assert finding.detail == "location text in IPTC: City 'Leeds', Country 'United Kingdom'"


@pytest.mark.parametrize("body,expected", [
    ('photoshop:City="Leeds">', "City 'Leeds'"),
    ("><photoshop:City>Leeds</photoshop:City>", "City 'Leeds'"),
    ('Iptc4xmpCore:Location="Headingley">', "Sub-location 'Headingley'"),
    ("><Iptc4xmpExt:LocationShown><rdf:Bag><rdf:li rdf:parseType=\"Resource\">"
     "<Iptc4xmpExt:Sublocation>Main hall</Iptc4xmpExt:Sublocation>"
     "<Iptc4xmpExt:CountryName>England</Iptc4xmpExt:CountryName>"
     "</rdf:li></rdf:Bag></Iptc4xmpExt:LocationShown>", "Sub-location 'Main hall', Country 'England'"),
], ids=["attribute", "element", "iptc-core", "location-shown"])
def test_xmp_place_names_are_location_text(tmp_path, detector, body, expected):
    path = save(tmp_path / "a.jpg", "JPEG", xmp=xmp_packet(body))
    (finding,) = run(detector, path)
    assert finding.detail == f"location text in XMP: {expected}" and finding.lat is None


def test_exif_gps_destination_alone_is_a_location(tmp_path, detector):
    lat, lon = PLACES["south-east"]
    dest = {19: "S", 20: dms(lat), 21: "E", 22: dms(lon)}
    path = save(tmp_path / "a.jpg", "JPEG", exif=gps_exif(None, None, dest))
    (finding,) = run(detector, path)
    assert finding.detail.startswith("GPS destination in EXIF:")
    assert_at([finding], lat, lon)


def test_exif_gps_area_information_is_location_text(tmp_path, detector):
    path = save(tmp_path / "a.jpg", "JPEG", exif=gps_exif(None, None, {28: b"ASCII\x00\x00\x00Roundhay Park"}))
    (finding,) = run(detector, path)
    assert finding.detail == "location text in EXIF: GPS area 'Roundhay Park'"


# ---------------------------------------------------------------- nothing there, or malformed


@pytest.mark.parametrize("exif", [gps_exif(None, None), Image.Exif()], ids=["version-only", "no-gps-block"])
def test_gps_block_without_coordinates_is_not_a_location(tmp_path, detector, exif):
    exif[0x0110] = "Camera"
    path = save(tmp_path / "a.jpg", "JPEG", exif=exif)
    assert run(detector, path) == []


@pytest.mark.parametrize("raw,problem", [
    ({2: (rational(95), rational(0), rational(0))}, "out of range"),
    ({2: (TiffImagePlugin.IFDRational(53, 0), rational(48), rational(0))}, "zero denominator"),
    ({1: "Q"}, "reference"),
    ({4: (rational(1), rational(75), rational(0))}, "not a valid degrees/minutes/seconds"),
], ids=["latitude-95", "zero-denominator", "bad-reference", "minutes-75"])
def test_unusable_gps_values_are_a_malformed_location(tmp_path, detector, raw, problem):
    path = save(tmp_path / "a.jpg", "JPEG", exif=gps_exif(*LEEDS, raw))
    (finding,) = run(detector, path)
    assert finding.malformed and finding.lat is None
    assert finding.detail.startswith("GPS in EXIF, but malformed") and problem in finding.detail


def test_latitude_without_longitude_is_a_malformed_location(tmp_path, detector):
    path = save(tmp_path / "a.jpg", "JPEG", exif=gps_exif(LEEDS[0], None))
    (finding,) = run(detector, path)
    assert finding.malformed and "longitude is missing" in finding.detail


def test_unparseable_xmp_coordinate_is_a_malformed_location(tmp_path, detector):
    path = save(tmp_path / "a.jpg", "JPEG", xmp=xmp_packet('exif:GPSLatitude="north-ish" exif:GPSLongitude="1,2W">'))
    (finding,) = run(detector, path)
    assert finding.malformed and finding.source == "XMP"


def with_png_chunk(png: bytes, kind: bytes, body: bytes) -> bytes:
    """The PNG with one more chunk just before IEND."""
    import zlib

    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return png[:-12] + chunk + png[-12:]


def with_webp_chunk(webp: bytes, kind: bytes, body: bytes) -> bytes:
    """The (extended-format) WebP with one more chunk at the end, RIFF size updated."""
    out = webp + kind + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) % 2)
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]


GARBAGE_EXIF = b"Exif\x00\x00" + bytes(range(7, 250))


def corrupt_exif_file(tmp_path: Path, fmt: str) -> Path:
    buffer = io.BytesIO()
    picture_image().save(buffer, format=fmt, **({"xmp": xmp_packet(">")} if fmt == "WEBP" else {}))
    data = buffer.getvalue()
    if fmt == "JPEG":
        data = with_jpeg_segment(data, 0xE1, GARBAGE_EXIF)
    elif fmt == "PNG":
        data = with_png_chunk(data, b"eXIf", GARBAGE_EXIF[6:])
    else:
        data = with_webp_chunk(data, b"EXIF", GARBAGE_EXIF[6:])
    path = tmp_path / f"bad.{fmt.lower()}"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_corrupt_exif_block_is_error_never_cleared(tmp_path, detector, fmt):
    path = corrupt_exif_file(tmp_path, fmt)
    with pytest.raises(MetadataError, match="neither Pillow nor exifread"):
        run(detector, path)
    screening = pipeline.screen_file(path, {Check.LOCATION: detector})
    (location,) = [r for r in screening.results if r.check is Check.LOCATION]
    assert not location.complete
    assert decide(screening.results, rules()).status.value == "error"


@pytest.mark.parametrize("packet", [
    xmp_packet("><photoshop:City>Leeds</photoshop:Town>"),
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
], ids=["mismatched-tags", "cut-off"])
def test_malformed_xmp_packet_is_error(tmp_path, detector, packet):
    path = save(tmp_path / "a.jpg", "JPEG", xmp=packet)
    with pytest.raises(MetadataError, match="XMP"):
        run(detector, path)


def test_xmp_with_entity_expansion_is_refused_not_parsed(tmp_path, detector):
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + xmp_packet('photoshop:City="&a;">')
    path = tmp_path / "a.xmp"
    path.write_bytes(bomb)
    image = save(tmp_path / "a.jpg", "JPEG")
    with pytest.raises(MetadataError, match="sidecar a.xmp"):
        run(detector, image)


def test_empty_xmp_sidecar_is_neither_location_nor_error(tmp_path, detector):
    image = save(tmp_path / "a.jpg", "JPEG")
    (tmp_path / "a.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    assert run(detector, image) == []


def test_malformed_iptc_block_is_error(tmp_path, detector):
    app13 = iptc_app13(city="Leeds")
    broken = app13[:-3] + b"\x07\x07\x07"  # the City dataset now claims more bytes than follow
    broken = broken.replace(b"\x1c\x02\x5a\x00\x05", b"\x1c\x02\x5a\x00\x50")
    path = tmp_path / "a.jpg"
    path.write_bytes(with_jpeg_segment(plain_jpeg(), 0xED, broken))
    with pytest.raises(MetadataError, match="IPTC"):
        run(detector, path)


def test_plain_photo_without_metadata_has_no_location(tmp_path, detector, public_domain):
    for name in ("astronaut.png", "camera.png"):
        assert detector.detect(imaging.load(public_domain / name), {}) == []


# ---------------------------------------------------------------- nearest academy site


def rules():
    import datetime as dt

    from screening.policy import Rules

    return Rules(channel="social_media", today=dt.date(2026, 11, 24))


def test_detail_names_nearest_site_and_its_distance(tmp_path, detector):
    path = save(tmp_path / "a.jpg", "JPEG", exif=gps_exif(*LEEDS))
    (finding,) = run(detector, path)
    m = re.search(r", (\d+) m from Trinity North Academy$", finding.detail)
    assert m, finding.detail
    # an independent flat-earth estimate agrees at this distance to well within the 10 m rounding
    dy = (LEEDS[0] - SITE[0]) * 111_195
    dx = (LEEDS[1] - SITE[1]) * 111_195 * math.cos(math.radians(SITE[0]))
    assert abs(int(m.group(1)) - math.hypot(dx, dy)) <= 6


def test_site_further_than_the_setting_is_not_named(tmp_path, config):
    far = (SITE[0] + 0.05, SITE[1])  # about 5.6 km north
    assert distance_m(*far, *SITE) > config.location.nearest_site_within_m
    path = save(tmp_path / "a.jpg", "JPEG", exif=gps_exif(*far))
    (finding,) = run(LocationDetector(config), path)
    assert finding.detail == f"GPS in EXIF: {far[0]:.5f}, {far[1]:.5f}"


def test_haversine_matches_a_known_distance():
    # London (51.5074, -0.1278) to Paris (48.8566, 2.3522) is 343.5 km along the great circle
    assert abs(distance_m(51.5074, -0.1278, 48.8566, 2.3522) / 1000 - 343.5) < 1.0


# ---------------------------------------------------------------- pipeline and broken files


class FindNothing:
    def detect(self, picture, earlier):
        return []


def detectors(config):
    return {Check.LOCATION: LocationDetector(config), Check.FACES: FindNothing(),
            Check.LOGOS: FindNothing(), Check.UNIFORMS: FindNothing(),
            Check.TEXT: FindNothing()}


def test_pipeline_reports_gps_jpeg_as_location_reason(tmp_path, config):
    path = save(tmp_path / "gps.jpg", "JPEG", exif=gps_exif(*LEEDS))
    verdict = policy.verdict(pipeline.screen_file(path, detectors(config)), rules())
    record = json.loads(json.dumps(verdict.to_json()))
    assert record["status"] == "needs_permission"
    (reason,) = record["reasons"]
    assert reason["kind"] == "location" and reason["source"] == "EXIF GPS"
    assert abs(reason["lat"] - LEEDS[0]) < 1e-4 and abs(reason["lon"] - LEEDS[1]) < 1e-4
    assert "m from Trinity North Academy" in reason["detail"]


def test_truncated_jpeg_with_gps_is_error_and_still_names_its_gps(tmp_path, config):
    whole = plain_jpeg(exif=gps_exif(*LEEDS))
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[: len(whole) - 40])
    verdict = policy.verdict(pipeline.screen_file(path, detectors(config)), rules())
    assert verdict.status.value == "error"
    kinds = [r.kind.value for r in verdict.reasons]
    assert "error" in kinds and "location" in kinds


def test_metadata_cut_off_inside_a_segment_is_error_never_cleared(tmp_path, config):
    whole = plain_jpeg(exif=gps_exif(*LEEDS))
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[:30])  # inside the EXIF segment
    screening = pipeline.screen_file(path, detectors(config))
    (location,) = [r for r in screening.results if r.check is Check.LOCATION]
    assert not location.complete and "runs past the end" in location.error


# ---------------------------------------------------------------- written by exiftool


needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool is not installed")


def exiftool(path: Path, *tags: str) -> None:
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", *tags, str(path)], check=True,
                   capture_output=True)


@needs_exiftool
@pytest.mark.slow
@pytest.mark.parametrize("fmt,suffix", [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp"),
                                        ("TIFF", ".tif"), ("HEIF", ".heic")])
@pytest.mark.parametrize("group", ["EXIF", "XMP-exif"])
def test_gps_written_by_exiftool_is_found(tmp_path, detector, fmt, suffix, group):
    lat, lon = PLACES["south-west"]
    path = save(tmp_path / f"a{suffix}", fmt)
    if group == "EXIF":
        exiftool(path, f"-EXIF:GPSLatitude={abs(lat)}", "-EXIF:GPSLatitudeRef=S",
                 f"-EXIF:GPSLongitude={abs(lon)}", "-EXIF:GPSLongitudeRef=W")
    else:  # XMP keeps the hemisphere in the coordinate itself
        exiftool(path, f"-XMP-exif:GPSLatitude={lat}", f"-XMP-exif:GPSLongitude={lon}")
    assert_at(run(detector, path), lat, lon)


@needs_exiftool
@pytest.mark.slow
@pytest.mark.parametrize("fmt,suffix", [("JPEG", ".jpg"), ("TIFF", ".tif"), ("PNG", ".png")])
@pytest.mark.parametrize("tag", ["IPTC:City", "XMP-photoshop:City", "XMP-iptcExt:LocationShownCity"])
def test_city_written_by_exiftool_is_found(tmp_path, detector, fmt, suffix, tag):
    path = save(tmp_path / f"a{suffix}", fmt)
    exiftool(path, f"-{tag}=Leeds")
    findings = run(detector, path)
    assert any("City 'Leeds'" in f.detail for f in findings), [f.detail for f in findings]


# ---------------------------------------------------------------- third-party samples


@pytest.mark.shared
def test_every_exif_sample_gets_the_right_location_verdict(shared_data, detector):
    folder = shared_data / "exif-samples"
    with (folder / "gps_truth.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 75
    wrong = []
    for row in rows:
        path = folder / row["file"]
        findings = run(detector, path)
        coords = located(findings)
        if row["has_gps"] == "yes":
            want = (float(row["gps_latitude"]), float(row["gps_longitude"]))
            if not coords or max(abs(a - b) for a, b in zip(coords[0], want)) > 1e-4:
                wrong.append((row["file"], want, coords))
        elif coords or any(f.malformed for f in findings):
            wrong.append((row["file"], "no GPS", [f.detail for f in findings]))
    assert sum(r["has_gps"] == "yes" for r in rows) == 18
    assert wrong == []


@pytest.mark.shared
@needs_exiftool
def test_exif_samples_without_gps_are_flagged_only_for_place_names_exiftool_sees(shared_data, detector):
    folder = shared_data / "exif-samples"
    fields = ["City", "State", "Country", "Sub-location", "Province-State", "Country-PrimaryLocationName",
              "Location", "LocationShown*", "LocationCreated*", "GPSAreaInformation"]
    out = subprocess.run([EXIFTOOL, "-j", "-r", *(f"-{f}" for f in fields), str(folder)],
                         capture_output=True, text=True, check=True).stdout
    with_places = {Path(r["SourceFile"]).resolve() for r in json.loads(out) if len(r) > 1}
    with (folder / "gps_truth.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["has_gps"] == "no"]
    flagged = {(folder / r["file"]).resolve() for r in rows if run(detector, folder / r["file"])}
    assert flagged == {p for p in with_places if p in {(folder / r["file"]).resolve() for r in rows}}


@pytest.mark.shared
@pytest.mark.parametrize("name,expect", [
    ("exif_gps.jpg", "malformed"),  # latitude 4294967295 deg, no refs, no longitude
    ("empty_gps_ifd.jpg", "nothing"),
    ("exif_gps_typeerror.jpg", "malformed"),  # the GPSInfo pointer is a string: cannot be followed
])
def test_pillow_gps_edge_cases(shared_data, detector, name, expect):
    findings = run(detector, shared_data / "pillow_orientation" / "Tests" / "images" / name)
    if expect == "nothing":
        assert findings == []
    else:
        (finding,) = findings
        assert finding.malformed and finding.lat is None
