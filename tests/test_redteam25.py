"""Red team 25: pictures written as text (formats/textpictures.py) and the clip/Matroska changes.

Each unsafe case is xfail(strict=True) "RT25-N": the face picture comes back `cleared` while the same
face written the way the reader knows is found (the control beside it). SAFE cases are asserted."""

from __future__ import annotations

import base64
import gzip
import io
import json
import struct

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from screening.formats import textpictures
from screening.model import Status

from .clips import write_clip
from .test_carried_gaps import _face_jpeg
from .test_redteam6 import EveryFrameRedFaces, backdrop, jpeg
from .test_video import config, screen  # noqa: F401

FACE = _face_jpeg()
B64 = base64.b64encode(FACE).decode()


def _lines(text: str, width: int = 76) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)]


def _png(chunks: list[tuple[str, str]]) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks:
        info.add_text(key, value)
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def _decide(tmp_path, config, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    s, d = screen(path, config, faces=EveryFrameRedFaces())
    return s, d


def _found(d) -> bool:
    return d.status is Status.NEEDS_PERMISSION and any(r.kind.value == "unknown_face" for r in d.reasons)


# ---------------------------------------------------------------- the control


def test_control_the_face_in_plain_base64_in_a_png_text_chunk_needs_permission(tmp_path, config):
    _, d = _decide(tmp_path, config, "c.png", _png([("Comment", "\n".join(_lines(B64)))]))
    assert _found(d), d.reasons


def test_control_ordinary_png_is_cleared(tmp_path, config):
    _, d = _decide(tmp_path, config, "o.png", _png([("Comment", "Sports day, north field.")]))
    assert d.status is Status.CLEARED, d.reasons


# ---------------------------------------------------------------- unsafe: writings the reader does not know

# RT25-1/2/3, fixed: each line decodes as a run of its own, and the first, a JPEG's start whose
# segments run on to the run's end, is an error (textpictures._runs_off): never cleared.
FIXED = {
    "RT25-1: base64 in a JSON string, its line breaks written as the two characters \\n (a stray 'n' "
    "every 76 shifts each line's alignment)": json.dumps({"thumb": "\n".join(_lines(B64))}),
    "RT25-2: base64 with a stray character every 76 (lines ended by '.')": ".".join(_lines(B64)),
    "RT25-3: base64 as a C/JS string concatenation, each line in quotes":
        "const img =\n" + " +\n".join(f'"{line}"' for line in _lines(B64)) + ";",
}
# RT25-4..10, fixed: read by formats/textlayers.py (numbers a byte, base85, compressed, text in text).
FIXED.update({
    "RT25-4: hex bytes separated by '-' (bytes.hex('-'), .NET BitConverter.ToString)": FACE.hex("-"),
    "RT25-5: hex bytes unpadded, separated by spaces ('%x ' per byte)": " ".join(f"{c:x}" for c in FACE),
    "RT25-6: the bytes as a decimal list (Node's Buffer.toJSON, a JSON byte array)":
        json.dumps({"type": "Buffer", "data": list(FACE)}),
    "RT25-7: base64 of the gzip'd picture ('H4sI...', how JSON and web APIs ship blobs)":
        base64.b64encode(gzip.compress(FACE, mtime=0)).decode(),
    "RT25-8: base64 written twice (base64 of the base64 text)": base64.b64encode(B64.encode()).decode(),
    "RT25-9: hex of the base64 text": B64.encode().hex(),
    "RT25-10: Ascii85 (PDF, PostScript, git binary patches)": base64.a85encode(FACE, wrapcol=76).decode(),
})


@pytest.mark.parametrize("how", list(FIXED))
def test_unsafe_face_written_as_text_in_a_png_text_chunk_is_not_cleared(tmp_path, config, how):
    _, d = _decide(tmp_path, config, "u.png", _png([("Comment", FIXED[how])]))
    assert d.status is not Status.CLEARED, (how, d.reasons)


# RT25-11, fixed: UTF-32 text is read (textpictures._variants)
def test_unsafe_face_in_base64_in_utf32_text(tmp_path, config):
    exif = Image.Exif()
    exif[0x9286] = b"UNICODE\x00" + ("Trip " + B64).encode("utf-32-le")
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "JPEG", quality=90, exif=exif.tobytes())
    _, d = _decide(tmp_path, config, "u32.jpg", out.getvalue())
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- split across two texts


def test_control_base64_in_one_png_chunk_is_found(tmp_path, config):
    _, d = _decide(tmp_path, config, "one.png", _png([("Comment", B64)]))
    assert _found(d), d.reasons


# RT25-12 (fixed: the PNG's text chunks are also read joined, textpictures.across: the face is found)
def test_unsafe_base64_split_across_two_png_text_chunks(tmp_path, config):
    _, d = _decide(tmp_path, config, "two.png", _png([("Comment", B64[:60]), ("Comment", B64[60:])]))
    assert d.status is not Status.CLEARED, d.reasons


def test_safe_base64_split_after_the_frame_header_is_an_error_not_cleared(tmp_path, config):
    """Split late: the first half reaches the frame header, is a cut-off picture: error (fail closed)."""
    half = len(B64) // 2 // 4 * 4
    _, d = _decide(tmp_path, config, "late.png", _png([("Comment", B64[:half]), ("Comment", B64[half:])]))
    assert d.status is not Status.CLEARED, d.reasons


def _with_comments(carrier: bytes, comments: list[bytes]) -> bytes:
    segs = b"".join(b"\xff\xfe" + struct.pack(">H", len(c) + 2) + c for c in comments)
    return carrier[:2] + segs + carrier[2:]


def _big_face() -> bytes:
    """The face JPEG with 60 kB of APP15 data before its frame header (a phone JPEG's EXIF, thumbnail
    and ICC profile take as much), so its base64 is longer than one JPEG comment can hold."""
    rnd = bytes((i * 2654435761 >> 13) & 0x7F for i in range(60000))  # no 0xFF byte
    pad = b"".join(b"\xff\xef" + struct.pack(">H", len(rnd[i:i + 30000]) + 2) + rnd[i:i + 30000]
                   for i in range(0, len(rnd), 30000))
    return FACE[:2] + pad + FACE[2:]


def test_control_big_face_in_base64_in_one_png_chunk_is_found(tmp_path, config):
    _, d = _decide(tmp_path, config, "big.png", _png([("Comment", base64.b64encode(_big_face()).decode())]))
    assert _found(d), d.reasons


# RT25-13 (fixed: the first comment holds a JPEG's start cut off before its frame: an error)
def test_unsafe_big_base64_split_over_two_jpeg_comments(tmp_path, config):
    text = base64.b64encode(_big_face())
    data = _with_comments(jpeg(backdrop()), [text[:65000], text[65000:]])
    _, d = _decide(tmp_path, config, "com.jpg", data)
    assert d.status is not Status.CLEARED, d.reasons


# RT25-14 (fixed: the clip's text tags are also read joined, textpictures.across: the face is found)
def test_unsafe_base64_split_across_two_clip_tags(tmp_path, config):
    path = write_clip(tmp_path / "split.mkv", 1.0, metadata={"title": B64[:60], "comment": B64[60:]})
    s, d = screen(path, config)
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- safe: wrappings that are read


SAFE = {
    "UTF-16 with a byte-order mark": b"\xff\xfe" + ("Note " + B64).encode("utf-16-le"),
    "hex with mixed separators (', ' ':' ';' newlines)": "".join(
        f"{c:02x}" + (", ", ":", ";", "\n", " ")[i % 5] for i, c in enumerate(FACE)).encode(),
    "a data: URI with a space before base64": ("data:image/jpeg; base64," + B64).encode(),
    "base64 with a space every 3 characters (not a multiple of 4)": " ".join(
        B64[i:i + 3] for i in range(0, len(B64), 3)).encode(),
}


@pytest.mark.parametrize("how", SAFE)
def test_safe_wrappings_are_read(how):
    (found,) = textpictures.text_pictures(SAFE[how], "comment")
    assert found.data == FACE


def test_safe_hex_with_one_digit_dropped_is_an_error_not_cleared(tmp_path, config):
    """An odd digit count mid-text shifts the nibbles after it: the picture is found cut and is an error."""
    h = FACE.hex()
    _, d = _decide(tmp_path, config, "odd.png", _png([("Comment", h[:1001] + h[1002:])]))
    assert d.status is Status.ERROR, d.reasons


def test_safe_flac_picture_block_in_a_matroska_audio_tag_is_found(tmp_path, config):
    """Vorbis comment METADATA_BLOCK_PICTURE: base64 of a FLAC picture block (the JPEG at an offset)."""
    mime, desc = b"image/jpeg", b"cover"
    block = struct.pack(">I", 3) + struct.pack(">I", len(mime)) + mime + struct.pack(">I", len(desc)) + desc + \
        struct.pack(">IIIII", 160, 120, 24, 0, len(FACE)) + FACE
    path = write_clip(tmp_path / "flac.mkv", 1.0, audio="aac",
                      audio_tags={"METADATA_BLOCK_PICTURE": base64.b64encode(block).decode()})
    s, d = screen(path, config)
    assert d.status is not Status.CLEARED, d.reasons


# ---------------------------------------------------------------- crests: a black-main academy's half crest under a cast

from screening.detectors.uniforms import HALF_SURE, HALF_WIDTHS, UniformDetector  # noqa: E402
from screening.model import Check, CheckResult, FaceFinding  # noqa: E402
from screening.vision.logo_match import halves  # noqa: E402

from .academy_trust import FakePicture  # noqa: E402
from .test_uniform_halves import _black_blazer, _refs, _with_half, trust  # noqa: E402,F401

CAST = (0.8, 1.15, 1.1)  # a green-blue cast, about the bench's strongest (0.8-1.15 per channel)


@pytest.mark.parametrize("aid,gains", [("tarn", (1, 1, 1)), ("avon", CAST), ("avon", (1, 1, 1))])
def test_control_half_crest_on_black_blazer_is_sure(trust, aid, gains):  # noqa: F811
    torso = _with_half(_black_blazer(), aid, "left", gains=gains)
    found = halves.find_halves(torso, _refs(trust, aid), [120 * f / 0.77 for f in HALF_WIDTHS], floor=0.0)
    assert found and found[0].score >= HALF_SURE


@pytest.mark.xfail(strict=True, reason="RT25-15: the black-and-white academy's half crest on its black blazer under a "
                   "green-blue cast scores 0.42-0.47 (0.998 without the cast; the black-and-maroon one 0.99 under it): the "
                   "cast step is only for whole crests placed by keypoints, halves have none")
@pytest.mark.parametrize("side", ["left", "right"])
def test_unsafe_black_and_white_half_crest_under_a_cast(trust, side):  # noqa: F811
    torso = _with_half(_black_blazer(), "tarn", side, gains=CAST)
    found = halves.find_halves(torso, _refs(trust, "tarn"), [120 * f / 0.77 for f in HALF_WIDTHS], floor=0.0)
    assert found and found[0].score >= HALF_SURE, [(m.side, round(m.score, 3)) for m in found]


def _cut_crest_photo(aid: str, gains) -> Image.Image:
    """The whole uniform scene of test_uniform_halves: a face, a black blazer, the academy's crest cut by the
    frame (its left half in view), under a colour cast, JPEG 85."""
    from .test_uniform_halves import STYLES
    from tests import crests

    photo = np.zeros((420, 300, 3), np.uint8)
    photo[:] = (180, 190, 200)
    photo[125:425, 40:300] = _black_blazer(4)[:295, :260]
    crest = np.asarray(crests.draw_crest(STYLES[aid], 77))
    a = crest[..., 3:4].astype(np.float32) / 255
    y0, x0 = 190, 190
    region = photo[y0:y0 + 77, x0:x0 + 77].astype(np.float32)
    photo[y0:y0 + 77, x0:x0 + 77] = (region * (1 - a) + crest[..., :3] * a).round().astype(np.uint8)
    photo = np.clip(photo[:, :x0 + 39] * np.float32(gains), 0, 255).round().astype(np.uint8)
    return crests.jpeg(Image.fromarray(photo), 85)


def _verdict(trust, image):  # noqa: F811
    """The decision on the logo and uniform checks' real findings (every other check empty: a face consented
    and no location), as decide() makes it."""
    import datetime as dt

    from screening.policy import Rules, decide

    config, logos = trust
    picture = FakePicture(image)
    faces = CheckResult(Check.FACES, ())
    logo = CheckResult(Check.LOGOS, tuple(logos.detect(picture, {})))
    uniform = UniformDetector(config, logos).detect(
        picture, {Check.FACES: CheckResult(Check.FACES, (FaceFinding((80, 0, 100, 100)),)), Check.LOGOS: logo})
    results = [CheckResult(Check.DECODE, ()), faces, logo, CheckResult(Check.UNIFORMS, tuple(uniform)),
               CheckResult(Check.LOCATION, ()), CheckResult(Check.TEXT, ())]
    d = decide(results, Rules("website", dt.date(2026, 10, 1), people={}))
    return d, [f.detail for f in logo.findings + tuple(uniform)] + [r.detail for r in d.reasons]


def test_control_the_black_and_white_academy_s_cut_crest_needs_permission(trust):  # noqa: F811
    d, details = _verdict(trust, _cut_crest_photo("tarn", (1, 1, 1)))
    assert d.status is Status.NEEDS_PERMISSION, details


# RT25-16: a face over the black blazer of the black-and-white academy, its crest cut by the frame, under a
# green-blue cast (0.8/1.15/1.1): logo check 0.42, uniform crest 0.42, the cast step tried and rejected, so it was
# cleared. Since issue 16 crestrecall7 the uniform check's chest search finds the crest (0.72): the part of it in
# the frame judged without the block of it the cast and cut made unlike the reference (logo_match.hidden).
def test_unsafe_cut_crest_on_black_blazer_under_a_cast_is_cleared(trust):  # noqa: F811
    d, details = _verdict(trust, _cut_crest_photo("tarn", CAST))
    assert d.status is not Status.CLEARED, details


# ---------------------------------------------------------------- the cast step and which academy is named


@pytest.fixture(scope="module")
def two_threads(tmp_path_factory):
    """Two academies with the bench's embroidered badge, one in light blue thread (#7fb2e5), one in teal (#7fd2c5)."""
    from screening.config import load_config
    from screening.detectors.logos import LogoDetector
    from tests import crests

    from .test_logo_cast import STYLE

    root = tmp_path_factory.mktemp("threads")
    text = 'trust = "T"\n[consent]\nregister = "r.csv"\nphotos = "p"\n'
    for aid, thread in (("blue", None), ("teal", "#7fd2c5")):
        (root / "logos" / aid).mkdir(parents=True)
        crests.embroidered(STYLE, thread=thread, seed=44).save(root / "logos" / aid / "crest.png")
        text += f'[[academy]]\nid = "{aid}"\nname = "{aid} Academy"\nlogos = "logos/{aid}"\n'
    (root / "screening.toml").write_text(text, encoding="utf-8")
    return LogoDetector(load_config(root / "screening.toml"), cache=root / "cache")


def _named_under(detector, thread, gains) -> list[str]:
    from screening.config import LogoSettings
    from tests import crests

    from .test_logo_cast import STYLE, _scene

    rgb, _ = _scene(crests.embroidered(STYLE, thread=thread, seed=44), gains)
    return sorted(f.academy for f in detector.search(rgb) if f.score >= LogoSettings().min_score)


def test_safe_each_thread_named_without_a_cast_and_blue_under_a_red_cast(two_threads):
    assert _named_under(two_threads, None, (1, 1, 1)) == ["blue"]
    assert _named_under(two_threads, "#7fd2c5", (1, 1, 1)) == ["teal"]
    assert _named_under(two_threads, None, (1.15, 0.9, 0.85)) == ["blue"]


@pytest.mark.xfail(strict=True, reason="RT25-17: the light-blue academy's badge under the green cast (0.89/1.15/0.92) is "
                   "named as the teal academy (score 0.96): still needs_permission, but the reason names ANOTHER "
                   "academy; the same without the cast step (0.95), so the grey-world colour views, not the cast step")
def test_unsafe_blue_badge_under_a_green_cast_is_named_as_the_teal_academy(two_threads):
    from .test_logo_cast import GREEN

    assert _named_under(two_threads, None, GREEN) == ["blue"]


# ---------------------------------------------------------------- pictures in formats the text reader has no signature for


def _as(fmt: str) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.open(io.BytesIO(FACE)).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt,suffix", [("AVIF", "avif"), ("HEIF", "heic")])
def test_control_the_face_as_an_avif_or_heic_file_needs_permission(tmp_path, config, fmt, suffix):
    _, d = _decide(tmp_path, config, f"face.{suffix}", _as(fmt))
    assert _found(d), d.reasons


# RT25-18 (fixed): a data:image/avif or image/heic URI (browsers show them) holds no picture screened
# here: the file is an error (textpictures._declared), never cleared.
@pytest.mark.parametrize("fmt,mime", [("AVIF", "image/avif"), ("HEIF", "image/heic")])
def test_unsafe_face_as_avif_or_heic_data_uri_in_a_png_text_chunk(tmp_path, config, fmt, mime):
    uri = f"data:{mime};base64," + base64.b64encode(_as(fmt)).decode()
    _, d = _decide(tmp_path, config, "uri.png", _png([("Comment", uri)]))
    assert d.status is not Status.CLEARED, d.reasons


def _ico(bitmap_format: str) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(FACE)).convert("RGBA").save(out, "ICO", sizes=[(160, 120)], bitmap_format=bitmap_format)
    return out.getvalue()


def test_control_an_icon_holding_a_png_in_a_data_uri_is_found(tmp_path, config):
    uri = "data:image/x-icon;base64," + base64.b64encode(_ico("png")).decode()
    _, d = _decide(tmp_path, config, "ico.png", _png([("Comment", uri)]))
    assert _found(d), d.reasons


# RT25-19 (fixed: a data:image URI holding no picture screened here is an error)
def test_unsafe_an_icon_holding_a_bmp_dib_in_a_data_uri(tmp_path, config):
    uri = "data:image/x-icon;base64," + base64.b64encode(_ico("bmp")).decode()
    _, d = _decide(tmp_path, config, "icob.png", _png([("Comment", uri)]))
    assert d.status is not Status.CLEARED, d.reasons
