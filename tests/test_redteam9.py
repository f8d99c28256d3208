"""Red team, round 9: pictures in the corners of a container other rounds did not open, metadata
fields other rounds did not fill, the last moments of a clip, and links and pipes in a scanned
folder. Each case builds the hostile file in the test and asserts the SAFE outcome (never
`cleared`, nothing outside the given folders read or copied), next to a control proving the same
content is found when shown the ordinary way. A case the product gets wrong is xfail(strict) with
its RT9 number: when a fix lands the test passes, the xfail fails, and the mark must go.

Faces are the stand-in of tests/test_video.py (a pure red square is a face); text in metadata is
read by the real TextDetector with an OCR engine that reads nothing (tests/test_redteam6.py); the
few pictures of text use the real OCR engine (one per module). Every hidden picture and field
was checked with exiftool 12.57 while writing these tests (named in each docstring).

Safe: a face in a clip's last 0.4 s or last frame (RT9-16), EXIF 3.0 UTF-8 text and a GPS
pointer in the Exif IFD (errors, RT9-7, RT9-11), a UTF-16 sidecar (RT9-12), a redact of a folder
holding a link out of it (RT9-14, fixed on main by df8f36b while this round ran).
"""

from __future__ import annotations

import io
import json
import os
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from screening import files
from screening.model import Status

from .clips import Appearance, write_clip
from .test_redteam6 import (
    RED,
    backdrop,
    config,  # noqa: F401  (the fixture)
    exif_with_thumbnail,
    found_face,
    insert_segments,
    jpeg,
    kinds,
    not_cleared,
    segment,
    verdict,
    with_face,
)

# ================================================================ a small TIFF/EXIF writer

_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 10: 8, 129: 1}


def short(*v: int) -> tuple[int, int, bytes]:
    return 3, len(v), struct.pack(f"<{len(v)}H", *v)


def long_(*v: int) -> tuple[int, int, bytes]:
    return 4, len(v), struct.pack(f"<{len(v)}I", *v)


def ascii_(text: str, kind: int = 2) -> tuple[int, int, bytes]:
    raw = text.encode("utf-8") + b"\x00"
    return kind, len(raw), raw


def rational(*v: float) -> tuple[int, int, bytes]:
    return 5, len(v), b"".join(struct.pack("<II", round(x * 1000), 1000) for x in v)


def tiff_block(ifds: dict[str, dict[int, object]], chain: list[str], blobs: dict[str, bytes] = None) -> bytes:
    """A little-endian TIFF (an EXIF block): `ifds` by name, each {tag: (type, count, raw) |
    ("ifd", name) | ("blob", name) | ("size", name)}; `chain` the IFDs linked by next-pointers
    (IFD0 first); `blobs` raw data laid out after the IFDs (strips, JPEG previews)."""
    blobs = blobs or {}
    where: dict[str, int] = {}
    pos = 8
    for name, entries in ifds.items():
        where[name] = pos
        pos += 2 + 12 * len(entries) + 4
        for v in entries.values():
            if isinstance(v[0], int) and len(v[2]) > 4:
                pos += len(v[2]) + len(v[2]) % 2
    for name, blob in blobs.items():
        where["blob:" + name] = pos
        pos += len(blob) + len(blob) % 2
    out = bytearray(b"II*\x00" + struct.pack("<I", where[chain[0]]))
    for name, entries in ifds.items():
        assert len(out) == where[name]
        data_at = where[name] + 2 + 12 * len(entries) + 4
        head, data = struct.pack("<H", len(entries)), b""
        for tag in sorted(entries):
            v = entries[tag]
            if v[0] == "ifd":
                kind, count, raw = long_(where[v[1]])
            elif v[0] == "blob":
                kind, count, raw = long_(where["blob:" + v[1]])
            elif v[0] == "size":
                kind, count, raw = long_(len(blobs[v[1]]))
            else:
                kind, count, raw = v
            if len(raw) > 4:
                head += struct.pack("<HHII", tag, kind, count, data_at + len(data))
                data += raw + b"\x00" * (len(raw) % 2)
            else:
                head += struct.pack("<HHI", tag, kind, count) + raw.ljust(4, b"\x00")
        nxt = chain[chain.index(name) + 1] if name in chain and chain.index(name) + 1 < len(chain) else None
        out += head + struct.pack("<I", where[nxt] if nxt else 0) + data
    for name, blob in blobs.items():
        assert len(out) == where["blob:" + name]
        out += blob + b"\x00" * (len(blob) % 2)
    return bytes(out)


def has_face(rgb: np.ndarray) -> bool:
    """The stand-in face (a pure red square) is in these pixels."""
    rgb = rgb.astype(int)
    return int(((rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum()) >= 100


def small_face(size=(160, 120)) -> np.ndarray:
    """A small picture (a thumbnail or preview) holding the stand-in face."""
    return with_face(size, at=(60, 40))


def jpeg_photo(tmp_path: Path, name: str, *segments: bytes, exif: bytes | None = None) -> Path:
    data = jpeg(backdrop(), **({"exif": exif} if exif else {}))
    path = tmp_path / name
    path.write_bytes(insert_segments(data, *segments) if segments else data)
    return path


# ================================================================ JPEG: pictures outside the EXIF thumbnail


def test_rt9_control_a_face_in_the_exif_thumbnail_is_found(tmp_path, config):
    path = tmp_path / "thumb.jpg"
    path.write_bytes(jpeg(backdrop(), exif=exif_with_thumbnail(jpeg(small_face()))))
    found_face(path, config)


def jfif_app0(thumb: np.ndarray) -> bytes:
    h, w = thumb.shape[:2]
    return segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01" + bytes([w, h]) + thumb.tobytes())


def jfxx_app0(code: int, thumb: np.ndarray) -> bytes:
    if code == 0x10:
        return segment(0xE0, b"JFXX\x00\x10" + jpeg(thumb))
    h, w = thumb.shape[:2]
    return segment(0xE0, b"JFXX\x00\x13" + bytes([w, h]) + thumb.tobytes())


@pytest.mark.parametrize("code", [0x10, 0x13])
def test_rt9_1_a_face_in_the_jfxx_thumbnail_is_not_cleared(tmp_path, config, code):
    """JFIF 1.02's extension segment: a thumbnail coded as JPEG (0x10) or 3-byte RGB (0x13).
    exiftool lists it as ThumbnailImage, and viewers that browse by thumbnail show it."""
    path = jpeg_photo(tmp_path, "jfxx.jpg", jfxx_app0(code, small_face((120, 90))))
    with Image.open(path) as im:
        assert not has_face(np.asarray(im.convert("RGB")))  # the photo itself shows no face
    not_cleared(path, config)


def test_rt9_2_a_face_in_the_jfif_header_thumbnail_is_not_cleared(tmp_path, config):
    data = jpeg(backdrop())
    assert data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00"
    (length,) = struct.unpack(">H", data[4:6])
    path = tmp_path / "jfif_thumb.jpg"
    path.write_bytes(data[:2] + jfif_app0(small_face((120, 90))) + data[4 + length:])
    with Image.open(path) as im:  # still an ordinary JPEG to Pillow
        assert im.size == (320, 240)
    not_cleared(path, config)


def uncompressed_thumbnail_exif(thumb: np.ndarray) -> bytes:
    """EXIF whose IFD1 holds an uncompressed RGB thumbnail in strips (Compression 1), which EXIF 2.3
    (4.5.8) allows beside the JPEG one; exiftool lists its StripOffsets/StripByteCounts in IFD1."""
    h, w = thumb.shape[:2]
    ifd1 = {0x0100: short(w), 0x0101: short(h), 0x0102: short(8, 8, 8), 0x0103: short(1), 0x0106: short(2),
            0x0111: ("blob", "strip"), 0x0115: short(3), 0x0116: short(h), 0x0117: ("size", "strip")}
    return b"Exif\x00\x00" + tiff_block({"ifd0": {0x0112: short(1)}, "ifd1": ifd1}, ["ifd0", "ifd1"],
                                        {"strip": thumb.tobytes()})


def test_rt9_3_a_face_in_an_uncompressed_exif_thumbnail_is_not_cleared(tmp_path, config):
    exif = uncompressed_thumbnail_exif(small_face())
    block = exif[6:]
    exif_ifd1 = Image.Exif()
    exif_ifd1.load(block)
    strips = exif_ifd1.get_ifd(-1)  # IFD1 as a reader sees it: 160x120 RGB at StripOffsets
    start, size = strips[0x0111], strips[0x0117]
    assert has_face(np.frombuffer(block[start:start + size], np.uint8).reshape(120, 160, 3))
    path = tmp_path / "tiff_thumb.jpg"
    path.write_bytes(jpeg(backdrop(), exif=exif))
    not_cleared(path, config)


def preview_exif(where: str, preview: bytes) -> bytes:
    """EXIF holding a larger JPEG preview (exiftool's PreviewImage / JpgFromRaw) pointed to from
    IFD0 itself, from a third IFD in the chain (IFD2), or from a SubIFD of IFD0."""
    jpg = {0x0103: short(6), 0x0201: ("blob", "jpg"), 0x0202: ("size", "jpg")}
    if where == "IFD0":
        return b"Exif\x00\x00" + tiff_block({"ifd0": {0x0112: short(1), **jpg}}, ["ifd0"], {"jpg": preview})
    if where == "IFD2":
        ifds = {"ifd0": {0x0112: short(1)}, "ifd1": {0x0103: short(6)}, "ifd2": jpg}
        return b"Exif\x00\x00" + tiff_block(ifds, ["ifd0", "ifd1", "ifd2"], {"jpg": preview})
    ifds = {"ifd0": {0x0112: short(1), 0x014A: ("ifd", "sub")}, "sub": jpg}
    return b"Exif\x00\x00" + tiff_block(ifds, ["ifd0"], {"jpg": preview})


@pytest.mark.parametrize("where", ["IFD0", "IFD2", "SubIFD"])
def test_rt9_4_a_face_in_a_jpeg_preview_outside_ifd1_is_not_cleared(tmp_path, config, where):
    path = tmp_path / f"preview_{where}.jpg"
    path.write_bytes(jpeg(backdrop(), exif=preview_exif(where, jpeg(small_face((320, 240))))))
    not_cleared(path, config)


# RT9-5 is a gap in a rule rather than a leak seen by a viewer: no known viewer shows such an image.
@pytest.mark.parametrize("marker", [0xE1, 0xE0])
def test_rt9_5_a_face_in_a_jpeg_inside_an_unknown_app0_or_app1_segment(tmp_path, config, marker):
    """APP2-APP15 are searched for image signatures; APP0 and APP1 of another kind are not."""
    path = jpeg_photo(tmp_path, f"app{marker - 0xE0}.jpg", segment(marker, b"QVCI\x00\x00" + jpeg(small_face())))
    not_cleared(path, config)


def test_rt9_5_control_the_same_segment_as_app7_is_searched(tmp_path, config):
    path = jpeg_photo(tmp_path, "app7.jpg", segment(0xE7, b"QVCI\x00\x00" + jpeg(small_face())))
    found_face(path, config)


# ================================================================ metadata: fields other rounds did not fill

PUPIL = "Amelia Hart"  # P3001 of tests/test_redteam6.PEOPLE
ACADEMY = "Trinity North Academy"


def exif_text(ifd0: dict, exif_ifd: dict | None = None) -> bytes:
    ifds = {"ifd0": dict(ifd0)}
    if exif_ifd:
        ifds["ifd0"][0x8769] = ("ifd", "exif")
        ifds["exif"] = exif_ifd
    return b"Exif\x00\x00" + tiff_block(ifds, ["ifd0"])


def text_reasons(path, config) -> set[str]:
    _, d = verdict(path, config)
    assert d.status is not Status.CLEARED, f"{path.name} was cleared"
    return kinds(d)


def test_rt9_control_a_pupils_name_in_the_image_description_is_found(tmp_path, config):
    path = jpeg_photo(tmp_path, "described.jpg", exif=exif_text({0x010E: ascii_(f"{PUPIL} at sports day")}))
    assert "text" in text_reasons(path, config)


def test_rt9_6_a_pupils_name_in_the_exif_3_image_title(tmp_path, config):
    """EXIF 3.0 (2023) added ImageTitle; exiftool 12.57 shows it as Exif_0xa436 (-u), later
    versions as 'Image Title'."""
    path = jpeg_photo(tmp_path, "titled.jpg", exif=exif_text({0x0112: short(1)}, {0xA436: ascii_(PUPIL)}))
    assert "text" in text_reasons(path, config)


def test_rt9_7_a_pupils_name_in_an_image_description_of_the_exif_3_utf8_type(tmp_path, config):
    """EXIF 3.0 type 129 (UTF-8) for text tags. Safe: the EXIF readers cannot parse it, an error."""
    path = jpeg_photo(tmp_path, "utf8.jpg", exif=exif_text({0x010E: ascii_(f"{PUPIL} — sports day", 129)}))
    assert text_reasons(path, config) & {"text", "error"}


def photoshop_iptc(*datasets: tuple[int, bytes]) -> bytes:
    """APP13 'Photoshop 3.0' with an IPTC-NAA resource (0x0404) holding IIM record 2 datasets."""
    iim = b"".join(b"\x1c\x02" + bytes([ds]) + struct.pack(">H", len(v)) + v for ds, v in datasets)
    res = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim)) + iim + b"\x00" * (len(iim) % 2)
    return segment(0xED, b"Photoshop 3.0\x00" + res)


def test_rt9_control_a_pupils_name_in_the_iptc_caption_is_found(tmp_path, config):
    path = jpeg_photo(tmp_path, "iptc_caption.jpg", photoshop_iptc((120, PUPIL.encode())))
    assert "text" in text_reasons(path, config)


@pytest.mark.parametrize("dataset,text", [(40, f"Do not name {PUPIL}"), (22, f"{ACADEMY} sports day 2026"),
                                          (20, PUPIL)])
def test_rt9_8_a_name_in_an_iptc_field_the_caption_reader_does_not_list(tmp_path, config, dataset, text):
    """Photoshop's File Info shows 'Instructions'; exiftool shows every one of these."""
    path = jpeg_photo(tmp_path, f"iptc_{dataset}.jpg", photoshop_iptc((dataset, text.encode())))
    assert "text" in text_reasons(path, config)


def xmp(body: str, ns: str) -> bytes:
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" {ns}>{body}</rdf:Description></rdf:RDF></x:xmpmeta>').encode()


def xmp_jpeg(tmp_path: Path, name: str, packet: bytes) -> Path:
    return jpeg_photo(tmp_path, name, segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet))


def test_rt9_control_gps_in_exif_gpslatitude_of_xmp_is_found(tmp_path, config):
    packet = xmp("<exif:GPSLatitude>53,48.048N</exif:GPSLatitude><exif:GPSLongitude>1,32.946W</exif:GPSLongitude>",
                 'xmlns:exif="http://ns.adobe.com/exif/1.0/"')
    assert "location" in text_reasons(xmp_jpeg(tmp_path, "xmp_gps.jpg", packet), config)


XMP_COORDINATES = {
    "geo": ("<geo:lat>53.8008</geo:lat><geo:long>-1.5491</geo:long>",
            'xmlns:geo="http://www.w3.org/2003/01/geo/wgs84_pos#"'),
    "georss": ("<georss:point>53.8008 -1.5491</georss:point>", 'xmlns:georss="http://www.georss.org/georss"'),
    "dc-coverage": ("<dc:coverage>53.8008, -1.5491</dc:coverage>", 'xmlns:dc="http://purl.org/dc/elements/1.1/"'),
}


@pytest.mark.parametrize("kind", sorted(XMP_COORDINATES))
def test_rt9_9_the_trusts_site_as_coordinates_in_other_xmp_vocabularies(tmp_path, config, kind):
    """exiftool prints each of these (XMP-geo:Lat, XMP-georss:Point, XMP-dc:Coverage)."""
    body, ns = XMP_COORDINATES[kind]
    assert "location" in text_reasons(xmp_jpeg(tmp_path, f"{kind}.jpg", xmp(body, ns)), config)


def test_rt9_control_a_place_name_in_photoshop_city_is_found(tmp_path, config):
    packet = xmp("<photoshop:City>Leeds</photoshop:City>", 'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"')
    assert "location" in text_reasons(xmp_jpeg(tmp_path, "city.jpg", packet), config)


def test_rt9_10_a_place_name_in_xmpdm_shot_location(tmp_path, config):
    packet = xmp("<xmpDM:shotLocation>Roundhay Park, Leeds</xmpDM:shotLocation>",
                 'xmlns:xmpDM="http://ns.adobe.com/xmp/1.0/DynamicMedia/"')
    assert "location" in text_reasons(xmp_jpeg(tmp_path, "shot.jpg", packet), config)


def gps_ifd() -> dict:
    return {1: ascii_("N"), 2: rational(53, 48, 2.88), 3: ascii_("W"), 4: rational(1, 32, 56.76)}


def test_rt9_control_gps_pointed_to_from_ifd0_is_found(tmp_path, config):
    block = b"Exif\x00\x00" + tiff_block({"ifd0": {0x8825: ("ifd", "gps")}, "gps": gps_ifd()}, ["ifd0"])
    assert "location" in text_reasons(jpeg_photo(tmp_path, "gps0.jpg", exif=block), config)


def test_rt9_11_gps_pointed_to_from_the_exif_sub_ifd(tmp_path, config):
    """A writer that puts the GPSInfo pointer inside the Exif IFD: exiftool still reads the GPS.
    Safe: the second reader (exiv2) or the EXIF readers' disagreement makes it an error."""
    ifds = {"ifd0": {0x8769: ("ifd", "exif")}, "exif": {0x8825: ("ifd", "gps")}, "gps": gps_ifd()}
    block = b"Exif\x00\x00" + tiff_block(ifds, ["ifd0"])
    assert text_reasons(jpeg_photo(tmp_path, "gps_in_exif_ifd.jpg", exif=block), config) & {"location", "error"}


def test_rt9_12_gps_in_a_utf16_xmp_sidecar(tmp_path, config):
    path = jpeg_photo(tmp_path, "sidecar16.jpg")
    packet = xmp('<exif:GPSLatitude>53,48.048N</exif:GPSLatitude><exif:GPSLongitude>1,32.946W</exif:GPSLongitude>',
                 'xmlns:exif="http://ns.adobe.com/exif/1.0/"')
    (tmp_path / "sidecar16.xmp").write_bytes(b"\xff\xfe" + packet.decode().encode("utf-16-le"))
    assert "location" in text_reasons(path, config)


# ================================================================ paths: links and pipes in a scanned folder


@pytest.fixture
def cli_trust(tmp_path, monkeypatch):
    """The trust of tests/test_redteam3.py: fake detectors, a batch folder."""
    from screening import pool

    from .test_config_register import write_trust
    from .test_scan_cli import fakes

    write_trust(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", fakes)
    (tmp_path / "batch").mkdir()
    return tmp_path


def _photo(path: Path, rgb) -> None:
    Image.fromarray(np.full((40, 60, 3), rgb, np.uint8)).save(path, format="PNG")


def _cli(*args: str) -> int:
    from screening import cli

    try:
        return cli.main(list(args))
    except Exception as exc:
        raise AssertionError(f"{args[0]} crashed: {exc!r}") from exc


def _records(jsonl: Path) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in map(json.loads, jsonl.read_text().splitlines())}


PRIVATE = (255, 0, 0)  # the fake face check of tests/test_scan_cli.py: a red photo shows a face


def _outside_link(root: Path) -> None:
    """batch/ holds one ordinary photo and a link to a private photo in a folder never given."""
    _photo(root / "batch" / "a.png", (0, 0, 255))
    (root / "private").mkdir()
    _photo(root / "private" / "head-teacher-only.png", PRIVATE)
    os.symlink("../private/head-teacher-only.png", root / "batch" / "link.png")


def _pictures_in_html(html: str) -> list[np.ndarray]:
    import base64
    import re

    out = []
    for m in re.finditer(r"data:image/(?:png|jpeg|webp);base64,([A-Za-z0-9+/=]+)", html):
        try:
            out.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(m.group(1)))).convert("RGB")))
        except Exception:
            continue
    return out


def _shows_private(pixels: np.ndarray) -> bool:
    p = pixels.astype(int)
    return int(((p[..., 0] > 200) & (p[..., 1] < 60) & (p[..., 2] < 60)).sum()) > 0.5 * p.shape[0] * p.shape[1]


def test_rt9_control_a_photo_given_in_the_folder_is_previewed_in_the_report(cli_trust):
    _photo(cli_trust / "batch" / "red.png", PRIVATE)
    _cli("scan", "batch", "--workers", "1", "--jsonl", "out.jsonl", "--html", "out.html")
    assert any(_shows_private(p) for p in _pictures_in_html((cli_trust / "out.html").read_text()))


# RT9-13 fixed: a record with no sha256 (never read) has no preview (reports/html/previews.thumbnail)
def test_rt9_13_scan_of_a_folder_never_reads_a_photo_outside_it_through_a_link(cli_trust):
    """Someone who can drop files in the batch folder (the same threat model as the watch inbox)
    leaves a link; the emailed report then carries a photo from a folder the scan was never given."""
    _outside_link(cli_trust)
    _cli("scan", "batch", "--workers", "1", "--jsonl", "out.jsonl", "--html", "out.html")
    record = _records(cli_trust / "out.jsonl")["link.png"]
    pictures = _pictures_in_html((cli_trust / "out.html").read_text())
    shown = any(_shows_private(p) for p in pictures)
    assert record["status"] == "error" and not shown, (record["status"], "preview in the report" if shown else "")


# RT9-14: found on this branch, fixed on main by df8f36b (files.select refuses links out of the folder)
def test_rt9_14_redact_of_a_folder_never_copies_a_photo_outside_it_through_a_link(cli_trust, capsys):
    _outside_link(cli_trust)
    _cli("redact", "batch", "--into", "copies", "--workers", "1")
    copied = [p for p in (cli_trust / "copies").rglob("*") if p.is_file()] if (cli_trust / "copies").exists() else []
    leaked = [p.name for p in copied if p.suffix in (".png", ".jpg") and _shows_private(np.asarray(Image.open(p).convert("RGB")))]
    assert not leaked, leaked


def _select_within(root: Path, seconds: float) -> bool:
    """files.select on `root` returns within `seconds` (a blocked open is released afterwards)."""
    done = threading.Event()

    def run():
        files.select([root])
        done.set()

    threading.Thread(target=run, daemon=True).start()
    finished = done.wait(seconds)
    if not finished:  # unblock the reader stuck on the pipe: open its other end, then close it
        for fifo in root.iterdir():
            if fifo.is_fifo():
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
        done.wait(5)
    return finished


def test_rt9_control_a_pipe_with_an_ordinary_name_does_not_stop_the_scan(tmp_path):
    os.mkfifo(tmp_path / "photo.jpg")
    assert _select_within(tmp_path, 2)


# RT9-15: fixed: files._head opens without blocking or following a link and reads regular files only
@pytest.mark.parametrize("name", ["Thumbs.db", "._IMG_0001.jpg"])
def test_rt9_15_a_pipe_named_like_clutter_does_not_hang_the_folder_walk(tmp_path, name):
    os.mkfifo(tmp_path / name)
    assert _select_within(tmp_path, 2)


# ================================================================ clips: the last moments, a flash, a place tag

FPS = 25


def red_at(path: Path, seconds: float, start: float, shown: float) -> Path:
    return write_clip(path, seconds, fps=FPS, appearances=(Appearance(RED, start, shown, (140, 100)),))


def test_rt9_control_a_face_in_the_middle_of_a_clip_is_found(tmp_path, config):
    found_face(red_at(tmp_path / "middle.mp4", 2.0, 0.8, 0.4), config)


@pytest.mark.parametrize("start,shown", [(1.6, 0.4), (2.0 - 1 / FPS, 1 / FPS)], ids=["last-0.4s", "last-frame"])
def test_rt9_16_a_face_only_in_the_last_moments_of_a_clip(tmp_path, config, start, shown):
    """A player stops on the last frame and shows it until the viewer closes it."""
    path = red_at(tmp_path / "ending.mp4", 2.0, start, shown)
    import av

    with av.open(str(path)) as clip:  # the face is really in the clip's last frame
        last = [f.to_ndarray(format="rgb24") for f in clip.decode(video=0)][-1]
    assert has_face(last)
    not_cleared(path, config)


# RT9-17 (fixed): the frame that shows it is screened as a "between" sample (formats/video_flash.py)
@pytest.mark.parametrize("start,frames", [(1.06, 2), (0.54, 3)], ids=["80ms", "120ms"])
def test_rt9_17_a_face_flashed_between_two_samples(tmp_path, config, start, frames):
    """A face cut into a clip for a few frames (a 'subliminal' frame): a viewer who pauses or
    steps frame by frame sees it; the published file carries it."""
    path = red_at(tmp_path / "flash.mp4", 2.0, start, frames / FPS)
    import av

    with av.open(str(path)) as clip:
        assert sum(has_face(f.to_ndarray(format="rgb24")) for f in clip.decode(video=0)) == frames
    not_cleared(path, config)


def test_rt9_control_a_position_in_a_matroska_location_tag_is_found(tmp_path, config):
    path = write_clip(tmp_path / "located.mkv", 1.0, metadata={"LOCATION": "+53.8008-001.5491/"})
    _, d = verdict(path, config)
    assert "location" in kinds(d)


def test_rt9_18_a_place_name_in_a_matroska_recording_location_tag(tmp_path, config):
    path = write_clip(tmp_path / "place.mkv", 1.0, metadata={"RECORDING_LOCATION": "GB, Roundhay Park, Leeds"})
    import av

    with av.open(str(path)) as clip:  # ffprobe and MediaInfo show it
        assert "Leeds" in " ".join(clip.metadata.values())
    _, d = verdict(path, config)
    assert "location" in kinds(d)


# ================================================================ more pictures a viewer or reader is shown


def photoshop_thumbnail_resource(thumb: bytes, size=(160, 120)) -> bytes:
    """Photoshop image resource 0x040C (the thumbnail Bridge, Finder and exiftool show): a 28-byte
    header (format 1 = JPEG RGB, width, height, ...) then the JFIF data."""
    w, h = size
    body = struct.pack(">IIIIIIHH", 1, w, h, (w * 24 + 31) // 32 * 4, (w * 24 + 31) // 32 * 4 * h, len(thumb), 24, 1)
    body += thumb
    return b"8BIM" + struct.pack(">H", 0x040C) + b"\x00\x00" + struct.pack(">I", len(body)) + body + b"\x00" * (len(body) % 2)


def test_rt9_control_a_photoshop_thumbnail_in_a_jpeg_is_screened(tmp_path, config):
    res = photoshop_thumbnail_resource(jpeg(small_face()))
    path = jpeg_photo(tmp_path, "ps_thumb.jpg", segment(0xED, b"Photoshop 3.0\x00" + res))
    found_face(path, config)


@pytest.mark.parametrize("container", ["tiff", "png-raw-profile"])
def test_rt9_20_a_face_in_the_photoshop_thumbnail_of_a_tiff_or_png(tmp_path, config, container):
    """Photoshop writes its image resources, thumbnail included, into every TIFF it saves;
    ImageMagick carries them into a PNG as 'Raw profile type 8bim' (exiftool reads both)."""
    res = photoshop_thumbnail_resource(jpeg(small_face()))
    if container == "tiff":
        import tifffile

        path = tmp_path / "photoshop.tif"
        tifffile.imwrite(path, backdrop(), photometric="rgb", extratags=[(34377, "B", len(res), res, True)])
        with tifffile.TiffFile(path) as tif:  # the resource is in the file, where Photoshop puts it
            assert bytes(tif.pages[0].tags[34377].value).startswith(b"8BIM\x04\x0c")
    else:
        from PIL import PngImagePlugin

        hexed = res.hex()
        text = "\n8bim\n" + f"{len(res):8d}\n" + "\n".join(hexed[i:i + 72] for i in range(0, len(hexed), 72)) + "\n"
        info = PngImagePlugin.PngInfo()
        info.add_text("Raw profile type 8bim", text, zip=True)
        path = tmp_path / "photoshop.png"
        Image.fromarray(backdrop()).save(path, "PNG", pnginfo=info)
    not_cleared(path, config)


def xmp_thumbnail_packet(thumb: bytes) -> bytes:
    import base64

    b64 = base64.b64encode(thumb).decode()
    return xmp(f'<xmp:Thumbnails><rdf:Alt><rdf:li rdf:parseType="Resource"><xmpGImg:format>JPEG</xmpGImg:format>'
               f'<xmpGImg:image>{b64}</xmpGImg:image></rdf:li></rdf:Alt></xmp:Thumbnails>',
               'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpGImg="http://ns.adobe.com/xap/1.0/g/img/"')


def test_rt9_control_a_face_in_the_xmp_thumbnail_of_a_photo_is_found(tmp_path, config):
    found_face(xmp_jpeg(tmp_path, "xmp_thumb.jpg", xmp_thumbnail_packet(jpeg(small_face()))), config)


def test_rt9_21_a_face_in_the_xmp_thumbnail_of_a_clip(tmp_path, config):
    from .test_video import _box

    data = write_clip(tmp_path / "plain.mp4", 1.0).read_bytes()
    packet = xmp_thumbnail_packet(jpeg(small_face()))
    path = tmp_path / "xmp_thumb.mp4"
    path.write_bytes(data + _box(b"uuid", bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC") + packet))
    not_cleared(path, config)


# ================================================================ text: a name arched over a banner


def arched(span: float, radius: int, text: str = "AMELIA HART") -> np.ndarray:
    """Capitals set along an arc of `span` degrees (a banner, the ring of a badge), each letter
    upright to the curve, dark on a light board."""
    import math

    from PIL import ImageDraw, ImageFont

    from .test_redteam6 import BOLD
    from .clips import scene

    if not BOLD.exists():
        pytest.skip("DejaVu Sans Bold is not installed")
    img = Image.fromarray(scene((560, 300))(0.0))
    ImageDraw.Draw(img).rectangle((20, 40, 540, 260), fill=(245, 245, 235))
    font = ImageFont.truetype(str(BOLD), 40)
    for i, ch in enumerate(text):
        a = -span / 2 + span * i / (len(text) - 1)
        x, y = 280 + radius * math.sin(math.radians(a)), 60 + radius - radius * math.cos(math.radians(a))
        glyph = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((32, 32), ch, font=font, fill=(20, 30, 80, 255), anchor="mm")
        glyph = glyph.rotate(-a, resample=Image.BICUBIC)
        img.paste(glyph, (int(x - 32), int(y - 32)), glyph)
    return np.asarray(img)


@pytest.fixture(scope="module")
def ocr_engine():
    from screening.vision.ocr import OcrEngine

    return OcrEngine()


def test_rt9_control_a_name_arched_over_45_degrees_is_read(tmp_path, config, ocr_engine):
    path = tmp_path / "arch45.png"
    Image.fromarray(arched(45, 560)).save(path)
    _, d = verdict(path, config, ocr=ocr_engine)
    assert "text" in kinds(d)


# RT9-19 (fixed: vision/ocr_arcs.py reads lettering along an arc unrolled)
def test_rt9_19_a_name_arched_over_80_degrees_is_read(tmp_path, config, ocr_engine):
    path = tmp_path / "arch80.png"
    Image.fromarray(arched(80, 320)).save(path)
    _, d = verdict(path, config, ocr=ocr_engine)
    assert "text" in kinds(d)


# ================================================================ coordinates written as text


SITE_TEXT = "Lat 53.800800 Long -1.549100"  # the Test Trust's site, as GPS-stamp camera apps write it


@pytest.mark.parametrize("where", ["exif-description", "xmp-description", "clip-comment", "mkv-gps-tag"])
def test_rt9_22_the_sites_coordinates_written_in_a_caption(tmp_path, config, where):
    """'GPS Map Camera'-style apps and dashcams put 'Lat .. Long ..' in the caption or a tag of
    their own; exiftool, Windows' Properties and every player's info panel show it."""
    if where == "exif-description":
        path = jpeg_photo(tmp_path, "caption.jpg", exif=exif_text({0x010E: ascii_(f"Sports day, {SITE_TEXT}")}))
    elif where == "xmp-description":
        path = xmp_jpeg(tmp_path, "xmp_caption.jpg", xmp(f"<dc:description>Sports day, {SITE_TEXT}</dc:description>",
                                                          'xmlns:dc="http://purl.org/dc/elements/1.1/"'))
    elif where == "clip-comment":
        path = write_clip(tmp_path / "comment.mp4", 1.0, metadata={"comment": f"Sports day, {SITE_TEXT}"})
    else:
        path = write_clip(tmp_path / "gps_tag.mkv", 1.0, metadata={"GPS": "53.800800,-1.549100"})
    _, d = verdict(path, config)
    assert "location" in kinds(d) or d.status is Status.ERROR, kinds(d)


def gps_stamped() -> np.ndarray:
    """A photo with the two-line stamp GPS camera apps burn into the corner: place and coordinates."""
    from PIL import ImageDraw, ImageFont

    from .clips import scene
    from .test_redteam6 import BOLD

    if not BOLD.exists():
        pytest.skip("DejaVu Sans Bold is not installed")
    img = Image.fromarray(scene((640, 400))(0.0))
    d = ImageDraw.Draw(img)
    d.rectangle((10, 300, 630, 390), fill=(30, 30, 30))
    font = ImageFont.truetype(str(BOLD), 22)
    d.text((24, 310), "Leeds, West Yorkshire, LS6 2AB", font=font, fill=(255, 255, 255))
    d.text((24, 348), SITE_TEXT, font=font, fill=(255, 255, 255))
    return np.asarray(img)


def test_rt9_23_a_gps_stamp_burnt_into_the_photo(tmp_path, config, ocr_engine):
    path = tmp_path / "stamped.png"
    Image.fromarray(gps_stamped()).save(path)
    lines = " ".join(line.text for line in ocr_engine.read(gps_stamped()))
    assert "53.8" in lines  # the OCR reads the coordinates
    _, d = verdict(path, config, ocr=ocr_engine)
    assert d.status is not Status.CLEARED


def _planted_report_links(root: Path) -> Path:
    """A victim file outside the batch, and links planted in the batch where reports are written."""
    _photo(root / "batch" / "a.png", (0, 0, 255))
    (root / "outside").mkdir()
    victim = root / "outside" / "victim.txt"
    victim.write_text("precious\n")
    victim.chmod(0o644)
    for name in ("report.jsonl", "report.csv", "report.html"):
        os.symlink("../outside/victim.txt", root / "batch" / name)
    return victim


def test_rt9_control_the_html_report_replaces_a_planted_link_rather_than_writing_through_it(cli_trust):
    victim = _planted_report_links(cli_trust)
    _cli("scan", "batch", "--workers", "1", "--html", "batch/report.html")
    assert victim.read_text() == "precious\n" and not (cli_trust / "batch" / "report.html").is_symlink()


# RT9-24: fixed: store/db.private_file opens with O_NOFOLLOW (paths under /dev/ aside)
@pytest.mark.parametrize("flag", ["--jsonl", "--csv"])
def test_rt9_24_a_report_never_writes_through_a_link_planted_at_its_name(cli_trust, flag):
    victim = _planted_report_links(cli_trust)
    name = "batch/report.jsonl" if flag == "--jsonl" else "batch/report.csv"
    _cli("scan", "batch", "--workers", "1", flag, name)
    assert victim.read_text() == "precious\n" and (victim.stat().st_mode & 0o777) == 0o644


# ================================================================ sidecars the photo's reader does not pair


def test_rt9_control_a_gps_sidecar_beside_the_photo_is_read(tmp_path, config):
    from .test_redteam6 import XMP_GPS

    path = jpeg_photo(tmp_path, "Zoe.jpg")
    (tmp_path / "Zoe.xmp").write_text(XMP_GPS)
    assert "location" in text_reasons(path, config)


@pytest.mark.parametrize("kind", ["link", "nfd-name"])
def test_rt9_25_a_gps_sidecar_paired_by_editors_but_not_by_the_reader(tmp_path, config, kind):
    """Lightroom, Bridge and digiKam open a sidecar through a link, and macOS hands out NFD names."""
    import unicodedata

    from .test_redteam6 import XMP_GPS

    name = unicodedata.normalize("NFC", "Zoë")
    path = jpeg_photo(tmp_path, f"{name}.jpg")
    if kind == "link":
        (tmp_path / "shared").mkdir()
        (tmp_path / "shared" / "gps.xmp").write_text(XMP_GPS)
        os.symlink("shared/gps.xmp", tmp_path / f"{name}.xmp")
    else:
        (tmp_path / (unicodedata.normalize("NFD", name) + ".xmp")).write_text(XMP_GPS)
    assert "location" in text_reasons(path, config)
