"""Screening on a Dask cluster gives the same records as a local run."""

from __future__ import annotations

import json

import pytest

from screening import cli, detectors
from screening.trust import Trust

from .fake_detectors import photo
from .test_config_register import write_trust

distributed = pytest.importorskip("distributed")


@pytest.fixture
def trust(tmp_path, monkeypatch):
    write_trust(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Trust, "enrol", lambda self: None)  # fakes need no face encodings
    # the workers are other processes: they find the fakes through the test hook, as the parent does
    monkeypatch.setenv(detectors.TEST_DETECTORS_ENV, "tests.fake_detectors:by_colour")
    photo(tmp_path / "batch" / "blue.png", (0, 0, 255))
    photo(tmp_path / "batch" / "red.png", (255, 0, 0))
    photo(tmp_path / "batch" / "deeper" / "blue2.png", (0, 0, 200))
    (tmp_path / "batch" / "notes.txt").write_text("not a photo")
    (tmp_path / "batch" / "empty.jpg").write_bytes(b"")
    return tmp_path


def records(path):
    return sorted((json.loads(line) for line in path.read_text().splitlines()), key=lambda r: r["path"])


@pytest.mark.slow
def test_cluster_scan_gives_the_same_records_and_exit_code_as_a_local_scan(trust):
    local = cli.main(["scan", "batch", "--workers", "1", "--no-cache", "--quiet", "--jsonl", "local.jsonl"])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = cli.main(["scan", "batch", "--scheduler", cluster.scheduler_address, "--no-cache", "--quiet",
                           "--jsonl", "cluster.jsonl"])
        cached = cli.main(["scan", "batch", "--scheduler", cluster.scheduler_address, "--quiet",
                           "--jsonl", "cached.jsonl"])
    assert local == remote == cached == 2
    assert records(trust / "cluster.jsonl") == records(trust / "local.jsonl")
    assert records(trust / "cached.jsonl") == records(trust / "local.jsonl")
    assert {r["status"] for r in records(trust / "local.jsonl")} == {"cleared", "needs_permission", "error"}


@pytest.mark.slow
def test_watch_once_on_a_cluster_sorts_like_a_local_run(trust):
    (trust / "inbox").mkdir()
    photo(trust / "inbox" / "blue.png", (0, 0, 255))
    photo(trust / "inbox" / "red.png", (255, 0, 0))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code = cli.main(["watch", "inbox", "--once", "--settle", "0.2", "--scheduler", cluster.scheduler_address,
                         "--log", "watch.log"])
    assert code == 0
    assert (trust / "screened" / "cleared" / "blue.png").is_file()
    assert (trust / "screened" / "needs-permission" / "red.png").is_file()
    assert list((trust / "inbox").iterdir()) == []


@pytest.mark.slow  # waits out the connection timeout
def test_unreachable_scheduler_fails_the_scan_with_its_address(trust, capsys):
    code = cli.main(["scan", "batch", "--scheduler", "tcp://127.0.0.1:1", "--quiet"])
    assert code == 2
    assert "tcp://127.0.0.1:1" in capsys.readouterr().err
