"""Lettering along an arc (RT20-5): the detection map's bent bands are found, fitted with their
circle and read unrolled; straight lines, a sign's stacked lines and wavy bands are not arcs."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from screening.vision import ocr_arcs

from .test_redteam20 import astronaut, ocr_engine, read_names, ring, trust_config  # noqa: F401 (fixtures)


def band_map(draw) -> np.ndarray:
    """A 480 x 640 detection map (0..1) with bands drawn by `draw(img)` at 1.0."""
    img = np.zeros((480, 640), np.uint8)
    draw(img)
    return img.astype(np.float32) / 255


def test_a_bent_band_is_an_arc_with_its_circle():
    pred = band_map(lambda im: cv2.ellipse(im, (320, 300), (150, 150), 0, -150, -30, 255, 14))
    (arc,) = ocr_arcs.arcs_in(pred, 0.3)
    assert abs(arc.cx - 320) < 6 and abs(arc.cy - 300) < 6 and abs(arc.r - 150) < 6
    assert -175 <= math.degrees(arc.start) <= -148 and -32 <= math.degrees(arc.end) <= -5  # and a margin


def test_words_of_one_arc_apart_by_a_word_space_are_one_arc():
    def words(im):
        for a0, a1 in ((-160, -110), (-100, -60), (-50, -20)):
            cv2.ellipse(im, (320, 300), (180, 180), 0, a0, a1, 255, 14)
    (arc,) = ocr_arcs.arcs_in(band_map(words), 0.3)
    assert math.degrees(arc.end - arc.start) > 140


@pytest.mark.parametrize("draw", [
    lambda im: cv2.line(im, (50, 100), (550, 100), 255, 14),  # a straight line
    lambda im: [cv2.line(im, (100, y), (500, y), 255, 14) for y in (100, 130, 160)],  # a sign's stacked lines
    lambda im: cv2.polylines(im, [np.array([[x, 200 + 40 * math.sin(x / 30)] for x in range(50, 600, 4)],
                                           np.int32)], False, 255, 12),  # a wavy band
    lambda im: cv2.line(im, (300, 100), (310, 108), 255, 6),  # a speck
])
def test_straight_stacked_wavy_or_tiny_text_is_no_arc(draw):
    assert ocr_arcs.arcs_in(band_map(draw), 0.3) == []


def test_the_unrolled_band_shows_the_lettering_as_a_straight_line():
    arc = ocr_arcs.Arc(320, 300, 150, 10, math.radians(-150), math.radians(-30))
    img = np.full((480, 640, 3), 255, np.uint8)
    cv2.ellipse(img, (320, 300), (150, 150), 0, -150, -30, (0, 0, 0), 6)  # a dark arc on the band's middle
    strips = ocr_arcs.unrolled(img, arc)
    assert len(strips) == len(ocr_arcs.BANDS)
    middle = strips[0][strips[0].shape[0] // 2 - 1:strips[0].shape[0] // 2 + 2, 5:-5]
    assert middle.max() < 90  # dark all along: the arc became a straight row


@pytest.mark.parametrize("text, who, arc", [
    ("ZOE OBRIEN", "P3101", ((300, 300), 170, -170, 100)),  # from the side of a ring, letters turned steeply
    ("AMELIA HART", "P3001", ((320, 200), 150, 30, 120)),  # round a badge's bottom, letters upside down
    ("ST AIDAN'S ACADEMY", "aidan", ((320, 240), 160, -170, 160)),  # a wide arch over a gate
])
def test_names_lettered_along_arcs_are_read(trust_config, ocr_engine, public_domain, text, who, arc):
    assert who in read_names(trust_config, ocr_engine, ring(astronaut(public_domain), text, *arc))


def test_a_ring_of_other_words_names_nobody(trust_config, ocr_engine, public_domain):
    img = ring(astronaut(public_domain), "SPORTS DAY TROPHY", (320, 240), 150, -160, 140)
    assert read_names(trust_config, ocr_engine, img) == set()
