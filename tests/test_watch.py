"""The folder-watch job: complete files only, sorted once, byte-identical, surviving SIGKILL."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from argparse import Namespace
from pathlib import Path

import pytest
from watchdog.events import (
    DirMovedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
)

from screening import cli, detectors, pool
from screening.commands.watch import _session_opener
from screening.model import Check
from screening.store.journal import Journal, record_path
from screening.trust import Trust
from screening.watch.arrivals import InboxEvents, in_progress
from screening.watch import sorting
from screening.watch.job import JsonLog, Watch, WatchSettings
from screening.watch.sorting import complete

from . import fake_detectors
from .fake_detectors import photo
from .test_config_register import HEADER, write_trust
from .watch_soak import slow_write

REPO = Path(__file__).resolve().parents[1]
BLUE, RED = (0, 0, 255), (255, 0, 0)


class Boom:
    def detect(self, picture, earlier):
        if picture.path.name.startswith("boom"):
            raise RuntimeError("detector exploded")
        return []


def with_boom(config, gallery, people=None):
    return {**fake_detectors.by_colour(config, gallery), Check.LOGOS: Boom()}


@pytest.fixture
def trust(tmp_path, monkeypatch):
    write_trust(tmp_path)
    (tmp_path / "inbox").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", with_boom)
    monkeypatch.setattr(Trust, "enrol", lambda self: None)  # fakes need no face encodings
    return tmp_path


class Job:
    """A Watch driven by hand: constructed events and explicit cycles, no observer thread."""

    def __init__(self, root: Path, **settings):
        self.root, self.inbox, self.into = root, root / "inbox", root / "screened"
        self.log = io.StringIO()
        args = Namespace(config=str(root / "screening.toml"), channel=None, workers=1, scheduler=None)
        defaults = dict(settle=0.2, grace=30.0, poll=0.05)
        self.journal = Journal(root / ".screening" / "state.sqlite", self.inbox)
        self.watch = Watch(WatchSettings(self.inbox, self.into, **{**defaults, **settings}), self.journal,
                           _session_opener(args), JsonLog(self.log))

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.watch.cycle(time.monotonic())
            time.sleep(0.05)

    def lines(self, event: str | None = None) -> list[dict]:
        out = [json.loads(line) for line in self.log.getvalue().splitlines()]
        return [o for o in out if event is None or o["event"] == event]

    def close(self) -> None:
        if self.watch.session:
            self.watch.session.close()
        self.journal.close()


@pytest.fixture
def job(trust):
    made = []

    def make(**settings) -> Job:
        made.append(Job(trust, **settings))
        return made[-1]

    yield make
    for j in made:
        j.close()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sorted_files(into: Path) -> dict[str, str]:
    """Relative path -> status folder, for every image (not record) under the sort folders."""
    out = {}
    for folder in ("cleared", "needs-permission", "error"):
        for p in (into / folder).rglob("*") if (into / folder).is_dir() else ():
            if (p.is_file() or p.is_symlink()) and not p.name.endswith(".json"):  # a link is sorted as one
                out[str(p.relative_to(into / folder))] = folder
    return out


# ---------------------------------------------------------------- the handler, with constructed events


def test_handler_passes_created_modified_and_moved_paths_on():
    seen: list[Path] = []
    handler = InboxEvents(seen.append)
    handler.dispatch(FileCreatedEvent("/in/a.jpg"))
    handler.dispatch(FileModifiedEvent("/in/b.jpg"))
    handler.dispatch(FileMovedEvent("/in/c.jpg.part", "/in/c.jpg"))
    assert seen == [Path("/in/a.jpg"), Path("/in/b.jpg"), Path("/in/c.jpg.part"), Path("/in/c.jpg")]


def test_handler_never_raises_even_when_noting_fails():
    def broken(path):
        raise RuntimeError("queue exploded")

    InboxEvents(broken).dispatch(FileCreatedEvent("/in/a.jpg"))  # would kill the observer thread


@pytest.mark.parametrize("name, waiting", [
    ("IMG_1.jpg", False), ("IMG_1.JPG.part", True), (".~tmp", True), ("~$x.docx", True),
    ("a.crdownload", True), ("a.tmp", True), (".hidden.jpg", True), ("~tilde.jpg", False)])
def test_files_being_written_are_recognised_by_name(name, waiting):
    assert in_progress(name) is waiting


def test_event_for_a_new_file_gets_it_sorted(job):
    j = job(poll=3600)  # no walking: only the event can bring the file in
    j.run_for(0.1)
    photo(j.inbox / "a.png", BLUE)
    InboxEvents(j.watch.note).dispatch(FileCreatedEvent(str(j.inbox / "a.png")))
    j.run_for(0.6)
    assert sorted_files(j.into) == {"a.png": "cleared"}


def test_a_folder_moved_in_brings_all_its_photos(job, trust):
    j = job(poll=3600)  # no walking after the first: only the folder's one event announces them
    j.run_for(0.1)
    photo(trust / "elsewhere" / "trip" / "a.png", BLUE)
    photo(trust / "elsewhere" / "trip" / "day2" / "b.png", RED)
    (trust / "elsewhere" / "trip").rename(j.inbox / "trip")
    InboxEvents(j.watch.note).dispatch(DirMovedEvent(str(trust / "elsewhere" / "trip"), str(j.inbox / "trip")))
    j.run_for(0.6)
    assert sorted_files(j.into) == {"trip/a.png": "cleared", "trip/day2/b.png": "needs-permission"}


def test_partial_download_waits_until_renamed(job):
    j = job()
    photo(j.inbox / "a.png.crdownload", BLUE)
    j.run_for(0.6)
    assert sorted_files(j.into) == {} and (j.inbox / "a.png.crdownload").exists()
    (j.inbox / "a.png.crdownload").rename(j.inbox / "a.png")
    InboxEvents(j.watch.note).dispatch(FileMovedEvent(str(j.inbox / "a.png.crdownload"), str(j.inbox / "a.png")))
    j.run_for(0.6)
    assert sorted_files(j.into) == {"a.png": "cleared"}


# ---------------------------------------------------------------- sorting


def test_each_file_lands_in_its_folder_byte_identical_with_its_record(job):
    j = job()
    made = {n: sha(photo(j.inbox / n, colour)) for n, colour in [("a.png", BLUE), ("b.png", RED)]}
    (j.inbox / "notes.txt").write_text("not a photo")
    os.utime(j.inbox / "notes.txt", (time.time() - 3600,) * 2)  # old: not a copy still arriving
    made["notes.txt"] = sha(j.inbox / "notes.txt")
    j.run_for(0.8)
    assert sorted_files(j.into) == {"a.png": "cleared", "b.png": "needs-permission", "notes.txt": "error"}
    for name, folder in sorted_files(j.into).items():
        image = j.into / folder / name
        assert sha(image) == made[name]
        record = json.loads(record_path(image).read_text())
        assert record["sha256"] == made[name] and record["status"] == folder.replace("-", "_")
    assert list(j.inbox.iterdir()) == []
    logged = {line["file"]: line for line in j.lines("sorted")}
    assert logged["b.png"]["reasons"] == ["location"] and logged["b.png"]["destination"].endswith("b.png")


def test_xmp_sidecar_waits_for_its_image_then_goes_with_it(job):
    j = job(grace=0.3)
    photo(j.inbox / "a.png", BLUE)
    (j.inbox / "a.xmp").write_text("<x:xmpmeta/>")
    (j.inbox / "b.jpg.xmp").write_text("<x:xmpmeta/>")
    photo(j.inbox / "b.jpg", BLUE)
    j.run_for(1.0)
    where = sorted_files(j.into)
    assert where["a.png"] != "error" and where["b.jpg"] != "error"
    assert where["a.xmp"] == where["a.png"] and where["b.jpg.xmp"] == where["b.jpg"]  # same folder
    assert list(j.inbox.iterdir()) == []
    assert {line["file"] for line in j.lines("sorted")} == {"a.png", "b.jpg"}  # one sort each, with it


def test_subfolders_are_kept(job):
    j = job()
    photo(j.inbox / "trip" / "day1" / "a.png", RED)
    j.run_for(0.6)
    assert sorted_files(j.into) == {"trip/day1/a.png": "needs-permission"}


def test_a_taken_name_gets_a_numbered_suffix_and_nothing_is_overwritten(job):
    j = job()
    first = photo(j.into / "cleared" / "a.png", (9, 9, 9))
    before = sha(first)
    made = sha(photo(j.inbox / "a.png", BLUE))
    j.run_for(0.6)
    assert sha(first) == before
    assert sha(j.into / "cleared" / "a (2).png") == made
    assert (j.into / "cleared" / "a (2).png.json").is_file()


def test_detector_exception_sends_that_file_to_error_and_the_job_goes_on(job):
    j = job()
    photo(j.inbox / "boom.png", BLUE)
    photo(j.inbox / "fine.png", BLUE)
    j.run_for(0.8)
    assert sorted_files(j.into) == {"boom.png": "error", "fine.png": "cleared"}
    record = json.loads((j.into / "error" / "boom.png.json").read_text())
    assert any("detector exploded" in r["detail"] for r in record["reasons"])


def test_a_bug_while_sorting_one_file_sends_it_to_error_with_the_reason(job, monkeypatch):
    j = job()
    real = sorting.free_names
    calls = []

    def fails_first_time(*args):
        calls.append(args)
        if len(calls) == 1:
            raise TypeError("sorting bug")
        return real(*args)

    monkeypatch.setattr("screening.watch.job.free_names", fails_first_time)
    photo(j.inbox / "a.png", BLUE)
    j.run_for(0.6)
    assert sorted_files(j.into) == {"a.png": "error"}
    assert "sorting bug" in (j.into / "error" / "a.png.json").read_text()


# ---------------------------------------------------------------- only complete files


def test_young_truncated_file_is_retried_not_sent_to_error(job):
    j = job(grace=30.0)
    whole = (REPO / "samples" / "public-domain" / "camera.png").read_bytes()
    target = j.inbox / "slow.png"
    target.write_bytes(whole[: len(whole) // 2])  # a copy pausing half-way, longer than settle
    j.run_for(0.8)
    assert sorted_files(j.into) == {}
    assert j.lines("deferred") and target.exists()
    with open(target, "ab") as f:
        f.write(whole[len(whole) // 2:])
    j.run_for(1.0)
    assert sorted_files(j.into) == {"slow.png": "cleared"}
    assert sha(j.into / "cleared" / "slow.png") == hashlib.sha256(whole).hexdigest()


def test_old_truncated_file_goes_to_error(job):
    j = job(grace=30.0)
    whole = (REPO / "samples" / "public-domain" / "camera.png").read_bytes()
    (j.inbox / "broken.png").write_bytes(whole[:5000])
    os.utime(j.inbox / "broken.png", (time.time() - 3600,) * 2)
    j.run_for(0.6)
    assert sorted_files(j.into) == {"broken.png": "error"}


def test_file_still_growing_is_not_screened(job):
    j = job(settle=0.5)
    target = j.inbox / "growing.png"
    target.write_bytes(b"\x89PNG\r\n\x1a\n")
    for _ in range(8):
        j.run_for(0.15)
        with open(target, "ab") as f:
            f.write(b"\0" * 100)
    assert sorted_files(j.into) == {} and not j.lines("deferred")


# ---------------------------------------------------------------- the share going away


def test_offline_inbox_pauses_and_files_are_not_treated_as_gone(job, trust):
    j = job()
    made = sha(photo(j.inbox / "a.png", BLUE))
    j.run_for(0.1)
    (trust / "inbox").rename(trust / "unmounted")
    j.run_for(0.4)
    assert j.lines("inbox_offline") and not j.lines("vanished")
    (trust / "unmounted").rename(trust / "inbox")
    j.run_for(0.6)
    assert j.lines("inbox_online")
    assert sha(j.into / "cleared" / "a.png") == made


def test_unreadable_register_pauses_sorting_until_fixed(job, trust):
    j = job()
    j.run_for(0.1)
    good = (trust / "consents" / "register.csv").read_text()
    (trust / "consents" / "register.csv").write_text(HEADER + "P1,A,pupil,north,yes,yes,yes,no,31/09/2026,\n")
    j.watch.walk_due = 0
    photo(j.inbox / "a.png", BLUE)
    j.run_for(0.5)
    assert sorted_files(j.into) == {} and "row 2" in j.lines("paused")[0]["detail"]
    (trust / "consents" / "register.csv").write_text(good)
    j.run_for(0.6)
    assert sorted_files(j.into) == {"a.png": "cleared"}


# ---------------------------------------------------------------- crash safety of one sort


def begun(trust, name="a.png"):
    """An image in the inbox and a journal entry for it, as if the job was killed right after."""
    inbox, into = trust / "inbox", trust / "screened"
    source = photo(inbox / name, BLUE)
    journal = Journal(trust / ".screening" / "state.sqlite", inbox)
    image = into / "cleared" / name
    entry = journal.begin(source, sha(source), image, {"path": str(source), "status": "cleared"})
    return journal, entry


def killed_after(step, entry):
    """Leave the files as a SIGKILL after `step` would."""
    entry.image.parent.mkdir(parents=True, exist_ok=True)
    if step in ("record", "link", "tmp", "moved"):
        sorting._write_record(entry)
    if step == "link":
        os.link(entry.source, entry.image)
    if step == "tmp":
        entry.tmp.write_bytes(entry.source.read_bytes()[:100])
    if step == "moved":
        os.rename(entry.source, entry.image)


@pytest.mark.parametrize("step", ["journal", "record", "link", "tmp", "moved"])
def test_replay_after_a_kill_at_any_step_leaves_exactly_one_identical_copy(trust, step):
    journal, entry = begun(trust)
    made = entry.sha256
    killed_after(step, entry)
    assert complete(journal, entry) == "sorted"
    assert not entry.source.exists() and not entry.tmp.exists()
    assert sha(entry.image) == made and json.loads(entry.record_path.read_text())["status"] == "cleared"
    assert journal.open_entries() == []
    journal.close()


def _sort_dying_at(db: Path, inbox: Path, image: Path, step: int, across: bool) -> None:
    """In a child process: begin and complete one sort, dying (as SIGKILL would) before the
    step-th file-system call; with `across`, links out of the inbox fail as across filesystems."""
    calls = [0]
    real = {name: getattr(os, name) for name in ("link", "unlink", "replace", "rename", "fsync")}

    def dying(name):
        def call(*args, **kwargs):
            calls[0] += 1
            if calls[0] == step:
                os._exit(9)
            if name == "link" and across and kwargs.get("src_dir_fd") is not None:  # out of the inbox
                raise OSError(errno.EXDEV, "cross-device link")
            return real[name](*args, **kwargs)
        return call

    for name in real:
        setattr(os, name, dying(name))
    source = inbox / image.name
    journal = Journal(db, inbox)
    complete(journal, journal.begin(source, sha(source), image, {"status": "cleared"}))
    os._exit(0)


@pytest.mark.parametrize("across", [False, True], ids=["same filesystem", "across filesystems"])
def test_killed_before_every_file_operation_of_a_sort_the_replay_leaves_one_copy(trust, across):
    import multiprocessing

    db, inbox = trust / ".screening" / "state.sqlite", trust / "inbox"
    image = trust / "screened" / "cleared" / "a.png"
    Journal(db, inbox).close()
    step, outcomes = 0, []
    while True:
        step += 1
        for leftover in (trust / "screened").rglob("*") if (trust / "screened").exists() else ():
            if leftover.is_file():
                leftover.unlink()
        made = sha(photo(inbox / "a.png", BLUE))
        # spawn, not fork: a test process may hold threads (pytest-xdist's), and a forked child of a
        # threaded process can block for ever on a lock one of them held (seen once in CI)
        child = multiprocessing.get_context("spawn").Process(target=_sort_dying_at,
                                                             args=(db, inbox, image, step, across))
        child.start()
        child.join()
        outcomes.append(child.exitcode)
        journal = Journal(db, inbox)
        for entry in journal.open_entries():
            assert complete(journal, entry) == "sorted"
        if (inbox / "a.png").exists():  # killed before the journal row: screened again from scratch
            assert not image.exists()
            complete(journal, journal.begin(inbox / "a.png", made, image, {"status": "cleared"}))
        assert sha(image) == made and not (inbox / "a.png").exists()
        assert json.loads(record_path(image).read_text())["status"] == "cleared"
        assert sorted(p.name for p in image.parent.iterdir()) == ["a.png", "a.png.json"]
        assert journal.open_entries() == []
        journal.close()
        if child.exitcode == 0:
            break
    assert outcomes.count(9) >= 5  # every step of the sort was interrupted once


def test_replay_when_another_file_took_the_reserved_name_moves_to_a_new_name(trust):
    journal, entry = begun(trust)
    killed_after("record", entry)
    intruder = photo(entry.image, RED)
    theirs = sha(intruder)
    assert complete(journal, entry) == "sorted"
    assert sha(entry.image) == theirs and not entry.record_path.exists()
    moved = entry.image.with_name("a (2).png")
    assert sha(moved) == entry.sha256 and record_path(moved).is_file() and not entry.source.exists()
    journal.close()


def test_replay_of_a_file_changed_since_screening_screens_it_again(trust):
    journal, entry = begun(trust)
    killed_after("record", entry)
    photo(entry.source, RED)
    assert complete(journal, entry) == "changed"
    assert entry.source.exists() and not entry.image.exists() and not entry.record_path.exists()
    assert journal.open_entries() == []
    journal.close()


@pytest.mark.parametrize("failure", [errno.EXDEV, errno.EPERM])
def test_move_across_filesystems_or_without_hard_links_is_verified(trust, monkeypatch, failure):
    journal, entry = begun(trust)
    made = entry.sha256
    real_link = os.link

    def link(src, dst, **kwargs):
        if failure == errno.EPERM or kwargs.get("src_dir_fd") is not None:  # out of the inbox
            raise OSError(failure, os.strerror(failure))
        return real_link(src, dst, **kwargs)

    monkeypatch.setattr(os, "link", link)
    assert complete(journal, entry) == "sorted"
    assert sha(entry.image) == made and not entry.source.exists() and not entry.tmp.exists()
    journal.close()


def test_real_move_to_another_filesystem_is_copied_verified_and_removed(trust):
    """The inbox on the test's disk, the sort folder on tmpfs (/dev/shm) where the machine has one."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)) or shm.stat().st_dev == trust.stat().st_dev:
        pytest.skip("no second filesystem to move across")
    into = Path(tempfile.mkdtemp(dir=shm, prefix="screening-test-"))
    try:
        source = photo(trust / "inbox" / "a.png", BLUE)
        made = sha(source)
        journal = Journal(trust / ".screening" / "state.sqlite", trust / "inbox")
        entry = journal.begin(source, made, into / "cleared" / "a.png", {"status": "cleared"})
        assert complete(journal, entry) == "sorted"
        assert sha(into / "cleared" / "a.png") == made and not source.exists()
        assert [p.name for p in (into / "cleared").iterdir()] == ["a.png", "a.png.json"]
        journal.close()
    finally:
        shutil.rmtree(into)


# ---------------------------------------------------------------- the command


def test_once_sorts_what_is_there_and_exits(trust, capsys):
    photo(trust / "inbox" / "a.png", BLUE)
    photo(trust / "inbox" / "b.png", RED)
    (trust / "inbox" / ".DS_Store").write_bytes(b"junk")
    code = cli.main(["watch", "inbox", "--once", "--workers", "1", "--settle", "0.2"])
    assert code == 0
    assert sorted_files(trust / "screened") == {"a.png": "cleared", "b.png": "needs-permission"}
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {x["file"] for x in lines if x["event"] == "sorted"} == {"a.png", "b.png"}
    assert all({"time", "file", "status", "destination", "seconds", "reasons"} <= set(x)
               for x in lines if x["event"] == "sorted")


def test_once_that_cannot_screen_at_all_exits_2_and_leaves_the_inbox(trust, monkeypatch, capsys):
    def broken(self):
        raise RuntimeError("encodings store is unreadable")

    monkeypatch.setattr(Trust, "enrol", broken)
    photo(trust / "inbox" / "a.png", BLUE)
    assert cli.main(["watch", "inbox", "--once", "--workers", "1"]) == 2
    assert (trust / "inbox" / "a.png").exists()
    assert "encodings store is unreadable" in capsys.readouterr().out


def test_a_second_job_on_the_same_inbox_is_refused(trust, capsys):
    from screening.commands.watch import _lock

    state = trust / ".screening" / "state.sqlite"
    held = _lock(state, (trust / "inbox").absolute())
    try:
        assert cli.main(["watch", "inbox", "--once"]) == 2
        assert "already sorting" in capsys.readouterr().err
    finally:
        held.close()


def test_sorting_into_the_inbox_is_refused(trust, capsys):
    assert cli.main(["watch", "inbox", "--into", "inbox/out", "--once"]) == 2
    assert "inside the inbox" in capsys.readouterr().err


def drop_while_running(trust, rescan: float, started_after: float) -> str:
    """Run a real Watch in a thread, drop a.png into the inbox, wait for it to be sorted; the log."""
    log = io.StringIO()
    args = Namespace(config=str(trust / "screening.toml"), channel=None, workers=1, scheduler=None)
    journal = Journal(trust / ".screening" / "state.sqlite", trust / "inbox")
    w = Watch(WatchSettings(trust / "inbox", trust / "screened", settle=0.2, rescan=rescan), journal,
              _session_opener(args), JsonLog(log))
    runner = threading.Thread(target=w.run)
    runner.start()
    try:
        time.sleep(started_after)
        photo(trust / "inbox" / "a.png", BLUE)
        deadline = time.monotonic() + 10
        while not (trust / "screened" / "cleared" / "a.png").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        w.stop()
        runner.join(timeout=10)
        journal.close()
    return log.getvalue()


def test_real_events_bring_a_dropped_file_in(trust):
    """inotify through watchdog's Observer, walking the inbox only every minute."""
    log = drop_while_running(trust, rescan=60, started_after=0.5)
    assert (trust / "screened" / "cleared" / "a.png").exists()
    assert "events_missed" not in log


def test_no_events_available_the_job_walks_the_inbox_instead(trust, monkeypatch):
    class NoInotify:
        def schedule(self, *args, **kwargs):
            raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr("watchdog.observers.Observer", NoInotify)
    log = drop_while_running(trust, rescan=0.2, started_after=0.3)
    assert (trust / "screened" / "cleared" / "a.png").exists()
    assert log.count("events_unavailable") == 1


# ---------------------------------------------------------------- killed and started again


def started(log: Path) -> int:
    return log.read_text().count('"event": "started"') if log.exists() else 0


def sorted_count(log: Path) -> int:
    return log.read_text().count('"event": "sorted"') if log.exists() else 0


@pytest.mark.slow
def test_sigkill_mid_batch_and_restart_loses_and_doubles_nothing(trust):
    """40 files, 2 written slowly with a pause; the job SIGKILLed 4 times at random moments."""
    env = {**os.environ, "PYTHONPATH": str(REPO), detectors.TEST_DETECTORS_ENV: "tests.fake_detectors:by_colour_slowly"}
    log = trust / "watch.log"
    command = [sys.executable, "-m", "screening", "watch", "inbox", "--settle", "0.5", "--grace", "20",
               "--workers", "2", "--log", str(log)]
    staging = trust / "staging"
    made: dict[str, str] = {}
    red: set[str] = set()
    for i in range(40):
        colour = RED if i % 3 == 0 else BLUE
        p = photo(staging / f"p{i:02}.png", colour, size=(300, 400))
        made[p.name] = sha(p)
        if colour == RED:
            red.add(p.name)
    rng = random.Random(5)

    def start(runs: int) -> subprocess.Popen:
        job = subprocess.Popen(command, cwd=trust, env=env)
        deadline = time.monotonic() + 60
        while started(log) < runs and time.monotonic() < deadline:
            time.sleep(0.05)
        return job

    job = start(1)
    writers = [threading.Thread(target=slow_write, args=(trust / "inbox" / n, (staging / n).read_bytes(), 4.0))
               for n in ("p00.png", "p01.png")]
    for w in writers:
        w.start()
    for name in sorted(made)[2:]:
        (staging / name).rename(trust / "inbox" / name)  # same filesystem: arrives whole
    sorted_at_kill = []
    for run, when in enumerate(["progress", "startup", "progress", "progress"], start=2):
        if when == "progress":  # once it has sorted a few more, at a random moment between files
            goal = min(sorted_count(log) + rng.randint(1, 6), 39)
            deadline = time.monotonic() + 60
            while sorted_count(log) < goal and time.monotonic() < deadline:
                time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        job.send_signal(signal.SIGKILL)
        job.wait()
        sorted_at_kill.append(sorted_count(log))
        job = start(run)
    for w in writers:
        w.join()
    job.send_signal(signal.SIGTERM)
    assert job.wait(timeout=60) == 0
    once = subprocess.run(command + ["--once"], cwd=trust, env=env, timeout=120)
    assert once.returncode == 0

    into = trust / "screened"
    where = sorted_files(into)
    assert sorted(where) == sorted(made), "every file in exactly one folder"
    assert list((trust / "inbox").iterdir()) == []
    for name, folder in where.items():
        image = into / folder / name
        assert sha(image) == made[name], name
        assert json.loads(record_path(image).read_text())["sha256"] == made[name]
    assert {n for n, f in where.items() if f == "cleared"}.isdisjoint(red)
    assert {n for n, f in where.items() if f == "needs-permission"} == red
    assert [p for p in into.rglob("*") if p.name.endswith(".screening-tmp")] == []
    assert any(0 < n < 40 for n in sorted_at_kill), f"no kill landed mid-batch: {sorted_at_kill}"


def test_a_file_that_is_not_an_image_by_content_is_sorted_at_once_not_deferred(job):
    j = job(grace=30.0)
    (j.inbox / "README").write_text("Photos from sports day.\nAsk Jo before posting.\n")
    (j.inbox / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    j.run_for(0.8)
    assert sorted_files(j.into) == {"README": "error", "Thumbs.db": "error"}
    assert not j.lines("deferred")


def test_once_does_not_wait_the_grace_period_for_files_that_are_not_images(trust, capsys):
    photo(trust / "inbox" / "a.png", BLUE)
    (trust / "inbox" / "notes.txt").write_text("not a photo\n")
    # before, --once waited out the (here hour-long) grace for notes.txt: pytest-timeout stopped it
    code = cli.main(["watch", "inbox", "--once", "--workers", "1", "--settle", "0.2", "--grace", "3600"])
    assert code == 0
    assert sorted_files(trust / "screened") == {"a.png": "cleared", "notes.txt": "error"}
