"""The C heap of a screening process: memory a look frees is kept for the next look, not handed
back to the system and faulted in again page by page.

glibc's malloc serves a large block (over a threshold that it raises to at most 32 MB) by mapping
fresh pages, which the kernel zeroes on first touch, and returns the top of its heap to the system
once over twice that threshold is free there. A look at a frame allocates hundreds of megabytes in
blocks of a few to a few tens of megabytes and frees them (SIFT's scale pyramid of the logo
check: 15 MB an image of a 1280 px frame's doubled first octave; the OCR detector's tensors,
onnxruntime without its own arena in rapidocr), so every look faulted them in again: on the 4 s
1080p panning clip of bench_video.py, 150-270 thousand page faults and 0.25-0.5 s of system time
(5-9% of the whole screening), nearly all in the logo and text passes, and the user time they cost
besides (caches refilled). With MMAP_THRESHOLD and TRIM_THRESHOLD below, 2-30 thousand faults and
0.00-0.02 s a clip second once the process has screened one clip (docs/video.md, "Measured").

What it costs: a process keeps up to TRIM_THRESHOLD of freed heap at the top of its heap: its
resident size stays near its peak between looks (a 1080p clip's whole look: about 1.1 GB), where it
fell back before; the peak itself does not grow (bench_video.py section 4). A block over
MMAP_THRESHOLD is still mapped and returned at once. The computation is untouched: the same bytes
in, the same answers out. Only glibc has these settings; elsewhere nothing changes."""

from __future__ import annotations

import ctypes
import platform

# Blocks up to this many bytes come from the heap (glibc's default threshold moves, at most 32 MB).
MMAP_THRESHOLD = 256 << 20
# The top of the heap is returned to the system only once this much of it is free (a 1080p frame's
# whole look frees a few hundred megabytes at once: with 256 MB, clips after the first still took
# 50-140 thousand faults).
TRIM_THRESHOLD = 1 << 30
# mallopt()'s parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_kept = False


def keep_freed_memory() -> bool:
    """Set this process's glibc malloc to keep what the looks free (once; safe to call again):
    whether it was set. Called where a screening process starts (pool.py)."""
    global _kept
    if _kept:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success; both or neither (a threshold without the other saves little)
    _kept = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _kept
