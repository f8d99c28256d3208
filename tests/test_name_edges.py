"""Names on a line the picture's edge cuts (RT20-13): "MELIA HART" at the left edge of a photo
is Amelia Hart's badge; the same letters inside the photo, or cut deeper, are not."""

from __future__ import annotations

import pytest

from screening.config import TextSettings
from screening.detectors.text import TextDetector
from screening.vision.name_edges import cut_forms, edges_reached
from screening.vision.names import Form

from .test_text import PEOPLE, NoEngine, config, line  # noqa: F401 (config is a fixture)

WIDTH = 1000


def named(detector, text: str, box) -> set[str]:
    return {f.target_id for f in detector.findings([line(text, box)], width=WIDTH, height=800) 
            if f.target and f.similarity >= TextSettings.min_similarity}


@pytest.mark.parametrize("text, box, who", [
    ("MELIA HART", (0, 100, 260, 40), "P3001"),  # the A is off the photo
    ("ELIA HART", (6, 100, 240, 40), "P3001"),  # two letters off, the box a few pixels in
    ("AMELIA HA", (740, 100, 260, 40), "P3001"),  # the right edge cuts the surname
    ("ARA OKAFOR", (0, 300, 260, 40), "P3003"),
    ("MELIA HART", (740, 100, 260, 40), "P3001"),  # at the right edge: a photo stored mirrored or turned (RT24-1)
    ("MELIA HART", (300, 0, 260, 40), "P3001"),  # at the top edge: a line written up or down (RT24-2)
    ("IDAN'S ACADEMY", (0, 500, 400, 50), "aidan"),  # "St A" off the sign's left
])
def test_a_name_cut_by_the_pictures_edge_is_named(config, text, box, who):
    assert who in named(TextDetector(config, PEOPLE, engine=NoEngine()), text, box)


@pytest.mark.parametrize("text, box", [
    ("MELIA HART", (300, 100, 260, 40)),  # the same letters inside the photo: not cut, not her name
    ("LIA HART", (0, 100, 200, 40)),  # three letters gone: too little is left to tell
    ("CAMELIA HART", (0, 100, 300, 40)),  # a whole other name at the edge
])
def test_letters_not_cut_by_the_edge_or_cut_too_deep_name_nobody(config, text, box):
    assert named(TextDetector(config, PEOPLE, engine=NoEngine()), text, box) == set()


def test_without_the_pictures_width_no_line_counts_as_cut(config):
    detector = TextDetector(config, PEOPLE, engine=NoEngine())
    assert [f for f in detector.findings([line("MELIA HART", (0, 100, 260, 40))])
            if f.target and f.similarity >= TextSettings.min_similarity] == []


def test_a_short_name_is_never_cut():
    assert cut_forms(Form(("li", "wu"), (True, True)), "left") == []
    assert [f.words for f in cut_forms(Form(("amelia", "hart"), (True, True)), "left")] == [
        ("melia", "hart"), ("elia", "hart")]
    assert [f.words for f in cut_forms(Form(("amelia", "hart"), (True, True)), "right")] == [
        ("amelia", "har"), ("amelia", "ha")]


def test_a_line_reaches_an_edge_within_half_its_height():
    assert edges_reached((10, 0, 100, 40), 40, WIDTH) == ["left"]
    assert edges_reached((30, 0, 100, 40), 40, WIDTH) == []
    assert edges_reached((0, 0, WIDTH, 40), 40, WIDTH) == ["left", "right"]
    assert edges_reached((300, 770, 100, 40), 40, WIDTH, 800) == ["bottom"]
    assert edges_reached((300, 770, 100, 40), 40, WIDTH) == []  # no height given: left and right only
