"""Text from file names and metadata, escaped for the terminal and for spreadsheets."""

from __future__ import annotations

import csv
import io

import pytest
from rich.console import Console

from screening.reports.tabular import CsvWriter
from screening.textsafe import for_csv, for_json, for_terminal


def shown(text: str) -> str:
    """What a rich console with markup prints for the escaped text."""
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system="truecolor", width=500).print(
        for_terminal(text), highlight=False, soft_wrap=True)
    return out.getvalue()


@pytest.mark.parametrize("name", ["[/]x.jpg", "[bold red]x.jpg", "a[/bold]b.png", "[link=http://e.vil]x[/link]",
                                  "\\[x].jpg"])
def test_rich_markup_in_a_name_is_printed_as_written(name):
    assert shown(name) == name + "\n"


@pytest.mark.parametrize("name, visible", [
    ("a\ncleared b.jpg", "a\\ncleared b.jpg"),
    ("a\rb", "a\\rb"),
    ("\x1b[2J\x1b[31mred.jpg", "\\x1b[2J\\x1b[31mred.jpg"),
    ("bell\x07.jpg", "bell\\x07.jpg"),
    ("csi\x9b31m.jpg", "csi\\x9b31m.jpg"),
    ("gpj.\u202eexe", "gpj.\\u202eexe"),
    ("tab\there", "tab\\there"),
])
def test_control_characters_are_printed_escaped(name, visible):
    out = shown(name)
    assert out == visible + "\n"
    assert "\x1b" not in out.replace("\x1b[0m", "")  # only rich's own reset, if any


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://e.vil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\uff1d1+1"])
def test_cells_a_spreadsheet_would_run_are_escaped(cell):
    assert for_csv(cell) == "'" + cell


@pytest.mark.parametrize("cell, written", [("\t=1", "\\t=1"), ("\r=1", "\\r=1"), ("gpj.\u202eexe", "gpj.\\u202eexe"),
                                           ("two\nlines.jpg", "two\\nlines.jpg")])
def test_controls_and_bidi_overrides_in_a_cell_are_written_escaped(cell, written):
    """A leading tab or return is no formula once escaped; an override cannot reorder the name."""
    assert for_csv(cell) == written


@pytest.mark.parametrize("cell", ["IMG_1.jpg", "a=b.jpg", " =1", "", 3])
def test_other_cells_are_unchanged(cell):
    assert for_csv(cell) == cell


def test_csv_report_escapes_file_names_and_details(tmp_path):
    from screening.model import Kind, Reason, Status, Verdict

    path = tmp_path / "r.csv"
    w = CsvWriter(path)
    w.write(Verdict(path='=HYPERLINK("http://e.vil","x").jpg', sha256="ab", status=Status.NEEDS_PERMISSION,
                    channel="website", reasons=(Reason(Kind.LOCATION, "+GPS"),), faces=()))
    w.close()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[1][0] == "'=HYPERLINK(\"http://e.vil\",\"x\").jpg"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_json_lines_keep_their_value_and_carry_no_raw_terminal_controls():
    import json

    value = {"path": "csi\x9b31m\u202egnp.png\x7f", "detail": "a\nb\x1b"}
    line = for_json(json.dumps(value, ensure_ascii=False))
    assert json.loads(line) == value
    assert not any(c in line for c in "\x9b\u202e\x7f\x1b\n")


def test_json_keeps_its_layout_and_a_name_that_is_not_utf8_can_be_written():
    import json

    value = {"path": "bad\udcff.png", "n": [1, 2]}
    text = for_json(json.dumps(value, ensure_ascii=False, indent=1))
    assert "\n" in text and json.loads(text) == value
    text.encode("utf-8")  # no lone surrogate left to refuse
    assert for_terminal("bad\udcff.png") == "bad\\udcff.png"


@pytest.mark.parametrize("text", ["[bold]x", "a\\[b]", "x\\", "[/]", "[1] [B]", "\\\\[i]", "[#f00]", "[@click]"])
def test_markup_is_escaped_exactly_as_rich_escapes_it(text):
    from rich.markup import escape

    assert for_terminal(text) == escape(text)
