"""Fix 33c: a pupil's name in the shapes red team 31 found cleared (RT31-6, 10, 12, 15, 16, 17, 24, 26),
in other spellings real tools write, and the controls that must stay cleared (two families in one
caption, a staff member's own credit, ordinary Photoshop resources, trailing bytes that are no chunks)."""

from __future__ import annotations

import json
import struct

import pytest

from screening.formats import captions, credits
from screening.vision import names as nm

from .test_redteam6 import backdrop, config, jpeg  # noqa: F401
from .test_redteam9 import ascii_
from .test_redteam29 import _exif, _found, _pchunk, _png, c2pa_jpeg
from .test_redteam30 import _iptc_jpeg, _xmp
from .test_redteam31 import _app13, _ps_resource

REGISTER = [("P1", "Amelia Hart"), ("P2", "Tom Smith"), ("P3", "Ella Jones"), ("P4", "Amelia Smith"),
            ("P5", "Amelia O'Hart-Jones")]
MATCHER = nm.Matcher(nm.targets([], REGISTER), floor=0.7)


def _named(text: str, floor: float = 0.85) -> set[str]:
    return {m.target.name for m in MATCHER.find(text) if m.similarity >= floor}


# ---------------------------------------------------------------- siblings sharing a surname (RT31-12)

SIBLINGS = ["Amelia, Tom, and Ella Hart", "AMELIA AND TOM HART", "amelia & tom hart", "Amelia&Tom Hart",
            "Hart, Amelia and Tom", "Photo: Hart, Tom, Ella and Amelia", "Well done to Amelia and Tom Hart!",
            "Amelia, Tom and Ella Hart (Year 4)"]


@pytest.mark.parametrize("caption", SIBLINGS)
def test_a_pupil_named_with_siblings_in_another_spelling_is_found(caption):
    assert "Amelia Hart" in _named(caption)


def test_a_siblings_match_spans_the_list():
    text = "Sports day: Amelia and Tom Hart, 1st"
    m = next(m for m in MATCHER.find(text) if m.target.name == "Amelia Hart")
    assert text[m.start:m.end] == "Amelia and Tom Hart"


def test_a_hyphenated_surname_is_a_siblings_surname():
    assert "Amelia O'Hart-Jones" in _named("Amelia and Tom O'Hart-Jones")


NOT_SIBLINGS = ["Amelia and Tom Hartley", "Amelia Smith and Tom Hart", "Amelia Jones and Tom Hart",
                "Amelia went home and Tom Hart stayed", "Amelia. Tom and Ella Hart", "Well done, Tom and Amelia",
                "Sophie Jones, Amelia and Ella Hart"]


@pytest.mark.parametrize("caption", NOT_SIBLINGS[:5])
def test_another_family_or_a_longer_surname_is_not_the_pupil(caption):
    assert "Amelia Hart" not in _named(caption)


def test_a_surname_first_list_starts_after_no_other_word():
    # 'Jones' is Sophie's surname: Amelia is no Jones, and 'done' is nobody's surname
    assert "Ella Jones" not in _named(NOT_SIBLINGS[6]) and _named(NOT_SIBLINGS[5]) == set()
    assert "Amelia Hart" in _named(NOT_SIBLINGS[6])  # (the list 'Amelia and Ella Hart' is read)


def test_a_long_text_of_lists_is_read_in_linear_time():
    from screening.vision.name_forms import MAX_SIBLINGS, siblings

    pairings = list(siblings("Amelia and Tom Hart, " * 20000 + "ab-" * 50000 + "a, " * 50000))
    assert len(pairings) == 1 and MAX_SIBLINGS >= 1  # the same pairing once, however often written


# ---------------------------------------------------------------- the staff rule, occurrence by occurrence (RT31-24)


def _credited(config, credit: str) -> list[str]:  # noqa: F811
    from screening.detectors.text import TextDetector

    from .test_redteam6 import ReadsNothing

    people = [("S1", "Amelia Hart-Jones", "staff"), ("P1", "Amelia Hart", "pupil"), ("P2", "Tom Smith", "pupil")]
    detector = TextDetector(config, people, engine=ReadsNothing())
    return sorted(f.target_id for f in detector.pupils_in([("EXIF Artist", credit)]))


@pytest.mark.parametrize("credit", ["Amelia Hart-Jones & Amelia Hart", "Photos: Amelia Hart-Jones; Amelia Hart",
                                    "Amelia Hart-Jones, Amelia Hart-Jones and Amelia Hart"])
def test_a_pupil_credited_after_a_staff_member_is_found(config, credit):  # noqa: F811
    assert _credited(config, credit) == ["P1"]


@pytest.mark.parametrize("credit", ["Amelia Hart-Jones", "Amelia Hart-Jones and Amelia Hart-Jones",
                                    "(c) Amelia Hart-Jones 2026, Northfield"])
def test_a_staff_credit_alone_is_still_no_reason(config, credit):  # noqa: F811
    assert _credited(config, credit) == []


def test_a_second_pupil_after_a_staff_member_is_found(config):  # noqa: F811
    assert _credited(config, "Amelia Hart-Jones with Tom Smith") == ["P2"]


# ---------------------------------------------------------------- rights, source, publisher fields (RT31-6, RT31-10)


def test_iptc_contact_and_source_are_credits_not_captions():
    data = _iptc_jpeg((118, b"Amelia Hart"), (115, b"Tom Smith"))
    assert ("IPTC Contact", "Amelia Hart") in credits.photo_credits(data)
    assert ("IPTC Source", "Tom Smith") in credits.photo_credits(data)
    assert not any("Amelia" in text for _, text in captions.photo_captions(data))


def test_a_staff_member_as_the_iptc_contact_is_no_reason(tmp_path, config):  # noqa: F811
    assert _found(tmp_path, config, "contact.jpg", _iptc_jpeg((118, b"Mrs S Jones, Northfield office"))) == {"cleared"}


def test_usage_terms_as_an_attribute_are_read():
    data = _xmp(b"<rdf:Description xmpRights:UsageTerms='Amelia Hart, school use only'/>")
    assert any(text.startswith("Amelia Hart") for _, text in credits.photo_credits(data))


def test_a_c2pa_publisher_organisation_is_no_caption():
    data = c2pa_jpeg("stds.schema-org.CreativeWork", json.dumps(
        {"@type": "CreativeWork", "publisher": {"@type": "Organization", "name": "Amelia Hart Photography"}}).encode())
    assert any("Amelia Hart" in text for _, text in credits.photo_credits(data))
    assert not any("Amelia Hart" in text for _, text in captions.photo_captions(data))


# ---------------------------------------------------------------- a name split over a person's fields (RT31-15)


def test_a_list_of_people_as_structs_is_read_person_by_person():
    data = _xmp(b"<my:People xmlns:my='http://ns.example.com/p/'><rdf:Bag>"
                b"<rdf:li rdf:parseType='Resource'><my:GivenName>Amelia</my:GivenName><my:FamilyName>Jones"
                b"</my:FamilyName></rdf:li><rdf:li><rdf:Description my:GivenName='Tom' my:FamilyName='Hart'/>"
                b"</rdf:li></rdf:Bag></my:People>")
    texts = [text for _, text in captions.photo_captions(data)]
    assert "Amelia Jones" in texts and "Tom Hart" in texts
    assert not any("Amelia Hart" in _named(t) for t in texts)  # two people: no 'Amelia Hart' across them


def test_the_files_own_properties_are_not_joined():
    data = _xmp(b"<dc:title><rdf:Alt><rdf:li xml:lang='x-default'>Amelia</rdf:li></rdf:Alt></dc:title>"
                b"<photoshop:City>Hart</photoshop:City>")
    assert not any("Amelia Hart" in _named(text) for _, text in captions.photo_captions(data))


def test_a_split_name_in_a_c2pa_author_is_a_credit_only():
    data = c2pa_jpeg("stds.schema-org.CreativeWork", json.dumps(
        {"@type": "CreativeWork", "author": {"@type": "Person", "familyName": "Hart", "givenName": "Amelia"}}).encode())
    assert any(_named(text) == {"Amelia Hart"} for _, text in credits.photo_credits(data))
    assert not any(_named(text) for _, text in captions.photo_captions(data))


def test_numbers_of_one_object_are_not_joined_into_a_caption():
    data = c2pa_jpeg("org.example.area", json.dumps({"area": {"x": "0.4821", "y": "0.3578", "unit": "normalized"}}).encode())
    assert not any("0.4821 0.3578" in text for _, text in captions.photo_captions(data))


# ---------------------------------------------------------------- the raw file's name (RT31-16)


def test_the_raw_files_name_written_as_bytes_is_read():
    data = jpeg(backdrop(), exif=_exif({0xC68B: (1, 20, b"AmeliaHart_0001.NEF\x00")}))
    assert any(_named(text) == {"Amelia Hart"} for _, text in captions.photo_captions(data))


def test_crs_raw_file_name_as_an_attribute_is_read():
    data = _xmp(b"<rdf:Description xmlns:crs='http://ns.adobe.com/camera-raw-settings/1.0/' "
                b"crs:RawFileName='C:\\Shoots\\amelia-hart-001.CR3'/>")
    assert any(_named(text) == {"Amelia Hart"} for _, text in captions.photo_captions(data))


def test_a_cameras_raw_file_name_is_cleared(tmp_path, config):  # noqa: F811
    data = jpeg(backdrop(), exif=_exif({0xC68B: ascii_("IMG_0001.CR2")}))
    assert _found(tmp_path, config, "raw_plain.jpg", data) == {"cleared"}


# ---------------------------------------------------------------- Photoshop resources (RT31-17)


def test_a_second_paths_name_is_read():
    data = _app13(_ps_resource(0x07D1, b"\x00" * 26, b"Work path"), _ps_resource(0x07D2, b"\x00" * 26, b"Amelia Hart"))
    assert any(_named(text) == {"Amelia Hart"} for _, text in captions.photo_captions(data))


def test_ordinary_photoshop_resources_are_cleared(tmp_path, config):  # noqa: F811
    version = struct.pack(">IB", 1, 1) + struct.pack(">I", 15) + "Adobe Photoshop".encode("utf-16-be") \
        + struct.pack(">I", 17) + "Adobe Photoshop 7".encode("utf-16-be") + struct.pack(">I", 1)
    data = _app13(_ps_resource(0x03ED, struct.pack(">IHHIHH", 72 << 16, 1, 2, 72 << 16, 1, 2)),
                  _ps_resource(0x0421, version), _ps_resource(0x07D0, bytes(range(26)), b"Path 1"),
                  _ps_resource(0x0BB7, b"\x06Path 1" + b"\x00" * 8))
    assert _found(tmp_path, config, "ps_plain.jpg", data) == {"cleared"}


# ---------------------------------------------------------------- a PNG's chunks after IEND (RT31-26)


def test_a_compressed_or_source_chunk_after_iend_is_read():
    import zlib

    data = _png() + _pchunk(b"zTXt", b"Description\x00\x00" + zlib.compress(b"Amelia Hart")) \
        + _pchunk(b"tEXt", b"Source\x00Tom Smith")
    assert any(_named(text) == {"Amelia Hart"} for _, text in captions.photo_captions(data))
    assert any(_named(text) == {"Tom Smith"} for _, text in credits.photo_credits(data))


def test_bytes_after_iend_that_are_no_chunks_are_cleared(tmp_path, config):  # noqa: F811
    data = _png() + b"\x00" * 64 + b"Amelia Hart"  # padding, then bytes no reader shows
    assert _found(tmp_path, config, "padded.png", data) == {"cleared"}
