"""`screening scan`: exit codes, one JSONL record per input file, the batch carries on."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from screening import cli, pool
from screening.model import Check, LocationFinding

from .test_config_register import GOOD, HEADER, write_trust


class FindNothing:
    def detect(self, picture, earlier):
        return []


class GpsIfRed:
    """Reports a location when the image's first pixel is red: lets a test pick outcomes."""

    def detect(self, picture, earlier):
        r, g, b = picture.frames[0][0, 0]
        return [LocationFinding("EXIF GPS", "GPS in EXIF: 53.80000, -1.54000", 53.8, -1.54)] if r > 200 and g < 50 else []


class Crash:
    def detect(self, picture, earlier):
        raise RuntimeError("detector exploded")


def fakes(config, gallery, people=None):
    return {Check.LOCATION: GpsIfRed(), Check.FACES: FindNothing(), Check.LOGOS: FindNothing(),
            Check.UNIFORMS: FindNothing(), Check.TEXT: FindNothing()}


@pytest.fixture
def trust(tmp_path, monkeypatch):
    write_trust(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", fakes)
    (tmp_path / "batch").mkdir()
    return tmp_path


def photo(path, colour):
    Image.fromarray(np.full((40, 60, 3), colour, np.uint8)).save(path)


def scan(*args):
    return cli.main(["scan", *args, "--workers", "1", "--jsonl", "out.jsonl"])


def records(trust):
    return [json.loads(line) for line in (trust / "out.jsonl").read_text().splitlines()]


def test_all_cleared_exits_0(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    photo(trust / "batch" / "b.jpg", (0, 255, 0))
    assert scan("batch") == 0
    assert {r["status"] for r in records(trust)} == {"cleared"}


def test_needs_permission_exits_1(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    photo(trust / "batch" / "gps.png", (255, 0, 0))
    assert scan("batch") == 1
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in records(trust)}
    assert by_name["gps.png"]["status"] == "needs_permission"
    assert by_name["gps.png"]["reasons"][0]["kind"] == "location"


def test_bad_files_are_errors_the_batch_carries_on_and_exit_is_2(trust):
    photo(trust / "batch" / "ok.png", (0, 0, 255))
    (trust / "batch" / "empty.jpg").write_bytes(b"")
    (trust / "batch" / "text.jpg").write_text("not a photo")
    (trust / "batch" / "folder.jpg").mkdir()
    (trust / "batch" / "folder.jpg" / "inside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (trust / "batch" / "dangling.jpg").symlink_to(trust / "batch" / "missing.jpg")
    assert scan("batch", "batch/does-not-exist.jpg") == 2
    recs = records(trust)
    names = sorted(r["path"].rsplit("/", 1)[-1] for r in recs)
    assert names == ["dangling.jpg", "does-not-exist.jpg", "empty.jpg", "inside.png", "ok.png", "text.jpg"]
    for r in recs:
        expected = "cleared" if r["path"].endswith("ok.png") else "error"
        assert r["status"] == expected, r


def test_crashing_detector_is_error_never_cleared(trust, monkeypatch):
    monkeypatch.setattr(pool, "build_detectors",
                        lambda c, g, people=None: {**fakes(c, g), Check.LOGOS: Crash()})
    photo(trust / "batch" / "a.png", (0, 0, 255))
    assert scan("batch") == 2
    (rec,) = records(trust)
    assert rec["status"] == "error"
    assert "detector exploded" in rec["reasons"][0]["detail"]
    assert rec["checks"]["logos"].startswith("failed")


def test_missing_check_means_nothing_can_be_cleared(trust, monkeypatch):
    monkeypatch.setattr(pool, "build_detectors",
                        lambda c, g, people=None: {Check.LOCATION: FindNothing(), Check.FACES: FindNothing()})
    photo(trust / "batch" / "a.png", (0, 0, 255))
    assert scan("batch") == 2
    (rec,) = records(trust)
    assert rec["status"] == "error"
    assert {r["check"] for r in rec["reasons"]} == {"logos", "uniforms", "text"}


def test_jsonl_record_follows_the_contract(trust):
    photo(trust / "batch" / "gps.png", (255, 0, 0))
    scan("batch")
    (rec,) = records(trust)
    assert set(rec) >= {"path", "sha256", "status", "channel", "reasons", "faces"}
    assert rec["channel"] == "social_media"
    assert len(rec["sha256"]) == 64
    assert rec["status"] in ("cleared", "needs_permission", "error")
    assert all("kind" in r and r["detail"] for r in rec["reasons"])
    assert rec["reasons"][0]["lat"] == 53.8


def test_hidden_files_and_sidecars_are_skipped_in_folders(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    (trust / "batch" / ".DS_Store").write_bytes(b"junk")
    (trust / "batch" / "a.png.json").write_text("{}")
    (trust / "batch" / "a.xmp").write_text("<x:xmpmeta/>")
    assert scan("batch") == 0
    assert len(records(trust)) == 1


def test_channel_option_and_unknown_channel(trust, capsys):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    assert scan("batch", "--channel", "print") == 0
    assert records(trust)[0]["channel"] == "print"
    assert scan("batch", "--channel", "tiktok") == 2
    assert "tiktok" in capsys.readouterr().err


def test_invalid_config_exits_2_naming_the_key(trust, capsys):
    (trust / "screening.toml").write_text(GOOD.replace('"#c8a200"', '"gold"'))
    assert scan("batch") == 2
    assert "uniform_colours" in capsys.readouterr().err


def test_bad_register_exits_2_naming_row_and_column(trust, capsys):
    (trust / "consents" / "register.csv").write_text(HEADER + "P1,A,pupil,north,yes,yes,yes,no,31/09/2026,\n")
    assert scan("batch") == 2
    assert "row 2: `expires` is '31/09/2026'" in capsys.readouterr().err


def test_csv_report_has_a_row_per_image(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    photo(trust / "batch" / "b.png", (255, 0, 0))
    cli.main(["scan", "batch", "--workers", "1", "--csv", "out.csv"])
    lines = (trust / "out.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("path,status") and len(lines) == 3
