"""Fixtures shared by the widget tests."""

from __future__ import annotations

import pytest

from desktop.workers import Workers


@pytest.fixture
def workers():
    """A worker pool that is shut down (no thread left behind) after the test."""
    pool = Workers()
    yield pool
    pool.shutdown()
    pool.wait()
