"""The watch job under attack from whoever can write to the inbox: links, `..` paths, hostile
names, a destination that is a file. Each test snapshots everything outside the inbox and the
sort folder and asserts the attack changed nothing there."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from argparse import Namespace
from pathlib import Path

import pytest

from screening import cli, detectors
from screening.commands.watch import _lock, _session_opener
from screening.store.journal import Journal, Sidecar, record_path
from screening.watch.job import JsonLog, Watch, WatchSettings
from screening.watch.moves import sha256_of
from screening.watch.sorting import complete

from .fake_detectors import photo
from .test_watch import BLUE, RED, REPO, job, sha, sorted_files, trust  # noqa: F401 - fixtures
from .tree import changes, snapshot

SORT = ("inbox", "screened", ".screening")  # what the job may change


def outside(root: Path) -> dict:
    return snapshot(root, skip=SORT)


def once(*extra: str) -> int:
    return cli.main(["watch", "inbox", "--once", "--workers", "1", "--settle", "0.1", "--grace", "0.2", *extra])


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def elsewhere(trust):  # noqa: F811
    """A folder outside the inbox with a photo and a private file, as an attacker would target."""
    folder = trust / "elsewhere"
    photo(folder / "keep.png", BLUE)
    secret = folder / "secret.sqlite"
    secret.write_bytes(b"SQLite format 3\0 face encodings of P1006")
    secret.chmod(0o600)
    return folder


# ---------------------------------------------------------------- 2. folder links are never walked


def test_once_reports_a_linked_folder_and_moves_nothing_out_of_it(trust, elsewhere, capsys):  # noqa: F811
    os.symlink(elsewhere, trust / "inbox" / "outlink")
    photo(trust / "inbox" / "a.png", BLUE)
    before = outside(trust)
    assert once() == 0
    assert changes(before, outside(trust)) == set()
    assert sorted_files(trust / "screened") == {"a.png": "cleared", "outlink": "error"}
    link = trust / "screened" / "error" / "outlink"
    assert link.is_symlink() and os.readlink(link) == str(elsewhere)
    record = json.loads((trust / "screened" / "error" / "outlink.json").read_text())
    assert "symbolic link" in record["reasons"][0]["detail"]


def test_an_event_naming_a_file_under_a_linked_folder_is_ignored(job, elsewhere):  # noqa: F811
    j = job()
    os.symlink(elsewhere, j.inbox / "outlink")
    before = outside(j.root)
    for name in ("keep.png", "secret.sqlite"):
        j.watch.note(j.inbox / "outlink" / name)  # as inotify would report, if it followed
    j.watch.note(j.inbox / "outlink")
    j.run_for(1.0)
    assert changes(before, outside(j.root)) == set()
    assert sorted_files(j.into) == {"outlink": "error"}


def test_a_folder_link_made_while_the_job_runs_with_inotify_is_not_followed(trust, elsewhere):  # noqa: F811
    """The reported attack: `ln -s /elsewhere inbox/outlink` under a running job (events on)."""
    log = io.StringIO()
    args = Namespace(config=str(trust / "screening.toml"), channel=None, workers=1, scheduler=None)
    journal = Journal(trust / ".screening" / "state.sqlite", trust / "inbox")
    w = Watch(WatchSettings(trust / "inbox", trust / "screened", settle=0.1, rescan=0.3), journal,
              _session_opener(args), JsonLog(log))
    runner = threading.Thread(target=w.run)
    before = outside(trust)
    runner.start()
    try:
        assert wait_for(lambda: w.observer is not None)
        os.symlink(elsewhere, trust / "inbox" / "outlink")
        photo(trust / "inbox" / "after.png", BLUE)  # sorted after the link was seen and walked past
        assert wait_for(lambda: (trust / "screened" / "cleared" / "after.png").exists()
                        and os.path.lexists(trust / "screened" / "error" / "outlink"))
        time.sleep(0.5)  # several more rounds of events and walks: still nothing moved out of it
    finally:
        w.stop()
        runner.join(timeout=30)
        journal.close()
    assert changes(before, outside(trust)) == set()


# ---------------------------------------------------------------- 3. file links: the link goes, never a copy


@pytest.mark.parametrize("target", ["secret.sqlite", "keep.png", "missing.png"])
def test_a_file_link_is_moved_as_a_link_never_read_or_copied(trust, elsewhere, target):  # noqa: F811
    os.symlink(elsewhere / target, trust / "inbox" / "enc.jpg")
    before = outside(trust)
    assert once() == 0
    assert changes(before, outside(trust)) == set()
    moved = trust / "screened" / "error" / "enc.jpg"
    assert moved.is_symlink() and os.readlink(moved) == str(elsewhere / target)
    record = json.loads((trust / "screened" / "error" / "enc.jpg.json").read_text())
    assert record["status"] == "error" and "never followed" in record["reasons"][0]["detail"]
    assert stat.S_IMODE((trust / "screened" / "error" / "enc.jpg.json").stat().st_mode) == 0o600
    assert not os.path.lexists(trust / "inbox" / "enc.jpg")


def other_filesystem(trust) -> Path:
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)) or shm.stat().st_dev == trust.stat().st_dev:
        pytest.skip("no second filesystem to move across")
    return Path(tempfile.mkdtemp(dir=shm, prefix="screening-test-"))


def test_a_link_to_the_encodings_store_sorted_across_filesystems_is_no_copy(trust, elsewhere):  # noqa: F811
    """The reported leak: a link to a 0600 DB, --into on another filesystem, came out as a 0644 copy."""
    into = other_filesystem(trust)
    try:
        os.symlink(elsewhere / "secret.sqlite", trust / "inbox" / "enc.jpg")
        before = outside(trust)
        assert once("--into", str(into)) == 0
        moved = into / "error" / "enc.jpg"
        assert moved.is_symlink() and os.readlink(moved) == str(elsewhere / "secret.sqlite")
        leaked = [p for p in into.rglob("*") if p.is_file() and not p.is_symlink()
                  and b"face encodings" in p.read_bytes()]
        assert leaked == []
        assert changes(before, outside(trust)) == set()
    finally:
        shutil.rmtree(into)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644])
def test_a_copy_across_filesystems_is_never_wider_than_its_source(trust, mode):  # noqa: F811
    into = other_filesystem(trust)
    old = os.umask(0)
    try:
        source = photo(trust / "inbox" / "a.png", BLUE)
        source.chmod(mode)
        assert once("--into", str(into)) == 0
        copy = into / "cleared" / "a.png"
        assert stat.S_IMODE(copy.stat().st_mode) & ~mode == 0
        assert stat.S_IMODE((into / "cleared" / "a.png.json").stat().st_mode) == 0o600
    finally:
        os.umask(old)
        shutil.rmtree(into)


def test_a_folder_swapped_for_a_link_after_screening_moves_nothing_out_of_the_target(trust, elsewhere):  # noqa: F811
    """Screened inbox/sub/keep.png, then sub replaced by a link to a folder holding the same bytes."""
    inbox = trust / "inbox"
    (inbox / "sub").mkdir()
    shutil.copy2(elsewhere / "keep.png", inbox / "sub" / "keep.png")
    journal = Journal(trust / ".screening" / "state.sqlite", inbox)
    entry = journal.begin(inbox / "sub" / "keep.png", sha(inbox / "sub" / "keep.png"),
                          trust / "screened" / "cleared" / "sub" / "keep.png", {"status": "cleared"})
    (inbox / "sub").rename(trust / "sub-moved-away")
    os.symlink(elsewhere, inbox / "sub")
    before = outside(trust)
    assert complete(journal, entry) == "vanished"
    journal.close()
    assert changes(before, outside(trust)) == set()
    assert (elsewhere / "keep.png").is_file() and not (trust / "screened" / "cleared" / "sub" / "keep.png").exists()


def test_a_fifo_in_the_inbox_does_not_hang_the_job(trust):  # noqa: F811
    os.mkfifo(trust / "inbox" / "pipe.jpg")
    photo(trust / "inbox" / "a.png", BLUE)
    assert once() == 0
    assert sorted_files(trust / "screened") == {"a.png": "cleared"}
    assert stat.S_ISFIFO(os.lstat(trust / "inbox" / "pipe.jpg").st_mode)


def test_a_link_is_hashed_by_the_text_of_its_target_never_by_what_it_points_to(tmp_path):
    (tmp_path / "a").write_bytes(b"same")
    (tmp_path / "b").write_bytes(b"same")
    os.symlink(tmp_path / "a", tmp_path / "to-a")
    os.symlink(tmp_path / "b", tmp_path / "to-b")
    assert sha256_of(tmp_path / "to-a") != sha256_of(tmp_path / "a")
    assert sha256_of(tmp_path / "to-a") != sha256_of(tmp_path / "to-b")


# ---------------------------------------------------------------- 4. paths compared only once resolved


@pytest.mark.parametrize("into", ["y/../inbox/sorted", "inbox/./sorted", "inbox/sub/..", "inbox"])
def test_into_inside_the_inbox_through_dots_is_refused(trust, capsys, into):  # noqa: F811
    (trust / "y").mkdir()
    (trust / "inbox" / "sub").mkdir()
    photo(trust / "inbox" / "a.png", BLUE)
    before = snapshot(trust)
    assert once("--into", into) == 2
    assert "inside the inbox" in capsys.readouterr().err
    assert changes(before, snapshot(trust)) <= {".screening"}


def test_into_inside_the_inbox_through_a_link_is_refused(trust, capsys):  # noqa: F811
    os.symlink(trust / "inbox", trust / "alias")
    assert once("--into", "alias/sorted") == 2
    assert "inside the inbox" in capsys.readouterr().err


def test_an_inbox_inside_a_sort_folder_is_refused(trust, capsys):  # noqa: F811
    assert cli.main(["watch", "screened/error/again", "--into", "screened", "--once"]) == 2
    assert "where sorted files go" in capsys.readouterr().err


@pytest.mark.parametrize("spelling", ["x/../inbox", "./inbox/", "alias"])
def test_the_one_job_per_inbox_lock_holds_for_any_spelling_of_the_inbox(trust, capsys, spelling):  # noqa: F811
    (trust / "x").mkdir()
    os.symlink(trust / "inbox", trust / "alias")
    photo(trust / "inbox" / "a.png", BLUE)
    held = _lock(trust / ".screening" / "state.sqlite", Path(os.path.realpath(trust / "inbox")))
    try:
        assert cli.main(["watch", spelling, "--once"]) == 2
        assert "already sorting" in capsys.readouterr().err
        assert (trust / "inbox" / "a.png").exists()
    finally:
        held.close()


# ---------------------------------------------------------------- 5. --once ends when it cannot progress


@pytest.mark.parametrize("blocked", ["cleared", "needs-permission"])
def test_once_exits_2_when_a_destination_folder_is_a_plain_file(trust, capsys, blocked):  # noqa: F811
    (trust / "screened").mkdir()
    (trust / "screened" / blocked).write_text("I am a file")
    photo(trust / "inbox" / "a.png", BLUE)
    photo(trust / "inbox" / "b.png", RED)
    before = outside(trust)
    env = {**os.environ, "PYTHONPATH": str(REPO), detectors.TEST_DETECTORS_ENV: "tests.fake_detectors:by_colour"}
    job = subprocess.run([sys.executable, "-m", "screening", "watch", "inbox", "--once", "--workers", "1",
                          "--settle", "0.1"], cwd=trust, env=env, capture_output=True, text=True,
                         timeout=120)  # bounded: it used to retry for ever
    assert job.returncode == 2
    err = job.stderr
    assert "could not sort 1 file(s)" in err and ("a.png" if blocked == "cleared" else "b.png") in err
    stuck = "a.png" if blocked == "cleared" else "b.png"
    assert (trust / "inbox" / stuck).exists() and (trust / "screened" / blocked).read_text() == "I am a file"
    assert changes(before, outside(trust)) <= {"consents/.encodings.sqlite"}  # the job's own store
    (trust / "screened" / blocked).unlink()  # fixed: the next run finishes what was under way
    assert once() == 0
    assert sorted_files(trust / "screened") == {"a.png": "cleared", "b.png": "needs-permission"}


# ---------------------------------------------------------------- 6. hostile names in the log


def test_hostile_names_are_sorted_and_logged_escaped(trust, capsys):  # noqa: F811
    names = ["=HYPERLINK(x).png", "[bold red]x.png", "[/]y.png", "a\nsorted cleared.png", "csi\x9b31m.png",
             "esc\x1b[2J.png", "rtl\u202egnp.png"]
    for name in names:
        photo(trust / "inbox" / name, BLUE)
    assert once() == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out
    lines = [json.loads(line) for line in out.splitlines()]  # a newline in a name splits no line
    assert {x["file"] for x in lines if x["event"] == "sorted"} == set(names)
    assert set(sorted_files(trust / "screened")) == set(names)


def test_a_name_that_is_not_utf8_is_sorted_and_logged_and_a_look_alike_is_not_confused(trust):  # noqa: F811
    inbox = os.fsencode(trust / "inbox")
    made = {}
    for raw, colour in ((b"bad\xff.png", RED), (b"bad\\xff.png", BLUE)):  # the second is spelt like the first
        p = photo(trust / "staging" / str(len(made)), colour)
        made[raw] = sha(p)
        os.rename(p, inbox + b"/" + raw)
    assert once("--log", str(trust / "watch.log")) == 0
    lines = [json.loads(line) for line in (trust / "watch.log").read_text(encoding="utf-8").splitlines()]
    assert sum(x["event"] == "sorted" for x in lines) == 2
    into = os.fsencode(trust / "screened")
    assert sha(Path(os.fsdecode(into + b"/needs-permission/bad\xff.png"))) == made[b"bad\xff.png"]
    assert sha(Path(os.fsdecode(into + b"/cleared/bad\\xff.png"))) == made[b"bad\\xff.png"]
    record = json.loads(Path(os.fsdecode(into + b"/needs-permission/bad\xff.png.json")).read_text(encoding="utf-8"))
    assert record["path"].endswith("bad\\xff.png")  # the bad byte written \xff, readable text
    assert os.listdir(inbox) == []


def test_a_name_too_long_for_its_record_is_shortened_not_stuck(trust):  # noqa: F811
    long = "é" * 100 + "x" * 45 + ".png"  # 249 bytes: NAME.json would not fit in 255
    made = sha(photo(trust / "inbox" / "a.png", BLUE).rename(trust / "inbox" / long))
    (trust / "inbox" / ("é" * 100 + "x" * 45 + ".xmp")).write_text("<x:xmpmeta/>")
    assert once() == 0
    (image,) = [p for p in (trust / "screened" / "cleared").iterdir() if p.suffix == ".png"]
    assert sha(image) == made and image.name.endswith("~.png") and record_path(image).is_file()
    assert len(os.fsencode(image.name)) <= 235 and [p.suffix for p in image.parent.iterdir()].count(".xmp") == 1
    assert list((trust / "inbox").iterdir()) == []


# ---------------------------------------------------------------- 7. sidecars travel with their image


def test_a_sidecar_of_any_case_goes_with_its_image_into_the_same_folder(job):  # noqa: F811
    j = job()
    photo(j.inbox / "IMG_1.JPG", RED)
    (j.inbox / "img_1.Xmp").write_text("<x:xmpmeta/>")
    photo(j.inbox / "IMG_2.png", BLUE)
    (j.inbox / "IMG_2.png.XMP").write_text("<x:xmpmeta/>")
    j.run_for(1.0)
    assert sorted_files(j.into) == {"IMG_1.JPG": "needs-permission", "img_1.Xmp": "needs-permission",
                                    "IMG_2.png": "cleared", "IMG_2.png.XMP": "cleared"}
    sorted_lines = j.lines("sorted")
    assert len(sorted_lines) == 2 and all(len(x["sidecars"]) == 1 for x in sorted_lines)


def test_a_taken_name_numbers_the_image_and_its_sidecar_together(job):  # noqa: F811
    j = job()
    photo(j.into / "cleared" / "IMG_1.png", BLUE)
    (j.into / "cleared" / "IMG_1.xmp").write_text("theirs")
    photo(j.inbox / "IMG_1.png", (0, 0, 250))
    (j.inbox / "IMG_1.xmp").write_text("ours")
    j.run_for(1.0)
    assert (j.into / "cleared" / "IMG_1 (2).xmp").read_text() == "ours"
    assert (j.into / "cleared" / "IMG_1.xmp").read_text() == "theirs"
    assert (j.into / "cleared" / "IMG_1 (2).png.json").is_file()


def _begun_with_sidecar(trust):
    """IMG_1.png and IMG_1.xmp in the inbox, their sort to cleared/ journalled, nothing moved yet."""
    inbox, into = trust / "inbox", trust / "screened" / "cleared"
    image, side = photo(inbox / "IMG_1.png", BLUE), inbox / "IMG_1.xmp"
    side.write_text("<x:xmpmeta/>")
    journal = Journal(trust / ".screening" / "state.sqlite", inbox)
    entry = journal.begin(image, sha(image), into / "IMG_1.png", {"status": "cleared"},
                          (Sidecar(side, sha(side), into / "IMG_1.xmp"),))
    return journal, entry, image, side


def test_killed_after_the_image_moved_the_replay_brings_its_sidecar(trust):  # noqa: F811
    journal, entry, image, side = _begun_with_sidecar(trust)
    inbox, into = image.parent, entry.image.parent
    into.mkdir(parents=True)
    os.link(image, into / "IMG_1.png")  # as a kill between the image's link and its unlink leaves it
    (entry,) = journal.open_entries()
    assert complete(journal, entry) == "sorted"
    assert sorted(p.name for p in into.iterdir()) == ["IMG_1.png", "IMG_1.png.json", "IMG_1.xmp"]
    assert list(inbox.iterdir()) == [] and journal.open_entries() == []
    journal.close()


def test_a_sidecar_changed_after_screening_sends_the_image_back_to_be_screened(trust):  # noqa: F811
    journal, entry, image, side = _begun_with_sidecar(trust)
    into = entry.image.parent
    side.write_text("<x:xmpmeta>GPS added after screening</x:xmpmeta>")
    assert complete(journal, entry) == "changed"
    assert image.exists() and side.exists() and not (into / "IMG_1.png").exists()
    journal.close()


def test_a_linked_sidecar_is_not_taken_along_but_sorted_as_a_link(job, elsewhere):  # noqa: F811
    j = job()
    photo(j.inbox / "IMG_1.png", BLUE)
    os.symlink(elsewhere / "secret.sqlite", j.inbox / "IMG_1.xmp")
    before = outside(j.root)
    j.run_for(1.0)
    assert sorted_files(j.into) == {"IMG_1.png": "cleared", "IMG_1.xmp": "error"}
    assert (j.into / "error" / "IMG_1.xmp").is_symlink()
    assert changes(before, outside(j.root)) == set()


# ---------------------------------------------------------------- 8. what the job writes is private


def test_records_journal_and_log_are_0600_under_umask_0(trust):  # noqa: F811
    photo(trust / "inbox" / "a.png", RED)
    old = os.umask(0)
    try:
        assert once("--log", str(trust / "watch.log")) == 0
    finally:
        os.umask(old)
    private = [trust / "screened" / "needs-permission" / "a.png.json", trust / "watch.log",
               *(trust / ".screening").glob("state.sqlite*")]
    assert {str(p): stat.S_IMODE(p.stat().st_mode) for p in private} == {str(p): 0o600 for p in private}


def test_a_journal_written_before_sidecars_were_journalled_is_upgraded_and_finished(trust):  # noqa: F811
    import sqlite3

    inbox, db = trust / "inbox", trust / ".screening" / "state.sqlite"
    image = photo(inbox / "a.png", BLUE)
    db.parent.mkdir()
    old = sqlite3.connect(db)
    old.execute("CREATE TABLE watch_journal (source TEXT PRIMARY KEY, inbox TEXT NOT NULL, sha256 TEXT NOT NULL, "
                "image TEXT NOT NULL, record TEXT NOT NULL)")
    old.execute("INSERT INTO watch_journal VALUES (?,?,?,?,?)", (str(image), str(inbox), sha(image),
                str(trust / "screened" / "cleared" / "a.png"), '{"status": "cleared"}'))
    old.commit()
    old.close()
    journal = Journal(db, inbox)
    (entry,) = journal.open_entries()
    assert entry.sidecars == () and complete(journal, entry) == "sorted"
    assert (trust / "screened" / "cleared" / "a.png").is_file() and not image.exists()
    journal.close()
