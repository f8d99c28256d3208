"""The video text pass and its memory of lines (video_text.py): a change touching a line is read
with the line whole, without detecting the line again over its whole box.

Hostile clips (real OCR): a name written into part of an existing sign, a sign's word swapped, a
long banner where one word changes, a name appearing beside a big drawn shape OCR takes for a line.
In each the name is on screen for one second in the middle of the clip only (the last frame, looked
at whole by every check, does not hold it), and must be read. Then the memory alone, with a fake
engine: what is detected again and what is only recognised again."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from screening import pipeline
from screening.model import Check, Status
from screening.policy import Rules, decide
from screening.video_text import TextMemo
from screening.vision.ocr import TextLine

from .clips import scene, write_clip
from .test_video import checks
from .test_video import config as config  # noqa: F401 (fixture)

SIZE = (640, 360)  # the clips' (the banner's and the drawn shape's: 960 x 540)
SHOWN = (1.0, 2.0)  # the name is on screen from 1 s to 2 s of a 3 s clip


@pytest.fixture(scope="module")
def ocr_engine():
    from screening.vision.ocr import OcrEngine

    return OcrEngine()


def ungated(config):
    return dataclasses.replace(config, video=dataclasses.replace(config.video, change_threshold=0.0))


def _board(base: np.ndarray, lines: list[str], at: tuple[int, int], cap: int, width: int) -> np.ndarray:
    """A board `width` px wide at `at` with `lines` written on it, capitals about `cap` px high."""
    img = Image.fromarray(base)
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(round(cap / 0.72))
    d.rectangle((at[0], at[1], at[0] + width, at[1] + len(lines) * cap * 2 + cap), fill=(250, 250, 240))
    for i, t in enumerate(lines):
        d.text((at[0] + cap, at[1] + cap // 2 + i * cap * 2), t, font=font, fill=(20, 30, 80))
    return np.asarray(img)


def _screened(tmp_path, config, ocr_engine, before: np.ndarray, during: np.ndarray, video=None):
    """A 3 s still clip showing `before`, and `during` from 1 s to 2 s; its decision."""
    from .test_redteam2 import _text_detector

    def hook(t, pixels):
        return (during if SHOWN[0] <= t < SHOWN[1] else before).copy()

    size = (before.shape[1], before.shape[0])
    tmp_path.mkdir(parents=True, exist_ok=True)
    clip = write_clip(tmp_path / "sign.mp4", 3.0, size=size, pan=0, frame_hook=hook)
    (tmp_path / "text").mkdir(exist_ok=True)
    detectors = {**checks(config), Check.TEXT: _text_detector(tmp_path / "text", ocr_engine)}
    result = pipeline.screen_file(clip, detectors, video=video or config.video)
    return decide(result.results, Rules("website", dt.date(2026, 10, 1), people={}))


def _read(d) -> bool:
    return d.status is not Status.CLEARED and any("P3001" in r.detail for r in d.reasons)


def _written_in():
    """'Well done' on a sign, then 'Amelia Hart' written after it on the same line."""
    base, lines = scene(SIZE, pan=0)(0.0), ["ST AIDAN'S ACADEMY", "Well done"]
    return (_board(base, lines, (30, 100), 24, 580),
            _board(base, [lines[0], "Well done Amelia Hart"], (30, 100), 24, 580))


def _swapped():
    """A sign's 'Amelia Jones' becoming 'Amelia Hart': only the second word changes."""
    base = scene(SIZE, pan=0)(0.0)
    return (_board(base, ["Amelia Jones"], (60, 120), 40, 520), _board(base, ["Amelia Hart"], (60, 120), 40, 520))


def _banner():
    """A long banner across the frame in which one word changes (960 x 540)."""
    base, words = scene((960, 540), pan=0)(0.0), "WELL DONE TO AMELIA {} AND THE SWIMMING TEAM"
    return (_board(base, [words.format("JONES")], (10, 40), 22, 940),
            _board(base, [words.format("HART")], (10, 40), 22, 940))


def _shape():
    """Drawn circles OCR takes for one line 626 x 431 px it cannot read (the bench's scene, seed 1,
    at 960 x 540), and a name appearing beside them, inside the box of that 'line'."""
    before = scene((960, 540), seed=1, pan=0)(0.0)
    return before, _board(before, ["Amelia Hart"], (400, 460), 18, 210)


CASES = {"written into part of a sign": _written_in, "a word swapped": _swapped,
         "a long banner, one word changed": _banner, "beside a big drawn shape": _shape}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_a_name_made_by_a_change_to_a_sign_is_read(tmp_path, config, ocr_engine, case):
    before, during = CASES[case]()
    assert _read(_screened(tmp_path, config, ocr_engine, before, during))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_control_before_the_change_no_name_is_read_and_ungated_it_is(tmp_path, config, ocr_engine, case):
    before, during = CASES[case]()
    assert not _read(_screened(tmp_path / "before", config, ocr_engine, before, before))
    assert _read(_screened(tmp_path / "ungated", ungated(config), ocr_engine, before, during, ungated(config).video))


# ---------------------------------------------------------------- the memory alone, a fake engine


class Blocks:
    """A fake OCR engine: a line is a dark block; it reads as the block's colour's word."""

    WORDS = {40: "Amelia", 80: "Jones", 120: "Hart"}

    def __init__(self):
        self.detected = []  # shapes detection was run on
        self.recognised = []  # quads recognised again without detection

    def read(self, rgb, scale=None):
        import cv2

        self.detected.append(rgb.shape[:2])
        mask = (rgb[:, :, 0] < 200).astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        quads = [np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
                 for x, y, w, h, _ in stats[1:count]]
        return self._lines(rgb, quads)

    def read_at(self, rgb, quads):
        self.recognised += [np.asarray(q).tolist() for q in quads]
        return self._lines(rgb, quads)

    def _lines(self, rgb, quads):
        out = []
        for q in quads:
            x0, y0 = np.floor(q.min(axis=0)).astype(int)
            x1, y1 = np.ceil(q.max(axis=0)).astype(int)
            inside = rgb[max(0, y0):y1, max(0, x0):x1, 0]
            shades = [int(v) for v in np.unique(inside) if int(v) in self.WORDS]
            xs = [np.nonzero((inside == v).any(axis=0))[0][0] for v in shades]
            text = " ".join(self.WORDS[v] for _, v in sorted(zip(xs, shades)))
            box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
            out.append(TextLine(tuple(map(tuple, q.astype(int).tolist())), box, text, 0.99, box[3], ((text, 0.99),)))
        return out


def _frame(*blocks):
    frame = np.full((360, 640, 3), 255, np.uint8)
    for shade, x0, x1 in blocks:
        frame[100:130, x0:x1] = shade
    return frame


def test_a_line_a_change_reaches_is_recognised_again_whole_not_detected_again():
    engine, memo = Blocks(), TextMemo()
    first = _frame((40, 50, 250), (80, 250, 450))  # "Amelia Jones" as one line: one block in two shades
    assert [line.text for line in memo.read(engine, first, (0, 0, 640, 360), 1.0)] == ["Amelia Jones"]
    swapped = _frame((40, 50, 250), (120, 250, 450))
    lines = memo.read(engine, swapped, (300, 60, 460, 220), 1.0)  # the changed place: inside "Jones"
    assert engine.detected[-1] == (160, 160)  # detection ran on the changed place only
    assert "Amelia Hart" in [line.text for line in lines]  # the line, read again whole where it lies
    assert engine.recognised and engine.recognised[-1][0][0] <= 50


def test_a_line_grown_by_the_change_is_read_whole_with_the_line_it_grew_from():
    engine, memo = Blocks(), TextMemo()
    memo.read(engine, _frame((40, 50, 250)), (0, 0, 640, 360), 1.0)  # "Amelia"
    grown = _frame((40, 50, 250), (120, 250, 420))  # "Hart" written on at its end
    lines = memo.read(engine, grown, (200, 60, 470, 220), 1.0)
    assert [line.text for line in lines] == ["Amelia Hart"]


def test_the_memory_moves_with_the_pan_and_is_cleared_at_a_cut():
    engine, memo = Blocks(), TextMemo()
    memo.read(engine, _frame((40, 50, 250)), (0, 0, 640, 360), 1.0)
    memo.panned(-20.0, 0.0)
    assert memo.lines[0].box[0] == 30
    moved = _frame((40, 30, 230), (120, 230, 400))
    assert [line.text for line in memo.read(engine, moved, (180, 60, 420, 220), 1.0)] == ["Amelia Hart"]
    memo.look(3.0, cut=True)
    assert memo.lines == []


def test_lines_the_change_does_not_reach_are_not_read_again():
    engine, memo = Blocks(), TextMemo()
    memo.read(engine, _frame((40, 50, 250)), (0, 0, 640, 360), 1.0)
    frame = _frame((40, 50, 250))
    frame[250:300, 500:560] = (0, 0, 0)
    memo.read(engine, frame, (440, 200, 620, 340), 1.0)
    assert engine.recognised == [] and len(memo.lines) == 2
