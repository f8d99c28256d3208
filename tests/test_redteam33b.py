"""Red team 33b: round 33's name changes attacked (fix33c: siblings sharing a surname, a person's
fields joined, the staff rule occurrence by occurrence, Photoshop resource names and text, PNG text
after IEND).

Every file is built here, small (the text check runs on metadata with an OCR that reads nothing; the
register of tests/test_redteam6 holds one pupil, Amelia Hart). A case the product gets wrong is
xfail(strict=True) with "RT33b-N: what, why it matters, the fix" in its reason; controls (the same
payload where the product still looks) are plain tests beside them.

High (a pupil's name cleared):
- RT33b-1: a sibling list where a forename has a middle name ("Amelia Rose and Tom Hart");
- RT33b-2: the surname before the list after other words ("the Hart twins, Amelia and Tom", "Hart
  siblings: Amelia and Tom", "Amelia and Tom from the Hart family");
- RT33b-3: words inside the list ("Amelia (Year 4) and Tom Hart (Year 6)", "Amelia and her brother Tom
  Hart", "Miss Amelia and Master Tom Hart") or other joiners ("Amelia + Tom Hart", "Amelia / Tom
  Hart", "Amelia or Tom Hart", "Amelia and Tom (Hart)");
- RT33b-4 (a regression of this round: found at 8d64123): a credit naming a staff member and a pupil
  who share a surname ("Photos: Tom and Amelia Hart", Tom Hart staff): the staff member's sibling
  pairing spans the whole list, so it "explains" the pupil's match inside it and the pupil is excused;
- RT33b-5: a person's given/family name in a C2PA assertion as JSON-LD arrays or value objects
  ("givenName": [{"@value": "Amelia"}], expanded form): each part read, never joined;
- RT33b-6: an XMP struct whose name fields are language alternatives (rdf:Alt): not joined.
Medium:
- RT33b-7 (new this round): every Photoshop resource not in PHOTOSHOP_BINARY is now read as strings
  (Windows DEVMODE 0x043D, plug-in resources 0x0FA0.., print flags 0x2710, print info 0x043A):
  binary there holds chance postcodes (1 of 400 random 4 KB bodies: seed 312, "E9U 9UP") and the
  file is flagged for a location; the same bytes in an unparsed APPn segment are cleared (RT31-18's
  worded-runs rule is not applied to Photoshop resources);
- RT33b-8 (new this round): a "Surname, Forename" list ("Hart, Tom, Smith, Amelia and Jones, Ella",
  as MIS exports and team sheets write names) is read as the Harts' sibling list: Amelia Hart flagged;
- RT33b-9 (low): a list of more than 8 forenames drops the first ones.
Resisted: sibling lists over line breaks (LF, CRLF: the text is joined to one line first), with a
double-barrelled surname ("Amelia and Tom Hart-Smith"), in a credit field; a struct's plain fields
in either order or with other fields between them; a plain C2PA 'about' Person; "Hart, Tom and
Smith, Amelia" (two pairs); the staff rule for "Tom Hart and Amelia Hart", "Hart, Tom and Amelia" and
"Amelia and Tom Hart" (pupil first); a PNG followed by a JPEG, a tool's text line, a second IEND,
a chunk with a bad CRC (cleared, no error).
"""

from __future__ import annotations

import json
import random

import pytest

from .test_redteam6 import backdrop, config, jpeg  # noqa: F401
from .test_redteam9 import ascii_
from .test_redteam29 import _exif, _found, _pchunk, _png, c2pa_jpeg
from .test_redteam30 import _xmp
from .test_redteam31 import _app13, _appn, _ps_resource


def _captioned(text: str) -> bytes:
    """A plain JPEG whose EXIF ImageDescription is `text`."""
    return jpeg(backdrop(), exif=_exif({0x010E: ascii_(text)}))


def _credit(text: str) -> bytes:
    """A plain JPEG whose EXIF Artist is `text`."""
    return jpeg(backdrop(), exif=_exif({0x013B: ascii_(text)}))


def _xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


# ================================================================ siblings sharing a surname


RESISTED = ["Amelia and Tom Hart", "Amelia and Tom\nHart", "Amelia and\r\nTom Hart", "Amelia and Tom Hart-Smith"]


@pytest.mark.parametrize("caption", RESISTED)
def test_rt33b_control_a_sibling_list_is_found(tmp_path, config, caption):
    assert "text" in _found(tmp_path, config, "siblings.jpg", _captioned(caption))


def test_rt33b_control_a_sibling_list_in_a_credit_is_found(tmp_path, config):
    assert "text" in _found(tmp_path, config, "siblings_credit.jpg", _credit("Amelia and Tom Hart"))


# RT33b-1 (a middle name), RT33b-2 (the surname before the list after other words) and RT33b-3 (words
# and other joiners inside the list): fixed (were strict xfails); the sibling lists below are found.
SIBLINGS = {
    "middle name": "Amelia Rose and Tom Hart",
    "the Hart twins": "the Hart twins, Amelia and Tom",
    "Hart siblings:": "Hart siblings: Amelia and Tom",
    "the Hart family": "Amelia and Tom from the Hart family",
    "years in brackets": "Amelia (Year 4) and Tom Hart (Year 6)",
    "her brother": "Amelia and her brother Tom Hart",
    "titles": "Miss Amelia and Master Tom Hart",
    "plus": "Amelia + Tom Hart",
    "slash": "Amelia / Tom Hart",
    "or": "Amelia or Tom Hart",
    "surname in brackets": "Amelia and Tom (Hart)",
    "nine forenames": "Amelia, Tom, Ella, Grace, Ben, Sam, Ava, Leo and Max Hart",  # RT33b-9: fixed (was a strict xfail)
}


@pytest.mark.parametrize("caption", SIBLINGS.values(), ids=list(SIBLINGS))
def test_rt33b_a_pupil_in_another_sibling_list_is_not_cleared(tmp_path, config, caption):
    assert "text" in _found(tmp_path, config, "siblings.jpg", _captioned(caption))


@pytest.mark.parametrize("credit", ["Amelia Rose and Tom Hart", "the Hart twins, Amelia and Tom"])
def test_rt33b_a_pupil_in_a_sibling_list_credit_is_not_cleared(tmp_path, config, credit):
    assert "text" in _found(tmp_path, config, "siblings_credit.jpg", _credit(credit))


# ================================================================ the sibling pairing inventing a pupil


def test_rt33b_control_two_surname_first_pairs_are_no_sibling_list(tmp_path, config):
    assert _found(tmp_path, config, "pairs.jpg", _captioned("Hart, Tom and Smith, Amelia")) == {"cleared"}


# RT33b-8: fixed (was a strict xfail): a 'Surname, Forename' list of three is no list of Harts
def test_rt33b_8_a_list_of_surname_forename_pairs_invents_no_pupil(tmp_path, config):
    assert _found(tmp_path, config, "pairs3.jpg", _captioned("Hart, Tom, Smith, Amelia and Jones, Ella")) == {"cleared"}


# ================================================================ the staff rule (credits)


def _credited(config, staff: str, pupil: str, credit: str) -> list[str]:  # noqa: F811
    from screening.detectors.text import TextDetector

    from .test_redteam6 import ReadsNothing

    detector = TextDetector(config, [("S1", staff, "staff"), ("P1", pupil, "pupil")], engine=ReadsNothing())
    return sorted({f.target_id for f in detector.pupils_in([("EXIF Artist", credit)])})


@pytest.mark.parametrize("credit", ["Tom Hart and Amelia Hart", "Hart, Tom and Amelia", "Amelia and Tom Hart"])
def test_rt33b_control_a_pupil_credited_with_a_staff_member_of_her_surname_is_found(config, credit):  # noqa: F811
    assert _credited(config, "Tom Hart", "Amelia Hart", credit) == ["P1"]


def test_rt33b_control_the_staff_member_alone_is_no_reason(config):  # noqa: F811
    assert _credited(config, "Tom Hart", "Amelia Hart", "Photos: Tom Hart") == []


# RT33b-4: fixed (was a strict xfail)
@pytest.mark.parametrize("staff,pupil,credit", [
    ("Tom Hart", "Amelia Hart", "Photos: Tom and Amelia Hart"),
    ("Ella Hart", "Tom Hart", "Ella and Tom Hart"),
    ("Tom Hart", "Amelia Hart", "Tom, Ella and Amelia Hart")])
def test_rt33b_4_a_staff_members_sibling_pairing_excuses_no_pupil(config, staff, pupil, credit):  # noqa: F811
    assert _credited(config, staff, pupil, credit) == ["P1"]


# ================================================================ a name split over fields


def _person(given, family, key: str = "about") -> bytes:
    return c2pa_jpeg("stds.schema-org.CreativeWork", json.dumps(
        {"@type": "CreativeWork", key: {"@type": "Person", "givenName": given, "familyName": family}}).encode())


def test_rt33b_control_a_c2pa_persons_plain_fields_are_joined(tmp_path, config):
    assert "text" in _found(tmp_path, config, "c2pa_person.jpg", _person("Amelia", "Hart"))


# RT33b-5: fixed (was a strict xfail): a C2PA person's name fields as JSON-LD lists or value objects
C2PA_SPLIT = {
    "value objects in lists (author)": pytest.param(
        lambda: _person([{"@value": "Amelia"}], [{"@value": "Hart"}], "author")),
    "lists (author)": pytest.param(lambda: _person(["Amelia"], ["Hart"], "author")),
    "language-tagged values (about)": pytest.param(lambda: _person(
        {"@value": "Amelia", "@language": "en"}, {"@value": "Hart", "@language": "en"})),
}


@pytest.mark.parametrize("make", C2PA_SPLIT.values(), ids=list(C2PA_SPLIT))
def test_rt33b_5_a_c2pa_persons_name_in_json_ld_forms_is_not_cleared(tmp_path, config, make):
    assert "text" in _found(tmp_path, config, "c2pa_split.jpg", make())


def _xmp_person(given: bytes, family: bytes, between: bytes = b"") -> bytes:
    return _xmp(b"<my:Person xmlns:my='http://ns.example.com/p/' rdf:parseType='Resource'>"
                b"<my:GivenName>" + given + b"</my:GivenName>" + between
                + b"<my:FamilyName>" + family + b"</my:FamilyName></my:Person>")


@pytest.mark.parametrize("between", [b"", b"<my:Age>9</my:Age><my:Year>Year 4</my:Year>"])
def test_rt33b_control_an_xmp_structs_plain_fields_are_joined(tmp_path, config, between):
    assert "text" in _found(tmp_path, config, "xmp_person.jpg", _xmp_person(b"Amelia", b"Hart", between))


# RT33b-6: fixed (was a strict xfail)
def test_rt33b_6_an_xmp_structs_language_alternative_fields_are_joined(tmp_path, config):
    def alt(text: bytes) -> bytes:
        return b"<rdf:Alt><rdf:li xml:lang='x-default'>" + text + b"</rdf:li></rdf:Alt>"

    assert "text" in _found(tmp_path, config, "xmp_alt.jpg", _xmp_person(alt(b"Amelia"), alt(b"Hart")))


# ================================================================ Photoshop resources read as text

_BINARY = random.Random(312).randbytes(4096)  # its strings hold a chance postcode ('E9U 9UP': 1 seed of 400)


def test_rt33b_control_the_same_binary_in_an_unparsed_appn_segment_is_cleared(tmp_path, config):
    assert _found(tmp_path, config, "appn.jpg", _appn(0xE6, b"GoPro\x00" + _BINARY)) == {"cleared"}


# RT33b-7: fixed (was a strict xfail)
@pytest.mark.parametrize("rid", [0x043D, 0x043A, 0x2710, 0x0FA0], ids=["DEVMODE", "print info", "print flags", "plug-in"])
def test_rt33b_7_binary_photoshop_resources_hold_no_postcode(tmp_path, config, rid):
    assert _found(tmp_path, config, "ps_binary.jpg", _app13(_ps_resource(rid, _BINARY))) == {"cleared"}


# ================================================================ PNG trailers real tools leave (resisted)

TRAILERS = {"a JPEG appended": lambda: jpeg(backdrop()), "a tool's text line": lambda: b"Created with SomeTool v1.2\n",
            "a second IEND": lambda: _pchunk(b"IEND", b""),
            "a chunk with a bad CRC": lambda: b"\x00\x00\x00\x05tEXta\x00bcd\x00\x00\x00\x00"}


@pytest.mark.parametrize("make", TRAILERS.values(), ids=list(TRAILERS))
def test_rt33b_control_a_png_trailer_is_cleared(tmp_path, config, make):
    assert _found(tmp_path, config, "trailer.png", _png() + make()) == {"cleared"}
