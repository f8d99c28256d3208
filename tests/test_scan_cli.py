"""`screening scan`: exit codes, one JSONL record per input file, the batch carries on."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from screening import cli, pipeline, pool
from screening.model import Check

from .fake_detectors import FindNothing, GpsIfRed  # GpsIfRed: a location when the first pixel is red
from .test_config_register import GOOD, HEADER, write_trust


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
    Image.fromarray(np.full((40, 60, 3), colour, np.uint8)).save(path, format="PNG")


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
    assert scan("batch") == 2
    recs = records(trust)
    names = sorted(r["path"].rsplit("/", 1)[-1] for r in recs)
    assert names == ["dangling.jpg", "empty.jpg", "inside.png", "ok.png", "text.jpg"]
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


def test_a_path_that_does_not_exist_is_a_command_error_and_nothing_is_recorded(trust, capsys):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    assert scan("batch", "/no/such/dir") == 2
    assert "/no/such/dir: no such file or folder" in capsys.readouterr().err
    assert not (trust / "out.jsonl").exists()
    assert cli.main(["audit"]) == 0
    assert capsys.readouterr().out.strip().endswith("0 entries")


def test_hidden_files_and_unusual_extensions_are_screened_by_content(trust, capsys):
    """The same picture as `.face.png`, `face.JSON`, `.thumbs/face.png`, `sub/photo.jsonl`: all screened."""
    photo(trust / "batch" / "a.png", (0, 0, 255))
    for name in (".face.png", "face.JSON", ".thumbs/face.png", "sub/photo.jsonl", "Thumbs.db", "._face.png"):
        (trust / "batch" / name).parent.mkdir(exist_ok=True)
        photo(trust / "batch" / name, (255, 0, 0))  # red: the fake location check flags it
    assert scan("batch") == 1
    flagged = sorted(r["path"].removeprefix("batch/") for r in records(trust) if r["status"] == "needs_permission")
    assert flagged == sorted([".face.png", ".thumbs/face.png", "._face.png", "Thumbs.db", "face.JSON",
                              "sub/photo.jsonl"])
    assert "not screened" not in capsys.readouterr().out


def test_only_os_clutter_and_sidecars_read_with_their_image_are_skipped_and_counted(trust, capsys):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    (trust / "batch" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(100))
    (trust / "batch" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    (trust / "batch" / "desktop.ini").write_text("[.ShellClassInfo]\nIconResource=x.dll,0\n")
    (trust / "batch" / "._a.png").write_bytes(b"\x00\x05\x16\x07" + bytes(60))
    (trust / "batch" / "a.xmp").write_text("<x:xmpmeta/>")
    (trust / "batch" / "alone.xmp").write_text("<x:xmpmeta/>")  # no image beside it: screened
    (trust / "batch" / "a.png.json").write_text("{}")  # not a sidecar anything reads: screened
    assert scan("batch", "--csv", "out.csv") == 2
    by_name = {r["path"].removeprefix("batch/"): r["status"] for r in records(trust)}
    assert by_name == {"a.png": "cleared", "alone.xmp": "error", "a.png.json": "error"}
    out = capsys.readouterr().out
    assert "5 file(s) not screened: 4 OS clutter, 1 XMP sidecar read with its image" in out
    for name in (".DS_Store", "Thumbs.db", "desktop.ini", "._a.png", "a.xmp"):
        assert f"not screened batch/{name}:" in out
    rows = (trust / "out.csv").read_text(encoding="utf-8-sig")
    assert "batch/a.xmp,not screened,,XMP sidecar read with its image" in rows
    assert "batch/.DS_Store,not screened,,OS clutter" in rows


def test_a_text_file_is_described_not_dumped(trust, capsys):
    (trust / "batch" / "names.jpg").write_text("image,role,academy\nx,y,z\n")
    assert scan("batch") == 2
    (rec,) = records(trust)
    detail = rec["reasons"][0]["detail"]
    assert "a CSV or text file" in detail and "b'" not in detail


def test_reports_this_scan_writes_are_not_screened(trust, capsys):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    (trust / "batch" / "out.jsonl").write_text("{}\n")  # last run's report, in the scanned folder
    assert cli.main(["scan", "batch", "--workers", "1", "--jsonl", "batch/out.jsonl"]) == 0
    assert "1 a report this command writes" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["-1", "two"])
def test_workers_must_be_a_whole_number_not_negative(trust, capsys, value):
    with pytest.raises(SystemExit) as stop:
        cli.main(["scan", "batch", "--workers", value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--workers" in err and "Traceback" not in err


def test_quiet_prints_only_the_summary_line(trust, capsys):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    photo(trust / "batch" / "gps.png", (255, 0, 0))
    (trust / "batch" / "bad.jpg").write_bytes(b"")
    assert scan("batch", "--quiet") == 2
    out = capsys.readouterr().out
    assert out.splitlines() == ["3 file(s) screened for social_media: 1 cleared, 1 need permission, 1 error(s)"]


def test_output_to_a_pipe_is_not_wrapped(trust, capsys):
    deep = trust / "batch" / ("a-rather-long-folder-name-" * 4)
    deep.mkdir()
    photo(deep / "gps-photo-with-a-long-name.png", (255, 0, 0))
    assert scan("batch") == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("needs_permission") and line.endswith("gps-photo-with-a-long-name.png")
               for line in lines)


def test_interrupted_scan_marks_every_report_incomplete(trust, monkeypatch, capsys):
    from screening.commands import scan as scan_command

    for i in range(3):
        photo(trust / "batch" / f"{i}.png", (0, 0, 255))

    class Interrupting:
        def __init__(self, *args, **kwargs):
            pass

        def screen(self, items):
            items = list(items)
            yield pipeline.screen_file(items[0][0], fakes(None, None), display=items[0][1])
            raise KeyboardInterrupt

        def close(self):
            pass

    monkeypatch.setattr(scan_command, "Screener", Interrupting)
    code = cli.main(["scan", "batch", "--jsonl", "out.jsonl", "--csv", "out.csv", "--html", "out.html"])
    assert code == 2
    assert "interrupted after 1 of 3" in capsys.readouterr().err
    records = [json.loads(line) for line in (trust / "out.jsonl").read_text().splitlines()]
    assert len(records) == 1 and records[0]["path"]  # SPEC: one record per screened file, nothing else
    assert "1 of 3" in records[0]["batch_incomplete"]
    assert (trust / "out.csv").read_text(encoding="utf-8-sig").splitlines()[-1].split(",")[1] == "INCOMPLETE"
    html = (trust / "out.html").read_text()
    assert "<title>INCOMPLETE: " in html and 'id="incomplete"' in html and "1 of 3" in html


def test_report_write_error_names_the_report_not_a_temporary_file(trust, capsys):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    assert cli.main(["scan", "batch", "--workers", "1", "--html", "no-such-folder/report.html"]) == 2
    err = capsys.readouterr().err
    assert "cannot write report no-such-folder/report.html: No such file or directory" in err
    assert ".cards" not in err and ".tmp" not in err and "Errno" not in err


def test_channel_option_and_unknown_channel(trust, capsys):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    assert scan("batch", "--channel", "print") == 0
    assert records(trust)[0]["channel"] == "print"
    assert scan("batch", "--channel", "tiktok") == 2
    assert "tiktok" in capsys.readouterr().err


def test_an_empty_channel_is_refused_not_taken_for_the_default(trust, capsys):
    """A script's unset $CHANNEL gives `--channel ""`: screening for the default channel instead
    would report a batch cleared for a channel nobody asked for (RT12-30)."""
    photo(trust / "batch" / "a.png", (0, 0, 255))
    assert scan("batch", "--channel", "") == 2
    assert "--channel '' is not one of the config's channels" in capsys.readouterr().err


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


def test_enrolment_notes_are_shown_once_until_they_change(trust, capsys):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    register = trust / "consents" / "register.csv"
    register.write_text(HEADER + "P1,Amy Pupil,pupil,north,yes,yes,yes,yes,,\n")  # no reference photos
    assert scan("batch") == 0
    first = capsys.readouterr().err
    assert "enrolment note:" in first and "P1" in first
    assert scan("batch") == 0
    assert "enrolment note" not in capsys.readouterr().err  # the same notes: not repeated
    register.write_text(HEADER + "P1,Amy Pupil,pupil,north,yes,yes,yes,yes,,\n"
                        "P2,Bo Pupil,pupil,north,yes,yes,yes,yes,,\n")
    assert scan("batch") == 0
    assert "P2" in capsys.readouterr().err  # changed: shown again


def test_quiet_shows_no_enrolment_notes(trust, capsys):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    (trust / "consents" / "register.csv").write_text(HEADER + "P1,Amy Pupil,pupil,north,yes,yes,yes,yes,,\n")
    assert scan("batch", "--quiet") == 0
    captured = capsys.readouterr()
    assert "enrolment" not in captured.err and len(captured.out.splitlines()) == 1


def test_consent_list_to_a_pipe_truncates_no_column(trust, capsys):
    (trust / "consents" / "register.csv").write_text(
        HEADER + "P1,Amelia Josephine Worthington-Smythe,pupil,north,no,yes,yes,yes,,2026-01-01\n")
    assert cli.main(["consent", "list", "--date", "2026-06-01"]) == 0
    out = capsys.readouterr().out
    assert "Amelia Josephine Worthington-Smythe" in out and "withdrawn on 2026-01-01" in out
    assert "…" not in out


def test_a_file_link_out_of_the_folder_is_an_error_record_and_its_target_is_never_read(trust):
    (trust / "elsewhere").mkdir()
    photo(trust / "elsewhere" / "pupil.png", (255, 0, 0))  # would be needs_permission if read
    photo(trust / "batch" / "ok.png", (0, 0, 255))
    (trust / "batch" / "out.png").symlink_to(trust / "elsewhere" / "pupil.png")
    (trust / "batch" / "up.png").symlink_to("../elsewhere/pupil.png")
    assert cli.main(["scan", "batch", "--workers", "1", "--jsonl", "out.jsonl", "--html", "r.html"]) == 2
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in records(trust)}
    assert by_name["ok.png"]["status"] == "cleared"
    for name in ("out.png", "up.png"):
        assert by_name[name]["status"] == "error"
        assert "outside the folder given" in json.dumps(by_name[name])
        assert by_name[name]["sha256"] is None
    assert "pupil.png" not in (trust / "r.html").read_text()


def test_a_file_link_to_a_file_inside_the_folder_is_screened(trust):
    (trust / "batch" / "sub").mkdir()
    photo(trust / "batch" / "sub" / "gps.png", (255, 0, 0))
    (trust / "batch" / "alias.png").symlink_to("sub/gps.png")
    assert scan("batch") == 1
    assert {r["path"].rsplit("/", 1)[-1]: r["status"] for r in records(trust)} == {
        "alias.png": "needs_permission", "gps.png": "needs_permission"}


def test_a_link_given_by_name_on_the_command_line_is_followed(trust):
    (trust / "elsewhere").mkdir()
    photo(trust / "elsewhere" / "gps.png", (255, 0, 0))
    (trust / "named.png").symlink_to(trust / "elsewhere" / "gps.png")
    assert scan("named.png") == 1
