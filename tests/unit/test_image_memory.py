"""glibc's mmap threshold is pinned before any image is decoded (core/images/memory.py)."""

from __future__ import annotations

import platform
import sys

import pytest

from desktop.core.images import memory

glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not glibc, reason="the threshold is a glibc setting")
def test_decoding_module_pins_the_threshold_on_glibc():
    import desktop.core.images.guard  # noqa: F401  (the decoder's module does it on import)

    assert memory._pinned is True
    assert memory.pin_mmap_threshold() is True  # idempotent


def test_other_platforms_leave_the_allocator_alone(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory._pin() is False
