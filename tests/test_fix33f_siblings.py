"""Fix 33f: siblings sharing a surname in the shapes red team 33b found cleared (RT33b-1/2/3/9: a
middle name, the surname before the list after other words, asides, titles and other joiners inside
the list, more than 8 forenames) and the false flag it found (RT33b-8: 'Surname, Forename' pairs read
as one list), with the controls that must name no Amelia Hart."""

from __future__ import annotations

import pytest

from screening.vision import names as nm
from screening.vision.name_forms import siblings

MATCHER = nm.Matcher(nm.targets([], [("P1", "Amelia Hart"), ("P2", "Tom Smith"), ("P4", "Amelia Smith")]), floor=0.7)


def _named(text: str, floor: float = 0.85) -> set[str]:
    return {m.target.name for m in MATCHER.find(text) if m.similarity >= floor}


FOUND = ["Amelia Rose and Tom Hart", "Amelia Rose Mae, Ella and Tom Hart", "AMELIA ROSE AND TOM HART",
         "the Hart twins, Amelia and Tom", "Hart siblings: Amelia and Tom", "Amelia and Tom from the Hart family",
         "THE HART TWINS: AMELIA AND TOM", "Amelia (Year 4) and Tom Hart (Year 6)", "Amelia and her brother Tom Hart",
         "Miss Amelia and Master Tom Hart", "Amelia + Tom Hart", "Amelia / Tom Hart", "Amelia or Tom Hart",
         "Amelia and Tom (Hart)", "Amelia and Tom and Ella Hart", "Hart, Amelia Rose and Tom",
         "Ben, Sam, Ava, Leo, Max, Tom, Ella, Grace, Amelia and Zoe Hart",
         "Amelia, Tom, Ella, Grace, Ben, Sam, Ava, Leo and Max Hart", "Well done to Amelia and Tom Hart!",
         "Sophie Jones, Amelia and Ella Hart", "Congratulations to amelia and tom hart",
         "Congratulations Amelia Rose, Tom and Ella Hart!", "Twins Amelia & Tom, Hart family"]


@pytest.mark.parametrize("caption", FOUND)
def test_a_pupil_in_a_sibling_list_is_found(caption):
    assert "Amelia Hart" in _named(caption)


NOT_AMELIA_HART = ["Hart, Tom, Smith, Amelia and Jones, Ella", "Hart, Tom and Smith, Amelia",
                   "Amelia Smith and Tom Hart", "Well done, Tom and Amelia",
                   "Amelia, well done to the winners Tom and Ella Hart", "WELL DONE AMELIA SMITH AND TOM HART",
                   "Amelia Jones and Tom Hart", "Amelia went home and Tom Hart stayed", "Amelia. Tom and Ella Hart",
                   "Amelia and Tom Hartley", "Amelia Smith, the Hart family's neighbour"]


@pytest.mark.parametrize("caption", NOT_AMELIA_HART)
def test_another_family_is_not_the_pupil(caption):
    assert "Amelia Hart" not in _named(caption)


def test_surname_forename_pairs_name_each_person_once():
    assert _named("Hart, Tom, Smith, Amelia and Jones, Ella") >= {"Amelia Smith"}


def test_a_pairing_keeps_the_texts_order_and_spans_its_words():
    text = "The Hart twins, Amelia and Tom"
    pairings = {p: kept for p, kept, _ in siblings(text)}
    assert set(pairings) == {"Hart Amelia", "Hart Tom"}
    kept = pairings["Hart Amelia"]
    assert kept == sorted(kept) and text[kept[0]:kept[-1] + 1] == "Hart twins, Amelia"


def test_a_long_text_of_asides_joiners_and_family_words_is_read_in_linear_time():
    text = "(Year 4) + / or twins Hart family, Amelia Rose " * 5000 + "(" * 50000 + "a, " * 50000
    pairings = list(siblings(text))
    assert 0 < len(pairings) <= 512


def test_a_middle_name_that_is_no_common_surname_is_paired():
    # fail closed: "Rose" (or an uncommon surname) after a forename may be a middle name
    assert {"Amelia Hart", "Rose Hart"} <= {p for p, _, _ in siblings("Amelia Rose and Tom Hart")}
    assert not any(p.startswith("Amelia") for p, _, _ in siblings("Amelia Smith and Tom Hart"))
