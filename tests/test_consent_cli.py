"""`screening consent enrol | list | forget`, and `scan` enrolling by itself."""

from __future__ import annotations

import io
import json
import sqlite3
import stat

import pytest

from tests.academy_trust import logo_folder
from screening import cli, pool
from screening.consent import enrolment, forgetting
from screening.model import Check, FaceFinding

from .test_config_register import GOOD, HEADER
from .test_enrolment import ROWS, FakeEngine, face_photo, photos_dir, write_register


class FindNothing:
    def detect(self, picture, earlier):
        return []


class FacesFromGallery:
    """The faces check with the fake engine: every coloured square is a face, matched to the gallery."""

    def __init__(self, gallery):
        self.gallery = gallery
        self.engine = FakeEngine()

    def detect(self, picture, earlier):
        rgb = picture.frames[0]
        return [FaceFinding(f.box, self.gallery.candidates(self.engine.encode(rgb, f.box)))
                for f in self.engine.locate(rgb)]


def fakes(config, gallery, people=None):
    return {Check.LOCATION: FindNothing(), Check.FACES: FacesFromGallery(gallery),
            Check.LOGOS: FindNothing(), Check.UNIFORMS: FindNothing(),
            Check.TEXT: FindNothing()}


@pytest.fixture
def trust(tmp_path, monkeypatch):
    logo_folder(tmp_path / "logos" / "north")
    (tmp_path / "consents" / "photos").mkdir(parents=True)
    (tmp_path / "screening.toml").write_text(GOOD)
    write_register(tmp_path, *ROWS.values())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables unwrapped, so the test can read them
    monkeypatch.setattr(enrolment, "build_engine", lambda config: FakeEngine())
    monkeypatch.setattr(enrolment, "default_version", lambda: FakeEngine.version)
    monkeypatch.setattr(pool, "build_detectors", fakes)
    return tmp_path


def consent(*args):
    return cli.main(["consent", *args])


def scan(*args):
    return cli.main(["scan", *args, "--workers", "1", "--jsonl", "out.jsonl"])


def record(trust):
    (line,) = (trust / "out.jsonl").read_text().splitlines()
    return json.loads(line)


def row_of(out: str, pid: str) -> list[str]:
    line = next(line for line in out.splitlines() if f" {pid} " in line)
    return [cell.strip() for cell in line.strip("│┃ ").split("│")]


# ---------------------------------------------------------------- enrol


def test_enrol_exits_0_when_everyone_with_biometric_consent_is_enrolled(trust, capsys):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "a.png", (10, 200, 10))
    assert consent("enrol") == 0
    out, err = capsys.readouterr()
    assert "looking at P1/a.png" in err and "looking at P2/a.png" in err
    assert row_of(out, "P1")[2:4] == ["yes", "1"]
    assert row_of(out, "P3")[2:] == ["no", "-", "not processed"]
    assert "2 person(s) enrolled from 2 photo(s)" in out
    assert consent("enrol") == 0
    out, err = capsys.readouterr()
    assert "looking at" not in err and "0 photo(s) looked at now" in out


def test_enrol_exits_1_and_says_why_when_someone_has_no_usable_photo(trust, capsys):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "group.png", (10, 200, 10), (10, 10, 200))
    assert consent("enrol") == 1
    out = capsys.readouterr().out
    assert row_of(out, "P2")[3:] == ["0", "1"]
    assert "P2 Bo Birch: group.png not used: 2 faces found" in out
    assert "P2 Bo Birch: no usable reference photo; their face will be reported as unknown" in out


def test_enrol_exits_2_naming_the_file_when_the_store_is_broken(trust, capsys):
    (trust / "consents" / ".encodings.sqlite").write_bytes(b"garbage" * 200)
    assert consent("enrol") == 2
    assert ".encodings.sqlite" in capsys.readouterr().err


def test_enrol_with_a_bad_register_exits_2_naming_row_and_column(trust, capsys):
    write_register(trust, ROWS["P1"], "P9,Zed,pupil,north,perhaps,yes,yes,yes,,\n")
    assert consent("enrol") == 2
    assert "row 3: `biometric_consent` is 'perhaps'" in capsys.readouterr().err


@pytest.mark.parametrize("text, message", [
    (HEADER + ROWS["P1"] + "\n" + "P9,Zed,pupil,north,yes,yes,yes,maybe,,\n", "row 4: `print` is 'maybe'"),
    (HEADER + ROWS["P1"] + "p1,Amy Again,pupil,north,yes,yes,yes,yes,,\n",
     "row 3: `person_id` 'p1' differs from 'P1' (row 2) only in capitals"),
    (HEADER.strip() + ",website\n", "website appear twice in the header row"),
    (HEADER + "P9,Zed,pupil,north,yes,yes,yes,yes,2026-02-30,\n", "row 2: `expires` is '2026-02-30'"),
    (HEADER + "P9,Zed,pupil,north,yes,yes,yes\n", "row 2: `print` is ''"),
])
def test_register_problems_are_errors_naming_row_and_column(trust, capsys, text, message):
    (trust / "consents" / "register.csv").write_text(text)
    assert consent("list") == 2
    err = capsys.readouterr().err
    assert message in err and "register.csv" in err


# ---------------------------------------------------------------- list


def test_list_shows_expired_withdrawn_and_no_for_the_channel_on_the_day(trust, capsys):
    write_register(trust,
                   "P1,Amy Ash,pupil,north,yes,yes,yes,yes,2026-06-30,\n",
                   "P2,Bo Birch,pupil,north,yes,yes,yes,yes,,2026-09-01\n",
                   "P3,Cy Cedar,staff,north,no,yes,no,yes,2027-08-31,\n",
                   "P4,Di Dale,staff,north,no,yes,yes,yes,2027-08-31,2027-01-01\n")
    assert consent("list", "--channel", "social_media", "--date", "2026-11-24") == 0
    out = capsys.readouterr().out
    assert row_of(out, "P1")[-1] == "expired on 2026-06-30"
    assert row_of(out, "P2")[-1] == "withdrawn on 2026-09-01"
    assert row_of(out, "P3")[-1] == "no"
    assert row_of(out, "P4")[-1] == "valid"  # withdrawal dated in the future: not yet
    assert "website" not in out

    assert consent("list", "--date", "2026-06-30") == 0
    out = capsys.readouterr().out
    assert row_of(out, "P1")[-3:] == ["valid", "valid", "valid"]  # expires: consent ends after that day
    assert row_of(out, "P3")[-3:] == ["valid", "no", "valid"]


def test_list_counts_enrolled_photos_without_enrolling(trust, capsys, monkeypatch):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P1") / "b.png", (190, 10, 10))
    assert consent("enrol") == 1  # P2 has no photo
    capsys.readouterr()
    monkeypatch.setattr(enrolment, "sync", lambda *a, **k: pytest.fail("list must not enrol"))
    assert consent("list") == 0
    out = capsys.readouterr().out
    assert row_of(out, "P1")[:6] == ["P1", "Amy Ash", "pupil", "north", "yes", "2"]
    assert row_of(out, "P2")[5] == "0" and row_of(out, "P3")[5] == "-"


def test_list_photos_shows_each_reference_photo_used_or_why_not(trust, capsys):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P1") / "two.png", (190, 10, 10), (10, 190, 10))
    face_photo(photos_dir(trust, "P2") / "grey.png", (90, 90, 90))  # the fake's face turned away
    consent("enrol")
    capsys.readouterr()
    assert consent("list", "--photos") == 0
    out = capsys.readouterr().out
    rows = [row_of(out, pid) for pid in ("P1", "P2")]
    lines = [line for line in out.splitlines() if ".png" in line]
    assert any("a.png" in line and "yes" in line for line in lines)
    assert any("two.png" in line and "no: 2 faces found" in line for line in lines)
    assert any("grey.png" in line and "cannot be identified" in line for line in lines)
    assert rows[0][5] == "1" and rows[1][5] == "0"
    assert not any("P3" in line for line in lines)  # no biometric consent: no photos, never listed


def test_list_says_who_is_enrolled_from_a_single_photo(trust, capsys):
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "a.png", (10, 200, 10))
    face_photo(photos_dir(trust, "P2") / "b.png", (10, 190, 10))
    consent("enrol")
    capsys.readouterr()
    assert consent("list") == 0
    out = capsys.readouterr().out
    assert "1 enrolled from a single photo (P1)" in out
    assert ".png" not in out  # the photos are listed only with --photos


def test_list_unknown_channel_exits_2(trust, capsys):
    assert consent("list", "--channel", "tiktok") == 2
    assert "tiktok" in capsys.readouterr().err
    assert consent("list", "--channel", "") == 2


# ---------------------------------------------------------------- scan enrols by itself


def test_scan_picks_up_new_reference_photos_and_withdrawn_biometric_consent(trust):
    (trust / "batch").mkdir()
    face_photo(trust / "batch" / "amy.png", (200, 10, 10))

    assert scan("batch") == 1
    assert [r["kind"] for r in record(trust)["reasons"]] == ["unknown_face"]

    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    assert scan("batch") == 0
    assert record(trust)["faces"][0]["person_id"] == "P1"

    write_register(trust, ROWS["P1"].replace(",yes,yes,yes,yes", ",no,yes,yes,yes"), ROWS["P2"], ROWS["P3"])
    assert scan("batch") == 1
    assert [r["kind"] for r in record(trust)["reasons"]] == ["unknown_face"]
    with sqlite3.connect(trust / "consents" / ".encodings.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM photos").fetchone() == (0,)


@pytest.mark.parametrize("row, channel, expected", [
    ("P2,Bo Birch,pupil,north,yes,yes,yes,no,,\n", "print", "P2: no print consent in the register"),
    ("P2,Bo Birch,pupil,north,yes,yes,yes,no,,\n", "website", None),
    ("P2,Bo Birch,pupil,north,yes,yes,yes,yes,,2020-01-01\n", "website", "P2: website consent withdrawn on 2020-01-01"),
    ("P2,Bo Birch,pupil,north,yes,yes,yes,yes,2020-01-01,\n", "social_media", "P2: social_media consent expired on 2020-01-01"),
    ("P2,Bo Birch,pupil,north,yes,yes,yes,yes,2999-01-01,2999-01-01\n", "social_media", None),
])
def test_scan_judges_consent_per_channel_on_the_day(trust, row, channel, expected):
    write_register(trust, ROWS["P1"], row)
    face_photo(photos_dir(trust, "P2") / "a.png", (10, 200, 10))
    (trust / "batch").mkdir()
    face_photo(trust / "batch" / "bo.png", (10, 200, 10))
    assert scan("batch", "--channel", channel) == (0 if expected is None else 1)
    rec = record(trust)
    assert rec["faces"][0]["person_id"] == "P2"
    assert [r["detail"] for r in rec["reasons"]] == ([] if expected is None else [f"face 1 is pupil {expected}"])


def test_scan_uses_the_default_channel_of_the_config(trust):
    write_register(trust, ROWS["P1"], "P2,Bo Birch,pupil,north,yes,yes,no,yes,,\n")
    face_photo(photos_dir(trust, "P2") / "a.png", (10, 200, 10))
    (trust / "batch").mkdir()
    face_photo(trust / "batch" / "bo.png", (10, 200, 10))
    assert scan("batch") == 1
    assert record(trust)["channel"] == "social_media"
    assert record(trust)["reasons"][0]["kind"] == "no_consent"


def test_scan_exits_2_when_the_encodings_store_is_unusable(trust, capsys):
    (trust / "batch").mkdir()
    face_photo(trust / "batch" / "amy.png", (200, 10, 10))
    (trust / "consents" / ".encodings.sqlite").write_bytes(b"garbage" * 200)
    assert scan("batch") == 2
    assert ".encodings.sqlite" in capsys.readouterr().err


# ---------------------------------------------------------------- forget


@pytest.fixture
def screened(trust):
    """P1 and P2 enrolled; a photo of P2 (social-media consent withdrawn) screened into the audit."""
    face_photo(photos_dir(trust, "P1") / "a.png", (200, 10, 10))
    face_photo(photos_dir(trust, "P2") / "a.png", (10, 200, 10))
    face_photo(photos_dir(trust, "P2") / "b.png", (12, 200, 10))
    register = trust / "consents" / "register.csv"
    register.write_bytes(b"\xef\xbb\xbf" + (HEADER.strip() + ",note\r\n"
                         + ROWS["P1"].strip() + ',"likes\r\nart"\r\n'
                         + "P2,Bo Birch,pupil,north,yes,yes,yes,no,,2026-09-01,\r\n"
                         + ROWS["P3"].strip() + ",\r\n").encode())
    (trust / "batch").mkdir()
    face_photo(trust / "batch" / "bo.png", (10, 200, 10))
    assert scan("batch") == 1
    assert record(trust)["reasons"][0]["person_id"] == "P2"
    return trust


def test_forget_removes_encodings_photos_and_register_row_keeping_other_bytes(screened, capsys):
    register = screened / "consents" / "register.csv"
    before = register.read_bytes()
    register.chmod(0o640)
    assert consent("forget", "P2", "--yes") == 0
    out = capsys.readouterr().out
    # two photos, each described by both recognisers (dlib and SFace): four rows overwritten
    assert "face encodings: 4 deleted" in out and "reference photos: 2 file(s) deleted" in out

    assert register.read_bytes() == before.replace(b"P2,Bo Birch,pupil,north,yes,yes,yes,no,,2026-09-01,\r\n", b"")
    assert stat.S_IMODE(register.stat().st_mode) == 0o640
    assert not photos_dir(screened, "P2").exists() and photos_dir(screened, "P1").is_dir()
    store = (screened / "consents" / ".encodings.sqlite").read_bytes()
    assert b"P2" not in store and b"P1" in store


def test_forget_pseudonymises_the_audit_trail_and_keeps_the_verdicts(screened, capsys):
    state = screened / ".screening" / "state.sqlite"
    with sqlite3.connect(state) as db:
        before = db.execute("SELECT id, status, sha256 FROM audit ORDER BY id").fetchall()
    assert consent("forget", "P2", "--yes") == 0
    pseudonym = next(w for w in capsys.readouterr().out.split() if w.startswith("forgotten-")).rstrip(";")
    with sqlite3.connect(state) as db:
        rows = db.execute("SELECT id, status, sha256, reasons, screening FROM audit ORDER BY id").fetchall()
    assert [r[:3] for r in rows] == before
    last = rows[-1]
    assert json.loads(last[3])[0]["person_id"] == pseudonym
    candidates = json.loads(last[4])["results"]
    assert any(c[0] == pseudonym for r in candidates for f in r["findings"] for c in f.get("candidates", []))
    data = state.read_bytes()
    assert b"P2" not in data and b"Bo Birch" not in data


def test_forget_replaces_id_and_name_in_permissions_too(screened):
    state = screened / ".screening" / "state.sqlite"
    with sqlite3.connect(state) as db:
        db.execute("INSERT INTO permits (sha256, channel, path, by, note, at, user, covers) VALUES "
                   "('ab', 'social_media', 'batch/bo.png', 'Mrs Birch', 'signed form for bo birch', "
                   "'2026-11-24', 'office', '[\"no_consent:P2\"]')")
    assert consent("forget", "P2", "--yes") == 0
    with sqlite3.connect(state) as db:
        note, covers = db.execute("SELECT note, covers FROM permits").fetchone()
    assert note.startswith("signed form for forgotten-") and "P2" not in covers
    assert json.loads(covers)[0].startswith("no_consent:forgotten-")


def test_forget_rewrites_json_records_of_other_state_tables_but_not_their_keys(screened):
    state = screened / ".screening" / "state.sqlite"
    with sqlite3.connect(state) as db:
        db.execute("CREATE TABLE watch_journal (source TEXT PRIMARY KEY, record TEXT NOT NULL)")
        db.execute("INSERT INTO watch_journal VALUES ('inbox/P2-trip.jpg', ?)",
                   (json.dumps({"faces": [{"person_id": "P2"}]}),))
    assert consent("forget", "P2", "--yes") == 0
    with sqlite3.connect(state) as db:
        source, record = db.execute("SELECT source, record FROM watch_journal").fetchone()
    assert source == "inbox/P2-trip.jpg"  # a path another job relies on: left as it is
    assert json.loads(record)["faces"][0]["person_id"].startswith("forgotten-")


def test_scan_after_forget_reports_the_face_as_unknown(screened, capsys):
    assert consent("forget", "P2", "--yes") == 0
    assert scan("batch") == 1
    assert [r["kind"] for r in record(screened)["reasons"]] == ["unknown_face"]


def test_forget_refuses_without_yes_when_stdin_is_not_a_terminal(screened, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    register = (screened / "consents" / "register.csv").read_bytes()
    assert consent("forget", "P2") == 2
    assert "--yes" in capsys.readouterr().err
    assert (screened / "consents" / "register.csv").read_bytes() == register
    assert photos_dir(screened, "P2").is_dir()


def test_forget_asks_on_a_terminal_and_does_nothing_unless_told_yes(screened, monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert consent("forget", "P2") == 2
    assert photos_dir(screened, "P2").is_dir()
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert consent("forget", "P2") == 0
    assert not photos_dir(screened, "P2").exists()


def test_forget_of_an_unknown_id_exits_2(trust, capsys):
    assert consent("forget", "P99", "--yes") == 2
    assert "no trace of 'P99'" in capsys.readouterr().err


def test_forget_a_person_without_biometric_consent_removes_their_row(trust):
    face_photo(photos_dir(trust, "P3") / "a.png", (10, 10, 200))
    assert consent("forget", "P3", "--yes") == 0
    assert b"P3" not in (trust / "consents" / "register.csv").read_bytes()
    assert not photos_dir(trust, "P3").exists()


def test_forget_is_finished_by_running_it_again_after_a_failure(screened, monkeypatch, capsys):
    def fail(*args):
        raise OSError("disk unplugged")

    monkeypatch.setattr(forgetting, "_delete_person_folder", fail)
    assert consent("forget", "P2", "--yes") == 2
    assert "reference photos: disk unplugged" in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.chdir(screened)
    assert consent("forget", "P2", "--yes") == 0
    assert not photos_dir(screened, "P2").exists()
    assert b"P2" not in (screened / "consents" / "register.csv").read_bytes()
