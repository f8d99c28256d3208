"""The README's demo excerpt is the demo's real output: this fails when the two drift apart.

Regenerate both the excerpt and docs/report.png with `.venv/bin/python docs/make_report_png.py`.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def generator():
    spec = importlib.util.spec_from_file_location("make_report_png", REPO / "docs" / "make_report_png.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_has_a_demo_excerpt_naming_every_demo_file():
    excerpt = generator().readme_excerpt()
    shown = {line.split()[1] for line in excerpt.splitlines() if line.startswith(("cleared", "needs_", "error"))}
    made = {f"batch/{n}" for n in ("clean.jpg", "gps.jpg", "banner.jpg", "decoy.jpg", "consented.jpg",
                                   "unknown.jpg", "uniform.jpg", "sign.jpg", "broken.jpg")}
    assert shown == made


@pytest.mark.slow
def test_readme_demo_excerpt_is_what_the_demo_prints(tmp_path):
    g = generator()
    output, report = g.demo_output(tmp_path)
    assert output == g.readme_excerpt(), "README drifted from the demo: run docs/make_report_png.py"
    assert report.is_file()
