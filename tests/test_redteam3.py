"""Third red team (names in text and metadata, faces in odd light and framing, multi-image
formats, odd file names): each test builds its hostile file and asserts the safe outcome.

Every finding (RT3-1 to RT3-8) was fixed and its test now asserts the safe outcome; beside each a
control shows that the same content, shown plainly, is found (so no test passes because
the file is broken). One real scan (`screening scan --workers 1`: real face, OCR, logo and location checks)
is run over a folder of all the hostile files at once; each test reads its file's record.
The register names pupils but holds no reference photos, so any face is an `unknown_face`.
"""

from __future__ import annotations

import io
import json
import os
import struct
import unicodedata
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from screening import cli

from .academy_trust import make_trust
from .conftest import PUBLIC_DOMAIN

HEADER = "person_id,name,role,academy,biometric_consent,website,social_media,print,expires,withdrawn\n"
PEOPLE = ("P3001,Amelia Hart,pupil,north,no,no,no,no,,\n"
          "P3004,Zoë Ní Bhriain,pupil,north,no,no,no,no,,\n")


# ---------------------------------------------------------------- building the hostile files


def face_rgb() -> Image.Image:
    """The cameraman: one clear, upright, unknown face (512x512)."""
    return Image.open(PUBLIC_DOMAIN / "camera.png").convert("RGB")


def scenery(size=(640, 480)) -> Image.Image:
    """A face-free, text-free picture: a smooth colour gradient."""
    w, h = size
    x = np.linspace(40, 200, w, dtype=np.float32)[None, :].repeat(h, 0)
    return Image.fromarray(np.stack([x, x * 0.8, 255 - x], axis=2).astype(np.uint8))


def jpeg_with_segment(marker: bytes, payload: bytes, size=(240, 160)) -> bytes:
    buf = io.BytesIO()
    scenery(size).save(buf, "JPEG", quality=90)
    plain = buf.getvalue()
    return plain[:2] + marker + struct.pack(">H", len(payload) + 2) + payload + plain[2:]


def exif_user_comment(text: str, order: str) -> bytes:
    """An EXIF block (IFD0 -> Exif IFD -> UserComment) whose UserComment is "UNICODE\\0" and
    UTF-16 in the block's own byte order ("MM" big-endian or "II" little-endian), as the EXIF
    standard and ExifTool write it."""
    e = ">" if order == "MM" else "<"
    comment = b"UNICODE\x00" + text.encode("utf-16-be" if order == "MM" else "utf-16-le")
    exif_at = 8 + 2 + 12 + 4
    data_at = exif_at + 2 + 12 + 4
    ifd0 = struct.pack(e + "H", 1) + struct.pack(e + "HHII", 0x8769, 4, 1, exif_at) + struct.pack(e + "I", 0)
    sub = struct.pack(e + "H", 1) + struct.pack(e + "HHII", 0x9286, 7, len(comment), data_at) + struct.pack(e + "I", 0)
    return order.encode() + struct.pack(e + "HI", 42, 8) + ifd0 + sub + comment


def xmp(body: str) -> bytes:
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" {body}</rdf:Description></rdf:RDF></x:xmpmeta>').encode()


XMP_NAMES = {
    # IPTC Extension "Person Shown in the Image" (Lightroom, Photo Mechanic: the people in the photo)
    "person_in_image": 'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"><Iptc4xmpExt:PersonInImage>'
                       '<rdf:Bag><rdf:li>Amelia Hart</rdf:li></rdf:Bag></Iptc4xmpExt:PersonInImage>',
    # Metadata Working Group face regions (Lightroom, digiKam, Picasa, Google Photos: a named face)
    "mwg_face_region": 'xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
                       'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"><mwg-rs:Regions rdf:parseType="Resource">'
                       '<mwg-rs:RegionList><rdf:Bag><rdf:li><rdf:Description mwg-rs:Name="Amelia Hart" '
                       'mwg-rs:Type="Face"><mwg-rs:Area stArea:x="0.5" stArea:y="0.4" stArea:w="0.2" stArea:h="0.3" '
                       'stArea:unit="normalized"/></rdf:Description></rdf:li></rdf:Bag></mwg-rs:RegionList>'
                       '</mwg-rs:Regions>',
    # Lightroom's keyword hierarchy (shown as keywords by Lightroom and Flickr exports)
    "lightroom_keyword": 'xmlns:lr="http://ns.adobe.com/lightroom/1.0/"><lr:hierarchicalSubject><rdf:Bag>'
                         '<rdf:li>People|Amelia Hart</rdf:li></rdf:Bag></lr:hierarchicalSubject>',
    # control: the same name as an ordinary dc:subject keyword (read today)
    "control_dc_subject": 'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag><rdf:li>sports day</rdf:li>'
                          '<rdf:li>Amelia Hart</rdf:li></rdf:Bag></dc:subject>',
}


def font(cap: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(round(cap / 0.72))


def sign(picture: Image.Image, lines, at=(40, 40), cap=26, fill=(250, 250, 240), ink=(20, 30, 80)) -> Image.Image:
    """A board with `lines` drawn on a copy of the picture, capitals about `cap` px high."""
    out = picture.copy()
    d = ImageDraw.Draw(out)
    f = font(cap)
    width = max(int(f.getlength(t)) for t in lines) + 2 * cap
    d.rectangle((at[0], at[1], at[0] + width, at[1] + len(lines) * cap * 2 + cap), fill=fill)
    for i, t in enumerate(lines):
        d.text((at[0] + cap, at[1] + cap // 2 + i * cap * 2), t, font=f, fill=ink)
    return out


# accented letters drawn as their base letter plus the mark (Pillow's built-in font has no
# glyph for them): (base, mark) with mark "uml" (two dots) or "acute" (a rising stroke)
_MARKS = {"Ë": ("E", "uml"), "Í": ("I", "acute"), "ë": ("e", "uml"), "í": ("i", "acute")}


def accented(picture: Image.Image, xy, text: str, cap: int, ink=(20, 30, 80)) -> Image.Image:
    """`text` drawn letter by letter at xy (capitals about `cap` px high), accents included."""
    out = picture.copy()
    d = ImageDraw.Draw(out)
    f = font(cap)
    x, y = xy
    for ch in text:
        base, mark = _MARKS.get(ch, (ch, None))
        d.text((x, y), base, font=f, fill=ink)
        left, top, right, _ = d.textbbox((x, y), base, font=f)
        w, r = right - left, max(2, cap // 9)
        if mark == "uml":
            for cx in (left + w * 0.3, left + w * 0.7):
                d.ellipse((cx - r, top - 3 * r - r, cx + r, top - 3 * r + r), fill=ink)
        elif mark == "acute":
            cx = (left + right) / 2
            d.line((cx - r, top - 2 * r, cx + 2 * r, top - 6 * r), fill=ink, width=max(2, r))
        x += f.getlength(base)
    return out


def astronaut() -> Image.Image:
    return Image.open(PUBLIC_DOMAIN / "astronaut.png").convert("RGB")


def text_images(folder: Path) -> None:
    base = scenery((900, 500))
    sign(base, ["Amelia Hart"], cap=30).save(folder / "control_sign.png")
    # a pupil's name with accents (register: "Zoë Ní Bhriain"), on a board, capitals and mixed case
    board = sign(base, ["ZOE NI BHRIAIN"], cap=30, ink=(250, 250, 240))  # an empty board of the right size
    accented(board, (70, 75), "ZOË NÍ BHRIAIN", 30).save(folder / "sign_diacritics.png")
    accented(board, (70, 75), "Zoë Ní Bhriain", 30).save(folder / "sign_diacritics_lower.png")
    # control: the same name written without its accents
    sign(base, ["ZOE NI BHRIAIN"], cap=30).save(folder / "control_sign_no_accents.png")
    # seen through a window: the sign is mirrored left to right
    ImageOps.mirror(sign(base, ["Amelia Hart"], cap=30)).save(folder / "sign_mirrored.png")
    # a name 600 px tall painted across a wall: one line filling the photo
    wall = Image.new("RGB", (5600, 1000), (235, 230, 220))
    ImageDraw.Draw(wall).text((120, -150), "AMELIA HART", font=font(600), fill=(30, 30, 30))
    wall.save(folder / "name_600px.jpg", quality=90)
    # white letters on the busy astronaut photo (no board behind them)
    busy = astronaut()
    ImageDraw.Draw(busy).text((20, 380), "Amelia Hart", font=font(36), fill=(255, 255, 255))
    busy.save(folder / "white_on_busy.png")
    # a sign on a wall seen at an angle: perspective-warped
    board = sign(Image.new("RGB", (700, 160), (250, 250, 240)), ["Amelia Hart"], at=(0, 0), cap=40)
    coeffs = _perspective_coeffs([(0, 0), (700, 0), (700, 160), (0, 160)],
                                 [(0, 0), (560, 40), (560, 130), (0, 160)])
    warped = board.transform((700, 160), Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor=(120, 140, 160))
    slanted = scenery((900, 500))
    slanted.paste(warped, (80, 150))
    slanted.save(folder / "sign_perspective.png")


def _perspective_coeffs(src, dst):
    """Coefficients for Image.transform(PERSPECTIVE) mapping output corners `dst` to input `src`."""
    rows = []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=np.float64)
    b = np.array([c for p in src for c in p], dtype=np.float64)
    return np.linalg.solve(a, b).tolist()


def metadata_images(folder: Path) -> None:
    for order in ("MM", "II"):
        app1 = b"Exif\x00\x00" + exif_user_comment("Amelia Hart", order)
        (folder / f"usercomment_utf16_{order}.jpg").write_bytes(jpeg_with_segment(b"\xff\xe1", app1))
    for name, body in XMP_NAMES.items():
        app1 = b"http://ns.adobe.com/xap/1.0/\x00" + xmp(body)
        (folder / f"xmp_{name}.jpg").write_bytes(jpeg_with_segment(b"\xff\xe1", app1))
    buf = io.BytesIO()
    scenery((240, 160)).save(buf, "WEBP", xmp=xmp(XMP_NAMES["person_in_image"]))
    (folder / "webp_person_in_image.webp").write_bytes(buf.getvalue())
    comment_images(folder)


def _com(text: bytes) -> bytes:
    return b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def comment_images(folder: Path) -> None:
    """Comments and PNG text chunks naming a pupil, placed where Pillow's `info` does not keep them."""
    buf = io.BytesIO()
    scenery((240, 160)).save(buf, "JPEG", quality=90)
    jpeg = buf.getvalue()
    long_caption = b"Amelia Hart receiving the Year 4 reading prize from the head teacher. " * 4  # 280 bytes
    (folder / "control_jpeg_comment.jpg").write_bytes(jpeg[:2] + _com(b"Amelia Hart, Year 4") + jpeg[2:])
    (folder / "jpeg_two_comments.jpg").write_bytes(jpeg[:2] + _com(b"Amelia Hart, Year 4")
                                                   + _com(b"Made with a phone") + jpeg[2:])
    (folder / "jpeg_long_comment.jpg").write_bytes(jpeg[:2] + _com(long_caption) + jpeg[2:])
    buf = io.BytesIO()
    scenery((240, 160)).save(buf, "GIF", comment=long_caption)
    (folder / "gif_long_comment.gif").write_bytes(buf.getvalue())
    buf = io.BytesIO()
    scenery((240, 160)).save(buf, "PNG")
    png = buf.getvalue()
    idat, iend = png.index(b"IDAT") - 4, png.rindex(b"IEND") - 4
    described = _chunk(b"tEXt", b"Description\x00Amelia Hart, Year 4")
    (folder / "control_png_description.png").write_bytes(png[:idat] + described + png[idat:])
    (folder / "png_description_after_idat.png").write_bytes(png[:iend] + described + png[iend:])
    (folder / "png_two_descriptions.png").write_bytes(png[:idat] + described
                                                      + _chunk(b"tEXt", b"Description\x00school trip") + png[idat:])


def face_images(folder: Path) -> None:
    face = face_rgb()
    face.save(folder / "control_face.png")
    arr = np.asarray(face).astype(np.float32)
    # overexposed: everything pushed up and clipped, as a photo taken against the light
    Image.fromarray(np.clip(arr * 0.45 + 150, 0, 255).astype(np.uint8)).save(folder / "face_overexposed.png")
    # sepia
    g = arr.mean(axis=2)
    sepia = np.stack([g * 1.0, g * 0.82, g * 0.6], axis=2)
    Image.fromarray(np.clip(sepia, 0, 255).astype(np.uint8)).save(folder / "face_sepia.jpg", quality=90)
    # the face cut by the frame: only its right ~60% in the picture, in a corner
    big = scenery((900, 700))
    big.paste(face.crop((200, 60, 512, 330)), (0, 0))
    big.save(folder / "face_cut_by_corner.png")
    # a small face (about 40 px), saved at JPEG quality 8
    small = scenery((640, 480))
    head = face.crop((150, 80, 310, 260)).resize((104, 117), Image.LANCZOS)
    small.paste(head, (300, 200))
    small.save(folder / "face_tiny_q8.jpg", quality=8)
    # EXIF orientation 5..8: the stored pixels are turned/transposed; a viewer shows them upright
    stored = {5: Image.Transpose.TRANSPOSE, 7: Image.Transpose.TRANSVERSE}
    for tag, op in stored.items():
        exif = Image.Exif()
        exif[0x0112] = tag
        face.transpose(op).save(folder / f"face_orientation_{tag}.jpg", quality=92, exif=exif)
    # CMYK JPEG and a 16-bit greyscale PNG
    face.convert("CMYK").save(folder / "face_cmyk.jpg", quality=92)
    # a face on a phone screen held up in the photo, a face in a (tinted) mirror, a false-colour
    # "infrared" look
    phone = scenery((1200, 900))
    ImageDraw.Draw(phone).rounded_rectangle((500, 300, 640, 560), 18, fill=(15, 15, 15))
    phone.paste(face.crop((100, 40, 380, 400)).resize((120, 154)), (510, 340))
    phone.save(folder / "face_on_phone.jpg", quality=88)
    Image.fromarray((np.asarray(ImageOps.mirror(face)) * 0.7 + 50).astype(np.uint8)).save(folder / "face_in_mirror.jpg")
    g = arr.mean(axis=2)
    false_colour = np.stack([255 - g * 0.3, g, g * 0.5 + 80], axis=2)
    Image.fromarray(np.clip(false_colour, 0, 255).astype(np.uint8)).save(folder / "face_false_colour.png")
    # a 1 px wide, 20000 px tall strip: nothing to find, but it must not crash the scan
    Image.fromarray(np.full((20000, 1, 3), 128, np.uint8)).save(folder / "strip_1x20000.png")
    g16 = (np.asarray(face.convert("L")).astype(np.uint16) * 257)
    Image.fromarray(g16).save(folder / "face_16bit.png")


def multi_images(folder: Path) -> None:
    face, clean = face_rgb(), scenery((512, 512))
    clean.save(folder / "tiff_pages.tif", save_all=True, append_images=[face])
    clean.save(folder / "gif_frames.gif", save_all=True, append_images=[face], duration=[2000, 100], loop=0)
    clean.save(folder / "apng_frames.png", save_all=True, append_images=[face], duration=[2000, 100], loop=0)
    # an APNG whose default image (shown by non-APNG viewers) is not part of the animation
    clean.save(folder / "apng_hidden_default.png", save_all=True, append_images=[face], default_image=True,
               duration=[100], loop=0)
    # two JPEGs one after the other: a clean one, then the face (some viewers show the last)
    a, b = io.BytesIO(), io.BytesIO()
    clean.save(a, "JPEG", quality=90)
    face.save(b, "JPEG", quality=90)
    (folder / "two_soi.jpg").write_bytes(a.getvalue() + b.getvalue())


def build_batch(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text_images(folder)
    metadata_images(folder)
    face_images(folder)
    multi_images(folder)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> tuple[int, dict[str, dict]]:
    """(exit status, record by file name) of one real scan of the hostile batch."""
    root = tmp_path_factory.mktemp("redteam3")
    make_trust(root)
    (root / "r.csv").write_text(HEADER + PEOPLE, encoding="utf-8")
    (root / "p").mkdir()
    build_batch(root / "batch")
    out = root / "out.jsonl"
    status = cli.main(["scan", str(root / "batch"), "--config", str(root / "screening.toml"),
                       "--workers", "1", "--jsonl", str(out)])
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return status, {Path(r["path"]).name: r for r in records}


def record(scanned, name: str) -> dict:
    assert name in scanned[1], f"{name} was never screened (no record)"
    return scanned[1][name]


def kinds(scanned, name: str) -> set[str]:
    return {r["kind"] for r in record(scanned, name)["reasons"]}


def names_p3001(scanned, name: str) -> bool:
    return any(r.get("person_id") == "P3001" for r in record(scanned, name)["reasons"])


# ---------------------------------------------------------------- controls (must pass today)

SCANNED_SAFE = {
    # name in text: accents, a 600 px name, white on a busy photo, a sign at an angle
    "sign_diacritics.png": "P3004", "sign_diacritics_lower.png": "P3004", "control_sign_no_accents.png": "P3004",
    "name_600px.jpg": "P3001", "white_on_busy.png": "P3001", "sign_perspective.png": "P3001",
    "control_sign.png": "P3001",
    # names in metadata that are read today
    "usercomment_utf16_II.jpg": "P3001", "xmp_control_dc_subject.jpg": "P3001",
    "control_jpeg_comment.jpg": "P3001", "control_png_description.png": "P3001",
}


@pytest.mark.slow
def test_rt3_controls_every_file_is_screened_and_the_plain_cases_are_found(scanned):
    visible = {p.name for p in (Path(r["path"]) for r in scanned[1].values())}
    for name in ("sign_mirrored.png", "usercomment_utf16_MM.jpg", "xmp_person_in_image.jpg",
                 "xmp_mwg_face_region.jpg", "xmp_lightroom_keyword.jpg", "webp_person_in_image.webp",
                 "jpeg_two_comments.jpg", "jpeg_long_comment.jpg", "gif_long_comment.gif",
                 "png_description_after_idat.png", "png_two_descriptions.png"):
        assert name in visible, f"{name} has no record"
    assert record(scanned, "control_face.png")["status"] == "needs_permission"
    assert "unknown_face" in kinds(scanned, "control_face.png")


@pytest.mark.slow
@pytest.mark.parametrize("name, person", sorted(SCANNED_SAFE.items()))
def test_rt3_names_in_text_and_read_metadata_need_permission(scanned, name, person):
    rec = record(scanned, name)
    assert rec["status"] == "needs_permission"
    assert any(r["kind"] == "text" and r.get("person_id") == person for r in rec["reasons"]), rec["reasons"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["face_overexposed.png", "face_sepia.jpg", "face_cut_by_corner.png",
                                  "face_tiny_q8.jpg", "face_orientation_5.jpg", "face_orientation_7.jpg",
                                  "face_cmyk.jpg", "face_16bit.png", "tiff_pages.tif", "gif_frames.gif",
                                  "apng_frames.png", "two_soi.jpg", "apng_hidden_default.png", "face_on_phone.jpg",
                                  "face_in_mirror.jpg", "face_false_colour.png"])
def test_rt3_faces_in_odd_light_framing_and_later_images_are_not_cleared(scanned, name):
    # RT3 faces and formats: all came back safe (a face found, in the later page/frame/image too)
    rec = record(scanned, name)
    assert rec["status"] == "needs_permission"
    assert kinds(scanned, name) & {"unknown_face", "person"}


@pytest.mark.slow
def test_rt3_a_1_by_20000_strip_gets_a_record_and_is_never_cleared_by_a_failed_check(scanned):
    # safe today: an error record (the logo and uniform checks fail on it), no crash; the message is
    # OpenCV's "!dsize.empty() in function 'resize'", which names the check but not the cause
    assert record(scanned, "strip_1x20000.png")["status"] in {"cleared", "error"}
    if record(scanned, "strip_1x20000.png")["status"] == "error":
        assert all(r["detail"] for r in record(scanned, "strip_1x20000.png")["reasons"])


# ---------------------------------------------------------------- findings (unsafe today)


@pytest.mark.slow
def test_rt3_1_a_name_seen_mirrored_through_glass(scanned):
    assert record(scanned, "sign_mirrored.png")["status"] != "cleared"


@pytest.mark.slow
def test_rt3_2_user_comment_in_big_endian_exif(scanned):
    assert names_p3001(scanned, "usercomment_utf16_MM.jpg")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["xmp_person_in_image.jpg", "xmp_mwg_face_region.jpg", "xmp_lightroom_keyword.jpg",
                                  "webp_person_in_image.webp"])
def test_rt3_3_xmp_fields_that_name_the_people_shown(scanned, name):
    assert names_p3001(scanned, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["jpeg_two_comments.jpg", "jpeg_long_comment.jpg", "gif_long_comment.gif",
                                  "png_description_after_idat.png", "png_two_descriptions.png"])
def test_rt3_4_comments_and_text_chunks_pillow_does_not_keep(scanned, name):
    assert names_p3001(scanned, name)


# ---------------------------------------------------------------- file names and links (stand-in checks, fast)
# The stand-in checks of tests/test_scan_cli.py: a photo whose first pixel is red has GPS.

NFC, NFD = unicodedata.normalize("NFC", "Zoë.png"), unicodedata.normalize("NFD", "Zoë.png")
ODD_NAMES = {"new\nline.png": "red", "-rf.png": "blue", NFC: "red", NFD: "blue", "CON.png": "red", "aux": "blue",
             "nul.png": "red", "a b\r.png": "blue"}


@pytest.fixture
def cli_trust(tmp_path, monkeypatch):
    from screening import pool

    from .test_config_register import write_trust
    from .test_scan_cli import fakes

    write_trust(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", fakes)
    (tmp_path / "batch").mkdir()
    return tmp_path


def _photo(path: Path, colour: str) -> None:
    rgb = (255, 0, 0) if colour == "red" else (0, 0, 255)
    Image.fromarray(np.full((40, 60, 3), rgb, np.uint8)).save(path, format="PNG")


def _scan(*paths: str) -> int:
    try:
        return cli.main(["scan", *paths, "--workers", "1", "--jsonl", "out.jsonl"])
    except Exception as exc:  # a traceback instead of a clear error: that is the finding
        raise AssertionError(f"scan crashed: {exc!r}") from exc


def _records(root: Path) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in map(json.loads, (root / "out.jsonl").read_text().splitlines())}


def test_rt3_odd_file_names_each_get_their_own_record(cli_trust):
    # newline, leading dash, the same name in NFC and NFD (two files on Linux), Windows device names
    for name, colour in ODD_NAMES.items():
        _photo(cli_trust / "batch" / name, colour)
    assert _scan("batch") == 1
    got = _records(cli_trust)
    assert set(got) == set(ODD_NAMES)
    for name, colour in ODD_NAMES.items():
        assert got[name]["status"] == ("needs_permission" if colour == "red" else "cleared"), name


def test_rt3_5_control_a_link_to_a_folder_is_reported_not_followed(cli_trust):
    _photo(cli_trust / "batch" / "a.png", "blue")
    (cli_trust / "batch" / "sub").mkdir()
    os.symlink("..", cli_trust / "batch" / "sub" / "up")  # a folder loop
    assert _scan("batch") == 0
    assert set(_records(cli_trust)) == {"a.png"}


@pytest.mark.parametrize("given", ["folder", "path"])
def test_rt3_5_a_symlink_loop_is_an_error_record_not_a_crash(cli_trust, given):
    batch = cli_trust / "batch"
    _photo(batch / "a.png", "red")
    os.symlink("loop-b.png", batch / "loop-a.png")
    os.symlink("loop-a.png", batch / "loop-b.png")
    status = _scan("batch") if given == "folder" else _scan("batch/a.png", "batch/loop-a.png")
    got = _records(cli_trust)
    assert status == 2
    assert got["a.png"]["status"] == "needs_permission"
    assert got["loop-a.png"]["status"] == "error"


@pytest.fixture
def watch_trust(tmp_path, monkeypatch):
    from screening import detectors

    from .test_config_register import write_trust
    from .test_scan_cli import fakes

    write_trust(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(detectors, "build_detectors", fakes)
    from screening import pool

    monkeypatch.setattr(pool, "build_detectors", fakes)
    (tmp_path / "inbox").mkdir()
    return tmp_path


def _once() -> int:
    try:
        return cli.main(["watch", "inbox", "--once", "--workers", "1", "--settle", "0.1", "--grace", "0.2"])
    except Exception as exc:
        raise AssertionError(f"watch crashed: {exc!r}") from exc


def _sorted(root: Path) -> dict[str, str]:
    return {p.name: p.parent.name for p in (root / "screened").rglob("*")
            if (p.is_file() or p.is_symlink()) and not p.name.endswith(".json")}


def test_rt3_odd_file_names_each_end_sorted_by_watch(watch_trust):
    for name, colour in ODD_NAMES.items():
        _photo(watch_trust / "inbox" / name, colour)
    assert _once() == 0
    got = _sorted(watch_trust)
    assert got == {name: "needs-permission" if colour == "red" else "cleared" for name, colour in ODD_NAMES.items()}
    assert not list((watch_trust / "inbox").iterdir())


def test_rt3_6_control_a_dangling_link_is_sorted_into_error(watch_trust):
    _photo(watch_trust / "inbox" / "a.png", "blue")
    os.symlink("nowhere.png", watch_trust / "inbox" / "dangling.png")
    assert _once() == 0
    assert _sorted(watch_trust) == {"a.png": "cleared", "dangling.png": "error"}
    assert (watch_trust / "screened" / "error" / "dangling.png").is_symlink()


def test_rt3_6_a_symlink_loop_in_the_inbox_is_sorted_into_error(watch_trust):
    _photo(watch_trust / "inbox" / "a.png", "blue")
    os.symlink("loop-b.png", watch_trust / "inbox" / "loop-a.png")
    os.symlink("loop-a.png", watch_trust / "inbox" / "loop-b.png")
    status = _once()
    assert _sorted(watch_trust) == {"a.png": "cleared", "loop-a.png": "error", "loop-b.png": "error"}
    assert status == 0
    assert not list((watch_trust / "inbox").iterdir())


def _redact(capsys, *paths: str) -> tuple[int, str]:
    try:
        status = cli.main(["redact", *paths, "--into", "copies", "--workers", "1"])
    except Exception as exc:
        raise AssertionError(f"redact crashed: {exc!r}") from exc
    return status, capsys.readouterr().out


FAKE_LINE = "x.png\ncleared          face-of-a-pupil.jpg"


def test_rt3_7_control_scan_prints_a_newline_in_a_name_escaped(cli_trust, capsys):
    _photo(cli_trust / "batch" / FAKE_LINE, "red")
    _scan("batch")
    out = capsys.readouterr().out
    assert "x.png\\ncleared" in out
    assert not any(line.startswith("cleared") for line in out.splitlines())


@pytest.mark.parametrize("name", [FAKE_LINE, "\u202egnp.exe", "team[bold red]photo.png"])
def test_rt3_7_redact_prints_file_names_escaped(cli_trust, capsys, name):
    _photo(cli_trust / "batch" / name, "red")
    _, out = _redact(capsys, "batch")
    assert "\u202e" not in out
    assert not any(line.startswith("cleared") for line in out.splitlines())
    if "[" in name:
        assert name in out


def test_rt3_7_control_redact_copies_a_plainly_named_file(cli_trust, capsys):
    _photo(cli_trust / "batch" / "team photo.png", "blue")
    status, out = _redact(capsys, "batch")
    assert status == 0 and "team photo.png" in out
    assert (cli_trust / "copies" / "team photo.png").is_file()


def test_rt3_5_redact_given_a_symlink_loop_names_it_instead_of_crashing(cli_trust, capsys):
    batch = cli_trust / "batch"
    os.symlink("loop-b.png", batch / "loop-a.png")
    os.symlink("loop-a.png", batch / "loop-b.png")
    status, _ = _redact(capsys, "batch/loop-a.png")
    assert status == 2


def _permit(capsys, *paths: str) -> tuple[int, str]:
    try:
        status = cli.main(["permit", "--by", "Head of marketing", "--note", "signed form", *paths])
    except Exception as exc:
        raise AssertionError(f"permit crashed: {exc!r}") from exc
    return status, capsys.readouterr().out


def test_rt3_8_control_permit_names_a_plainly_named_file(cli_trust, capsys):
    _photo(cli_trust / "batch" / "team photo.png", "red")
    _scan("batch")
    capsys.readouterr()
    status, out = _permit(capsys, "batch/team photo.png")
    assert status == 0 and "cleared with permission batch/team photo.png" in out


@pytest.mark.parametrize("name", [FAKE_LINE, "\u202egnp.exe", "team[bold red]photo.png"])
def test_rt3_8_permit_prints_file_names_escaped(cli_trust, capsys, name):
    _photo(cli_trust / "batch" / name, "red")
    _scan("batch")
    capsys.readouterr()
    _, out = _permit(capsys, f"batch/{name}")
    assert "\u202e" not in out
    assert not any(line.startswith("cleared  ") for line in out.splitlines())
    if "[" in name:
        assert name in out


def test_rt3_redact_never_writes_through_a_link_already_in_the_copies_folder(cli_trust, capsys):
    batch, outside, copies = cli_trust / "batch", cli_trust / "outside", cli_trust / "copies"
    _photo(batch / "a.png", "blue")
    _photo(batch / "b.png", "blue")
    outside.mkdir()
    copies.mkdir()
    (outside / "victim.png").write_bytes(b"precious")
    os.symlink("../outside/victim.png", copies / "a.png")  # to a file outside
    os.symlink("../outside/new.png", copies / "b.png")  # to nowhere: writing through it would create it
    status, _ = _redact(capsys, "batch")
    assert status == 0
    assert sorted(os.listdir(outside)) == ["victim.png"] and (outside / "victim.png").read_bytes() == b"precious"
    assert (copies / "a.png").is_symlink() and (copies / "b.png").is_symlink()
