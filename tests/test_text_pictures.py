"""Pictures written as text (formats/textpictures.py): one reader for every place that holds text.

Hostile: a face JPEG written in base64 or hex in every wrapping a tool decodes (alignments, lines,
prefixes, dumps, data: URIs, UTF-16), in a PNG text chunk, a JPEG comment, EXIF UserComment and
XPComment, a clip's comment tag (Matroska, MP4, AVI). Controls: ordinary long text, a hex colour
list, an ICC profile written in hex, random base64 and hex, which hold no picture and are no error."""

from __future__ import annotations

import base64
import hashlib
import io
import random
import struct

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from screening import imaging
from screening.formats import textpictures
from screening.formats.common import ImageError
from screening.model import Status

from .clips import write_clip
from .test_carried_gaps import _cleared, _face_jpeg
from .test_redteam6 import EveryFrameRedFaces, backdrop, jpeg
from .test_video import config, screen  # noqa: F401


def _lines(text: str, width: int = 76, indent: str = "") -> str:
    return ("\n" + indent).join(text[i:i + width] for i in range(0, len(text), width))


def _hexdump_c(data: bytes) -> str:
    """`hexdump -C`: offsets, two groups of 8 bytes, the character column, repeated lines as `*`."""
    out, before, folded = [], None, False
    for at in range(0, len(data), 16):
        line = data[at:at + 16]
        if line == before:
            out += [] if folded else ["*"]
            folded = True
            continue
        before, folded = line, False
        words = " ".join(f"{c:02x}" for c in line[:8]) + "  " + " ".join(f"{c:02x}" for c in line[8:])
        text = "".join(chr(c) if 32 <= c < 127 else "." for c in line)
        out.append(f"{at:08x}  {words:<49} |{text}|")
    return "\n".join(out + [f"{len(data):08x}"])


def _xxd(data: bytes) -> str:
    out = []
    for at in range(0, len(data), 16):
        line = data[at:at + 16]
        words = " ".join(line[i:i + 2].hex() for i in range(0, len(line), 2))
        out.append(f"{at:08x}: {words:<39}  " + "".join(chr(c) if 32 <= c < 127 else "." for c in line))
    return "\n".join(out)


FACE = _face_jpeg()
B64 = base64.b64encode(FACE).decode()
WRITINGS = {
    "base64": B64,
    "base64 after one stray byte (RT22-3)": base64.b64encode(b"\x00" + FACE).decode(),
    "base64 after two stray bytes": base64.b64encode(b"\x01\x02" + FACE).decode(),
    "base64 after one stray character": "Q" + B64,
    "base64 in indented lines": "\n" + _lines(B64, 64, "    "),
    "base64 with CRLF and XML character references": _lines(B64, 76).replace("\n", "&#xA;\r\n"),
    "base64 in groups of four": " ".join(B64[i:i + 4] for i in range(0, len(B64), 4)),
    "URL-safe base64": base64.urlsafe_b64encode(b"xy" + FACE).decode(),
    "a data: URI in base64": "url(data:image/jpeg;base64," + B64 + ")",
    "a percent-encoded data: URI": "data:image/jpeg," + "".join(f"%{c:02X}" for c in FACE),
    "hex": FACE.hex(),
    "upper-case hex after a stray nibble": "a" + FACE.hex().upper(),
    "hex bytes with spaces in lines": _lines(" ".join(f"{c:02x}" for c in FACE), 48),
    "a C array": "{" + ", ".join(f"0x{c:02x}" for c in FACE) + "}",
    "a C array of unpadded numbers": "[" + ", ".join(hex(c) for c in FACE) + "]",
    "escaped bytes": "".join(f"\\x{c:02x}" for c in FACE),
    "ImageMagick's raw profile layout (RT22-14)": f"\ncomment\n{len(FACE):8d}\n" + _lines(FACE.hex(), 72),
    "an xxd dump": _xxd(FACE),
    "a hexdump -C dump with folded lines": _hexdump_c(FACE),
}


@pytest.mark.parametrize("how", WRITINGS)
def test_a_face_written_as_text_decodes_to_the_face(how):
    (found,) = textpictures.text_pictures(("Caption: our trip.\n" + WRITINGS[how] + "\n(end)").encode(), "comment")
    assert found.data == FACE, (how, found.where, len(found.data))
    assert "written in" in found.where


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_face_written_in_utf16_text_decodes_to_the_face(encoding):
    (found,) = textpictures.text_pictures(b"\x00" + ("Note " + B64).encode(encoding), "EXIF XPComment")
    assert found.data == FACE and "UTF-16" in found.where


def _icc_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _prose(n: int) -> str:
    words = ("the school sports day took place on the north field with year six children running the relay "
             "race while parents watched from the benches and teachers kept time").split()
    rng = random.Random(3)
    return ". ".join(" ".join(rng.choice(words) for _ in range(12)).capitalize() for _ in range(n))


BENIGN = {
    "ordinary long text": _prose(2000),
    "one long paragraph without punctuation": _prose(1).replace(". ", " ") * 200,
    "a hex colour list": ", ".join(f"#{random.Random(i).randrange(1 << 24):06x}" for i in range(5000)),
    "an ICC profile written in hex": f"\nicc\n{len(_icc_profile()):8d}\n" + _lines(_icc_profile().hex(), 72),
    "an ICC profile in base64": base64.b64encode(_icc_profile()).decode(),
    "random base64": _lines(base64.b64encode(random.Random(1).randbytes(200_000)).decode()),
    "random URL-safe base64": base64.urlsafe_b64encode(random.Random(2).randbytes(200_000)).decode(),
    "random hex": random.Random(4).randbytes(200_000).hex(),
    "hashes": " ".join(hashlib.sha512(bytes([i])).hexdigest() for i in range(256)),
    "a megabyte of A": "A" * (1 << 20),
    "a megabyte of zeros in hex": "0" * (1 << 20),
}


@pytest.mark.parametrize("what", BENIGN)
def test_control_text_that_holds_no_picture_gives_none(what):
    assert textpictures.text_pictures(BENIGN[what].encode(), "comment") == []


def test_more_pictures_written_in_one_text_than_the_limit_are_refused():
    tiny = [jpeg(backdrop((16 + i, 16))) for i in range(textpictures.MAX_PICTURES + 1)]
    with pytest.raises(ImageError, match="more than"):
        textpictures.text_pictures(" ".join(base64.b64encode(t).decode() for t in tiny).encode(), "comment")


# ---------------------------------------------------------------- whole files


def _png(**text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, value, zip=key.startswith("z"))
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _status(tmp_path, config, name: str, data: bytes):
    """The decision with every check but the text check (its name matching of a long caption is slow,
    and the pictures are what is tested here)."""
    path = tmp_path / name
    path.write_bytes(data)
    _, d = screen(path, config, faces=EveryFrameRedFaces())
    return d


@pytest.mark.parametrize("how", ["an xxd dump", "ImageMagick's raw profile layout (RT22-14)",
                                 "base64 after one stray character"])
def test_a_face_written_as_text_in_a_compressed_png_chunk_needs_permission(tmp_path, config, how):
    d = _status(tmp_path, config, "t.png", _png(zComment=WRITINGS[how]))
    assert d.status is Status.NEEDS_PERMISSION and any("written in" in r.extra.get("view", "") for r in d.reasons), \
        d.reasons


def test_a_cut_off_picture_written_in_base64_makes_the_png_an_error(tmp_path, config):
    """Text that decodes to a picture's start (its frame header) but not to a whole picture."""
    d = _status(tmp_path, config, "t.png", _png(Comment=base64.b64encode(FACE[:len(FACE) * 2 // 3]).decode()))
    assert d.status is Status.ERROR, d.reasons


def _jpeg_with_exif(**tags) -> bytes:
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[{"user_comment": 0x9286, "xp_comment": 0x9C9C}[tag]] = value
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize("where", ["user_comment", "xp_comment", "jpeg_comment"])
def test_a_face_written_as_text_in_a_jpeg_comment_or_exif_text_needs_permission(tmp_path, config, where):
    if where == "jpeg_comment":
        out = io.BytesIO()
        Image.fromarray(backdrop()).save(out, "JPEG", quality=90, comment=FACE.hex().encode())
        data = out.getvalue()
    elif where == "user_comment":
        data = _jpeg_with_exif(user_comment=b"ASCII\x00\x00\x00" + B64.encode())
    else:
        data = _jpeg_with_exif(xp_comment=("Trip " + B64).encode("utf-16-le") + b"\x00\x00")
    d = _status(tmp_path, config, "t.jpg", data)
    assert d.status is Status.NEEDS_PERMISSION and any("written in" in r.extra.get("view", "") for r in d.reasons), \
        d.reasons


def test_control_ordinary_text_everywhere_in_a_photo_is_cleared(tmp_path, config):
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "JPEG", quality=90, comment=_prose(300).encode(),
                                     exif=_jpeg_exif_bytes(BENIGN["random base64"][:20000]))
    assert _status(tmp_path, config, "t.jpg", out.getvalue()).status is Status.CLEARED
    d = _status(tmp_path, config, "t.png", _png(Comment=_prose(500), zColours=BENIGN["a hex colour list"],
                                                zProfile=BENIGN["an ICC profile written in hex"]))
    assert d.status is Status.CLEARED, d.reasons


def _jpeg_exif_bytes(text: str) -> bytes:
    exif = Image.Exif()
    exif[0x9286] = b"ASCII\x00\x00\x00" + text.encode()
    return exif.tobytes()


def test_the_exif_thumbnail_of_a_hex_profile_is_screened_once(tmp_path):
    """ImageMagick's "Raw profile type exif" is read by the EXIF reader and, as text, by this one:
    the thumbnail both find is one view (formats.distinct)."""
    exif = _with_thumbnail(jpeg(backdrop((160, 120))))
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", f"\nexif\n{len(exif):8d}\n" + _lines(exif.hex(), 72), zip=True)
    buf = io.BytesIO()
    Image.fromarray(backdrop()).save(buf, "PNG", pnginfo=info)
    path = tmp_path / "p.png"
    path.write_bytes(buf.getvalue())
    picture = imaging.load(path)
    assert len([v for v in picture.views if v] + picture.repeats) == 1, (picture.views, picture.repeats)


def _with_thumbnail(thumb: bytes) -> bytes:
    """An EXIF block ("Exif\\0\\0", little-endian TIFF): IFD0 of one ImageDescription, IFD1 pointing to `thumb`."""
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHI4s", 0x010E, 2, 4, b"tri\x00") + struct.pack("<I", 26)
    ifd1 = struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, 56) + \
        struct.pack("<HHII", 0x0202, 4, 1, len(thumb)) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd0 + ifd1 + thumb


# ---------------------------------------------------------------- clips (RT22-8)


@pytest.mark.parametrize("suffix", [".mkv", ".mp4", ".avi"])
@pytest.mark.parametrize("how", ["base64", "hex"])
def test_a_face_written_as_text_in_a_clip_comment_tag_needs_permission(tmp_path, config, suffix, how):
    text = B64 if how == "base64" else FACE.hex()
    path = write_clip(tmp_path / f"tag{suffix}", 1.0, metadata={"comment": text})
    s, d = screen(path, config)
    assert d.status is Status.NEEDS_PERMISSION, (d.reasons, [r.error for r in s.results if r.error])
    assert any(f"written in {how}" in r.extra.get("view", "") for r in d.reasons), d.reasons


@pytest.mark.parametrize("suffix", [".mkv", ".mp4", ".avi"])
def test_control_a_clip_with_long_ordinary_and_random_text_tags_is_cleared(tmp_path, config, suffix):
    path = write_clip(tmp_path / f"plain{suffix}", 1.0, metadata={
        "comment": _prose(40), "title": BENIGN["random base64"][:3000], "description": BENIGN["random hex"][:3000]})
    _cleared(tmp_path, config, f"copy{suffix}", path.read_bytes())


def test_the_one_picture_after_megabytes_of_base64_and_hex_digits_is_found():
    """Not a timing test (bench/bench_text_pictures.py measures the cost): long runs that decode to
    nothing do not hide the picture after them."""
    text = b"A" * (2 << 20) + b" " + b"0" * (2 << 20) + b" " + B64.encode()
    (found,) = textpictures.text_pictures(text, "comment")
    assert found.data == FACE


# ---------------------------------------------------------------- split across a file's texts (RT25-12/14)


def test_a_face_split_across_two_texts_is_read_from_their_joined_text():
    """The first text is under 48 bytes decoded: never decoded alone."""
    (found,) = textpictures.across([B64[:60].encode(), b"  ", B64[60:].encode()], "texts")
    assert found.data == FACE and found.where == "picture written in base64 in the texts"


def test_a_face_whole_in_one_text_is_left_to_its_own_reader_and_random_texts_hold_none():
    assert textpictures.across([B64.encode(), b"Sports day, north field."], "texts") == []
    assert textpictures.across([BENIGN["random base64"][:5000].encode(), BENIGN["random base64"][5000:].encode()],
                               "texts") == []


def test_a_face_split_across_two_texts_in_the_other_order_is_an_error():
    """Its start, in the last text, runs off the end of the joined text: cut off, never passed over."""
    with pytest.raises(ImageError):
        textpictures.across([B64[60:].encode(), B64[:60].encode()], "texts")


def test_a_face_split_across_two_jpeg_comments_needs_permission(tmp_path, config):
    carrier = jpeg(backdrop())
    comments = b"".join(b"\xff\xfe" + struct.pack(">H", len(c) + 2) + c for c in (B64[:60].encode(), B64[60:].encode()))
    d = _status(tmp_path, config, "two.jpg", carrier[:2] + comments + carrier[2:])
    assert d.status is Status.NEEDS_PERMISSION and any("joined text" in r.extra.get("view", "") for r in d.reasons), \
        d.reasons
