"""glibc's mmap threshold is pinned before any image is decoded (core/images/memory.py): after
it, a large buffer is always a fresh mapping (zeroed by the kernel, not by `calloc` under the
GIL), a small one still comes from the heap."""

from __future__ import annotations

import ctypes
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.images import memory

glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
needs_glibc = pytest.mark.skipif(not glibc, reason="the threshold is a glibc setting")


# glibc's struct mallinfo2, whole: it is returned by value, into a buffer of this size.
_MALLINFO2 = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2.split(" ")]


@pytest.fixture
def libc():
    lib = ctypes.CDLL(None)
    if not hasattr(lib, "mallinfo2"):  # glibc >= 2.33
        pytest.skip("no mallinfo2")
    lib.mallinfo2.restype = _MallInfo2
    lib.malloc.restype = ctypes.c_void_p
    lib.malloc.argtypes = (ctypes.c_size_t,)
    lib.free.argtypes = (ctypes.c_void_p,)
    lib.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    # As glibc is after it has freed a big mapping: its dynamic threshold risen to the maximum
    # (32 MiB on 64-bit), so large blocks come from the heap, where calloc zeroes them.
    assert lib.mallopt(memory.M_MMAP_THRESHOLD, 32 << 20) == 1
    yield lib
    lib.mallopt(memory.M_MMAP_THRESHOLD, memory.MMAP_THRESHOLD)  # what the app runs with


def mapped_bytes(libc, size: int) -> int:
    """How much of a fresh `size`-byte block glibc served as its own mapping."""
    libc.malloc_trim(0)  # no spare heap top a block could be carved from
    before = libc.mallinfo2().hblkhd
    block = libc.malloc(size)
    try:
        return libc.mallinfo2().hblkhd - before
    finally:
        libc.free(block)


_PIN_IN_A_FRESH_PROCESS = """
import ctypes, sys
sys.path.insert(0, sys.argv[1])
from tests.unit.test_image_memory import _MallInfo2, mapped_bytes
from desktop.core.images import memory

lib = ctypes.CDLL(None)
lib.mallinfo2.restype = _MallInfo2
lib.malloc.restype = ctypes.c_void_p
lib.malloc.argtypes = (ctypes.c_size_t,)
lib.free.argtypes = (ctypes.c_void_p,)
lib.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
# As glibc is after it has freed a big mapping: its dynamic threshold risen to the maximum
# (32 MiB on 64-bit), so large blocks come from the heap, where calloc zeroes them.
assert lib.mallopt(memory.M_MMAP_THRESHOLD, 32 << 20) == 1
print(memory._pin(), mapped_bytes(lib, 24 << 20), mapped_bytes(lib, 512 << 10))
"""


@needs_glibc
def test_pinning_makes_every_image_sized_buffer_its_own_mapping(libc):
    # In a fresh process: in this one, earlier tests may have left a free heap chunk of 24 MiB
    # or more in glibc's bins, which malloc reuses before it considers a mapping.
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", _PIN_IN_A_FRESH_PROCESS, root],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    pinned, big, small = out[0], int(out[1]), int(out[2])
    assert pinned == "True"
    assert big >= 24 << 20  # a 5K screenshot's buffer is ~59 MB: its own mapping
    assert small == 0  # small blocks stay on the heap (no syscall each)


@needs_glibc
def test_the_pin_is_made_once_and_reported(monkeypatch):
    import desktop.core.images.guard  # noqa: F401  (the decoder's module does it on import)

    assert memory._pinned is True
    monkeypatch.setattr(memory, "_pinned", None)  # as in a fresh process
    assert memory.pin_mmap_threshold() is True
    assert memory.pin_mmap_threshold() is True


def test_other_platforms_leave_the_allocator_alone(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory._pin() is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux branch")
def test_a_c_library_without_mallopt_is_left_alone(monkeypatch):
    class Musl:  # musl, the C library of Alpine Linux, has no mallopt
        def __init__(self, name: object) -> None:
            pass

    monkeypatch.setattr(ctypes, "CDLL", Musl)
    assert memory._pin() is False
