"""glibc's mmap threshold is pinned before any image is decoded (core/images/memory.py): after
it, a large buffer is always a fresh mapping (zeroed by the kernel, not by `calloc` under the
GIL), a small one still comes from the heap."""

from __future__ import annotations

import ctypes
import platform
import sys

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


@needs_glibc
def test_pinning_makes_every_image_sized_buffer_its_own_mapping(libc):
    # The state it repairs: with the threshold risen, a 24 MiB block comes from the heap. Not
    # asserted: where the heap cannot grow in place (a mapping right above it, which depends on
    # what the process did before) glibc maps big blocks anyway, and this test then fails
    # without saying anything about the pin.
    assert memory._pin() is True
    assert mapped_bytes(libc, 24 << 20) >= 24 << 20  # a 5K screenshot's buffer is ~59 MB
    assert mapped_bytes(libc, 512 << 10) == 0  # small blocks stay on the heap (no syscall each)


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
