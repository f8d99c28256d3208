"""The result cache: unchanged bytes are not screened again; anything that matters is."""

from __future__ import annotations

import json

import pytest

from screening import cli, pool
from screening.config import load_config
from screening.model import Check
from screening.pool import screen_many
from screening.store.cache import ResultCache
from screening.trust import Trust

from . import fake_detectors
from .fake_detectors import Counting, photo
from .test_config_register import GOOD, HEADER, write_trust


class Exploding:
    def detect(self, picture, earlier):
        raise RuntimeError("detector exploded")


@pytest.fixture
def trust(tmp_path, monkeypatch):
    write_trust(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pool, "build_detectors", fake_detectors.counting)
    monkeypatch.setattr(Trust, "enrol", lambda self: None)  # fakes need no face encodings
    Counting.seen.clear()
    return tmp_path


def scan(*args):
    return cli.main(["scan", "batch", "--workers", "1", "--quiet", "--jsonl", "out.jsonl", *args])


def records(trust):
    lines = (trust / "out.jsonl").read_text().splitlines()
    return sorted((json.loads(line) for line in lines), key=lambda r: r["path"])


def test_rescan_of_unchanged_files_runs_no_detector_and_gives_the_same_records(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    photo(trust / "batch" / "gps.png", (255, 0, 0))
    assert scan() == 1
    first = records(trust)
    assert sorted(Counting.seen) == ["a.png", "gps.png"]
    Counting.seen.clear()
    assert scan() == 1
    assert Counting.seen == []
    assert records(trust) == first


def test_changed_bytes_are_screened_again(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    scan()
    photo(trust / "batch" / "a.png", (255, 0, 0))
    Counting.seen.clear()
    assert scan() == 1
    assert Counting.seen == ["a.png"]
    assert records(trust)[0]["status"] == "needs_permission"


def test_same_bytes_under_another_name_are_screened_again(trust):
    """The text check reads a pupil's name in a file's own name (RT26-8): a renamed copy is not the
    same screening (RT27-11)."""
    photo(trust / "batch" / "a.png", (0, 0, 255))
    scan()
    (trust / "batch" / "copy.png").write_bytes((trust / "batch" / "a.png").read_bytes())
    Counting.seen.clear()
    scan()
    assert Counting.seen == ["copy.png"]
    assert [r["path"] for r in records(trust)] == ["batch/a.png", "batch/copy.png"]


def test_same_bytes_under_the_same_name_in_another_folder_are_answered_under_that_path(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    scan()
    (trust / "batch" / "more").mkdir()
    (trust / "batch" / "more" / "a.png").write_bytes((trust / "batch" / "a.png").read_bytes())
    Counting.seen.clear()
    scan()
    assert Counting.seen == []
    assert sorted(r["path"] for r in records(trust)) == ["batch/a.png", "batch/more/a.png"]


@pytest.mark.parametrize("change", ["config", "logos", "reference photos"])
def test_a_change_that_can_change_findings_screens_again(trust, change):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    scan()
    if change == "config":
        (trust / "screening.toml").write_text(GOOD + "\n[faces]\ntolerance = 0.5\n")
    elif change == "logos":
        photo(trust / "logos" / "north" / "crest.png", (0, 40, 90))
    else:
        (trust / "consents" / "register.csv").write_text(HEADER + "P1,Amy,pupil,north,yes,yes,yes,yes,,\n")
        photo(trust / "consents" / "photos" / "P1" / "amy.png", (200, 180, 160))
    Counting.seen.clear()
    scan()
    assert Counting.seen == ["a.png"]


def test_a_consent_change_alone_does_not_screen_again(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    (trust / "consents" / "register.csv").write_text(HEADER + "P1,Amy,pupil,north,no,yes,yes,yes,,\n")
    scan()
    (trust / "consents" / "register.csv").write_text(HEADER + "P1,Amy,pupil,north,no,yes,no,yes,,2026-09-01\n")
    Counting.seen.clear()
    scan()
    assert Counting.seen == []


@pytest.mark.parametrize("first_run", [
    lambda c, g, people=None: {**fake_detectors.counting(c, g), Check.LOGOS: Exploding()},
    lambda c, g, people=None: {Check.LOCATION: Counting(), Check.FACES: Counting()},
], ids=["failed check", "missing check"])
def test_a_failed_or_missing_check_is_never_cached_so_the_file_is_tried_again(trust, monkeypatch, first_run):
    monkeypatch.setattr(pool, "build_detectors", first_run)
    photo(trust / "batch" / "a.png", (0, 0, 255))
    assert scan() == 2
    monkeypatch.setattr(pool, "build_detectors", fake_detectors.counting)
    Counting.seen.clear()
    assert scan() == 0
    assert Counting.seen == ["a.png"]


def test_no_cache_option_screens_everything(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    scan()
    Counting.seen.clear()
    scan("--no-cache")
    assert Counting.seen == ["a.png"]


def test_cache_hits_are_answered_in_the_parent_before_the_pool(trust):
    """With a pool, a hit never reaches a worker: the parent's fake screener is not called."""
    config = load_config(trust / "screening.toml")
    items = [(photo(trust / "batch" / f"{i}.png", (0, 0, 255)), f"{i}.png") for i in range(4)]
    cache = ResultCache(config.state, config="c", gallery="g")
    first = {s.path: s for s in screen_many(items, config, None, workers=2,
                                            factory=fake_detectors.by_colour, cache=cache)}
    unreadable = [(trust / "batch" / "gone.png", "gone.png")]

    def no_workers(config, gallery, people=None):
        raise AssertionError("a worker was started for cached files")

    again = {s.path: s for s in screen_many(items, config, None, workers=2, factory=no_workers, cache=cache)}
    assert {k: v.results for k, v in again.items()} == {k: v.results for k, v in first.items()}
    (gone,) = screen_many(unreadable, config, None, workers=1, factory=fake_detectors.by_colour, cache=cache)
    assert gone.results[0].check is Check.DECODE and not gone.results[0].complete
    cache.close()


def test_an_image_with_an_xmp_sidecar_is_never_answered_from_the_cache(trust):
    photo(trust / "batch" / "a.png", (0, 0, 255))
    scan()
    (trust / "batch" / "a.xmp").write_text("<x:xmpmeta/>")
    Counting.seen.clear()
    scan()
    assert Counting.seen == ["a.png"]
