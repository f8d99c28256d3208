"""Audit trail, permit and recheck: every verdict recorded, permission applied in one place,
and living consent (a withdrawn consent turns a cleared image into needs_permission)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3

import numpy as np
import pytest
from PIL import Image

from tests.academy_trust import logo_folder
from screening import __version__, cli, pool
from screening.model import (
    Check,
    FaceFinding,
    Kind,
    LogoFinding,
    Permit,
    Reason,
    Status,
    Verdict,
)
from screening.policy import permitted

from .fake_detectors import FindNothing, GpsIfRed
from .test_config_register import GOOD, HEADER

# P1 (staff, consented for everything) appears in photos whose first pixel is green.
PEOPLE = HEADER + "P1,Pat Teacher,staff,north,yes,yes,yes,yes,,\n"


class FaceIfGreen:
    def detect(self, picture, earlier):
        r, g, b = picture.frames[0][0, 0]
        return [FaceFinding((10, 10, 20, 20), (("P1", 0.3),))] if g > 200 and r < 50 else []


class LogoIfBlue:
    def detect(self, picture, earlier):
        r, g, b = picture.frames[0][0, 0]
        return [LogoFinding("north", (0, 0, 30, 20), 5.0)] if b > 200 and r < 50 else []


def fakes(config, gallery, people=None):
    return {Check.LOCATION: GpsIfRed(), Check.FACES: FaceIfGreen(), Check.LOGOS: LogoIfBlue(),
            Check.UNIFORMS: FindNothing(), Check.TEXT: FindNothing()}


@pytest.fixture
def trust(tmp_path, monkeypatch):
    logo_folder(tmp_path / "logos" / "north")
    (tmp_path / "consents" / "photos" / "P1").mkdir(parents=True)
    (tmp_path / "consents" / "photos" / "P1" / "ref.jpg").write_bytes(b"reference photo")
    (tmp_path / "consents" / "register.csv").write_text(PEOPLE)
    (tmp_path / "screening.toml").write_text(GOOD)
    (tmp_path / "batch").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", fakes)
    return tmp_path


def photo(path, colour):
    Image.fromarray(np.full((40, 60, 3), colour, np.uint8)).save(path)


def run(*args):
    return cli.main([*args])


def scan(*paths):
    return cli.main(["scan", *paths, "--workers", "1", "--jsonl", "out.jsonl"])


def records(trust):
    return {r["path"].rsplit("/", 1)[-1]: r for r in map(json.loads, (trust / "out.jsonl").read_text().splitlines())}


def audit_rows(trust):
    conn = sqlite3.connect(trust / ".screening" / "state.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY id")]
    finally:
        conn.close()


def withdraw_consent(trust, day="2020-01-01"):
    (trust / "consents" / "register.csv").write_text(HEADER + f"P1,Pat Teacher,staff,north,yes,yes,yes,yes,,{day}\n")


# ---------------------------------------------------------------- the audit trail


def test_every_scan_verdict_is_appended_with_who_what_and_versions(trust):
    photo(trust / "batch" / "staff.png", (0, 255, 0))
    photo(trust / "batch" / "gps.png", (255, 0, 0))
    assert scan("batch") == 1
    assert scan("batch/gps.png") == 1
    rows = audit_rows(trust)
    assert [r["path"].rsplit("/", 1)[-1] for r in rows] == ["gps.png", "staff.png", "gps.png"]
    first = rows[0]
    assert first["command"] == "scan" and first["status"] == "needs_permission"
    assert first["user"] and len(first["sha256"]) == 64 and first["tool"] == __version__
    assert dt.datetime.fromisoformat(first["at"]).utcoffset() == dt.timedelta(0)
    assert len(first["config"]) == 16 and len(first["register"]) == 64 and first["gallery"]
    assert json.loads(first["reasons"])[0]["kind"] == "location"
    assert json.loads(first["screening"])["results"]  # the raw findings, re-decidable
    assert rows[0]["path"].startswith(str(trust))  # absolute: recheck finds it from anywhere


def test_audit_lists_and_exports_csv_since_a_date(trust, capsys):
    photo(trust / "batch" / "gps.png", (255, 0, 0))
    scan("batch")
    capsys.readouterr()
    assert run("audit") == 0
    listed = capsys.readouterr().out
    assert "gps.png" in listed and "needs_permission" in listed and "1 entries" in listed
    assert run("audit", "--csv", "audit.csv") == 0
    rows = list(csv.DictReader((trust / "audit.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 1 and rows[0]["status"] == "needs_permission" and rows[0]["user"]
    assert "screening" not in rows[0]  # the raw findings stay in the database
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert run("audit", "--since", tomorrow, "--csv", "later.csv") == 0
    assert len((trust / "later.csv").read_text(encoding="utf-8-sig").splitlines()) == 1  # header only
    assert run("audit", "--since", "yesterday") == 2


def test_a_verdict_that_cannot_be_recorded_is_never_cleared(trust, monkeypatch):
    from screening.store.audit import AuditTrail

    photo(trust / "batch" / "plain.png", (128, 128, 128))

    def broken(self, screening, v):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(AuditTrail, "record", broken)
    assert scan("batch") == 2
    rec = records(trust)["plain.png"]
    assert rec["status"] == "error" and "audit trail" in rec["reasons"][-1]["detail"]


# ---------------------------------------------------------------- permission


def test_permit_clears_the_next_verdict_and_the_audit_shows_who(trust, capsys):
    photo(trust / "batch" / "banner.png", (0, 0, 255))
    assert scan("batch") == 1
    assert run("permit", "batch/banner.png", "--by", "J. Smith", "--note", "head teacher agreed by email") == 0
    assert "cleared with permission" in capsys.readouterr().out
    assert scan("batch") == 0
    rec = records(trust)["banner.png"]
    assert rec["status"] == "cleared" and rec["reasons"] == []
    assert rec["permission"]["by"] == "J. Smith" and rec["permission"]["note"] == "head teacher agreed by email"
    assert [r["kind"] for r in rec["permitted_reasons"]] == ["logo"]  # nothing hidden
    last = audit_rows(trust)[-1]
    assert last["status"] == "cleared" and json.loads(last["permission"])["by"] == "J. Smith"
    assert json.loads(last["reasons"])[0]["kind"] == "logo"
    capsys.readouterr()
    run("audit")
    assert "permitted by J. Smith" in capsys.readouterr().out


def test_permission_is_per_channel_and_per_file_content(trust):
    photo(trust / "batch" / "banner.png", (0, 0, 255))
    run("permit", "batch/banner.png", "--by", "J. Smith", "--note", "ok for social media")
    assert scan("batch", "--channel", "print") == 1  # another channel
    photo(trust / "batch" / "banner.png", (0, 0, 254))  # edited: another file
    assert scan("batch") == 1


def test_an_image_that_could_not_be_screened_cannot_be_permitted(trust, capsys):
    (trust / "batch" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    assert run("permit", "batch/broken.jpg", "--by", "J. Smith", "--note", "x") == 2
    assert "not screened completely" in capsys.readouterr().err
    assert scan("batch") == 2


def test_permit_of_a_cleared_image_records_nothing(trust, capsys):
    photo(trust / "batch" / "plain.png", (128, 128, 128))
    assert run("permit", "batch/plain.png", "--by", "J. Smith", "--note", "x") == 0
    assert "nothing needs permission" in capsys.readouterr().out
    conn = sqlite3.connect(trust / ".screening" / "state.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM permits").fetchone()[0] == 0


def reason(kind, **extra):
    return Reason(kind, f"{kind.value} {extra}", extra=extra)


NEEDS = Verdict("a.jpg", "f" * 64, Status.NEEDS_PERMISSION, "social_media",
                (reason(Kind.LOGO, academy="north"), reason(Kind.UNKNOWN_FACE)))


def permit(*covers, at="2026-01-01T00:00:00+00:00"):
    return Permit("f" * 64, "social_media", "J. Smith", "form", at, "me", tuple(covers))


@pytest.mark.parametrize("covers, cleared", [
    (("logo:north", "unknown_face:"), True),
    (("logo:north", "unknown_face:", "location:EXIF GPS"), True),  # covers more than is there now
    (("logo:north",), False),  # a face appeared that the permission was not given for
    (("logo:south", "unknown_face:"), False),
    (("logo:north", "unknown_face:", "unknown_face:"), True),
])
def test_permission_covers_only_the_reasons_it_was_given_for(covers, cleared):
    v = permitted(NEEDS, [permit(*covers)])
    assert (v.status is Status.CLEARED) == cleared
    if cleared:
        assert v.reasons == () and len(v.permitted_reasons) == 2
    else:
        assert v.reasons == NEEDS.reasons and "does not cover" in v.permission_gap


def test_two_unknown_faces_need_a_permission_for_two():
    two = Verdict("a.jpg", "f" * 64, Status.NEEDS_PERMISSION, "social_media",
                  (reason(Kind.UNKNOWN_FACE), reason(Kind.UNKNOWN_FACE)))
    assert permitted(two, [permit("unknown_face:")]).status is Status.NEEDS_PERMISSION


@pytest.mark.parametrize("status", [Status.ERROR, Status.CLEARED])
def test_permission_never_changes_an_error_or_a_cleared_verdict(status):
    v = Verdict("a.jpg", "f" * 64, status, "social_media",
                (reason(Kind.ERROR),) if status is Status.ERROR else ())
    everything = permit("error:", "logo:north", "unknown_face:")
    assert permitted(v, [everything]) == v


# ---------------------------------------------------------------- recheck: living consent


def test_withdrawn_consent_is_listed_by_recheck_and_exits_1(trust, capsys):
    photo(trust / "batch" / "staff.png", (0, 255, 0))
    photo(trust / "batch" / "plain.png", (128, 128, 128))
    assert scan("batch") == 0
    assert run("recheck") == 0  # nothing changed

    withdraw_consent(trust)
    capsys.readouterr()
    assert run("recheck") == 1
    out = capsys.readouterr().out
    assert "cleared -> needs_permission" in out and "staff.png" in out
    assert "consent withdrawn on 2020-01-01" in out and "plain.png" not in out
    last = audit_rows(trust)[-1]
    assert last["command"] == "recheck" and last["status"] == "needs_permission"

    assert run("recheck") == 0  # the change was recorded: listed once, not every night


def test_recheck_decides_from_stored_findings_without_screening(trust, monkeypatch, capsys):
    photo(trust / "batch" / "staff.png", (0, 255, 0))
    scan("batch")
    (trust / "batch" / "staff.png").unlink()  # gone: only the stored findings are left

    def no_detectors(config, gallery, people=None):
        raise AssertionError("recheck screened a file it did not need to")

    monkeypatch.setattr(pool, "build_detectors", no_detectors)
    withdraw_consent(trust)
    assert run("recheck") == 1
    assert "scan again" not in capsys.readouterr().out


def test_restored_consent_is_listed_as_cleared_again(trust, capsys):
    photo(trust / "batch" / "staff.png", (0, 255, 0))
    withdraw_consent(trust)
    assert scan("batch") == 1
    (trust / "consents" / "register.csv").write_text(PEOPLE)
    capsys.readouterr()
    assert run("recheck") == 0
    assert "needs_permission -> cleared" in capsys.readouterr().out


def test_new_reference_photo_means_the_file_is_screened_again(trust, monkeypatch, capsys):
    photo(trust / "batch" / "staff.png", (0, 255, 0))
    scan("batch")
    screened = []

    def counting(config, gallery, people=None):
        class Counting(FaceIfGreen):
            def detect(self, picture, earlier):
                screened.append(picture.path.name)
                return super().detect(picture, earlier)
        return {**fakes(config, gallery), Check.FACES: Counting()}

    monkeypatch.setattr(pool, "build_detectors", counting)
    (trust / "consents" / "photos" / "P1" / "ref2.jpg").write_bytes(b"another reference photo")
    assert run("recheck", "--workers", "1") == 0
    assert screened == ["staff.png"]
    assert "1 screened again" in capsys.readouterr().out


def test_outdated_findings_of_a_moved_file_are_still_decided_and_flagged(trust, capsys):
    photo(trust / "batch" / "staff.png", (0, 255, 0))
    scan("batch")
    (trust / "batch" / "staff.png").rename(trust / "staff.png")
    (trust / "consents" / "photos" / "P1" / "ref2.jpg").write_bytes(b"another reference photo")
    withdraw_consent(trust)
    capsys.readouterr()
    assert run("recheck") == 1
    out = capsys.readouterr().out
    assert "cleared -> needs_permission" in out and "scan again" in out


def test_recheck_appends_nothing_when_nothing_changed(trust):
    photo(trust / "batch" / "banner.png", (0, 0, 255))
    scan("batch")
    run("permit", "batch/banner.png", "--by", "J. Smith", "--note", "logo ok")
    assert scan("batch") == 0
    assert run("recheck") == 0
    assert audit_rows(trust)[-1]["command"] == "scan"


def test_a_permission_given_before_consent_was_withdrawn_does_not_cover_it(trust, capsys):
    photo(trust / "batch" / "staff-and-logo.png", (0, 255, 255))  # P1's face and a logo
    assert scan("batch") == 1
    run("permit", "batch/staff-and-logo.png", "--by", "J. Smith", "--note", "logo ok")
    assert scan("batch") == 0
    withdraw_consent(trust)
    capsys.readouterr()
    assert run("recheck") == 1
    out = capsys.readouterr().out
    assert "cleared -> needs_permission" in out
    assert "does not cover: face 1 is staff P1: social_media consent withdrawn" in out


@pytest.mark.parametrize("command", ["permit", "recheck"])
def test_unusable_face_store_stops_permit_and_recheck_with_exit_2(trust, capsys, command):
    photo(trust / "batch" / "a.png", (0, 255, 0))
    photo(trust / "batch" / "b.png", (255, 0, 0))
    assert scan("batch/a.png") == 0
    (trust / "screening.toml").write_text(GOOD + "\n# changed: findings must be made again\n")
    (trust / "consents" / ".encodings.sqlite").unlink(missing_ok=True)
    (trust / "consents" / ".encodings.sqlite").mkdir()  # a store that cannot be opened
    args = ["batch/b.png", "--by", "Head", "--note", "signed form"] if command == "permit" else []
    assert run(command, *args) == 2
    assert ".encodings.sqlite" in capsys.readouterr().err
