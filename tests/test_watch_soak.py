"""Kill-and-restart soak of `screening watch` (see tests/watch_soak.py): ~200 files arriving every
way files arrive, hostile names and links among them, the job SIGKILLed 10 times at seeded
random moments; nothing lost, doubled, parted from its sidecar, or touched outside."""

from __future__ import annotations

import pytest

from . import watch_soak


@pytest.mark.slow
def test_watch_killed_ten_times_loses_doubles_and_leaks_nothing(tmp_path):
    soak = watch_soak.run(tmp_path, seed=13, files=200, kills=10)
    watch_soak.check(soak)
    assert len(soak.sorted_at_kill) == 10
    assert any(0 < a < b for a, b in zip(soak.sorted_at_kill, soak.sorted_at_kill[1:])), \
        f"no kill landed while files were being sorted: {soak.sorted_at_kill}"
