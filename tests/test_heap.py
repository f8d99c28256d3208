"""The screening processes' heap (heap.py): a block a look frees is kept for the next look, so
allocating it again does not fault its pages in again; what is computed is untouched."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="the heap's settings are glibc's")

# A process allocating and freeing a 40 MB block (over glibc's own threshold, at most 32 MB, as
# SIFT's pyramid and the OCR detector's tensors add up to) five times: the page faults it took.
_ALLOCATE = """
import resource, sys
import numpy as np
from screening import heap
if sys.argv[1] == "kept":
    assert heap.keep_freed_memory() and heap.keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = np.ones(40 << 20, np.uint8); del block
before = faults()
for _ in range(5):
    block = np.ones(40 << 20, np.uint8)
    assert int(block[::4096].sum()) == 10240
    del block
print(faults() - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _ALLOCATE, mode], cwd=REPO, capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    return int(out.stdout.split()[-1])


@glibc
def test_a_freed_block_is_allocated_again_without_faulting_its_pages_in():
    default, kept = _faults("default"), _faults("kept")
    if default < 100:  # nothing faulted in again even without the settings: nothing to compare
        pytest.skip(f"only {default} page faults without the settings")
    assert kept * 10 < default, (kept, default)


@glibc
def test_a_pool_workers_setup_keeps_freed_memory():
    out = subprocess.run([sys.executable, "-c", "from screening import heap, pool\nassert not heap._kept\n"
                          "pool.one_thread()\nprint(heap._kept)"], cwd=REPO, capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "True"
