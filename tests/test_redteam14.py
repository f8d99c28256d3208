"""Red team 14: the newest text, name and redaction code (runs/_nearest, known-as names,
_paths, plain()). The seven holes it found (RT14-1 to 7: a name's second line crowded out, a
runner's path paired with the wrong face or lost when it grows, "(Year 5)" read as a name, a
former surname in brackets missed, a postcode split by a tab or line break, a GPS stamp's second
line crowded out) were fixed on main; each test sits next to a safe control and keeps its fix."""

from __future__ import annotations

import pytest

from screening.config import load_config
from screening.model import Status
from screening.detectors.text import TextDetector
from screening.formats import coordtext
from screening.redact_video import boxes_at
from screening.vision import names as nm
from screening.vision.ocr import TextLine

from .test_config_register import GOOD, write_config

PEOPLE = [("P3001", "Amelia Hart"), ("P3002", "Oliver Bennett"), ("P3003", "Zara Okafor")]


def line(text, box, score=0.95):
    x, y, w, h = box
    return TextLine(((x, y), (x + w, y), (x + w, y + h), (x, y + h)), box, text, score, h)


class NoEngine:
    def read(self, rgb):
        raise AssertionError("not used")


@pytest.fixture
def detector(tmp_path):
    return TextDetector(load_config(write_config(tmp_path, GOOD)), PEOPLE, engine=NoEngine())


def _people(findings):
    return {f.target_id for f in findings if f.target == "person"}


# ------------------------------------------------------------------ RT14-1: _nearest drops the line below

BADGE = [line("AMELIA", (0, 0, 300, 50)), line("HART", (0, 60, 200, 50))]
# four small marks read on the first line's baseline, just right of it (stickers, a class number,
# stars read as letters): each is "nearer" to AMELIA than HART below, by _nearest's key
MARKS = [line(c, (310 + i * 25, 10, 15, 30)) for i, c in enumerate("1234")]


def test_control_a_name_badge_on_two_lines_names_the_pupil(detector):
    assert _people(detector.findings(BADGE)) == {"P3001"}


def test_four_marks_beside_the_first_name_do_not_hide_the_surname_below(detector):
    assert _people(detector.findings(BADGE + MARKS)) == {"P3001"}


def test_control_three_marks_leave_the_surname_reachable(detector):
    assert _people(detector.findings(BADGE + MARKS[:3])) == {"P3001"}


# ------------------------------------------------------------------ RT14-2: _paths pairs with the wrong face

def _covers(boxes, target):
    x, y, w, h = target
    return any(bx <= x and by <= y and bx + bw >= x + w and by + bh >= y + h for bx, by, bw, bh in boxes)


def test_control_a_face_running_across_is_covered_between_samples():
    hide = [(0.0, [(0, 100, 100, 100)]), (1.0, [(900, 100, 100, 100)])]
    assert _covers(boxes_at(0.5, hide, [0.0, 1.0]), (450, 100, 100, 100))


def test_a_face_running_across_is_covered_when_another_face_appears_behind_it():
    hide = [(0.0, [(0, 100, 100, 100)]), (1.0, [(900, 100, 100, 100), (120, 100, 100, 100)])]
    assert _covers(boxes_at(0.5, hide, [0.0, 1.0]), (450, 100, 100, 100))


def test_a_face_running_toward_the_camera_is_covered_between_samples():
    hide = [(0.0, [(0, 100, 60, 60)]), (1.0, [(700, 100, 150, 150)])]
    assert _covers(boxes_at(0.5, hide, [0.0, 1.0]), (380, 110, 90, 90))


# ------------------------------------------------------------------ RT14-4/5: known-as brackets

def _found(register, text):
    return {m.target.id for m in nm.Matcher(nm.targets([], register)).find(text)}


def test_control_a_known_as_name_is_found():
    assert _found([("O", "Oliver Bennett (Ollie)")], "Ollie Bennett") == {"O"}


def test_a_bracketed_register_note_is_not_a_name():
    assert _found([("Z", "Zara Okafor (Year 5)")], "Year 5 sports day") == set()
    assert _found([("Z", "Zara Okafor (Year 5)")], "Zara Okafor") == {"Z"}


def test_a_former_surname_in_brackets_is_still_found():
    assert _found([("S", "Sarah Jones (née Smith)")], "Sarah Smith") == {"S"}


def test_control_a_current_name_with_a_nee_bracket_is_found():
    assert _found([("S", "Sarah Jones (née Smith)")], "Sarah Jones") == {"S"}


# ------------------------------------------------------------------ plain() collapsing spaces: safe

@pytest.mark.parametrize("text", [
    "53.8008  -1.5491", "SE  29672  34261", "N 53  48.048 W 1  32.946", "Lat  53.8008   Long  -1.5491",
    "53.8008 N  1.5491 W", "53.8008\u00a0N\u00a0\u00a01.5491\u00a0W", "53.8008\t\t-1.5491",
])
def test_runs_of_spaces_still_read_as_a_position(text):
    (pos,) = coordtext.positions(text)
    assert pos.lat == pytest.approx(53.80, abs=0.01) and pos.lon == pytest.approx(-1.55, abs=0.01)


@pytest.mark.parametrize("text", ["LS6  2AB", "LS6\u00a0\u00a02AB", "LS6 \t2AB"])
def test_runs_of_spaces_still_read_as_a_postcode(text):
    assert coordtext.postcodes(text) == ["LS6 2AB"]


def test_control_lap_times_are_not_a_position():
    assert coordtext.positions("Lap times  58.1234   59.4321") == []


# ------------------------------------------------------------------ RT14-6: a postcode split by one tab or line break

from .test_location_text import location_details  # noqa: E402
from .test_redteam6 import config  # noqa: E402,F401  (the fixture)
from .test_redteam9 import ascii_, exif_text, jpeg_photo  # noqa: E402


def _caption_photo(tmp_path, text):
    return jpeg_photo(tmp_path, "cap.jpg", exif=exif_text({0x010E: ascii_(text)}))


def test_control_a_postcode_in_a_caption_is_a_location(tmp_path, config):  # noqa: F811
    status, details = location_details(_caption_photo(tmp_path, "Sports day at school\nLS6 2AB"), config)
    assert status is not Status.CLEARED, details


def test_control_a_postcode_split_by_a_tab_is_read_when_the_caption_is_not_ascii():
    assert coordtext.postcodes("Zoë's sports day, LS6\t2AB") == ["LS6 2AB"]


@pytest.mark.parametrize("sep", ["\t", "\n", "\r\n"])
def test_a_postcode_split_by_a_tab_or_line_break_in_a_caption_is_a_location(tmp_path, config, sep):  # noqa: F811
    status, details = location_details(_caption_photo(tmp_path, f"Sports day at school, LS6{sep}2AB"), config)
    assert status is not Status.CLEARED, details


# ------------------------------------------------------------------ RT14-7: _nearest and a GPS stamp on two lines

STAMP = [line("Lat 53.8008", (0, 0, 330, 40)), line("Long -1.5491", (0, 50, 360, 40))]
# the stamp's clock and zone beside the latitude, split by detection: "10", ":", "42", "GMT"
CLOCK = [line(t, (340 + i * 18, 5, 16, 30)) for i, t in enumerate(["10", ":", "42", "GMT"])]


def _locations(findings):
    return [f for f in findings if f.target == "location"]


def test_control_a_gps_stamp_on_two_lines_is_a_location(detector):
    assert _locations(detector.findings(STAMP))


def test_a_gps_stamp_with_a_clock_beside_it_is_a_location(detector):
    assert _locations(detector.findings(STAMP + CLOCK))
