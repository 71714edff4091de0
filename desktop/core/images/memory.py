"""Keep big image buffers from being zeroed while the GIL is held (glibc only).

Pillow allocates a decoded image with `calloc` while it holds the GIL (`Image.core.new` in
`ImageFile.load_prepare`). glibc serves blocks of 16 MB from fresh `mmap`s — already zero, no
work — until the first such block is freed: then its *dynamic* mmap threshold rises above 16 MB
and later blocks come from the heap, where `calloc` must `memset` them. For a 5K screenshot that
is ~59 MB zeroed (and page-faulted) with the GIL held: 5–40 ms during which the GUI thread cannot
run a line of Python (measured with `py-spy --gil` during benchmarks/bench_send.py). Pinning the
threshold keeps every large block a fresh mapping; the pages are then faulted in by the decoder,
which runs without the GIL. Other platforms' allocators already hand out zeroed pages for large
requests.
"""

from __future__ import annotations

import ctypes
import sys
import threading

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD = 1 << 20  # 1 MiB: every image buffer bigger than this is its own mapping

_lock = threading.Lock()
_pinned: bool | None = None


def pin_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold (once per process); True when it is in effect."""
    global _pinned
    with _lock:
        if _pinned is None:
            _pinned = _pin()
        return _pinned


def _pin() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter runs on
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
