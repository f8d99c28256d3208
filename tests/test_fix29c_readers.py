"""Names and links where red team 29 found the readers did not look (RT29-6/7, 12 to 17, 22, 27,
28, 33): variants of its cases, and ordinary files that must stay cleared.

The files are built as in tests/test_redteam29.py (stand-in checks, an OCR that reads nothing);
a real camera file's strings are read from ../shared/data when it is there."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from screening.formats import captions, credits
from screening.formats.icc import profile_names
from screening.formats.pixels import shown_already
from screening.formats.strings import printable_strings
from screening.vision import names as nm

from .test_redteam6 import backdrop, config, exif_with_thumbnail, insert_segments, jpeg, segment  # noqa: F401
from .test_redteam9 import ascii_, photoshop_iptc
from .test_redteam29 import PUPIL, _box, _clip_kinds, _clip_with_udta, _exif, _found, _photoshop_url, _xmp_ns_jpeg

_DC_NS = b' xmlns:dc="http://purl.org/dc/elements/1.1/"'
_MM_NS = (b' xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"'
          b' xmlns:stRef="http://ns.adobe.com/xap/1.0/sType/ResourceRef#"')
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


# ---------------------------------------------------------------- strings of binary blocks


def test_printable_strings_reads_utf8_and_utf16_of_either_order_and_drops_binary():
    blob = (b"\x01\x02\xff" + "José García".encode() + b"\x00\x9c\x00"
            + "Amelia Hart".encode("utf-16-be") + b"\x00\x07" + "Zoë Ng is here".encode("utf-16-le")
            + bytes(range(256)) * 4)
    found = printable_strings(blob)
    assert "José García" in found
    assert any("Amelia Hart" in s for s in found)
    assert any("Zoë Ng is here" in s for s in found)
    assert not any("\x00" in s or not s.isprintable() for s in found)


@pytest.mark.parametrize("seed", range(3))
def test_random_bytes_give_short_strings_and_never_raise(seed):
    """Binary data (invalid UTF-8, surrogates' bytes included) is read without error; what reads as
    text in it is short runs, some 6% of its bytes."""
    blob = np.random.default_rng(seed).integers(0, 256, 1 << 16, dtype=np.uint8).tobytes() + b"\xed\xa0\x80abcd"
    found = printable_strings(blob)
    assert max(map(len, found)) < 20 and sum(map(len, found)) < 0.1 * len(blob)


@pytest.mark.parametrize("note", [b"Nikon\x00\x02\x10\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x00\x08",
                                  b"\x01\x00\x09\x00\x02\x00\x20\x00\x00\x00"],  # Nikon's and Canon's heads
                         ids=["nikon", "canon"])
def test_a_pupils_name_in_another_makers_note_is_text(tmp_path, config, note):
    mn = note + f"{PUPIL}\x00".encode() + b"\x00" * 8
    data = jpeg(backdrop(), exif=_exif({0x0112: (3, 1, b"\x01\x00")}, {0x927C: (7, len(mn), mn)}))
    assert "text" in _found(tmp_path, config, "note.jpg", data)


@pytest.mark.parametrize("maker", ["panasonic", "other"])
def test_a_maker_note_without_a_name_is_cleared(tmp_path, config, maker):
    if maker == "panasonic":
        from .test_redteam29 import panasonic_exif

        exif = panasonic_exif({0x0025: ascii_("DMC-FZ30 0131 Normal AUTO", 7), 0x0026: (7, 256, bytes(range(256)))})
    else:
        mn = b"FUJIFILM\x0c\x00\x00\x00" + b"FinePix X100 Normal AUTO" + bytes(range(256))
        exif = _exif({0x0112: (3, 1, b"\x01\x00")}, {0x927C: (7, len(mn), mn)})
    assert _found(tmp_path, config, f"plain_note_{maker}.jpg", jpeg(backdrop(), exif=exif)) == {"cleared"}


def test_an_appn_segment_of_unknown_kind_naming_a_pupil_is_text(tmp_path, config):
    data = insert_segments(jpeg(backdrop()), segment(0xE7, b"Vendor\x00" + f"subject={PUPIL}".encode()))
    assert "text" in _found(tmp_path, config, "app7.jpg", data)


def test_an_appn_segment_without_a_name_is_cleared(tmp_path, config):
    body = b"Ducky" + struct.pack(">HHI", 1, 4, 60) + b"\x00\x00"  # Save for Web: the quality only
    data = insert_segments(jpeg(backdrop()), segment(0xEC, body), segment(0xE7, b"Qualcomm Camera Attributes v2"))
    assert _found(tmp_path, config, "ducky.jpg", data) == {"cleared"}


@pytest.mark.skipif(not _SHARED.is_dir(), reason="../shared/data is absent")
def test_real_camera_files_maker_notes_name_nobody_of_a_register_of_common_names():
    """Lumix, Nikon, Canon, iPhone... maker notes and APPn segments of ../shared/data: read, and no
    common British name (2,300 of them) is found there at the similarity that counts (0.85)."""
    first = "Amelia Oliver Jack Harry George Noah Olivia Isla Emily Lily Ella Ali Zoe Alex Ian Tom Ann Eva".split()
    last = "Hart Smith Jones Taylor Brown Hill Li Ng Lee King Wood Green Hall Patel Khan Doe".split()
    matcher = nm.Matcher(nm.targets([], [(f"{f}{s}", f"{f} {s}") for f in first for s in last]))
    read = 0
    for path in sorted(_SHARED.glob("exif-samples/**/*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".heic"):
            continue
        data = path.read_bytes()
        for where, text in captions.photo_captions(data) + credits.photo_credits(data):  # (maker notes: credits)
            if "maker note" in where or "APP" in where:
                read += 1
                assert not [m for m in matcher.find(" ".join(text.split())) if m.similarity >= 0.85], (path, where)
    assert read > 20


# ---------------------------------------------------------------- lists, blank letters, earlier names, links


def test_a_pupils_surname_and_forename_as_two_keywords_are_text(tmp_path, config):
    data = _xmp_ns_jpeg(b"<dc:subject><rdf:Bag><rdf:li>Hart</rdf:li><rdf:li>Amelia</rdf:li></rdf:Bag></dc:subject>",
                        _DC_NS)
    assert "text" in _found(tmp_path, config, "hart_amelia.jpg", data)


def test_ordinary_keywords_are_cleared(tmp_path, config):
    data = insert_segments(jpeg(backdrop()), photoshop_iptc((25, b"Sports"), (25, b"Day"), (25, b"Relay")))
    assert _found(tmp_path, config, "sports.jpg", data) == {"cleared"}


def test_a_hangul_filler_between_other_words_is_cleared(tmp_path, config):
    data = jpeg(backdrop(), exif=_exif({0x010E: ascii_("Sports\u3164day\uffa0relay")}))
    assert _found(tmp_path, config, "filler.jpg", data) == {"cleared"}


def test_a_windows_path_in_derived_from_is_read_as_a_file_name(tmp_path, config):
    body = b'<xmpMM:DerivedFrom stRef:filePath="C:\\Users\\office\\Amelia_Hart_Y4.psd"/>'
    assert "text" in _found(tmp_path, config, "IMG_0043.jpg", _xmp_ns_jpeg(body, _MM_NS))


def test_an_ordinary_earlier_file_name_is_cleared(tmp_path, config):
    body = b"<xmpMM:PreservedFileName>DSC_0042.NEF</xmpMM:PreservedFileName>"
    assert _found(tmp_path, config, "IMG_0044.jpg", _xmp_ns_jpeg(body, _MM_NS)) == {"cleared"}


def test_an_ordinary_link_as_rdf_resource_and_in_photoshops_url_is_cleared(tmp_path, config):
    data = _xmp_ns_jpeg(b'<dc:relation rdf:resource="https://example.sch.uk/news/sports-day-2026"/>', _DC_NS)
    assert _found(tmp_path, config, "link.jpg", data) == {"cleared"}
    assert _found(tmp_path, config, "ps.jpg", _photoshop_url(b"https://example.sch.uk/news")) == {"cleared"}


# ---------------------------------------------------------------- colour profiles


def _profile_named(name: str) -> bytes:
    """LittleCMS's sRGB profile whose 'desc' tag (v4 multiLocalizedUnicode) is `name`."""
    raw = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    text = name.encode("utf-16-be")
    desc = b"mluc" + b"\x00" * 4 + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(text), 28) + text
    (count,) = struct.unpack_from(">I", raw, 128)
    for i in range(count):
        if raw[132 + 12 * i:136 + 12 * i] == b"desc":
            struct.pack_into(">II", raw, 136 + 12 * i, len(raw), len(desc))
    raw += desc + b"\x00" * (-len(desc) % 4)
    struct.pack_into(">I", raw, 0, len(raw))
    return bytes(raw)


def test_the_icc_profile_description_is_read():
    assert PUPIL in profile_names(_profile_named(PUPIL))
    assert profile_names(b"\x00" * 100) == []


def test_a_jpeg_whose_icc_profile_is_named_after_a_pupil_is_text(tmp_path, config):
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "JPEG", icc_profile=_profile_named(PUPIL))
    assert "text" in _found(tmp_path, config, "icc.jpg", out.getvalue())


def test_a_jpeg_with_an_ordinary_srgb_profile_is_cleared(tmp_path, config):
    out = io.BytesIO()
    Image.fromarray(backdrop()).save(out, "JPEG", icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    assert _found(tmp_path, config, "srgb.jpg", out.getvalue()) == {"cleared"}


# ---------------------------------------------------------------- a clip's user data


def test_a_pupils_name_in_a_clips_3gpp_performer_is_text(tmp_path, config):
    text = f"{PUPIL} and the choir".encode()
    path = _clip_with_udta(tmp_path, "perf.mp4", _box(b"perf", b"\x00" * 4 + struct.pack(">H", 0x15C7) + text + b"\x00"))
    assert "text" in _clip_kinds(path, config)


def test_a_clips_ordinary_3gpp_title_is_cleared(tmp_path, config):
    text = b"Sports day relay"
    path = _clip_with_udta(tmp_path, "titl.mp4", _box(b"titl", b"\x00" * 4 + struct.pack(">H", 0x15C7) + text + b"\x00"))
    assert _clip_kinds(path, config) == {"cleared"}


# ---------------------------------------------------------------- thumbnails differing in colour only


def _checker(grey: int) -> np.ndarray:
    ys, xs = np.mgrid[0:240, 0:320]
    return np.clip(grey + ((xs // 20 + ys // 20) % 2 * 30).astype(int) - 15, 0, 255).astype(np.uint8)[..., None].repeat(3, 2)


@pytest.mark.parametrize("colour", [(0, 0, 255), (0, 128, 0)], ids=["blue", "green"])
def test_a_square_of_another_colour_as_bright_as_the_photo_is_not_a_copy(colour):
    main = _checker(int(0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]))
    thumb = main[::2, ::2].copy()
    thumb[40:80, 60:100] = colour
    assert not shown_already(thumb, [main])


def test_a_colour_photos_thumbnail_is_still_a_copy():
    rng = np.random.default_rng(7)
    main = np.kron(rng.integers(0, 256, (24, 32, 3)), np.ones((10, 10, 1))).astype(np.uint8)
    thumb = np.asarray(Image.fromarray(main).resize((160, 120), Image.LANCZOS))
    assert shown_already(thumb, [main])
    assert shown_already(np.asarray(Image.fromarray(main).convert("L").resize((160, 120))), [np.asarray(Image.fromarray(main).convert("L"))[..., None].repeat(3, 2)])


def test_a_thumbnail_with_a_coloured_square_in_a_real_file_is_screened(tmp_path, config):
    main = _checker(76)
    thumb = main[::2, ::2].copy()
    thumb[40:80, 60:100] = (255, 0, 0)
    data = jpeg(main, exif=exif_with_thumbnail(jpeg(thumb)))
    assert "unknown_face" in _found(tmp_path, config, "thumb.jpg", data)


# ---------------------------------------------------------------- place names in a Lumix maker note


def test_the_city_alone_in_a_panasonic_maker_note_is_a_location(tmp_path, config):
    from .test_redteam29 import panasonic_exif

    data = jpeg(backdrop(), exif=panasonic_exif({0x006D: ascii_("Leeds", 7)}))
    assert "location" in _found(tmp_path, config, "lumix_city.jpg", data)


def test_a_panasonic_maker_note_with_no_place_is_cleared(tmp_path, config):
    from .test_redteam29 import panasonic_exif

    data = jpeg(backdrop(), exif=panasonic_exif({0x006D: ascii_("---", 7), 0x0001: (3, 1, b"\x02\x00")}))
    assert _found(tmp_path, config, "lumix_none.jpg", data) == {"cleared"}


def test_a_panasonic_maker_note_whose_directory_is_cut_off_is_never_cleared(tmp_path, config):
    from .test_redteam29 import panasonic_exif

    block = bytearray(panasonic_exif({0x006D: ascii_("Leeds", 7)}))
    at = block.index(b"Panasonic\x00\x00\x00") + 12
    block[at:at + 2] = b"\xff\x00"  # 255 entries: more than the block holds
    data = jpeg(backdrop(), exif=bytes(block))
    assert _found(tmp_path, config, "lumix_cut.jpg", data) != {"cleared"}
